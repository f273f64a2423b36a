//! `org.apache.kafka.connect.transforms.SetSchemaMetadata$Key`: the logic lives in the kafka-transforms crate.

kafka_transforms::export_class!(SetSchemaMetadata, KeyVariant);
