//! `org.apache.kafka.connect.transforms.MaskField$Key`: the logic lives in the kafka-transforms crate.

kafka_transforms::export_class!(MaskField, KeyVariant);
