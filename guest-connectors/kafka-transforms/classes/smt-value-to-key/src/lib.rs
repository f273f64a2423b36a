//! `org.apache.kafka.connect.transforms.ValueToKey`: the logic lives in the kafka-transforms crate.

kafka_transforms::export_class!(ValueToKey, NoVariant);
