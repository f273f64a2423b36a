//! `org.apache.kafka.connect.transforms.HeaderFrom$Value`: the logic lives in the kafka-transforms crate.

kafka_transforms::export_class!(HeaderFrom, ValueVariant);
