// Per-task usage and throughput for the charts: read off `GET /metrics`
// when the worker has it, else off the status's `resources` field. A
// missing /metrics (404, or an older worker) is remembered and asked
// again only now and then, so the console does not spam the log.

import { ApiError, api } from "./api.js";
import { HistoryStore, parsePrometheus, taskReadings, type TaskReading } from "./metrics.js";
import type { ConnectorStatus } from "./types.js";

export const history = new HistoryStore();

/** How long a missing /metrics is believed missing. */
const METRICS_RETRY_MS = 60_000;
let metricsMissingUntil = 0;

/** Whether the last scrape worked: shown beside the charts. */
export let metricsSource: "metrics" | "status" = "status";

/** Samples every task of `statuses` once into [`history`]. */
export async function sample(statuses: ConnectorStatus[]): Promise<void> {
  const now = Date.now();
  let readings = new Map<string, TaskReading>();
  if (now >= metricsMissingUntil) {
    try {
      readings = taskReadings(parsePrometheus(await api.metrics()));
      metricsSource = "metrics";
    } catch (e) {
      // 401 is handled (and asked for) by the client; anything else means
      // no metrics here: fall back quietly.
      if (!(e instanceof ApiError) || e.status !== 401) metricsMissingUntil = now + METRICS_RETRY_MS;
      metricsSource = "status";
    }
  }
  for (const status of statuses) {
    for (const task of status.tasks) {
      const key = `${status.name}/${task.id}`;
      const r = readings.get(key);
      const memory = r?.memoryBytes ?? task.resources?.memory_bytes;
      if (r?.records !== undefined) history.record(key, now, r.records, memory, "records/s");
      else history.record(key, now, task.resources?.calls, memory, "calls/s");
    }
  }
}

/** Forgets the history of tasks not in `statuses`. */
export function retainOnly(statuses: ConnectorStatus[]): void {
  history.retain(new Set(statuses.flatMap((s) => s.tasks.map((t) => `${s.name}/${t.id}`))));
}
