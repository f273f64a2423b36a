"""The smallest wasmconnect source in Python: counts, one record a second.

Each record's value is "tick N" and its source offset {"n": N}; after a
restart the task reads the committed offset and goes on from N + 1, so
nothing is sent twice and nothing is skipped. Copy this directory, rename
the classes and the `name`, then build it with
`bash guest-connectors/python/build.sh OUT_DIR path/to/your-copy`.
"""

import time

import wasmconnect_kit as wc

TOPIC = "topic"
INTERVAL = "interval.ms"
# Where the records come from: one counter, so one source partition.
PARTITION = {"counter": "ticks"}


class TickSourceConnector(wc.SourceConnector):
    # What operators put in connector.class (or an alias, or the simple name).
    name = "com.example.TickSourceConnector"
    aliases = ["TickSource"]
    version = "0.1.0"
    description = "Emits a numbered record at a fixed interval"
    config_def = [
        wc.Key(TOPIC, "string", "The topic the records go to.", required=True, importance="high"),
        wc.Key(INTERVAL, "long", "Milliseconds between two records.", default=1000),
    ]

    def validate(self, config):
        if config.int(INTERVAL, 1000) < 0:
            return {INTERVAL: f"{INTERVAL} must be 0 or more"}

    def task_configs(self, max_tasks):
        # One counter: more tasks would send the same numbers.
        return [self.config]


class TickSourceTask(wc.SourceTask):
    def start(self, config):
        self.topic = config.required(TOPIC)
        self.interval = config.int(INTERVAL, 1000) / 1000
        committed = self.offset(PARTITION)  # None on the first run
        self.next = 0 if committed is None else committed["n"] + 1
        self.due = time.monotonic()
        wc.info("counting from %d", self.next)

    def poll(self):
        # Wait at most a second per call: the worker may want to stop us.
        wait = self.due - time.monotonic()
        if wait > 0:
            wc.sleep(min(wait, 1.0))
            return []
        n, self.next = self.next, self.next + 1
        self.due += self.interval
        return [wc.SourceRecord(self.topic, f"tick {n}", key=str(n),
                                source_partition=PARTITION, source_offset={"n": n})]


# componentize-py looks for these three names: one per exported interface.
Plugin, Connector, SourceTask = wc.export_source(TickSourceConnector, TickSourceTask)
