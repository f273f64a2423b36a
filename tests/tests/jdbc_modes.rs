//! The JDBC connectors' other paths against real databases: MariaDB and
//! SQLite sources in incrementing, bulk (query) and timestamp modes with
//! the records' Connect schemas as JsonConverter writes them; a sink
//! given records it cannot write (failing, naming the record, or sending
//! them to the dead letter queue); and a query that outlives the sandbox's
//! call deadline, cancelled on the server while the task keeps running;
//! a source that finds tables created and dropped while it runs
//! (`table.poll.interval.ms`); and both connectors through the conformance
//! kit against SQLite.

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use serde_json::{Value, json};
use wasmconnect_tests::databases::{MariaDb, Postgres};
use wasmconnect_tests::{Broker, Rest, WorkerProcess, topic_values, wait_until, worker_props};

const JSON_CONVERTERS: &str = "key.converter=org.apache.kafka.connect.json.JsonConverter\n\
     value.converter=org.apache.kafka.connect.json.JsonConverter\n\
     sandbox.allowed.hosts=127.0.0.1\n";

fn high_watermark(bootstrap: &str, topic: &str) -> i64 {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .expect("consumer");
    consumer
        .fetch_watermarks(topic, 0, Duration::from_secs(5))
        .map(|(_, high)| high)
        .unwrap_or(0)
}

