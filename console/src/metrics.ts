// Prometheus text format (exposition format 0.0.4) parsing, and the
// per-task history the charts draw.
//
// The worker's `GET /metrics` names Kafka Connect's task metrics as
// `kafka_connect_<group>_<metric>` with `connector`, `task` and `worker`
// labels, and the guest's memory `wasmconnect_task_guest_memory_bytes`
// (docs/metrics.md). The console only needs a few of them, the counters
// found by suffix so a renamed prefix does not blind it. A worker without
// `/metrics` (404) is not an error: usage then comes from the `resources`
// field of the task status, and throughput from its guest call counter.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the text format; comments, blank and malformed lines are skipped. */
export function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const rawLine of text.split("\n")) {
    const line = rawLine.trim();
    if (!line || line.startsWith("#")) continue;
    const sample = parseLine(line);
    if (sample) samples.push(sample);
  }
  return samples;
}

function parseLine(line: string): Sample | null {
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
  if (!nameMatch) return null;
  const name = nameMatch[0];
  let rest = line.slice(name.length);
  const labels: Record<string, string> = {};
  if (rest.startsWith("{")) {
    // Label values are quoted and may hold escaped quotes, backslashes
    // and newlines, and commas or braces: scan rather than split.
    let i = 1;
    for (;;) {
      while (rest[i] === " " || rest[i] === ",") i++;
      if (rest[i] === "}") {
        i++;
        break;
      }
      const key = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(rest.slice(i));
      if (!key) return null;
      i += key[0].length;
      while (rest[i] === " ") i++;
      if (rest[i] !== "=" || rest[i + 1] !== '"') return null;
      i += 2;
      let value = "";
      for (;;) {
        const c = rest[i];
        if (c === undefined) return null;
        if (c === "\\") {
          const next = rest[i + 1];
          value += next === "n" ? "\n" : (next ?? "");
          i += 2;
        } else if (c === '"') {
          i++;
          break;
        } else {
          value += c;
          i++;
        }
      }
      labels[key[0]] = value;
    }
    rest = rest.slice(i);
  }
  // The value, then an optional timestamp.
  const valueText = rest.trim().split(/\s+/)[0];
  if (valueText === undefined || valueText === "") return null;
  const value = parseValue(valueText);
  return Number.isNaN(value) && valueText !== "NaN" ? null : { name, labels, value };
}

function parseValue(text: string): number {
  switch (text) {
    case "+Inf":
      return Infinity;
    case "-Inf":
      return -Infinity;
    default:
      return Number(text);
  }
}

/** Suffixes of the counters of records a task moved (source and sink). */
const THROUGHPUT = [
  "source_record_write_total",
  "sink_record_send_total",
  "source_record_poll_total",
  "sink_record_read_total",
];

/** What one task did, read off one scrape. */
export interface TaskReading {
  records?: number;
  memoryBytes?: number;
}

/** Readings by `connector/task`, from one scrape. */
export function taskReadings(samples: Sample[]): Map<string, TaskReading> {
  const out = new Map<string, TaskReading>();
  // Which THROUGHPUT suffix gave a task's `records`: the earliest wins,
  // as written (or sent) records are what reached the other side.
  const ranks = new Map<string, number>();
  for (const s of samples) {
    const { connector, task } = s.labels;
    if (connector === undefined || task === undefined) continue;
    const key = `${connector}/${task}`;
    const reading = out.get(key) ?? {};
    const rank = THROUGHPUT.findIndex((suffix) => s.name.endsWith(suffix));
    if (rank >= 0 && rank <= (ranks.get(key) ?? THROUGHPUT.length)) {
      reading.records = s.value;
      ranks.set(key, rank);
    } else if (rank < 0 && s.name === "wasmconnect_task_guest_memory_bytes") {
      reading.memoryBytes = s.value;
    } else if (rank < 0 && reading.memoryBytes === undefined && s.name.startsWith("wasmconnect_") && /memory/.test(s.name) && !/peak|max|limit/.test(s.name)) {
      reading.memoryBytes = s.value;
    } else {
      continue;
    }
    out.set(key, reading);
  }
  return out;
}

/** How many points a chart keeps (two minutes at the 2 s refresh). */
export const HISTORY = 60;

/** A task's recent history: memory and throughput, oldest first. */
export interface TaskHistory {
  memory: number[];
  rate: number[];
  /** What `rate` counts: records/s from /metrics, else guest calls/s. */
  rateUnit: "records/s" | "calls/s";
  lastCount?: number;
  lastTime?: number;
}

/**
 * Keeps each task's history across refreshes. `record` takes a counter
 * (records or calls) and a memory reading and turns the counter into a
 * rate against the previous sample; a counter that went down (the task
 * restarted) starts over rather than charting a negative rate.
 */
export class HistoryStore {
  private readonly tasks = new Map<string, TaskHistory>();

  get(key: string): TaskHistory | undefined {
    return this.tasks.get(key);
  }

  record(key: string, now: number, count: number | undefined, memory: number | undefined, unit: TaskHistory["rateUnit"]): void {
    let t = this.tasks.get(key);
    if (!t || t.rateUnit !== unit) {
      t = { memory: [], rate: [], rateUnit: unit };
      this.tasks.set(key, t);
    }
    if (memory !== undefined) push(t.memory, memory);
    if (count !== undefined) {
      if (t.lastCount !== undefined && t.lastTime !== undefined && count >= t.lastCount && now > t.lastTime) {
        push(t.rate, ((count - t.lastCount) * 1000) / (now - t.lastTime));
      }
      t.lastCount = count;
      t.lastTime = now;
    }
  }

  /** Forgets tasks that no longer exist. */
  retain(keys: Set<string>): void {
    for (const k of this.tasks.keys()) if (!keys.has(k)) this.tasks.delete(k);
  }
}

function push(series: number[], value: number): void {
  series.push(value);
  if (series.length > HISTORY) series.splice(0, series.length - HISTORY);
}
