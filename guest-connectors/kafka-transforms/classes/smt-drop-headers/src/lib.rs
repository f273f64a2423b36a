//! `org.apache.kafka.connect.transforms.DropHeaders`: the logic lives in the kafka-transforms crate.

kafka_transforms::export_class!(DropHeaders, NoVariant);
