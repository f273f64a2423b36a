//! `org.apache.kafka.connect.transforms.ReplaceField$Value`: the logic lives in the kafka-transforms crate.

kafka_transforms::export_class!(ReplaceField, ValueVariant);
