//! `org.apache.kafka.connect.transforms.ExtractField$Value`: the logic lives in the kafka-transforms crate.

kafka_transforms::export_class!(ExtractField, ValueVariant);
