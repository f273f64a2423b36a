// One connector: its state, tasks (worker, trace, usage charts), the
// lifecycle actions, its offsets (reset once stopped), and its
// configuration.

import { api } from "../api.js";
import { h, replace, shortClass, stateBadge } from "../dom.js";
import { metricsSource, sample } from "../telemetry.js";
import type { ConnectorInfo, ConnectorStatus } from "../types.js";
import { confirmDialog, errorText, facts, notify } from "../ui.js";
import { navigate, type View } from "../view.js";
import { taskTable, traceBlock } from "./tasks.js";

export function connectorView(name: string): View {
  const path = encodeURIComponent(name);
  let status: ConnectorStatus | null = null;
  let info: ConnectorInfo | null = null;
  let secretKeys: Set<string> | null = null;

  const summary = h("div", { class: "summary" });
  const tasks = h("div", {});
  const chartsNote = h("p", { class: "muted small" });
  const offsets = h("div", { class: "offsets" }, h("p", { class: "muted" }, "Offsets are read on request."));
  const config = h("div", {});

  /** Runs an action, reports the outcome, and refreshes at once. */
  const act = (label: string, run: () => Promise<unknown>) => async () => {
    try {
      await run();
      notify(`${label}: ${name}`);
      await view.refresh?.();
    } catch (e) {
      notify(`${label} failed: ${errorText(e)}`, "error");
    }
  };
  const includeTasks = h("input", { type: "checkbox", name: "includeTasks" });
  const onlyFailed = h("input", { type: "checkbox", name: "onlyFailed" });
  const resetButton = h(
    "button",
    {
      class: "danger",
      "data-action": "reset-offsets",
      disabled: true,
      title: "Only a STOPPED connector's offsets can be reset",
      onclick: async () => {
        if (!(await confirmDialog("Reset offsets", `Reset every offset of ${name}? It will start over when resumed.`, "Reset offsets"))) return;
        try {
          const r = await api.resetOffsets(name);
          notify(r?.message ?? "Offsets reset");
          await loadOffsets();
        } catch (e) {
          notify(`Reset failed: ${errorText(e)}`, "error");
        }
      },
    },
    "Reset offsets",
  );

  const loadOffsets = async () => {
    try {
      const o = await api.offsets(name);
      replace(
        offsets,
        o.offsets.length === 0
          ? h("p", { class: "muted", "data-offsets": "0" }, "No offsets committed.")
          : h(
              "table",
              { "data-offsets": o.offsets.length },
              h("thead", {}, h("tr", {}, h("th", {}, "Partition"), h("th", {}, "Offset"))),
              h(
                "tbody",
                {},
                o.offsets.map((x) => h("tr", {}, h("td", {}, h("code", {}, JSON.stringify(x.partition))), h("td", {}, h("code", {}, JSON.stringify(x.offset))))),
              ),
            ),
      );
    } catch (e) {
      replace(offsets, h("p", { class: "error" }, errorText(e)));
    }
  };

  const element = h(
    "div",
    { class: "connector", "data-connector": name },
    summary,
    h(
      "div",
      { class: "toolbar actions" },
      h("button", { "data-action": "pause", onclick: act("Paused", () => api.pause(name)) }, "Pause"),
      h("button", { "data-action": "resume", onclick: act("Resumed", () => api.resume(name)) }, "Resume"),
      h("button", { "data-action": "stop", onclick: act("Stopped", () => api.stop(name)) }, "Stop"),
      h(
        "span",
        { class: "group-box" },
        h("button", { "data-action": "restart", onclick: act("Restarted", () => api.restart(name, includeTasks.checked, onlyFailed.checked)) }, "Restart"),
        h("label", { class: "inline" }, includeTasks, " include tasks"),
        h("label", { class: "inline" }, onlyFailed, " only failed"),
      ),
      h("a", { class: "button", href: `connectors/${path}/edit`, "data-nav": "" }, "Edit"),
      h(
        "button",
        {
          class: "danger",
          "data-action": "delete",
          onclick: async () => {
            if (!(await confirmDialog("Delete connector", `Delete ${name}? Its tasks stop and its configuration is removed.`, "Delete"))) return;
            try {
              await api.remove(name);
              notify(`Deleted: ${name}`);
              navigate("");
            } catch (e) {
              notify(`Delete failed: ${errorText(e)}`, "error");
            }
          },
        },
        "Delete",
      ),
    ),
    h("section", {}, h("h2", {}, "Tasks"), tasks, chartsNote),
    h(
      "section",
      {},
      h("h2", {}, "Offsets"),
      h("div", { class: "toolbar" }, h("button", { "data-action": "load-offsets", onclick: loadOffsets }, "Show offsets"), resetButton),
      offsets,
    ),
    h("section", {}, h("h2", {}, "Configuration"), config),
  );

  const view: View = {
    title: name,
    element,
    async refresh() {
      [status, info] = await Promise.all([api.status(name), api.info(name)]);
      // Other connectors' history is kept: the overview prunes it.
      await sample([status]);
      const state = status.connector.state;
      replace(
        summary,
        h("div", { class: "title-line" }, stateBadge(state), h("span", { class: "muted" }, `${status.type} · ${shortClass(info.config["connector.class"])}`)),
        facts([
          ["Class", info.config["connector.class"] ?? ""],
          ["Worker", status.connector.worker_id],
          ["Version", status.connector.version ?? "—"],
          ["Tasks", String(status.tasks.length)],
        ]),
        status.connector.trace ? traceBlock(status.connector.trace) : null,
      );
      replace(
        tasks,
        taskTable(status, (t) =>
          h("button", { class: "small", "data-action": `restart-task-${t.id}`, onclick: act(`Restarted task ${t.id}`, () => api.restartTask(name, t.id)) }, "Restart"),
        ),
      );
      chartsNote.textContent =
        metricsSource === "metrics"
          ? "Memory and records/s from /metrics, sampled at each refresh."
          : "Memory and guest calls/s from the task status (this worker serves no /metrics).";
      resetButton.disabled = state !== "STOPPED";
      await renderConfig(info);
    },
  };

  const renderConfig = async (i: ConnectorInfo) => {
    // PASSWORD keys are masked here even when the API returns them in the
    // clear: the console must not put more secrets on screen than needed.
    if (secretKeys === null) {
      try {
        const defs = await api.pluginConfig(i.config["connector.class"] ?? "");
        secretKeys = new Set(defs.filter((d) => d.type === "PASSWORD").map((d) => d.name));
      } catch {
        secretKeys = new Set();
      }
    }
    const secret = (k: string) => secretKeys?.has(k) || /password|secret/i.test(k);
    replace(
      config,
      h(
        "table",
        { class: "config" },
        h(
          "tbody",
          {},
          Object.keys(i.config)
            .sort()
            .map((k) => h("tr", {}, h("th", {}, h("code", {}, k)), h("td", {}, h("code", {}, secret(k) ? "••••••" : (i.config[k] ?? ""))))),
        ),
      ),
    );
  };
  return view;
}
