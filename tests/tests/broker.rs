//! The real broker harness: lines read by the `file-source` component cross
//! a nisshi broker and are written back by the `file-sink` component.

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::Message;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use wasmconnect::bindings::types::{Payload, SinkRecord, TimestampType};
use wasmconnect::{InstanceSpec, SinkTaskInstance, SourceTaskInstance};
use wasmconnect_tests::{Broker, config, load};

const LINES: usize = 2_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_lines_cross_a_real_broker_between_the_two_components() {
    let broker = Broker::start();
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", broker.bootstrap())
        .create()
        .unwrap();
    let created = admin
        .create_topics(
            &[NewTopic::new("lines", 1, TopicReplication::Fixed(1))],
            &AdminOptions::new(),
        )
        .await
        .unwrap();
    assert!(created.iter().all(|r| r.is_ok()), "{created:?}");

    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    let output = dir.path().join("out.txt");
    let text: String = (0..LINES).map(|i| format!("line {i} ✓\n")).collect();
    std::fs::write(&input, &text).unwrap();

    let src_cfg = config(&[("file", input.to_str().unwrap()), ("topic", "lines")]);
    let mut source = SourceTaskInstance::new(
        &load("file-source").await,
        InstanceSpec::new("src", Some(0), src_cfg.clone()),
    )
    .await
    .unwrap();
    source.start(&src_cfg).await.unwrap();
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", broker.bootstrap())
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .create()
        .unwrap();
    let mut sent = 0;
    while sent < LINES {
        let batch = source.poll().await.unwrap();
        let deliveries: Vec<_> = batch
            .iter()
            .map(|r| {
                let Some(Payload::Text(value)) = &r.value else {
                    panic!("text expected")
                };
                producer
                    .send_result(FutureRecord::<(), _>::to(&r.topic).payload(value.as_bytes()))
                    .unwrap()
            })
            .collect();
        for d in deliveries {
            d.await.unwrap().unwrap();
        }
        sent += batch.len();
    }
    assert_eq!(sent, LINES);

    let sink_cfg = config(&[("file", output.to_str().unwrap()), ("topics", "lines")]);
    let mut sink = SinkTaskInstance::new(
        &load("file-sink").await,
        InstanceSpec::new("snk", Some(0), sink_cfg.clone()),
    )
    .await
    .unwrap();
    sink.start(&sink_cfg).await.unwrap();
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", broker.bootstrap())
        .set("group.id", "connect-snk")
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    consumer.subscribe(&["lines"]).unwrap();
    let mut received = 0;
    while received < LINES {
        let msg = tokio::time::timeout(Duration::from_secs(60), consumer.recv())
            .await
            .expect("records within 60 s")
            .unwrap();
        let record = SinkRecord {
            topic: msg.topic().to_string(),
            partition: msg.partition(),
            offset: msg.offset(),
            key: None,
            value: msg
                .payload()
                .map(|v| Payload::Text(String::from_utf8(v.to_vec()).unwrap())),
            headers: vec![],
            timestamp: msg.timestamp().to_millis(),
            timestamp_type: TimestampType::CreateTime,
        };
        sink.put(&[record]).await.unwrap();
        received += 1;
    }
    sink.pre_commit(&[]).await.unwrap();
    assert_eq!(std::fs::read_to_string(&output).unwrap(), text);
}
