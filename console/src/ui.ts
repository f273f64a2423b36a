// Shared pieces of the page that are not views: notices, the confirmation
// dialog and the credentials dialog. Dialogs are <dialog> elements shown
// modally, so the page behind them cannot be clicked meanwhile.

import { basic, bearer, type CredentialPrompt } from "./api.js";
import { h, replace } from "./dom.js";

let notices: HTMLElement | null = null;

/** Where notices go (set once by main). */
export function setNoticeArea(el: HTMLElement): void {
  notices = el;
}

/** A notice that fades after a while; errors stay until dismissed. */
export function notify(message: string, kind: "info" | "error" = "info"): void {
  if (!notices) return;
  const item = h(
    "div",
    { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status" },
    h("span", {}, message),
    h("button", { class: "link", "aria-label": "Dismiss", onclick: () => item.remove() }, "×"),
  );
  notices.appendChild(item);
  if (kind === "info") window.setTimeout(() => item.remove(), 5000);
}

/** The message of whatever was thrown. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Asks to confirm a destructive action; resolves to the answer. */
export function confirmDialog(title: string, text: string, confirmLabel: string): Promise<boolean> {
  return new Promise((resolve) => {
    const dialog = h(
      "dialog",
      { class: "confirm", "aria-label": title },
      h("h2", {}, title),
      h("p", {}, text),
      h(
        "div",
        { class: "actions" },
        h("button", { onclick: () => close(false) }, "Cancel"),
        h("button", { class: "danger", "data-confirm": "", onclick: () => close(true) }, confirmLabel),
      ),
    );
    const close = (answer: boolean) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    dialog.addEventListener("cancel", () => close(false));
    document.body.appendChild(dialog);
    dialog.showModal();
  });
}

/**
 * The credentials prompt the API client opens on a 401: Basic (user and
 * password) or Bearer (a token), the two schemes the worker accepts. What
 * is typed is kept in memory only, unless the user asks to keep it for
 * this tab (sessionStorage, gone when the tab closes).
 */
export const credentialPrompt: CredentialPrompt = (reason) =>
  new Promise((resolve) => {
    const user = h("input", { name: "username", autocomplete: "username", required: true });
    const password = h("input", { name: "password", type: "password", autocomplete: "current-password" });
    const token = h("input", { name: "token", type: "password", autocomplete: "off" });
    const keep = h("input", { type: "checkbox", name: "keep" });
    const scheme = h(
      "select",
      { name: "scheme", onchange: () => show() },
      h("option", { value: "basic" }, "User name and password (Basic)"),
      h("option", { value: "bearer" }, "Token (Bearer)"),
    );
    const basicPart = h("div", {}, h("label", {}, "User name", user), h("label", {}, "Password", password));
    const bearerPart = h("div", { hidden: true }, h("label", {}, "Token", token));
    const show = () => {
      basicPart.hidden = scheme.value !== "basic";
      bearerPart.hidden = scheme.value !== "bearer";
    };
    const form = h(
      "form",
      { method: "dialog" },
      h("h2", {}, "Sign in"),
      h("p", { class: "doc" }, reason),
      h("label", {}, "Scheme", scheme),
      basicPart,
      bearerPart,
      h("label", { class: "inline" }, keep, " Keep for this browser tab"),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", onclick: () => finish(false) }, "Cancel"),
        h("button", { type: "submit", class: "primary" }, "Sign in"),
      ),
    );
    const dialog = h("dialog", { class: "auth", "aria-label": "Sign in" }, form);
    const finish = (submitted: boolean) => {
      dialog.close();
      dialog.remove();
      if (!submitted) return resolve(null);
      const credentials = scheme.value === "basic" ? basic(user.value, password.value) : bearer(token.value);
      resolve({ credentials, keep: keep.checked });
    };
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      finish(true);
    });
    dialog.addEventListener("cancel", () => finish(false));
    document.body.appendChild(dialog);
    dialog.showModal();
    user.focus();
  });

/** A small "key: value" list. */
export function facts(pairs: [string, Node | string][]): HTMLElement {
  const dl = h("dl", { class: "facts" });
  for (const [k, v] of pairs) replace(dl.appendChild(h("div", {})), h("dt", {}, k), h("dd", {}, v));
  return dl;
}
