//! `org.apache.kafka.connect.transforms.Filter`: the logic lives in the kafka-transforms crate.

kafka_transforms::export_class!(Filter, NoVariant);
