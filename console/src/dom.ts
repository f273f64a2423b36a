// Tiny DOM helpers: the console builds its views with plain DOM calls
// (no framework), and never assigns innerHTML, so nothing the API returns
// (connector names, traces, documentation) can be interpreted as markup.

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

/** An element with attributes (`on…` keys add listeners) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (value === true) {
      el.setAttribute(key, "");
    } else {
      el.setAttribute(key, String(value));
    }
  }
  append(el, children);
  return el;
}

/** Appends children, flattening arrays and skipping empty ones. */
export function append(el: Node, children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
}

/** Replaces every child of `el`. */
export function replace(el: Node, ...children: (Child | Child[])[]): void {
  while (el.firstChild) el.removeChild(el.firstChild);
  append(el, children);
}

/** A coloured badge for a connector or task state. */
export function stateBadge(state: string | undefined): HTMLElement {
  const s = state ?? "UNKNOWN";
  return h("span", { class: `badge state-${s.toLowerCase()}`, "data-state": s }, s);
}

/** Bytes in binary units, for memory. */
export function formatBytes(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return "—";
  const units = ["B", "KiB", "MiB", "GiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

/** A rate with one decimal. */
export function formatRate(n: number | undefined, unit: string): string {
  if (n === undefined || !Number.isFinite(n)) return "—";
  return `${n >= 100 ? n.toFixed(0) : n.toFixed(1)} ${unit}`;
}

/** The short name of a Java-style class (`…FileStreamSinkConnector`). */
export function shortClass(cls: string | undefined): string {
  if (!cls) return "";
  const dot = cls.lastIndexOf(".");
  return dot >= 0 ? cls.slice(dot + 1) : cls;
}
