// End-to-end test of the console in headless Chromium (Debian's, driven by
// playwright-core: a browser download of Playwright's own does not work on
// every machine the tests run on). tests/tests/console.rs starts a broker
// and workers and runs this script once per scenario:
//
//   CONSOLE_URL=http://127.0.0.1:PORT/ui  the worker's console
//   CONSOLE_SCENARIO=pipeline|auth        what to do (below)
//   CONSOLE_WORK_DIR=DIR                  where the FileStream files go
//   CONSOLE_UPLOAD=FILE.wasm              a component to upload
//   CONSOLE_AUTH=user:password            (auth) the credentials to type
//   CONSOLE_SCREENSHOTS=DIR               when set, screenshots go there
//   CHROMIUM=/usr/bin/chromium            the browser
//
// Every wait is on a condition (Playwright's auto-waiting locators, or
// `until` for the files the connectors write); nothing sleeps a fixed time.

import { appendFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const env = (name, fallback) => {
  const v = process.env[name] ?? fallback;
  if (v === undefined) throw new Error(`${name} is not set`);
  return v;
};
const url = env("CONSOLE_URL");
const scenario = env("CONSOLE_SCENARIO", "pipeline");
const shots = process.env.CONSOLE_SCREENSHOTS;
const TIMEOUT = 60_000;

/** Polls `check` (sync or async) until it returns a truthy value. */
async function until(what, check, timeout = TIMEOUT) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const step = (text) => console.log(`e2e[${scenario}]: ${text}`);

async function screenshot(page, name) {
  if (!shots) return;
  mkdirSync(shots, { recursive: true });
  // Notices are transient: keep them out of the picture.
  await page.evaluate(() => document.querySelectorAll(".notice").forEach((n) => n.remove()));
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
  step(`screenshot ${name}.png`);
}

/** The text of a field's error list in the generated form. */
const fieldErrors = (page, key) => page.locator(`[data-errors-for="${key}"]`);

async function waitText(locator, pattern, what) {
  await until(what, async () => pattern.test((await locator.textContent()) ?? ""));
}

async function createConnector(page, pluginClass, name, values, { badTasksMax = false, skip } = {}) {
  await page.getByRole("link", { name: "New connector" }).click();
  await page.locator(`[data-plugin="${pluginClass}"]`).click();
  const field = (key) => page.locator(`[data-key="${key}"] input`);
  await field("name").fill(name);
  for (const [key, value] of Object.entries(values)) if (key !== skip) await field(key).fill(value);
  if (badTasksMax) {
    // An error appears beside the field as the user types…
    await field("tasks.max").fill("x");
    await waitText(fieldErrors(page, "tasks.max"), /Not a number/, "the tasks.max error");
    await screenshot(page, "form");
    // …and goes once it is fixed.
    await field("tasks.max").fill("1");
    await waitText(fieldErrors(page, "tasks.max"), /^$/, "the tasks.max error to clear");
  }
  if (skip) {
    // Submitting with a required field empty shows its error, sends nothing.
    await page.locator('[data-action="submit"]').click();
    await waitText(fieldErrors(page, skip), /Missing required configuration/, `the ${skip} error`);
    await field(skip).fill(values[skip]);
    await waitText(fieldErrors(page, skip), /^$/, `the ${skip} error to clear`);
  }
  await page.locator('[data-action="submit"]').click();
  await page.waitForURL((u) => u.pathname.endsWith(`/connectors/${encodeURIComponent(name)}`));
}

/** Waits for the connector page's state badge to say `state`. */
async function connectorState(page, state) {
  await page.locator(`.summary [data-state="${state}"]`).waitFor({ timeout: TIMEOUT });
}

async function pipeline(page) {
  const work = env("CONSOLE_WORK_DIR");
  const input = join(work, "console-in.txt");
  const output = join(work, "console-out.txt");
  appendFileSync(input, Array.from({ length: 50 }, (_, i) => `line ${i}\n`).join(""));

  await page.goto(url);
  await page.getByText("No connectors yet").waitFor();
  step("empty overview");

  await createConnector(page, "org.apache.kafka.connect.file.FileStreamSourceConnector", "console-source",
    { file: input, topic: "console-topic", "tasks.max": "1" }, { badTasksMax: true, skip: "topic" });
  await connectorState(page, "RUNNING");
  step("source created through the form and RUNNING");

  await page.getByRole("link", { name: "Connectors", exact: true }).click();
  await createConnector(page, "org.apache.kafka.connect.file.FileStreamSinkConnector", "console-sink",
    { file: output, topics: "console-topic" });
  await connectorState(page, "RUNNING");
  await until("the sink file to receive the first lines", () => lines(output) >= 50);
  appendFileSync(input, Array.from({ length: 50 }, (_, i) => `more ${i}\n`).join(""));
  await until("the sink file to grow", () => lines(output) >= 100);
  step("records flow: the sink file has every line");

  // The task row shows usage, with a chart once two samples are in.
  await page.locator('[data-task="0"] [data-metric="memory"]').filter({ hasText: /iB|B$/ }).waitFor();
  await until("a memory sparkline", async () => (await page.locator('[data-task="0"] .spark-line').count()) > 0);
  await screenshot(page, "connector");

  await page.getByRole("link", { name: "Connectors", exact: true }).click();
  await page.locator('[data-connector="console-sink"] [data-state="RUNNING"]').first().waitFor();
  await page.locator('[data-connector="console-source"] [data-task="0"] .spark-line').first().waitFor({ state: "attached" });
  await screenshot(page, "overview");

  // Pause the source: connector and task say PAUSED.
  await page.locator('[data-connector="console-source"] a.name').click();
  await page.locator('[data-action="pause"]').click();
  await connectorState(page, "PAUSED");
  await page.locator('[data-task="0"] [data-state="PAUSED"]').waitFor();
  step("source PAUSED");

  // Stop it, read its offsets, reset them.
  await page.locator('[data-action="stop"]').click();
  await connectorState(page, "STOPPED");
  await page.locator('[data-action="load-offsets"]').click();
  await page.locator("table[data-offsets]").waitFor();
  await page.locator('[data-action="reset-offsets"]:enabled').click();
  await page.locator("dialog.confirm [data-confirm]").click();
  await page.locator('p[data-offsets="0"]').waitFor();
  step("source STOPPED, offsets shown and reset");

  // Delete the sink, with confirmation.
  await page.getByRole("link", { name: "Connectors", exact: true }).click();
  await page.locator('[data-connector="console-sink"] a.name').click();
  await page.locator('[data-action="delete"]').click();
  await page.locator("dialog.confirm [data-confirm]").click();
  await page.locator('[data-connector="console-sink"]').waitFor({ state: "detached" });
  step("sink deleted");

  await upload(page);
}

async function upload(page, shot = true) {
  await page.getByRole("link", { name: "Plugins", exact: true }).click();
  await page.locator('input[name="plugin-file"]').setInputFiles(env("CONSOLE_UPLOAD"));
  await page.locator('[data-action="upload"]').click();
  await waitText(page.locator(".upload-result"), /Installed .* 2\.0\.0/, "the upload to be installed");
  await page.locator('tr[data-version="2.0.0"]').waitFor();
  if (shot) await screenshot(page, "plugins");
  step("plugin uploaded");
}

async function auth(page) {
  const [user, password] = env("CONSOLE_AUTH").split(":");
  await page.goto(url);
  // Reads are protected: the first poll's 401 opens the sign-in dialog.
  const dialog = page.locator("dialog.auth");
  await dialog.waitFor();
  await dialog.locator('input[name="username"]').fill(user);
  await dialog.locator('input[name="password"]').fill("wrong");
  await screenshot(page, "sign-in");
  await dialog.locator('button[type="submit"]').click();
  // Refused credentials ask again, saying so.
  await dialog.getByText("refused").waitFor();
  await dialog.locator('input[name="username"]').fill(user);
  await dialog.locator('input[name="password"]').fill(password);
  await dialog.locator('button[type="submit"]').click();
  await page.getByText("No connectors yet").waitFor();
  await page.getByText(`Signed in (${user})`).waitFor();
  step("signed in after a refused attempt");
  // Writes carry the same credentials.
  await upload(page, false);
}

function lines(path) {
  return existsSync(path) ? readFileSync(path, "utf8").split("\n").length - 1 : 0;
}

const browser = await chromium.launch({
  executablePath: env("CHROMIUM", "/usr/bin/chromium"),
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
let failed = false;
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  page.setDefaultTimeout(TIMEOUT);
  page.on("console", (m) => m.type() === "error" && console.log(`browser console: ${m.text()}`));
  page.on("pageerror", (e) => {
    failed = true;
    console.log(`page error: ${e.message}`);
  });
  const started = Date.now();
  await (scenario === "auth" ? auth(page) : pipeline(page));
  if (failed) throw new Error("the page threw (see above)");
  step(`passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
} catch (e) {
  failed = true;
  console.error(`e2e[${scenario}] FAILED: ${e.stack ?? e}`);
  if (shots) await browser.contexts()[0]?.pages()[0]?.screenshot({ path: join(shots, `failure-${scenario}.png`) }).catch(() => {});
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
