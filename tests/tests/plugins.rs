//! Plugin management on a running worker: uploads, versions side by side,
//! moving a connector to a new version without a restart, refusals of bad
//! components, authentication, and plugins surviving a restart.

use std::time::Duration;

use serde_json::{Value, json};
use wasmconnect_tests::{
    Broker, Reply, Rest, WorkerProcess, append, free_port, plugin_path, start_worker,
    test_plugin_path, wait_for_lines, worker_props_with_plugins,
};

async fn upload(rest: &Rest, bytes: Vec<u8>) -> Reply {
    rest.send(
        rest.raw("POST", "/wasmconnect/plugins")
            .header("content-type", "application/wasm")
            .body(bytes),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connector_moves_to_an_uploaded_version_without_a_restart_or_lost_records() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("no-plugins");
    std::fs::create_dir(&empty).unwrap();
    let port = free_port();
    let props = worker_props_with_plugins(broker.bootstrap(), port, &empty, "");
    let (mut worker, rest) = start_worker(dir.path(), &props, port).await;
    assert_eq!(
        rest.call("GET", "/connector-plugins", None).await.body,
        json!([])
    );

    // Upload v1 of the source and the sink: 201 with what they are.
    let v1 = std::fs::read(plugin_path("file-source")).unwrap();
    let r = upload(&rest, v1.clone()).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(
        r.body["class"],
        "org.apache.kafka.connect.file.FileStreamSourceConnector"
    );
    assert_eq!(
        (r.body["type"].clone(), r.body["version"].clone()),
        (json!("source"), json!("0.1.0"))
    );
    assert_eq!(r.body["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(r.body["contract"], "0.2.0", "built with the SDK");
    assert_eq!(
        upload(&rest, v1.clone()).await.status,
        200,
        "the same bytes again are already installed"
    );
    assert_eq!(
        upload(&rest, std::fs::read(plugin_path("file-sink")).unwrap())
            .await
            .status,
        201
    );
    let plugins = rest.call("GET", "/connector-plugins", None).await.body;
    assert_eq!(plugins.as_array().unwrap().len(), 2, "{plugins}");

    // A source on v1 feeding a sink; data flows.
    let (input, output) = (dir.path().join("in.txt"), dir.path().join("out.txt"));
    let src = json!({"connector.class": "FileStreamSource", "file": input.to_str().unwrap(), "topic": "moving"});
    let snk = json!({"connector.class": "FileStreamSink", "file": output.to_str().unwrap(), "topics": "moving"});
    assert_eq!(rest.create("src", &src).await.status, 201);
    assert_eq!(rest.create("snk", &snk).await.status, 201);
    let mut expected = String::new();
    for i in 0..500 {
        expected.push_str(&format!("before {i}\n"));
    }
    append(&input, &expected);
    wait_for_lines(&output, 500, Duration::from_secs(60), &worker);
    let status = rest.call("GET", "/connectors/src/status", None).await.body;
    assert_eq!(status["tasks"][0]["version"], "0.1.0");

    // Upload v2 side by side, then move the source to it while lines keep
    // arriving; the sink keeps flowing throughout.
    let r = upload(
        &rest,
        std::fs::read(test_plugin_path("file-source-2.0.0.wasm")).unwrap(),
    )
    .await;
    assert_eq!((r.status, r.body["version"].clone()), (201, json!("2.0.0")));
    let versions = rest
        .call("GET", "/wasmconnect/plugins/FileStreamSource", None)
        .await
        .body;
    let listed: Vec<&str> = versions
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["2.0.0", "0.1.0"]);
    let writer = {
        let input = input.clone();
        tokio::spawn(async move {
            let mut text = String::new();
            for i in 0..300 {
                let line = format!("during {i}\n");
                append(&input, &line);
                text.push_str(&line);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            text
        })
    };
    let mut pinned = src.clone();
    pinned["connector.plugin.version"] = json!("2.0.0");
    let r = rest
        .call("PUT", "/connectors/src/config", Some(pinned))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    expected.push_str(&writer.await.unwrap());
    let r = rest
        .wait_for("/connectors/src/status", "the source on 2.0.0", |r| {
            r.body["tasks"][0]["version"] == "2.0.0" && r.body["tasks"][0]["state"] == "RUNNING"
        })
        .await;
    assert_eq!(r.body["connector"]["version"], "2.0.0");
    assert_eq!(
        rest.call("GET", "/connectors/snk/status", None).await.body["tasks"][0]["state"],
        "RUNNING"
    );
    wait_for_lines(&output, 800, Duration::from_secs(60), &worker);
    assert!(
        std::fs::read_to_string(&output).unwrap() == expected,
        "the move lost or repeated records"
    );

    // The unused v1 can go; the versions in use cannot.
    let r = rest
        .call(
            "DELETE",
            "/wasmconnect/plugins/FileStreamSource/2.0.0",
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.body["message"].clone()),
        (
            409,
            json!(
                "org.apache.kafka.connect.file.FileStreamSourceConnector version 2.0.0 is in use by connector(s) src"
            )
        )
    );
    assert_eq!(
        rest.call("DELETE", "/wasmconnect/plugins/FileStreamSink/0.1.0", None)
            .await
            .status,
        409
    );
    assert_eq!(
        rest.call(
            "DELETE",
            "/wasmconnect/plugins/FileStreamSource/0.1.0",
            None
        )
        .await
        .status,
        204
    );
    assert_eq!(
        rest.call(
            "DELETE",
            "/wasmconnect/plugins/FileStreamSource/0.1.0",
            None
        )
        .await
        .status,
        404
    );

    // A restart lists exactly the same plugins and versions.
    let before = rest.call("GET", "/wasmconnect/plugins", None).await.body;
    assert_eq!(worker.terminate(Duration::from_secs(30)), Some(0));
    let worker = WorkerProcess::start(dir.path(), &props, &[]);
    rest.wait_ready(&worker).await;
    let after = rest.call("GET", "/wasmconnect/plugins", None).await.body;
    let key = |v: &Value| -> Vec<(String, String, String)> {
        let mut k: Vec<_> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["class"].to_string(),
                    p["version"].to_string(),
                    p["sha256"].to_string(),
                )
            })
            .collect();
        k.sort();
        k
    };
    assert_eq!(key(&after), key(&before));
    assert_eq!(key(&after).len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_uploads_get_their_status_and_reason_and_the_worker_keeps_serving() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let props = worker_props_with_plugins(
        broker.bootstrap(),
        port,
        dir.path(),
        "plugin.upload.max.bytes=1000000\n",
    );
    let (_worker, rest) = start_worker(dir.path(), &props, port).await;
    let good = std::fs::read(plugin_path("file-sink")).unwrap();

    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "truncated",
            good[..good.len() / 2].to_vec(),
            400,
            "not a valid WebAssembly component",
        ),
        (
            "core module",
            b"\0asm\x01\0\0\0".to_vec(),
            400,
            "core WebAssembly module, not a component",
        ),
        (
            "wrong world",
            std::fs::read(test_plugin_path("not-a-plugin.wasm")).unwrap(),
            400,
            "implements none of the wasmconnect worlds",
        ),
        (
            "random",
            (0..5000u32).map(|i| (i * 7919 % 251) as u8).collect(),
            400,
            "not a WebAssembly file",
        ),
        (
            "over-size",
            vec![0u8; 2_000_000],
            413,
            "larger than plugin.upload.max.bytes (1000000 bytes)",
        ),
    ];
    for (what, bytes, status, reason) in cases {
        let r = upload(&rest, bytes).await;
        assert_eq!(r.status, status, "{what}: {:?}", r.body);
        assert_eq!(r.body["error_code"], status, "{what}");
        assert!(
            r.body["message"].as_str().unwrap().contains(reason),
            "{what}: {:?}",
            r.body
        );
    }
    let r = rest
        .send(
            rest.raw("POST", "/wasmconnect/plugins")
                .header("content-type", "text/plain")
                .body(good.clone()),
        )
        .await;
    assert_eq!(r.status, 415);

    // Same class and version, other bytes (an extra custom section): 409.
    assert_eq!(upload(&rest, good.clone()).await.status, 201);
    let mut other = good.clone();
    other.extend_from_slice(&[0x00, 0x05, 0x04, b't', b'e', b's', b't']);
    let r = upload(&rest, other).await;
    assert_eq!(r.status, 409, "{:?}", r.body);
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .contains("version 0.1.0 already exists with different content")
    );

    assert_eq!(rest.call("GET", "/connectors", None).await.status, 200);
    assert_eq!(
        rest.call("GET", "/connector-plugins", None)
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_credentials_configured_writes_and_uploads_need_them() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let creds = dir.path().join("credentials");
    std::fs::write(
        &creds,
        "# test credentials\nbasic admin:s3cret\nbearer token-123\n",
    )
    .unwrap();
    let port = free_port();
    let extra = format!("rest.auth.credentials.file={}\n", creds.display());
    let props = worker_props_with_plugins(broker.bootstrap(), port, dir.path(), &extra);
    let (_worker, rest) = start_worker(dir.path(), &props, port).await;

    let wasm = std::fs::read(plugin_path("file-sink")).unwrap();
    let r = upload(&rest, wasm.clone()).await;
    assert_eq!((r.status, r.body["error_code"].clone()), (401, json!(401)));
    let r = rest.create("x", &json!({})).await;
    assert_eq!(r.status, 401);
    let wrong = rest
        .raw("POST", "/wasmconnect/plugins")
        .basic_auth("admin", Some("nope"));
    assert_eq!(
        rest.send(
            wrong
                .header("content-type", "application/wasm")
                .body(wasm.clone())
        )
        .await
        .status,
        401
    );
    let bearer = rest
        .raw("POST", "/wasmconnect/plugins")
        .bearer_auth("token-123");
    assert_eq!(
        rest.send(bearer.header("content-type", "application/wasm").body(wasm))
            .await
            .status,
        201
    );
    let cfg = json!({"name": "s", "config": {"connector.class": "FileStreamSink", "topics": "t", "file": dir.path().join("o").to_str().unwrap()}});
    let basic = rest
        .raw("POST", "/connectors")
        .basic_auth("admin", Some("s3cret"))
        .json(&cfg);
    assert_eq!(rest.send(basic).await.status, 201);
    // Reads stay open by default.
    assert_eq!(
        rest.call("GET", "/connectors", None).await.body,
        json!(["s"])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_floating_connector_moves_to_the_newest_version_on_restart_only() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let empty = dir.path().join("no-plugins");
    std::fs::create_dir(&empty).unwrap();
    let props = worker_props_with_plugins(broker.bootstrap(), port, &empty, "");
    let (_worker, rest) = start_worker(dir.path(), &props, port).await;
    assert_eq!(
        upload(&rest, std::fs::read(plugin_path("file-source")).unwrap())
            .await
            .status,
        201
    );
    let input = dir.path().join("in.txt");
    std::fs::write(&input, "x\n").unwrap();
    let src = json!({"connector.class": "FileStreamSource", "file": input.to_str().unwrap(), "topic": "floating"});
    assert_eq!(rest.create("src", &src).await.status, 201);
    let running_on = |v: &'static str| {
        move |r: &Reply| {
            r.body["tasks"][0]["version"] == v && r.body["tasks"][0]["state"] == "RUNNING"
        }
    };
    rest.wait_for("/connectors/src/status", "v1 running", running_on("0.1.0"))
        .await;

    assert_eq!(
        upload(
            &rest,
            std::fs::read(test_plugin_path("file-source-2.0.0.wasm")).unwrap()
        )
        .await
        .status,
        201
    );
    // An upload alone touches no running connector.
    let r = rest.call("GET", "/connectors/src/status", None).await;
    assert_eq!(r.body["tasks"][0]["version"], "0.1.0");
    assert_eq!(
        rest.call("POST", "/connectors/src/restart", None)
            .await
            .status,
        204
    );
    rest.wait_for(
        "/connectors/src/status",
        "v2 after restart",
        running_on("2.0.0"),
    )
    .await;
    let versions = rest
        .call("GET", "/wasmconnect/plugins/FileStreamSource", None)
        .await
        .body;
    assert_eq!(versions[0]["used_by"], json!(["src"]));
    assert_eq!(versions[1]["used_by"], json!([]));
}
