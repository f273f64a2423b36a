//! `org.apache.kafka.connect.transforms.Flatten$Key`: the logic lives in the kafka-transforms crate.

kafka_transforms::export_class!(Flatten, KeyVariant);
