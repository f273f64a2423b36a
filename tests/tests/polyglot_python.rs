//! The Python kit's three roles in one pipeline, through a worker process
//! and a real broker: the HttpPollSource example
//! (`guest-connectors/python/examples/http-poll-source`, outbound HTTP
//! through `wasi:http`) polls pages of JSON objects from an HTTP server of
//! the test's own into a topic, and the JsonLinesSink example writes them
//! to a file through the JsonExtract transform (`examples/json-extract`)
//! in the sink's chain, which lifts a field into the key and one into a
//! header and drops objects without it. The cursor field is shared by
//! pairs of objects, so ties straddle page boundaries and the restart.
//!
//! Checked: the exact lines written, the exact requests the source made
//! (the last object's cursor passed back as `since`, a 503 retried), and,
//! after the worker is stopped and started again, that the source asks
//! from its committed cursor, sends the other half of the tie it stopped
//! in, and nothing arrives twice.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use wasmconnect_tests::{Broker, Rest, WorkerProcess, free_port, polyglot_dir};

/// Objects per page the server answers with.
const PAGE: usize = 3;

/// An endpoint serving `{"data":{"items":[…]}}`: the objects whose `seq`
/// is at or above the `since` query parameter (ties are served again, as
/// HttpPollSource asks), a page at a time, in (seq, id) order;
/// it records each request line and answers 503 as often as told first.
#[derive(Clone, Default)]
struct Items {
    objects: Arc<Mutex<Vec<Value>>>,
    requests: Arc<Mutex<Vec<String>>>,
    unavailable: Arc<Mutex<usize>>,
}

impl Items {
    async fn serve(&self) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let port = listener.local_addr().expect("its address").port();
        let items = self.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let items = items.clone();
                tokio::spawn(async move { items.answer(socket).await });
            }
        });
        port
    }

    async fn answer(&self, socket: tokio::net::TcpStream) {
        let (read, mut write) = socket.into_split();
        let mut read = BufReader::new(read);
        let mut line = String::new();
        if read.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        // A GET: headers only, up to the blank line.
        loop {
            let mut header = String::new();
            if read.read_line(&mut header).await.unwrap_or(0) == 0 {
                return;
            }
            if header.trim_end().is_empty() {
                break;
            }
        }
        let line = line.trim_end().to_string();
        self.requests.lock().unwrap().push(line.clone());
        let (status, body) = {
            let mut unavailable = self.unavailable.lock().unwrap();
            if *unavailable > 0 {
                *unavailable -= 1;
                (503, "try later".to_string())
            } else {
                (200, self.page(&line).to_string())
            }
        };
        let reply = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
             connection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = write.write_all(reply.as_bytes()).await;
        let _ = write.flush().await;
    }

    fn page(&self, request_line: &str) -> Value {
        let since: i64 = request_line
            .split_whitespace()
            .nth(1)
            .and_then(|target| target.split_once("since="))
            .map_or(0, |(_, v)| v.parse().expect("since is a number"));
        let objects = self.objects.lock().unwrap();
        let page: Vec<Value> = objects
            .iter()
            .filter(|o| o["seq"].as_i64().unwrap() >= since)
            .take(PAGE)
            .cloned()
            .collect();
        json!({"data": {"items": page}})
    }

    fn add(&self, ids: std::ops::RangeInclusive<i64>) {
        self.objects.lock().unwrap().extend(ids.map(object));
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// Object `id`, with `seq` shared by ids 1–2, 3–4, …: every fifth has
/// no `user` (JsonExtract drops it).
fn object(id: i64) -> Value {
    let kind = if id % 2 == 0 { "login" } else { "signup" };
    let seq = (id + 1) / 2;
    if id % 5 == 0 {
        json!({"id": id, "seq": seq, "kind": kind})
    } else {
        json!({"id": id, "seq": seq, "kind": kind, "user": {"name": format!("user-{id}")}})
    }
}

/// What JsonLinesSink writes for object `id`, without the Kafka partition,
/// offset and timestamp (checked apart).
fn line(id: i64) -> Value {
    let kind = if id % 2 == 0 { "login" } else { "signup" };
    json!({"topic": "items", "key": format!("user-{id}"), "value": object(id),
           "headers": {"x-kind": kind}})
}

fn request(since: Option<i64>) -> String {
    match since {
        None => "GET /items HTTP/1.1".into(),
        Some(s) => format!("GET /items?since={s} HTTP/1.1"),
    }
}

/// The lines of the output file so far, with each line's (partition,
/// offset) kept apart and the producer's timestamp checked and dropped.
fn lines(path: &Path) -> (Vec<Value>, Vec<(i64, i64)>) {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut values = Vec::new();
    let mut positions = Vec::new();
    for l in text.lines() {
        let mut v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}"));
        let o = v.as_object_mut().unwrap();
        assert!(o.remove("timestamp").unwrap().is_i64(), "{l}");
        positions.push((
            o.remove("partition").unwrap().as_i64().unwrap(),
            o.remove("offset").unwrap().as_i64().unwrap(),
        ));
        values.push(v);
    }
    (values, positions)
}

