//! `org.apache.kafka.connect.transforms.Cast$Key`: the logic lives in the kafka-transforms crate.

kafka_transforms::export_class!(Cast, KeyVariant);
