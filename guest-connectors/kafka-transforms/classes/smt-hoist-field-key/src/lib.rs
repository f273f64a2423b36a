//! `org.apache.kafka.connect.transforms.HoistField$Key`: the logic lives in the kafka-transforms crate.

kafka_transforms::export_class!(HoistField, KeyVariant);
