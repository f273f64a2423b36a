//! `org.apache.kafka.connect.transforms.InsertHeader`: the logic lives in the kafka-transforms crate.

kafka_transforms::export_class!(InsertHeader, NoVariant);
