//! `org.apache.kafka.connect.transforms.MaskField$Value`: the logic lives in the kafka-transforms crate.

kafka_transforms::export_class!(MaskField, ValueVariant);
