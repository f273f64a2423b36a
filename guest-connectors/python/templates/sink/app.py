"""The smallest wasmconnect sink in Python: logs how many records it receives.

Copy this directory, rename the classes and the `name`, then build it with
`bash guest-connectors/python/build.sh OUT_DIR path/to/your-copy`.
"""

import wasmconnect_kit as wc


class CountingSinkConnector(wc.SinkConnector):
    # What operators put in connector.class (or an alias, or the simple name).
    name = "com.example.CountingSinkConnector"
    aliases = ["CountingSink"]
    version = "0.1.0"
    description = "Logs the number of records it receives"
    # Declare settings with wc.Key(...); this sink has none.
    config_def = []


class CountingSinkTask(wc.SinkTask):
    def start(self, config):
        self.total = 0

    def put(self, records):
        self.total += len(records)
        wc.info("received %d records (%d in total)", len(records), self.total)


# componentize-py looks for these three names: one per exported interface.
Plugin, Connector, SinkTask = wc.export_sink(CountingSinkConnector, CountingSinkTask)
