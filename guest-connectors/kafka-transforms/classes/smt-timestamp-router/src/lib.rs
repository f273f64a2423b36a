//! `org.apache.kafka.connect.transforms.TimestampRouter`: the logic lives in the kafka-transforms crate.

kafka_transforms::export_class!(TimestampRouter, NoVariant);
