// The overview: every connector with its state, tasks, workers and any
// failure's trace, refreshed live from `GET /connectors?expand=status&expand=info`.

import { api } from "../api.js";
import { h, replace, shortClass, stateBadge } from "../dom.js";
import { retainOnly, sample } from "../telemetry.js";
import type { ConnectorStatus } from "../types.js";
import type { View } from "../view.js";
import { taskTable, traceBlock } from "./tasks.js";

export function connectorsView(): View {
  const body = h("div", { class: "connector-list" }, h("p", { class: "muted" }, "Loading…"));
  const element = h(
    "div",
    {},
    h("div", { class: "toolbar" }, h("a", { href: "new", class: "button primary", "data-nav": "" }, "New connector")),
    body,
  );
  return {
    title: "Connectors",
    element,
    async refresh() {
      const all = await api.connectors();
      const names = Object.keys(all).sort();
      const statuses = names.flatMap((n) => (all[n]?.status ? [all[n].status] : []));
      await sample(statuses);
      retainOnly(statuses);
      if (names.length === 0) {
        replace(body, h("p", { class: "empty" }, "No connectors yet. ", h("a", { href: "new", "data-nav": "" }, "Create one"), "."));
        return;
      }
      replace(
        body,
        names.map((name) => {
          const entry = all[name];
          const status = entry?.status;
          const cls = entry?.info?.config["connector.class"];
          return card(name, entry?.info?.type ?? status?.type ?? "", cls, status);
        }),
      );
    },
  };
}

function card(name: string, type: string, cls: string | undefined, status: ConnectorStatus | undefined): HTMLElement {
  const href = `connectors/${encodeURIComponent(name)}`;
  const tasks = status?.tasks ?? [];
  const running = tasks.filter((t) => t.state === "RUNNING").length;
  return h(
    "article",
    { class: "card", "data-connector": name },
    h(
      "header",
      {},
      h("a", { href, "data-nav": "", class: "name" }, name),
      stateBadge(status?.connector.state),
      h("span", { class: "muted" }, `${type} · ${shortClass(cls)}`),
      h("span", { class: "muted" }, `${running}/${tasks.length} tasks running · worker ${status?.connector.worker_id ?? "?"}`),
    ),
    status?.connector.trace ? traceBlock(status.connector.trace) : null,
    status ? taskTable(status) : null,
  );
}
