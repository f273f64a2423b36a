// Entry point: the page frame (navigation, who is signed in, notices), the
// router (history API, paths relative to the console's root so that
// `<base href>` works behind any prefix), and the refresh loop that keeps
// the shown view live.

import { currentCredentials, onCredentialsChange, setCredentialPrompt, signOut } from "./api.js";
import { h, replace } from "./dom.js";
import { credentialPrompt, errorText, setNoticeArea } from "./ui.js";
import { setNavigate, type View } from "./view.js";
import { connectorView } from "./views/connector.js";
import { connectorsView } from "./views/connectors.js";
import { editorView } from "./views/editor.js";
import { pluginsView } from "./views/plugins.js";

/** How often the shown view is refreshed. */
const REFRESH_MS = 2000;

const main = h("main", { id: "view" });
const heading = h("h1", {});
const liveness = h("span", { class: "live muted", role: "status" });
const who = h("span", { class: "who" });
const notices = h("div", { class: "notices" });
setNoticeArea(notices);
setCredentialPrompt(credentialPrompt);

document.body.append(
  h(
    "header",
    { class: "top" },
    h("a", { href: "", "data-nav": "", class: "brand" }, "wasmconnect"),
    h("nav", {}, h("a", { href: "", "data-nav": "" }, "Connectors"), h("a", { href: "plugins", "data-nav": "" }, "Plugins")),
    liveness,
    who,
  ),
  notices,
  heading,
  main,
);

const showWho = () => {
  const c = currentCredentials();
  replace(who, c ? [`Signed in (${c.label}) `, h("button", { class: "link", onclick: () => signOut() }, "Sign out")] : null);
};
onCredentialsChange(showWho);
showWho();

/** The route: the path beneath the console's root, without its query. */
function route(): { parts: string[]; query: URLSearchParams } {
  const root = new URL(document.baseURI).pathname;
  const path = location.pathname.startsWith(root) ? location.pathname.slice(root.length) : "";
  return { parts: path.split("/").filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(location.search) };
}

function viewFor(parts: string[], query: URLSearchParams): View {
  const [first, second, third] = parts;
  if (first === "plugins") return pluginsView();
  if (first === "new") return editorView({ create: true, pluginClass: query.get("class") });
  if (first === "connectors" && second !== undefined) {
    return third === "edit" ? editorView({ create: false, name: second }) : connectorView(second);
  }
  return connectorsView();
}

let current: View | null = null;
let timer: number | undefined;
/** Which render is current: a slow refresh of a left view must not touch the page. */
let generation = 0;

function render(): void {
  current?.dispose?.();
  window.clearTimeout(timer);
  const { parts, query } = route();
  current = viewFor(parts, query);
  heading.textContent = current.title;
  document.title = `${current.title} · wasmconnect`;
  replace(main, current.element);
  void tick(++generation);
}

/** Refreshes the view, then schedules the next refresh (never two at once). */
async function tick(gen: number): Promise<void> {
  const view = current;
  if (!view?.refresh) {
    liveness.textContent = "";
    return;
  }
  try {
    await view.refresh();
    if (gen !== generation) return;
    liveness.textContent = `Updated ${new Date().toLocaleTimeString()}`;
    liveness.classList.remove("stale");
  } catch (e) {
    if (gen !== generation) return;
    liveness.textContent = `Not updated: ${errorText(e)}`;
    liveness.classList.add("stale");
  }
  timer = window.setTimeout(() => void tick(gen), REFRESH_MS);
}

function navigate(path: string): void {
  history.pushState(null, "", new URL(path, document.baseURI));
  render();
}
setNavigate(navigate);

// Links marked data-nav stay in the app; a modified click opens a tab as usual.
document.addEventListener("click", (e) => {
  const a = (e.target as Element | null)?.closest?.("a[data-nav]");
  if (!(a instanceof HTMLAnchorElement) || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  navigate(a.getAttribute("href") ?? "");
});
window.addEventListener("popstate", render);
render();