async fn wait_records(bootstrap: &str, topic: &str, at_least: i64, worker: &WorkerProcess) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while high_watermark(bootstrap, topic) < at_least {
        assert!(
            std::time::Instant::now() < deadline,
            "{topic} did not reach {at_least} records; log:\n{}",
            worker.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn records(bootstrap: &str, topic: &str) -> Vec<Value> {
    topic_values(bootstrap, topic)
        .iter()
        .map(|v| serde_json::from_str(v).expect("JSON record"))
        .collect()
}

fn field<'a>(schema: &'a Value, name: &str) -> &'a Value {
    schema["fields"]
        .as_array()
        .and_then(|fields| fields.iter().find(|f| f["field"] == name))
        .unwrap_or_else(|| panic!("no field {name} in {schema}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_and_sqlite_sources_in_incrementing_bulk_and_timestamp_modes() {
    let broker = Broker::start();
    let maria = MariaDb::start();
    let dir = tempfile::tempdir().unwrap();
    let lite = dir.path().join("items.db");
    maria.sql(
        "CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, amount DECIMAL(10,2) NOT NULL, \
           placed DATETIME(3) NOT NULL, flag TINYINT(1), label VARCHAR(20));
         CREATE TABLE events (id BIGINT AUTO_INCREMENT PRIMARY KEY, kind TEXT NOT NULL);
         INSERT INTO orders (amount, placed, flag, label) VALUES
           (10.50, '2024-05-06 07:08:09.123', 1, 'Zoë'), (-3.00, '1999-12-31 23:59:59.999', NULL, NULL),
           (0.01, '2024-01-01 00:00:00', 0, '東京');
         INSERT INTO events (kind) VALUES ('a'), ('b');",
    );
    wasmconnect_tests::databases::sqlite3(
        &lite,
        "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, made TIMESTAMP NOT NULL);
         INSERT INTO items VALUES (1, 'one', '2024-01-01 10:00:00'), (2, 'two', '2024-01-02 10:00:00.250');",
    );

    let port = wasmconnect_tests::free_port();
    let worker = WorkerProcess::start(
        dir.path(),
        &worker_props(broker.bootstrap(), port, JSON_CONVERTERS),
        &[],
    );
    let rest = Rest::new(port);
    rest.wait_ready(&worker).await;
    let lite_url = format!("jdbc:sqlite:{}", lite.display());
    for (name, config) in [
        (
            "maria",
            json!({
                "connector.class": "JdbcSourceConnector",
                "connection.url": maria.url(),
                "connection.user": maria.user(),
                "connection.password": maria.password(),
                "mode": "incrementing",
                "table.whitelist": "orders,events",
                "topic.prefix": "maria-",
                "poll.interval.ms": "200",
                "tasks.max": "2",
            }),
        ),
        (
            "lite-bulk",
            json!({
                "connector.class": "JdbcSourceConnector",
                "connection.url": lite_url,
                "mode": "bulk",
                "query": "SELECT id, name FROM items ORDER BY id",
                "topic.prefix": "lite-items",
                "poll.interval.ms": "300",
            }),
        ),
        (
            "lite-ts",
            json!({
                "connector.class": "JdbcSourceConnector",
                "connection.url": lite_url,
                "mode": "timestamp",
                "timestamp.column.name": "made",
                "table.whitelist": "items",
                "topic.prefix": "ts-",
                "poll.interval.ms": "200",
            }),
        ),
    ] {
        let r = rest.create(name, &config).await;
        assert_eq!(r.status, 201, "{name}: {r:?}");
    }

    // Incrementing, the column found as the auto-increment one; two
    // tables over two tasks.
    rest.wait_for("/connectors/maria/status", "two running tasks", |r| {
        r.body["tasks"]
            .as_array()
            .is_some_and(|t| t.len() == 2 && t.iter().all(|t| t["state"] == "RUNNING"))
    })
    .await;
    wait_records(broker.bootstrap(), "maria-orders", 3, &worker).await;
    wait_records(broker.bootstrap(), "maria-events", 2, &worker).await;
    let orders = records(broker.bootstrap(), "maria-orders");
    let schema = &orders[0]["schema"];
    assert_eq!(schema["type"], "struct");
    assert_eq!(schema["name"], "orders");
    assert_eq!(
        field(schema, "id"),
        &json!({"type": "int32", "optional": false, "field": "id"})
    );
    assert_eq!(
        field(schema, "amount"),
        &json!({"type": "bytes", "optional": false, "name": "org.apache.kafka.connect.data.Decimal",
                "version": 1, "parameters": {"scale": "2", "connect.decimal.precision": "10"},
                "field": "amount"})
    );
    assert_eq!(
        field(schema, "placed"),
        &json!({"type": "int64", "optional": false, "name": "org.apache.kafka.connect.data.Timestamp",
                "version": 1, "field": "placed"})
    );
    assert_eq!(field(schema, "flag")["type"], "int8");
    assert_eq!(
        field(schema, "label"),
        &json!({"type": "string", "optional": true, "field": "label"})
    );
    // 10.50 is the unscaled 1050 = 0x041A; 2024-05-06T07:08:09.123Z in ms.
    assert_eq!(
        orders[0]["payload"],
        json!({"id": 1, "amount": "BBo=", "placed": 1_714_979_289_123_i64, "flag": 1, "label": "Zoë"})
    );
    assert_eq!(orders[1]["payload"]["amount"], "/tQ="); // -300
    assert_eq!(orders[1]["payload"]["label"], Value::Null);
    assert_eq!(orders[2]["payload"]["label"], "東京");
    maria.sql("INSERT INTO orders (amount, placed) VALUES (1.00, NOW(3));");
    wait_records(broker.bootstrap(), "maria-orders", 4, &worker).await;
    assert_eq!(
        records(broker.bootstrap(), "maria-orders")[3]["payload"]["id"],
        4
    );

    // Bulk: the whole query again at every interval; query mode names no
    // schema and uses the prefix as the topic.
    wait_records(broker.bootstrap(), "lite-items", 4, &worker).await;
    let bulk = records(broker.bootstrap(), "lite-items");
    assert_eq!(bulk[0]["payload"], json!({"id": 1, "name": "one"}));
    assert_eq!(bulk[1]["payload"], json!({"id": 2, "name": "two"}));
    assert_eq!(bulk[2]["payload"], bulk[0]["payload"]);
    assert!(
        bulk[0]["schema"].get("name").is_none(),
        "{}",
        bulk[0]["schema"]
    );

    // Timestamp: each row once, and again when its timestamp moves on.
    wait_records(broker.bootstrap(), "ts-items", 2, &worker).await;
    let ts = records(broker.bootstrap(), "ts-items");
    assert_eq!(ts[1]["payload"]["made"], 1_704_189_600_250_i64);
    wasmconnect_tests::databases::sqlite3(
        &lite,
        "UPDATE items SET made = '2024-03-01 00:00:00' WHERE id = 1;",
    );
    wait_records(broker.bootstrap(), "ts-items", 3, &worker).await;
    let ts = records(broker.bootstrap(), "ts-items");
    assert_eq!(ts.len(), 3, "{ts:?}");
    assert_eq!(ts[2]["payload"]["id"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sink_fails_naming_a_record_it_cannot_write_or_sends_it_to_the_dead_letter_queue() {
    let broker = Broker::start();
    let pg = Postgres::start();
    let dir = tempfile::tempdir().unwrap();
    // StringConverter: the records have no schema, which the sink needs.
    let port = wasmconnect_tests::free_port();
    let props = worker_props(
        broker.bootstrap(),
        port,
        "sandbox.allowed.hosts=127.0.0.1\n",
    );
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", broker.bootstrap())
        .create()
        .expect("producer");
    for value in ["not a struct", "neither"] {
        producer
            .send(BaseRecord::<(), str>::to("raw").payload(value))
            .expect("send");
    }
    producer.flush(Duration::from_secs(30)).expect("flush");

    let worker = WorkerProcess::start(dir.path(), &props, &[]);
    let rest = Rest::new(port);
    rest.wait_ready(&worker).await;
    let sink = |extra: &[(&str, &str)]| {
        let mut config = json!({
            "connector.class": "JdbcSinkConnector",
            "topics": "raw",
            "connection.url": pg.url(),
            "connection.user": pg.user(),
            "connection.password": pg.password(),
            "auto.create": "true",
        });
        for (k, v) in extra {
            config[*k] = json!(v);
        }
        config
    };
    assert_eq!(rest.create("strict", &sink(&[])).await.status, 201);
    assert_eq!(
        rest.create(
            "tolerant",
            &sink(&[
                ("errors.tolerance", "all"),
                ("errors.deadletterqueue.topic.name", "raw-dlq"),
                ("errors.deadletterqueue.topic.replication.factor", "1"),
            ])
        )
        .await
        .status,
        201
    );
    let failed = rest
        .wait_for(
            "/connectors/strict/status",
            "the strict sink failing",
            |r| r.body["tasks"][0]["state"] == "FAILED",
        )
        .await;
    let trace = failed.body["tasks"][0]["trace"]
        .as_str()
        .unwrap_or_default();
    assert!(
        trace.contains("(topic='raw',partition=0,offset=0,")
            && trace.contains(
                "requires records with a non-null Struct value and non-null Struct schema"
            ),
        "{trace}"
    );
    wait_records(broker.bootstrap(), "raw-dlq", 2, &worker).await;
    assert_eq!(
        topic_values(broker.bootstrap(), "raw-dlq"),
        ["not a struct", "neither"]
    );
    let tolerant = rest.call("GET", "/connectors/tolerant/status", None).await;
    assert_eq!(
        tolerant.body["tasks"][0]["state"], "RUNNING",
        "{tolerant:?}"
    );
    // Nothing was written (the table would have been created with the
    // first row), and the password appears nowhere.
    assert_eq!(pg.psql("SELECT to_regclass('raw') IS NULL"), "t");
    assert!(!worker.log().contains(pg.password()));
    assert!(!failed.body.to_string().contains(pg.password()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_past_the_call_deadline_is_cancelled_and_the_task_keeps_running() {
    let broker = Broker::start();
    let pg = Postgres::start();
    let dir = tempfile::tempdir().unwrap();
    let port = wasmconnect_tests::free_port();
    let props = worker_props(
        broker.bootstrap(),
        port,
        "sandbox.allowed.hosts=127.0.0.1\nwasm.call.timeout.ms=1500\n",
    );
    let worker = WorkerProcess::start(dir.path(), &props, &[]);
    let rest = Rest::new(port);
    rest.wait_ready(&worker).await;
    let config = json!({
        "connector.class": "JdbcSourceConnector",
        "connection.url": pg.url(),
        "connection.user": pg.user(),
        "connection.password": pg.password(),
        "mode": "bulk",
        "query": "SELECT 1 AS x FROM pg_sleep(30)",
        "topic.prefix": "slow",
    });
    assert_eq!(rest.create("slow", &config).await.status, 201);
    // Cancelled twice: the call that ran into the deadline returned, and
    // the same instance polled again.
    wait_until(
        Duration::from_secs(60),
        "PostgreSQL cancelling the statement twice",
        || {
            pg.log()
                .matches("canceling statement due to user request")
                .count()
                >= 2
        },
    )
    .await;
    // The calls returned in time: the instance is healthy.
    let status = rest.call("GET", "/connectors/slow/status", None).await;
    assert_eq!(
        status.body["tasks"][0]["state"],
        "RUNNING",
        "{status:?}\n{}",
        worker.log()
    );
    assert!(!worker.log().contains("poisoned"), "{}", worker.log());
}

/// A record as JsonConverter (schemas on) writes it.
fn enveloped(schema: Value, payload: Value) -> String {
    json!({"schema": schema, "payload": payload}).to_string()
}

fn person(id: i32, name: &str, age: Option<i32>) -> (String, String) {
    let key = enveloped(
        json!({"type": "struct", "optional": false,
               "fields": [{"type": "int32", "optional": false, "field": "id"}]}),
        json!({"id": id}),
    );
    let value = enveloped(
        json!({"type": "struct", "optional": false, "name": "person", "fields": [
            {"type": "string", "optional": false, "field": "name"},
            {"type": "int32", "optional": true, "field": "age"}]}),
        json!({"name": name, "age": age}),
    );
    (key, value)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sinks_upsert_by_record_key_delete_on_tombstones_and_log_by_kafka_coordinates() {
    let broker = Broker::start();
    let pg = Postgres::start();
    let dir = tempfile::tempdir().unwrap();
    let lite = dir.path().join("log.db");
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", broker.bootstrap())
        .create()
        .expect("producer");
    let people = [
        person(1, "Ann", Some(30)),
        person(2, "Bob", None),
        person(1, "Ann", Some(31)),
        person(3, "Cy ☃", Some(5)),
    ];
    for (key, value) in &people {
        for topic in ["people", "people-log"] {
            producer
                .send(
                    BaseRecord::to(topic)
                        .key(key.as_str())
                        .payload(value.as_str()),
                )
                .expect("send");
        }
    }
    // Bob's tombstone: a key and no value.
    producer
        .send(BaseRecord::<str, str>::to("people").key(people[1].0.as_str()))
        .expect("send");
    producer.flush(Duration::from_secs(30)).expect("flush");

    let port = wasmconnect_tests::free_port();
    let worker = WorkerProcess::start(
        dir.path(),
        &worker_props(broker.bootstrap(), port, JSON_CONVERTERS),
        &[],
    );
    let rest = Rest::new(port);
    rest.wait_ready(&worker).await;
    let upsert = json!({
        "connector.class": "JdbcSinkConnector",
        "topics": "people",
        "connection.url": pg.url(),
        "connection.user": pg.user(),
        "connection.password": pg.password(),
        "insert.mode": "upsert",
        "pk.mode": "record_key",
        "pk.fields": "id",
        "delete.enabled": "true",
        "auto.create": "true",
    });
    let log = json!({
        "connector.class": "JdbcSinkConnector",
        "topics": "people-log",
        "connection.url": format!("jdbc:sqlite:{}", lite.display()),
        "insert.mode": "insert",
        "pk.mode": "kafka",
        "auto.create": "true",
        "table.name.format": "log_${topic}",
    });
    assert_eq!(rest.create("upsert", &upsert).await.status, 201);
    assert_eq!(rest.create("log", &log).await.status, 201);

    let read_pg = || {
        std::panic::catch_unwind(|| pg.psql("SELECT id, name, age FROM people ORDER BY id"))
            .unwrap_or_default()
    };
    wait_until(
        Duration::from_secs(60),
        "Bob deleted and Ann updated",
        || read_pg() == "1\tAnn\t31\n3\tCy ☃\t5",
    )
    .await;
    let read_log = || {
        std::panic::catch_unwind(|| {
            wasmconnect_tests::databases::sqlite3(
                &lite,
                "SELECT __connect_topic, __connect_partition, __connect_offset, name, \
                 coalesce(age, 'NULL') FROM \"log_people-log\" ORDER BY __connect_offset",
            )
        })
        .unwrap_or_default()
    };
    wait_until(Duration::from_secs(60), "four logged rows", || {
        read_log().lines().count() == 4
    })
    .await;
    assert_eq!(
        read_log(),
        "people-log\t0\t0\tAnn\t30\npeople-log\t0\t1\tBob\tNULL\n\
         people-log\t0\t2\tAnn\t31\npeople-log\t0\t3\tCy ☃\t5"
    );
    for name in ["upsert", "log"] {
        let status = rest
            .call("GET", &format!("/connectors/{name}/status"), None)
            .await;
        assert_eq!(status.body["tasks"][0]["state"], "RUNNING", "{status:?}");
    }
}

/// `table.poll.interval.ms`: the connector lists its tables again at that
/// interval (the worker asks it for task configurations through
/// `wasmconnect:tasks/reconfiguration`), and the tasks are replaced when
/// the tables changed: a table created while the connector runs gets a
/// topic and a task, a dropped one loses its task, and the tables that
/// were there all along resume from their offsets, nothing repeated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_picks_up_tables_created_and_dropped_while_it_runs() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let lite = dir.path().join("growing.db");
    wasmconnect_tests::databases::sqlite3(
        &lite,
        "CREATE TABLE first (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
         INSERT INTO first VALUES (1, 'a'), (2, 'b');",
    );
    let port = wasmconnect_tests::free_port();
    let worker = WorkerProcess::start(
        dir.path(),
        &worker_props(broker.bootstrap(), port, JSON_CONVERTERS),
        &[],
    );
    let rest = Rest::new(port);
    rest.wait_ready(&worker).await;
    let config = json!({
        "connector.class": "JdbcSourceConnector",
        "connection.url": format!("jdbc:sqlite:{}", lite.display()),
        "mode": "incrementing",
        "incrementing.column.name": "id",
        "topic.prefix": "grow-",
        "poll.interval.ms": "200",
        "table.poll.interval.ms": "1000",
        "tasks.max": "4",
    });
    let r = rest.create("grow", &config).await;
    assert_eq!(r.status, 201, "{r:?}");
    let tasks_on = |count: usize| {
        move |r: &wasmconnect_tests::Reply| {
            r.body["tasks"]
                .as_array()
                .is_some_and(|t| t.len() == count && t.iter().all(|t| t["state"] == "RUNNING"))
        }
    };
    rest.wait_for("/connectors/grow/status", "one running task", tasks_on(1))
        .await;
    wait_records(broker.bootstrap(), "grow-first", 2, &worker).await;

    wasmconnect_tests::databases::sqlite3(
        &lite,
        "CREATE TABLE second (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
         INSERT INTO second VALUES (1, 'x'), (2, 'y'), (3, 'z');",
    );
    rest.wait_for("/connectors/grow/status", "two running tasks", tasks_on(2))
        .await;
    wait_records(broker.bootstrap(), "grow-second", 3, &worker).await;
    let tasks = rest
        .wait_for("/connectors/grow/tasks", "two task configurations", |r| {
            r.body.as_array().is_some_and(|t| t.len() == 2)
        })
        .await;
    let tables: Vec<String> = tasks
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            t["config"]["tables"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert!(
        tables[0].contains("\"first\"") && tables[1].contains("\"second\""),
        "{tables:?}"
    );

    // The task reading `first` was replaced: it resumes after id 2.
    wasmconnect_tests::databases::sqlite3(&lite, "INSERT INTO first VALUES (3, 'c');");
    wait_records(broker.bootstrap(), "grow-first", 3, &worker).await;
    wasmconnect_tests::databases::sqlite3(&lite, "DROP TABLE second;");
    rest.wait_for(
        "/connectors/grow/status",
        "one running task again",
        tasks_on(1),
    )
    .await;
    wasmconnect_tests::databases::sqlite3(&lite, "INSERT INTO first VALUES (4, 'd');");
    wait_records(broker.bootstrap(), "grow-first", 4, &worker).await;
    let ids: Vec<i64> = records(broker.bootstrap(), "grow-first")
        .iter()
        .map(|r| r["payload"]["id"].as_i64().unwrap_or(-1))
        .collect();
    assert_eq!(ids, [1, 2, 3, 4]);
    assert_eq!(high_watermark(broker.bootstrap(), "grow-second"), 3);
    assert!(
        worker.log().contains("task configurations changed"),
        "{}",
        worker.log()
    );
}

/// `wasmconnect plugin test` on both connectors against SQLite files (the
/// kit's sandbox, a tool's, bounds no grants): the source
/// polls the table's rows, the sink writes the records it is handed, given
/// as JsonConverter envelopes since it needs schemas, into a table it
/// creates.
#[test]
fn both_connectors_pass_the_conformance_kit() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kit.db");
    wasmconnect_tests::databases::sqlite3(
        &db,
        "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
         INSERT INTO items VALUES (1, 'a'), (2, 'b'), (3, 'c');",
    );
    let url = format!("connection.url=jdbc:sqlite:{}", db.display());
    let value = |id: i32| {
        format!(
            r#"{{"schema":{{"type":"struct","optional":false,"fields":[{{"field":"id","type":"int32","optional":false}},{{"field":"score","type":"double","optional":true}}]}},"payload":{{"id":{id},"score":{id}.5}}}}"#
        )
    };
    wasmconnect_tests::conformance_kit(
        dir.path(),
        "jdbc-source",
        &[
            url.clone(),
            "mode=incrementing".into(),
            "topic.prefix=kit-".into(),
        ],
        &[],
        "PASS poll: 3 records",
    );
    wasmconnect_tests::conformance_kit(
        dir.path(),
        "jdbc-sink",
        &[url, "topics=conformance".into(), "auto.create=true".into()],
        &[value(1), value(2)],
        "PASS put: ",
    );
    assert_eq!(
        wasmconnect_tests::databases::sqlite3(
            &db,
            "SELECT id, score FROM conformance ORDER BY id;"
        ),
        "1\t1.5\n2\t2.5"
    );
}
