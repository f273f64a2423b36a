// The task table shared by the overview and a connector's page: state,
// worker, trace, memory and throughput with their sparklines.

import { h, formatBytes, formatRate, stateBadge } from "../dom.js";
import { sparkline } from "../sparkline.js";
import { history } from "../telemetry.js";
import type { ConnectorStatus, TaskState } from "../types.js";

/** A row per task; `actions` adds a cell of buttons per task. */
export function taskTable(status: ConnectorStatus, actions?: (task: TaskState) => Node): HTMLElement {
  if (status.tasks.length === 0) return h("p", { class: "muted" }, "No tasks.");
  return h(
    "table",
    { class: "tasks" },
    h("thead", {}, h("tr", {}, h("th", {}, "Task"), h("th", {}, "State"), h("th", {}, "Worker"), h("th", {}, "Memory"), h("th", {}, "Throughput"), actions ? h("th", {}) : null)),
    h(
      "tbody",
      {},
      status.tasks.flatMap((t) => {
        const series = history.get(`${status.name}/${t.id}`);
        const memory = series?.memory.at(-1) ?? t.resources?.memory_bytes;
        const rate = series?.rate.at(-1);
        const unit = series?.rateUnit ?? "records/s";
        return [
          h(
            "tr",
            { "data-task": t.id },
            h("td", {}, `#${t.id}`),
            h("td", {}, stateBadge(t.state)),
            h("td", { class: "worker" }, t.worker_id),
            h(
              "td",
              { class: "chart" },
              sparkline(series?.memory ?? [], `memory of task ${t.id}`),
              h("span", { class: "value", "data-metric": "memory" }, formatBytes(memory)),
            ),
            h(
              "td",
              { class: "chart" },
              sparkline(series?.rate ?? [], `${unit} of task ${t.id}`),
              h("span", { class: "value", "data-metric": "rate" }, formatRate(rate, unit)),
            ),
            actions ? h("td", {}, actions(t)) : null,
          ),
          t.trace ? h("tr", { class: "trace-row" }, h("td", { colspan: actions ? 6 : 5 }, traceBlock(t.trace))) : null,
        ];
      }),
    ),
  );
}

/** A collapsed stack trace, the first line as its summary. */
export function traceBlock(trace: string): HTMLElement {
  const first = trace.split("\n")[0] ?? "";
  return h("details", { class: "trace" }, h("summary", {}, first), h("pre", {}, trace));
}