/// Waits until `condition` holds, failing with the requests the server
/// got and the worker's log.
async fn wait(
    what: &str,
    items: &Items,
    worker: &WorkerProcess,
    mut condition: impl FnMut() -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(90);
    while !condition() {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; requests {:?}; worker log:\n{}",
            items.requests(),
            worker.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn start(dir: &Path, worker: &str, connectors: &[(&str, &str)], port: u16) -> WorkerProcess {
    let process = WorkerProcess::start(dir, worker, connectors);
    let rest = Rest::new(port);
    rest.wait_ready(&process).await;
    for name in ["poll", "jsonl"] {
        rest.wait_for(&format!("/connectors/{name}/status"), name, |r| {
            r.body["tasks"]
                .as_array()
                .is_some_and(|t| t.len() == 1 && t[0]["state"] == "RUNNING")
        })
        .await;
    }
    process
}

#[tokio::test]
async fn python_http_source_through_a_python_transform_resumes_from_its_cursor() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    // Only the three components this pipeline uses: the worker loads fewer.
    let plugins = dir.path().join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    for name in ["http-poll-source", "json-extract", "json-lines-sink"] {
        let file = format!("python-{name}.wasm");
        let built = polyglot_dir().join(&file);
        assert!(
            built.exists(),
            "{} is missing: run `bash guest-connectors/python/build.sh build/polyglot`",
            built.display()
        );
        std::fs::copy(&built, plugins.join(&file)).unwrap();
    }

    let items = Items::default();
    items.add(1..=7);
    *items.unavailable.lock().unwrap() = 1;
    let http_port = items.serve().await;
    let out = dir.path().join("items.jsonl");
    let port = free_port();
    let worker = format!(
        "bootstrap.servers={}\nkey.converter=org.apache.kafka.connect.storage.StringConverter\n\
         value.converter=org.apache.kafka.connect.json.JsonConverter\n\
         value.converter.schemas.enable=false\noffset.storage.file.filename=connect.offsets\n\
         offset.flush.interval.ms=200\nconsumer.session.timeout.ms=6000\n\
         listeners=http://127.0.0.1:{port}\nplugin.path={}\n{}\
         sandbox.allowed.hosts=127.0.0.1:{http_port}\n",
        broker.bootstrap(),
        plugins.display(),
        wasmconnect_tests::sandbox_dirs(),
    );
    let source = format!(
        "name=poll\nconnector.class=HttpPollSource\ntasks.max=1\n\
         http.url=http://127.0.0.1:{http_port}/items\ntopic=items\nrecords.field=data.items\n\
         cursor.field=seq\n\
         poll.interval.ms=100\nretry.backoff.ms=100\n"
    );
    let sink = format!(
        "name=jsonl\nconnector.class=PythonJsonLinesSink\ntopics=items\nfile={}\n\
         binary.encoding=utf8\ntransforms=extract\ntransforms.extract.type=JsonExtract\n\
         transforms.extract.key.path=$.user.name\ntransforms.extract.header.paths=kind\n\
         transforms.extract.header.prefix=x-\ntransforms.extract.missing=drop\n",
        out.display()
    );
    let connectors = [
        ("poll.properties", source.as_str()),
        ("jsonl.properties", sink.as_str()),
    ];

    let mut process = start(dir.path(), &worker, &connectors, port).await;
    // 4 ties with 3 across the first page boundary, 6 with 5 across the
    // second: neither may be lost.
    let want: Vec<Value> = [1, 2, 3, 4, 6, 7].map(line).to_vec();
    wait("the first six lines", &items, &process, || {
        lines(&out).0.len() >= want.len()
    })
    .await;
    wait("a poll past the last object", &items, &process, || {
        items.requests().contains(&request(Some(4)))
    })
    .await;
    assert_eq!(lines(&out).0, want);
    // The 503 was retried; each page's last seq became the next cursor,
    // and the server's repeat of the tie at it was skipped.
    assert_eq!(
        items.requests()[..5],
        [
            request(None),
            request(None),
            request(Some(2)),
            request(Some(3)),
            request(Some(4)),
        ]
    );

    // Stopped and started again, with four more objects served (8 ties
    // with 7, the last sent; 10 without a user): the source asks from its
    // committed cursor, sends 8, and nothing arrives twice.
    assert_eq!(process.terminate(Duration::from_secs(30)), Some(0));
    let before = items.requests().len();
    items.add(8..=11);
    let process = start(dir.path(), &worker, &connectors, port).await;
    let want: Vec<Value> = [1, 2, 3, 4, 6, 7, 8, 9, 11].map(line).to_vec();
    wait("the three new lines", &items, &process, || {
        lines(&out).0.len() >= want.len()
    })
    .await;
    wait("a poll past the new objects", &items, &process, || {
        items.requests().contains(&request(Some(6)))
    })
    .await;
    let (got, positions) = lines(&out);
    assert_eq!(got, want);
    assert_eq!(
        items.requests()[before..before + 3],
        [request(Some(4)), request(Some(5)), request(Some(6))]
    );
    let distinct: BTreeSet<_> = positions.iter().collect();
    assert_eq!(distinct.len(), positions.len(), "{positions:?}");
}
