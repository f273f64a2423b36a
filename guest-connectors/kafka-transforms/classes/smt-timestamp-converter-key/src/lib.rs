//! `org.apache.kafka.connect.transforms.TimestampConverter$Key`: the logic lives in the kafka-transforms crate.

kafka_transforms::export_class!(TimestampConverter, KeyVariant);
