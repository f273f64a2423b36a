// Builds the console into runtime/console-dist/ (index.html, app.js,
// app.css), which the worker embeds. Deterministic: no timestamps, no
// source maps with absolute paths, so a rebuild of unchanged sources gives
// the same bytes and scripts/check-console.sh can compare them.
//
//   node build.mjs            build once
//   node build.mjs --watch    rebuild on change (serve it with
//                             WASMCONNECT_CONSOLE_DIR=runtime/console-dist)
//   node build.mjs --out DIR  build elsewhere (the freshness check)

import { build, context } from "esbuild";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const outIndex = args.indexOf("--out");
const out = outIndex >= 0 ? resolve(args[outIndex + 1]) : join(here, "..", "runtime", "console-dist");
const watch = args.includes("--watch");

const options = {
  entryPoints: [
    { in: join(here, "src", "main.ts"), out: "app" },
    { in: join(here, "style.css"), out: "app" },
  ],
  bundle: true,
  minify: true,
  format: "esm",
  target: ["chrome111", "firefox111", "safari16.4"],
  outdir: out,
  legalComments: "none",
  charset: "utf8",
  logLevel: "info",
  plugins: [
    {
      // Copies the page beside the bundles after every build.
      name: "page",
      setup(b) {
        b.onEnd(async (result) => {
          if (result.errors.length) return;
          const html = await readFile(join(here, "index.html"), "utf8");
          // Comments and indentation only; the page is tiny.
          const min = html.replace(/<!--[\s\S]*?-->\n?/g, "").replace(/\n\s*/g, "\n");
          await writeFile(join(out, "index.html"), min);
        });
      },
    },
  ],
};

await mkdir(out, { recursive: true });
if (watch) {
  const ctx = await context(options);
  await ctx.watch();
} else {
  await build(options);
}
