//! `org.apache.kafka.connect.transforms.ExtractField$Key`: the logic lives in the kafka-transforms crate.

kafka_transforms::export_class!(ExtractField, KeyVariant);
