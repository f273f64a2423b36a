//! `org.apache.kafka.connect.transforms.Flatten$Value`: the logic lives in the kafka-transforms crate.

kafka_transforms::export_class!(Flatten, ValueVariant);
