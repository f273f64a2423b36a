//! `org.apache.kafka.connect.transforms.TimestampConverter$Value`: the logic lives in the kafka-transforms crate.

kafka_transforms::export_class!(TimestampConverter, ValueVariant);
