//! `org.apache.kafka.connect.transforms.RegexRouter`: the logic lives in the kafka-transforms crate.

kafka_transforms::export_class!(RegexRouter, NoVariant);
