//! `org.apache.kafka.connect.transforms.HoistField$Value`: the logic lives in the kafka-transforms crate.

kafka_transforms::export_class!(HoistField, ValueVariant);
