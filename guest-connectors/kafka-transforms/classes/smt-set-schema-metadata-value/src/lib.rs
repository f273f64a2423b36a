//! `org.apache.kafka.connect.transforms.SetSchemaMetadata$Value`: the logic lives in the kafka-transforms crate.

kafka_transforms::export_class!(SetSchemaMetadata, ValueVariant);
