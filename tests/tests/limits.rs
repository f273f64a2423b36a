//! Per-connector limits under a worker's maximums, faults failing only
//! their own task with the cause in its trace, and resource usage in status.

use std::time::Duration;

use serde_json::json;
use wasmconnect_tests::{Broker, append, free_port, start_worker, wait_for_lines, worker_props};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faulty_tasks_fail_alone_with_the_cause_while_a_healthy_pipeline_streams_on() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let props = worker_props(
        broker.bootstrap(),
        port,
        "wasm.memory.max.bytes=67108864\nwasm.call.timeout.max.ms=5000\n",
    );
    let (worker, rest) = start_worker(dir.path(), &props, port).await;

    // Asking for more than the worker allows is refused when validated.
    let greedy = json!({"connector.class": "io.wasmconnect.testing.MisbehavingSourceConnector", "wasm.memory.bytes": "134217728"});
    let r = rest.create("greedy", &greedy).await;
    assert_eq!(r.status, 400);
    assert!(
        r.body["message"].as_str().unwrap().contains(
            "Invalid value 134217728 for configuration wasm.memory.bytes: this worker allows at most 67108864 (wasm.memory.max.bytes)"
        ),
        "{:?}",
        r.body
    );

    // A healthy pipeline.
    let (input, output) = (dir.path().join("in.txt"), dir.path().join("out.txt"));
    let src = json!({"connector.class": "FileStreamSource", "file": input.to_str().unwrap(), "topic": "healthy"});
    let snk = json!({"connector.class": "FileStreamSink", "file": output.to_str().unwrap(), "topics": "healthy"});
    for (name, cfg) in [("src", &src), ("snk", &snk)] {
        assert_eq!(rest.create(name, cfg).await.status, 201);
    }

    // Two faulty connectors with tight limits of their own.
    let looping = json!({"connector.class": "io.wasmconnect.testing.MisbehavingSourceConnector", "mode": "loop-in-poll", "wasm.call.timeout.ms": "500"});
    let hog = json!({"connector.class": "io.wasmconnect.testing.MisbehavingSourceConnector", "mode": "grow-memory", "wasm.memory.bytes": "33554432"});
    for (name, cfg) in [("looping", &looping), ("hog", &hog)] {
        assert_eq!(rest.create(name, cfg).await.status, 201);
    }

    // Stream a known sequence while the faults happen; REST keeps answering.
    let mut expected = String::new();
    for i in 0..2000 {
        let line = format!("seq {i}\n");
        append(&input, &line);
        expected.push_str(&line);
        if i % 100 == 0 {
            assert_eq!(rest.call("GET", "/connectors", None).await.status, 200);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let is_failed = |r: &wasmconnect_tests::Reply| r.body["tasks"][0]["state"] == "FAILED";
    let r = rest
        .wait_for("/connectors/looping/status", "a FAILED task", is_failed)
        .await;
    assert_eq!(
        r.body["tasks"][0]["trace"],
        "plugin did not return from poll within its 500 ms call deadline"
    );
    let r = rest
        .wait_for("/connectors/hog/status", "a FAILED task", is_failed)
        .await;
    let trace = r.body["tasks"][0]["trace"].as_str().unwrap();
    assert!(
        trace.starts_with("plugin exceeded its memory limit of 32 MiB in poll"),
        "{trace}"
    );

    wait_for_lines(&output, 2000, Duration::from_secs(60), &worker);
    assert!(
        std::fs::read_to_string(&output).unwrap() == expected,
        "the healthy pipeline lost or repeated records"
    );
    for name in ["src", "snk"] {
        let r = rest
            .call("GET", &format!("/connectors/{name}/status"), None)
            .await;
        assert_eq!(
            r.body["tasks"][0]["state"], "RUNNING",
            "{name}: {:?}",
            r.body
        );
        let usage = &r.body["tasks"][0]["resources"];
        assert!(usage["calls"].as_u64().unwrap() > 0, "{name}: {usage}");
        assert!(
            usage["memory_bytes"].as_u64().unwrap() > 0,
            "{name}: {usage}"
        );
        assert!(
            usage["peak_memory_bytes"].as_u64() >= usage["memory_bytes"].as_u64(),
            "{name}: {usage}"
        );
        assert_eq!(usage["faults"], 0, "{name}: {usage}");
    }

    // Once the cause is gone, the task comes back.
    let r = rest
        .call(
            "PATCH",
            "/connectors/looping/config",
            Some(json!({"mode": "healthy"})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    rest.wait_for("/connectors/looping/status", "the task back", |r| {
        r.body["tasks"][0]["state"] == "RUNNING"
    })
    .await;
}
