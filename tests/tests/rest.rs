//! The REST API against a running standalone worker, real connectors and a
//! real broker: exact status codes and JSON bodies, error cases included.
//! The connector lifecycle itself is in `lifecycle.rs`.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Value, json};
use wasmconnect_tests::rest_setup::{setup, sink_config, source_config};
use wasmconnect_tests::{Rest, WorkerProcess, line_count, wait_for_lines};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_carry_kafkas_codes_and_messages_and_nothing_crashes_the_worker() {
    let s = setup().await;
    let (rest, dir) = (&s.rest, s.dir.path());
    let err = |code: u16, message: &str| json!({"error_code": code, "message": message});

    let r = rest.call("GET", "/no/such/path", None).await;
    assert_eq!((r.status, r.body), (404, err(404, "HTTP 404 Not Found")));
    let r = rest.call("DELETE", "/connector-plugins", None).await;
    assert_eq!(
        (r.status, r.body),
        (405, err(405, "HTTP 405 Method Not Allowed"))
    );
    let r = rest
        .send(
            rest.raw("POST", "/connectors")
                .header("content-type", "text/plain")
                .body("name=x"),
        )
        .await;
    assert_eq!((r.status, r.body["error_code"].clone()), (415, json!(415)));
    let r = rest
        .send(
            rest.raw("POST", "/connectors")
                .header("content-type", "application/json")
                .body("{not json"),
        )
        .await;
    assert_eq!((r.status, r.body["error_code"].clone()), (500, json!(500)));
    let r = rest
        .call(
            "POST",
            "/connectors",
            Some(json!({"name": "x", "config": {}, "bogus": 1})),
        )
        .await;
    assert_eq!(r.status, 500);
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .starts_with("Unrecognized field \"bogus\"")
    );

    let r = rest.call("GET", "/connectors/missing", None).await;
    assert_eq!(
        (r.status, r.body),
        (404, err(404, "Connector missing not found"))
    );
    let r = rest.call("GET", "/connectors/missing/status", None).await;
    assert_eq!(
        (r.status, r.body),
        (404, err(404, "No status found for connector missing"))
    );
    let r = rest.call("PUT", "/connectors/missing/pause", None).await;
    assert_eq!(
        (r.status, r.body),
        (404, err(404, "Unknown connector missing"))
    );
    let r = rest.call("POST", "/connectors/missing/restart", None).await;
    assert_eq!(
        (r.status, r.body),
        (404, err(404, "Unknown connector: missing"))
    );
    let r = rest
        .call("GET", "/connectors/missing/tasks/zero/status", None)
        .await;
    assert_eq!(r.status, 404);
    let r = rest.call("GET", "/connectors/missing/offsets", None).await;
    assert_eq!(
        (r.status, r.body),
        (404, err(404, "Connector missing not found"))
    );
    let r = rest
        .call("GET", "/connector-plugins/NoSuchPlugin/config", None)
        .await;
    assert_eq!(
        (r.status, r.body),
        (404, err(404, "Unknown plugin NoSuchPlugin."))
    );
    let r = rest
        .call("GET", "/connector-plugins/FileStreamSource/config", None)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body[0]["name"], "file");
    let r = rest
        .call(
            "PUT",
            "/connector-plugins/FileStreamSink/config/validate",
            Some(source_config(dir, "in.txt")),
        )
        .await;
    assert_eq!(
        (r.status, r.body),
        (
            400,
            err(
                400,
                "Included connector type org.apache.kafka.connect.file.FileStreamSourceConnector does not match request type FileStreamSink"
            )
        )
    );

    let r = rest
        .call(
            "POST",
            "/connectors",
            Some(json!({"name": "m", "config": {"connector.class": "NoSuchConnector"}})),
        )
        .await;
    assert_eq!(
        r.status, 400,
        "Kafka Connect answers an unknown class on create with 400"
    );
    assert!(r.body["message"].as_str().unwrap().starts_with(
        "Failed to find any class that implements Connector and which name matches NoSuchConnector"
    ));
    let r = rest
        .call(
            "POST",
            "/connectors",
            Some(json!({"name": "m", "config": {"topic": "t"}})),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .ends_with("contains no connector type")
    );
    let r = rest
        .call("POST", "/connectors", Some(json!({"name": "nofile", "config": {"connector.class": "FileStreamSource", "topic": "t"}})))
        .await;
    assert_eq!(r.status, 400);
    let msg = r.body["message"].as_str().unwrap();
    assert!(msg.starts_with("Connector configuration is invalid and contains the following 1 error(s):\nMissing required configuration \"file\""), "{msg}");
    let r = rest
        .call(
            "POST",
            "/connectors",
            Some(json!({"name": "a", "config": {"name": "b"}})),
        )
        .await;
    assert_eq!(
        (r.status, r.body),
        (
            400,
            err(
                400,
                "Connector name configuration (b) doesn't match connector name in the URL (a)"
            )
        )
    );
    let r = rest.call("POST", "/connectors", Some(json!({"name": "  ", "config": {"connector.class": "FileStreamSink", "topics": "t", "file": "/tmp/x"}}))).await;
    assert_eq!(r.status, 400);
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .contains("Invalid value  for configuration name: String may not be empty")
    );

    // Numbers and booleans in a config body are accepted as text; odd names
    // work, and Location encodes them as one path segment.
    let odd = "my sink/with?odd#chars ü";
    let cfg = json!({"connector.class": "FileStreamSink", "tasks.max": 2, "topics": "t", "file": dir.join("o.txt").to_str().unwrap(), "errors.log.enable": false});
    let r = rest
        .call(
            "POST",
            "/connectors",
            Some(json!({"name": odd, "config": cfg, "initial_state": "PAUSED"})),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["config"]["tasks.max"], "2");
    assert_eq!(r.body["config"]["errors.log.enable"], "false");
    let location = r.location.unwrap();
    assert_eq!(
        location,
        "/connectors/my%20sink%2Fwith%3Fodd%23chars%20%C3%BC"
    );
    let r = rest.call("GET", &format!("{location}/status"), None).await;
    assert_eq!(r.body["connector"]["state"], "PAUSED");
    assert_eq!(r.body["tasks"].as_array().unwrap().len(), 2);
    assert!(
        r.body["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["state"] == "PAUSED")
    );
    let r = rest
        .call(
            "POST",
            "/connectors",
            Some(json!({"name": "stopped", "config": cfg, "initial_state": "STOPPED"})),
        )
        .await;
    assert_eq!((r.status, r.body["tasks"].clone()), (201, json!([])));
    assert_eq!(
        rest.call("GET", "/connectors/stopped/status", None)
            .await
            .body["connector"]["state"],
        "STOPPED"
    );
    let r = rest
        .call(
            "POST",
            "/connectors",
            Some(json!({"name": "z", "config": cfg, "initial_state": "SLEEPY"})),
        )
        .await;
    assert_eq!(r.status, 500);

    // Offsets may only change while the connector is stopped.
    let r = rest
        .call("DELETE", &format!("{location}/offsets"), None)
        .await;
    assert_eq!(r.status, 400);
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .starts_with("Connectors must be in the STOPPED state")
    );

    // A volley of malformed requests; the worker answers throughout.
    let bodies = [
        "",
        "[]",
        "null",
        "{\"name\":1}",
        "{\"config\":[]}",
        "\u{0}\u{1}",
        "{\"name\":\"q\",\"config\":{\"a\":{\"b\":1}}}",
    ];
    for (i, b) in bodies.iter().enumerate() {
        for (m, p) in [
            ("POST", "/connectors"),
            ("PUT", "/connectors/q/config"),
            ("PATCH", "/connectors/q/config"),
            ("PATCH", "/connectors/q/offsets"),
            ("PUT", "/admin/loggers/x"),
            ("PUT", "/connector-plugins/FileStreamSink/config/validate"),
        ] {
            let r = rest
                .send(
                    rest.raw(m, p)
                        .header("content-type", "application/json")
                        .body(b.to_string()),
                )
                .await;
            assert!(
                r.status < 600 && r.body["error_code"].as_u64() == Some(r.status as u64)
                    || r.status < 300,
                "{m} {p} body #{i}: {r:?}"
            );
        }
    }
    let info = rest.call("GET", "/", None).await.body;
    assert_eq!(info["version"], "3.9.0");
    assert!(info["commit"].as_str().unwrap().starts_with("wasmconnect-"));
    assert!(
        info["kafka_cluster_id"]
            .as_str()
            .is_some_and(|id| !id.is_empty()),
        "{info}"
    );
    assert_eq!(
        rest.call("GET", "/health", None).await.body,
        json!({"status": "healthy", "message": "Worker has completed startup and is ready to handle requests."})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offsets_of_stopped_connectors_can_be_read_altered_and_reset() {
    let s = setup().await;
    let (rest, dir) = (&s.rest, s.dir.path());
    std::fs::write(dir.join("in.txt"), "a\nb\nc\n").unwrap();
    let src = source_config(dir, "in.txt");
    let snk = sink_config(dir);
    for cfg in [&src, &snk] {
        let r = rest.create(cfg["name"].as_str().unwrap(), cfg).await;
        assert_eq!(r.status, 201, "{:?}", r.body);
    }
    wait_for_lines(&dir.join("out.txt"), 3, Duration::from_secs(60), &s.worker);
    let filename = dir.join("in.txt").to_str().unwrap().to_string();
    let r = rest
        .wait_for(
            "/connectors/local-file-source/offsets",
            "source offsets",
            |r| !r.body["offsets"].as_array().unwrap().is_empty(),
        )
        .await;
    assert_eq!(
        r.body,
        json!({"offsets": [{"partition": {"filename": filename}, "offset": {"position": 6}}]})
    );
    let r = rest
        .wait_for("/connectors/local-file-sink/offsets", "sink offsets", |r| {
            r.body["offsets"].as_array().is_some_and(|o| !o.is_empty())
        })
        .await;
    assert_eq!(
        r.body,
        json!({"offsets": [{"partition": {"kafka_topic": "test", "kafka_partition": 0}, "offset": {"kafka_offset": 3}}]})
    );

    let patch =
        json!({"offsets": [{"partition": {"filename": filename}, "offset": {"position": 2}}]});
    let r = rest
        .call(
            "PATCH",
            "/connectors/local-file-source/offsets",
            Some(patch.clone()),
        )
        .await;
    assert_eq!(r.status, 400, "must be stopped first");

    for name in ["local-file-source", "local-file-sink"] {
        assert_eq!(
            rest.call("PUT", &format!("/connectors/{name}/stop"), None)
                .await
                .status,
            204
        );
    }
    let r = rest
        .call(
            "PATCH",
            "/connectors/local-file-source/offsets",
            Some(json!({"offsets": []})),
        )
        .await;
    assert_eq!(
        (r.status, r.body["message"].clone()),
        (
            400,
            json!("Partitions / offsets need to be provided for an alter offsets request")
        )
    );
    let bad =
        json!({"offsets": [{"partition": {"filename": filename}, "offset": {"position": -1}}]});
    let r = rest
        .call("PATCH", "/connectors/local-file-source/offsets", Some(bad))
        .await;
    assert_eq!(
        (r.status, r.body["message"].clone()),
        (
            500,
            json!("The value for the 'position' key in the offset should be a non-negative value")
        )
    );
    let r = rest
        .call(
            "PATCH",
            "/connectors/local-file-source/offsets",
            Some(patch),
        )
        .await;
    assert_eq!(
        (r.status, r.body.clone()),
        (
            200,
            json!({"message": "The offsets for this connector have been altered successfully"})
        )
    );
    let r = rest
        .call("GET", "/connectors/local-file-source/offsets", None)
        .await;
    assert_eq!(r.body["offsets"][0]["offset"], json!({"position": 2}));

    let sink_patch = json!({"offsets": [{"partition": {"kafka_topic": "test", "kafka_partition": "0"}, "offset": {"kafka_offset": 1}}]});
    let r = rest
        .call(
            "PATCH",
            "/connectors/local-file-sink/offsets",
            Some(sink_patch),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = rest
        .call("GET", "/connectors/local-file-sink/offsets", None)
        .await;
    assert_eq!(r.body["offsets"][0]["offset"], json!({"kafka_offset": 1}));
    let r = rest
        .call(
            "PATCH",
            "/connectors/local-file-sink/offsets",
            Some(json!({"offsets": [{"partition": null, "offset": null}]})),
        )
        .await;
    assert_eq!(
        (r.status, r.body.clone()),
        (
            400,
            json!({"error_code": 400, "message": "The partition for a sink connector offset cannot be null or missing"})
        )
    );

    // Resumed, the source re-reads from byte 2 ("b", "c") and the sink
    // re-delivers from offset 1 ("b", "c"), then the re-read lines.
    for name in ["local-file-source", "local-file-sink"] {
        assert_eq!(
            rest.call("PUT", &format!("/connectors/{name}/resume"), None)
                .await
                .status,
            202
        );
    }
    wait_for_lines(&dir.join("out.txt"), 7, Duration::from_secs(60), &s.worker);
    assert_eq!(
        std::fs::read_to_string(dir.join("out.txt")).unwrap(),
        "a\nb\nc\nb\nc\nb\nc\n"
    );

    // Reset: stop, delete offsets, the source's are gone.
    assert_eq!(
        rest.call("PUT", "/connectors/local-file-source/stop", None)
            .await
            .status,
        204
    );
    let r = rest
        .call("DELETE", "/connectors/local-file-source/offsets", None)
        .await;
    assert_eq!(
        (r.status, r.body.clone()),
        (
            200,
            json!({"message": "The offsets for this connector have been reset successfully"})
        )
    );
    assert_eq!(
        rest.call("GET", "/connectors/local-file-source/offsets", None)
            .await
            .body,
        json!({"offsets": []})
    );
    assert!(line_count(&dir.join("out.txt")) >= 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logger_levels_change_at_run_time() {
    let s = setup().await;
    let rest = &s.rest;
    let r = rest.call("GET", "/admin/loggers", None).await;
    assert_eq!(
        r.body,
        json!({"root": {"level": "INFO", "last_modified": null}})
    );
    let r = rest
        .call(
            "PUT",
            "/admin/loggers/wasmconnect::worker",
            Some(json!({"level": "debug"})),
        )
        .await;
    assert_eq!((r.status, r.body), (200, json!(["wasmconnect::worker"])));
    let r = rest
        .call("GET", "/admin/loggers/wasmconnect::worker", None)
        .await;
    assert_eq!(r.body["level"], "DEBUG");
    let first = r.body["last_modified"].as_i64().expect("last_modified set");
    // The same level again leaves last_modified alone.
    rest.call(
        "PUT",
        "/admin/loggers/wasmconnect::worker",
        Some(json!({"level": "DEBUG"})),
    )
    .await;
    assert_eq!(
        rest.call("GET", "/admin/loggers/wasmconnect::worker", None)
            .await
            .body["last_modified"],
        first
    );
    let r = rest
        .call(
            "PUT",
            "/admin/loggers/wasmconnect::worker",
            Some(json!({"level": "LOUD"})),
        )
        .await;
    assert_eq!(
        (r.status, r.body["message"].clone()),
        (404, json!("invalid log level 'LOUD'."))
    );
    let r = rest.call("PUT", "/admin/loggers/x", Some(json!({}))).await;
    assert_eq!(
        (r.status, r.body["message"].clone()),
        (
            400,
            json!("Desired 'level' parameter was not specified in request.")
        )
    );
    let r = rest
        .call(
            "PUT",
            "/admin/loggers/root?scope=cluster",
            Some(json!({"level": "WARN"})),
        )
        .await;
    assert_eq!((r.status, r.body), (204, Value::Null));
    assert_eq!(
        rest.call("GET", "/admin/loggers/ROOT", None).await.body["level"],
        "WARN"
    );
    assert_eq!(
        rest.call("GET", "/admin/loggers/never.set", None)
            .await
            .status,
        404
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_created_connectors_and_their_states_survive_a_restart() {
    let mut s = setup().await;
    let dir = s.dir.path().to_path_buf();
    let snk = sink_config(&dir);
    let failing = json!({"connector.class": "io.wasmconnect.testing.MisbehavingSourceConnector", "mode": "fail-fatal"});
    for (name, cfg, state) in [
        ("paused-sink", &snk, "PAUSED"),
        ("failing", &failing, "RUNNING"),
        ("stopped", &snk, "STOPPED"),
    ] {
        let mut cfg = cfg.clone();
        cfg["name"] = json!(name);
        let r = s
            .rest
            .call(
                "POST",
                "/connectors",
                Some(json!({"name": name, "config": cfg, "initial_state": state})),
            )
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
    }
    let failed = s
        .rest
        .wait_for("/connectors/failing/status", "the task to fail", |r| {
            r.body["tasks"][0]["state"] == "FAILED"
        })
        .await;
    let trace = failed.body["tasks"][0]["trace"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        trace,
        "poll failed: the source system rejected our credentials"
    );

    assert_eq!(s.worker.terminate(Duration::from_secs(30)), Some(0));
    let worker = WorkerProcess::start(&dir, &s.props, &[]);
    let rest = Rest::new(s.port);
    rest.wait_ready(&worker).await;
    let r = rest.call("GET", "/connectors", None).await;
    let listed: BTreeSet<&str> = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        listed,
        BTreeSet::from(["failing", "paused-sink", "stopped"])
    );
    let r = rest
        .call("GET", "/connectors/paused-sink/status", None)
        .await;
    assert_eq!(
        (
            r.body["connector"]["state"].clone(),
            r.body["tasks"][0]["state"].clone()
        ),
        (json!("PAUSED"), json!("PAUSED"))
    );
    assert_eq!(
        rest.call("GET", "/connectors/stopped/status", None)
            .await
            .body["connector"]["state"],
        "STOPPED"
    );
    let r = rest.call("GET", "/connectors/failing/status", None).await;
    assert_eq!(
        (
            r.body["tasks"][0]["state"].clone(),
            r.body["tasks"][0]["trace"].clone()
        ),
        (json!("FAILED"), json!(trace))
    );
    assert_eq!(
        rest.call("GET", "/connectors/paused-sink/config", None)
            .await
            .body["file"],
        snk["file"]
    );
}

#[test]
fn the_openapi_document_lists_exactly_the_served_routes() {
    let doc: Value = serde_json::from_str(wasmconnect::rest::OPENAPI).unwrap();
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect();
    let served: BTreeSet<(String, String)> = wasmconnect::rest::routes::ENDPOINTS
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(documented, served);
}
