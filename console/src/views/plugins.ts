// Plugins: what the worker can run (`GET /connector-plugins?connectorsOnly=false`,
// converters and transforms included), the installed component versions
// with the connectors using each (`GET /wasmconnect/plugins`), uploading a
// `.wasm` component, and deleting an unused version.

import { api } from "../api.js";
import { h, replace, shortClass } from "../dom.js";
import type { PluginVersion } from "../types.js";
import { confirmDialog, errorText, notify } from "../ui.js";
import type { View } from "../view.js";

export function pluginsView(): View {
  const versions = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  const all = h("div", {});
  const file = h("input", { type: "file", accept: ".wasm,application/wasm", name: "plugin-file" });
  const result = h("p", { class: "upload-result", role: "status" });
  const upload = async (e: Event) => {
    e.preventDefault();
    const chosen = file.files?.[0];
    if (!chosen) {
      result.textContent = "Choose a .wasm component first.";
      return;
    }
    result.textContent = `Uploading ${chosen.name} (validated and precompiled by the worker)…`;
    try {
      const p = await api.upload(chosen);
      result.textContent = `Installed ${p.class} ${p.version} (${p.type})`;
      result.dataset["uploaded"] = `${p.class}@${p.version}`;
      file.value = "";
      await view.refresh?.();
    } catch (err) {
      result.textContent = `Upload refused: ${errorText(err)}`;
    }
  };
  const element = h(
    "div",
    { class: "plugins" },
    h(
      "section",
      {},
      h("h2", {}, "Upload a component"),
      h("form", { class: "upload", onsubmit: upload }, file, h("button", { type: "submit", class: "primary", "data-action": "upload" }, "Upload"), result),
      h("p", { class: "muted small" }, "Every worker of the cluster gets it; a connector moves to a new version when its connector.plugin.version says so."),
    ),
    h("section", {}, h("h2", {}, "Installed versions"), versions),
    h("section", {}, h("h2", {}, "Everything the worker can run"), all),
  );
  const view: View = {
    title: "Plugins",
    element,
    async refresh() {
      const [installed, plugins] = await Promise.all([api.pluginVersions(), api.plugins()]);
      replace(versions, versionTable(installed, () => void view.refresh?.()));
      replace(
        all,
        h(
          "table",
          { class: "plugin-list" },
          h("thead", {}, h("tr", {}, h("th", {}, "Class"), h("th", {}, "Type"), h("th", {}, "Version"))),
          h("tbody", {}, plugins.map((p) => h("tr", {}, h("td", { title: p.class }, h("code", {}, p.class)), h("td", {}, p.type), h("td", {}, p.version ?? "")))),
        ),
      );
    },
  };
  return view;
}

function versionTable(installed: PluginVersion[], changed: () => void): HTMLElement {
  if (installed.length === 0) return h("p", { class: "muted" }, "No components installed.");
  const sorted = [...installed].sort((a, b) => a.class.localeCompare(b.class) || a.version.localeCompare(b.version, undefined, { numeric: true }));
  return h(
    "table",
    { class: "versions" },
    h("thead", {}, h("tr", {}, h("th", {}, "Plugin"), h("th", {}, "Type"), h("th", {}, "Version"), h("th", {}, "Used by"), h("th", {}, "SHA-256"), h("th", {}))),
    h(
      "tbody",
      {},
      sorted.map((v) =>
        h(
          "tr",
          { "data-plugin": v.class, "data-version": v.version },
          h("td", { title: v.description ?? v.class }, shortClass(v.class), v.uploaded ? h("span", { class: "badge" }, "uploaded") : null),
          h("td", {}, v.type),
          h("td", {}, v.version),
          h("td", {}, (v.used_by ?? []).join(", ") || "—"),
          h("td", {}, h("code", { title: v.sha256 }, v.sha256.slice(0, 12))),
          h(
            "td",
            {},
            h(
              "button",
              {
                class: "small danger",
                disabled: (v.used_by ?? []).length > 0,
                title: (v.used_by ?? []).length > 0 ? "In use" : "Delete this version",
                onclick: async () => {
                  if (!(await confirmDialog("Delete plugin version", `Delete ${v.class} ${v.version}?`, "Delete"))) return;
                  try {
                    await api.deleteVersion(v.class, v.version);
                    notify(`Deleted ${shortClass(v.class)} ${v.version}`);
                    changed();
                  } catch (e) {
                    notify(`Delete failed: ${errorText(e)}`, "error");
                  }
                },
              },
              "Delete",
            ),
          ),
        ),
      ),
    ),
  );
}
