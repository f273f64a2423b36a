//! `org.apache.kafka.connect.transforms.ReplaceField$Key`: the logic lives in the kafka-transforms crate.

kafka_transforms::export_class!(ReplaceField, KeyVariant);
