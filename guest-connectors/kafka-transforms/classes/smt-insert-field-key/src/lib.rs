//! `org.apache.kafka.connect.transforms.InsertField$Key`: the logic lives in the kafka-transforms crate.

kafka_transforms::export_class!(InsertField, KeyVariant);
