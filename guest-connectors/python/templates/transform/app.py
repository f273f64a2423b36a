"""The smallest wasmconnect transform in Python: uppercases text values and
drops tombstones; other records pass unchanged.

Copy this directory, rename the class and the `name`, then build it with
`bash guest-connectors/python/build.sh OUT_DIR path/to/your-copy`, and use
it in a connector's chain: "transforms": "up",
"transforms.up.type": "UppercaseText".
"""

import wasmconnect_kit as wc


class UppercaseText(wc.Transform):
    # What operators put in transforms.<alias>.type (or an alias).
    name = "com.example.UppercaseText"
    aliases = ["UppercaseText"]
    version = "0.1.0"
    description = "Uppercases text values and drops tombstones"
    # Declare settings with wc.Key(...); read them in configure(self, config).
    config_def = []

    def apply(self, record):
        if record.value is None:
            return None  # drop
        if wc.kind(record.value) == "text":
            return wc.replace(record, value=wc.decode(record.value).upper())
        return record  # keep as it is


# componentize-py looks for these two names: one per exported interface.
Plugin, RecordTransform = wc.export_transform(UppercaseText)
