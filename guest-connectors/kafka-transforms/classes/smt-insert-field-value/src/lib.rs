//! `org.apache.kafka.connect.transforms.InsertField$Value`: the logic lives in the kafka-transforms crate.

kafka_transforms::export_class!(InsertField, ValueVariant);
