//! `org.apache.kafka.connect.transforms.Cast$Value`: the logic lives in the kafka-transforms crate.

kafka_transforms::export_class!(Cast, ValueVariant);
