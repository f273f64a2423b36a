// Unit tests of the console's pure modules (the Prometheus parser and the
// rate history), with node:test. The TypeScript is bundled in memory by
// esbuild and imported from a data: URL, so no build output is written.
//
//   node test/unit.mjs        (scripts/check-console.sh runs it)

import assert from "node:assert/strict";
import { test } from "node:test";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const bundled = await build({ entryPoints: [join(here, "..", "src", "metrics.ts")], bundle: true, format: "esm", write: false });
const m = await import(`data:text/javascript;base64,${Buffer.from(bundled.outputFiles[0].text).toString("base64")}`);

test("parses names, labels with escapes, values and timestamps", () => {
  const text = [
    "# HELP kafka_connect_source_task_metrics_source_record_write_total Records written.",
    "# TYPE kafka_connect_source_task_metrics_source_record_write_total counter",
    'kafka_connect_source_task_metrics_source_record_write_total{connector="a,b",task="0",worker="h:8083"} 42 1700000000000',
    'odd{msg="say \\"hi\\"\\\\\\n}"} +Inf',
    "bare 1.5e3",
    "nan_metric NaN",
    "broken{x=1} 2",
    "",
  ].join("\n");
  const samples = m.parsePrometheus(text);
  assert.equal(samples.length, 4);
  assert.deepEqual(samples[0], {
    name: "kafka_connect_source_task_metrics_source_record_write_total",
    labels: { connector: "a,b", task: "0", worker: "h:8083" },
    value: 42,
  });
  assert.deepEqual(samples[1].labels, { msg: 'say "hi"\\\n}' });
  assert.equal(samples[1].value, Infinity);
  assert.equal(samples[2].value, 1500);
  assert.ok(Number.isNaN(samples[3].value));
});

test("per-task readings prefer written records and take guest memory", () => {
  const samples = m.parsePrometheus([
    'kafka_connect_source_task_metrics_source_record_poll_total{connector="s",task="0"} 10',
    'kafka_connect_source_task_metrics_source_record_write_total{connector="s",task="0"} 7',
    'kafka_connect_sink_task_metrics_sink_record_send_total{connector="k",task="1"} 3',
    'wasmconnect_task_memory_bytes{connector="s",task="0"} 1048576',
    'wasmconnect_task_peak_memory_bytes{connector="s",task="0"} 9999999',
    'kafka_connect_worker_metrics_connector_count 2',
  ].join("\n"));
  const r = m.taskReadings(samples);
  assert.deepEqual(r.get("s/0"), { records: 7, memoryBytes: 1048576 });
  assert.deepEqual(r.get("k/1"), { records: 3 });
  assert.equal(r.size, 2);
});

test("history turns counters into rates and starts over when one goes down", () => {
  const h = new m.HistoryStore();
  h.record("c/0", 1000, 100, 10, "records/s");
  h.record("c/0", 3000, 300, 20, "records/s");
  h.record("c/0", 5000, 50, 30, "records/s");
  h.record("c/0", 6000, 150, 40, "records/s");
  const t = h.get("c/0");
  assert.deepEqual(t.rate, [100, 100]);
  assert.deepEqual(t.memory, [10, 20, 30, 40]);
  for (let i = 0; i < 100; i++) h.record("c/0", 7000 + i, 150, i, "records/s");
  assert.equal(h.get("c/0").memory.length, m.HISTORY);
  h.retain(new Set());
  assert.equal(h.get("c/0"), undefined);
});
