// Creating and editing a connector. Creating starts by choosing a plugin;
// then (and when editing) the form is generated from the plugin's
// validation answer (form.ts). Submitting validates once more and refuses
// to send a configuration with errors, showing every error beside its
// field; the worker's own refusal is shown too.

import { api } from "../api.js";
import { h, replace, shortClass } from "../dom.js";
import { ConfigForm } from "../form.js";
import { errorText, notify } from "../ui.js";
import { navigate, type View } from "../view.js";

/** `new` (pick a plugin), `new?class=…` (its form), or editing `name`. */
export function editorView(mode: { create: true; pluginClass: string | null } | { create: false; name: string }): View {
  const element = h("div", { class: "editor" }, h("p", { class: "muted" }, "Loading…"));
  const title = mode.create ? "New connector" : `Edit ${mode.name}`;
  void (async () => {
    try {
      if (mode.create && !mode.pluginClass) return await pickPlugin(element);
      const initial = mode.create ? { "connector.class": mode.pluginClass ?? "" } : await api.config(mode.name);
      const pluginClass = initial["connector.class"] ?? "";
      await showForm(element, pluginClass, initial, mode.create ? null : mode.name);
    } catch (e) {
      replace(element, h("p", { class: "error" }, errorText(e)));
    }
  })();
  return { title, element };
}

async function pickPlugin(element: HTMLElement): Promise<void> {
  const plugins = (await api.plugins()).filter((p) => p.type === "source" || p.type === "sink");
  replace(
    element,
    h("p", {}, "Choose the connector plugin:"),
    h(
      "ul",
      { class: "plugin-picker" },
      plugins.map((p) =>
        h(
          "li",
          {},
          h(
            "a",
            { href: `new?class=${encodeURIComponent(p.class)}`, "data-nav": "", "data-plugin": p.class, class: "button" },
            h("strong", {}, shortClass(p.class)),
            h("span", { class: "muted" }, ` ${p.type} ${p.version ?? ""}`),
          ),
        ),
      ),
    ),
    plugins.length === 0 ? h("p", { class: "muted" }, "No connector plugins installed: upload one under Plugins.") : null,
  );
}

async function showForm(element: HTMLElement, pluginClass: string, initial: Record<string, string>, editing: string | null): Promise<void> {
  const form = new ConfigForm({ pluginClass, initial, editing: editing !== null });
  await form.init();
  const status = h("p", { class: "form-status", role: "status" });
  const submit = h("button", { type: "submit", class: "primary", "data-action": "submit" }, editing ? "Save" : "Create");
  const el = h(
    "form",
    {
      novalidate: true,
      onsubmit: async (e: Event) => {
        e.preventDefault();
        submit.disabled = true;
        try {
          await save(form, editing, status);
        } finally {
          submit.disabled = false;
        }
      },
    },
    h("p", { class: "muted" }, `Plugin ${pluginClass}`),
    form.element,
    h("div", { class: "toolbar sticky" }, submit, h("a", { class: "button", href: editing ? `connectors/${encodeURIComponent(editing)}` : "", "data-nav": "" }, "Cancel"), status),
  );
  replace(element, el);
}

async function save(form: ConfigForm, editing: string | null, status: HTMLElement): Promise<void> {
  status.textContent = "Validating…";
  try {
    const infos = await form.validateNow(true);
    if (infos.error_count > 0) {
      status.textContent = `${infos.error_count} error${infos.error_count === 1 ? "" : "s"}: see the fields marked in red.`;
      form.element.querySelector<HTMLElement>(".field.invalid input, .field.invalid select")?.focus();
      return;
    }
    const config = form.values();
    const name = editing ?? config["name"] ?? "";
    status.textContent = editing ? "Saving…" : "Creating…";
    if (editing) await api.putConfig(name, config);
    else await api.create(name, config);
    notify(editing ? `Saved: ${name}` : `Created: ${name}`);
    navigate(`connectors/${encodeURIComponent(name)}`);
  } catch (e) {
    status.textContent = "";
    notify(errorText(e), "error");
  }
}
