//! The sandbox contains faults: traps, panics, ungranted paths, busy loops
//! and runaway memory each become an error value naming the cause, and the
//! host (and every other instance) carries on.

use std::time::{Duration, Instant};

use wasmconnect::bindings::types::Payload;
use wasmconnect::sandbox::Limits;
use wasmconnect::{GuestError, InstanceSpec, Plugin, PluginError, SourceTaskInstance};
use wasmconnect_tests::{config, load, plugin_path, sandbox};

async fn task(
    mode: &[(&str, &str)],
    limits: Option<Limits>,
) -> (SourceTaskInstance, Vec<(String, String)>) {
    let cfg = config(mode);
    let spec = InstanceSpec {
        limits,
        ..InstanceSpec::new("misbehaving", Some(0), cfg.clone())
    };
    let task = SourceTaskInstance::new(&load("misbehaving-source").await, spec)
        .await
        .unwrap();
    (task, cfg)
}

fn texts(records: &[wasmconnect::bindings::types::SourceRecord]) -> Vec<String> {
    records
        .iter()
        .map(|r| match &r.value {
            Some(Payload::Text(t)) => t.clone(),
            other => panic!("unexpected value {other:?}"),
        })
        .collect()
}

#[tokio::test]
async fn a_guest_panic_is_a_trap_error_carrying_the_panic_message() {
    let (mut t, cfg) = task(&[("mode", "panic-in-poll"), ("message", "kaboom 42")], None).await;
    t.start(&cfg).await.unwrap();
    let err = t.poll().await.unwrap_err();
    let GuestError::Trap { call, message } = &err else {
        panic!("expected a trap, got {err:?}")
    };
    assert_eq!(*call, "poll");
    assert!(message.contains("kaboom 42"), "{message}");
    assert!(message.contains("unreachable"), "{message}");
    // The instance is poisoned; the next call is refused, not attempted.
    assert_eq!(
        t.poll().await.unwrap_err(),
        GuestError::Poisoned { call: "poll" }
    );

    let (mut t, cfg) = task(&[("mode", "trap-in-start")], None).await;
    let err = t.start(&cfg).await.unwrap_err();
    assert!(
        matches!(&err, GuestError::Trap { call: "start", message } if message.contains("unreachable")),
        "{err:?}"
    );
}

#[tokio::test]
async fn errors_the_plugin_returns_keep_their_kind_and_message() {
    let (mut t, cfg) = task(&[("mode", "fail-retriable")], None).await;
    t.start(&cfg).await.unwrap();
    let err = t.poll().await.unwrap_err();
    assert_eq!(
        err,
        GuestError::Retriable {
            call: "poll",
            message: "the source system is busy".into(),
            backoff: Some(Duration::from_millis(250)),
        }
    );
    assert!(err.is_retriable() && err.instance_usable());
    assert!(
        t.poll().await.is_err(),
        "a retriable error leaves the instance callable"
    );

    let (mut t, cfg) = task(&[("mode", "fail-fatal")], None).await;
    t.start(&cfg).await.unwrap();
    assert_eq!(
        t.poll().await.unwrap_err().to_string(),
        "poll failed: the source system rejected our credentials"
    );
}

#[tokio::test]
async fn ungranted_paths_are_denied_and_the_instance_carries_on() {
    let dir = tempfile::tempdir().unwrap();
    let granted = dir.path().join("granted.txt");
    std::fs::write(&granted, "granted content").unwrap();
    let granted = granted.to_str().unwrap().to_string();
    let escape = format!("{}/../../../../etc/passwd", dir.path().display());
    // A symlink beside the granted file, pointing outside.
    let link = dir.path().join("link-to-passwd");
    std::os::unix::fs::symlink("/etc/passwd", &link).unwrap();

    for target in ["/etc/passwd", escape.as_str(), link.to_str().unwrap()] {
        let (mut t, cfg) = task(
            &[
                ("mode", "probe-files"),
                ("target", target),
                ("granted", &granted),
            ],
            None,
        )
        .await;
        t.start(&cfg).await.unwrap();
        let outcomes = texts(&t.poll().await.unwrap());
        assert_eq!(outcomes.len(), 4, "{outcomes:?}");
        assert!(
            outcomes[0].starts_with(&format!("wasi read {target}: denied")),
            "{outcomes:?}"
        );
        assert!(
            outcomes[1].starts_with(&format!("files open {target}: denied")),
            "{outcomes:?}"
        );
        assert!(
            outcomes[1].contains("not named by any file setting"),
            "{outcomes:?}"
        );
        assert_eq!(
            outcomes[2],
            format!("files read {granted}: granted content")
        );
        assert!(
            outcomes[3].starts_with(&format!("files append {granted}: denied")),
            "{outcomes:?}"
        );
        assert!(
            outcomes[3].contains("granted for reading only"),
            "{outcomes:?}"
        );
        // The denial was an error value; the instance works on.
        assert_eq!(texts(&t.poll().await.unwrap()).len(), 4);
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_busy_loop_misses_its_deadline_without_stalling_other_instances() {
    let limits = Limits {
        memory_bytes: 64 << 20,
        call_deadline: Duration::from_millis(1500),
        ..Limits::default()
    };
    let (mut looping, cfg) = task(&[("mode", "loop-in-poll")], Some(limits)).await;
    looping.start(&cfg).await.unwrap();
    let (mut healthy, hcfg) = task(&[("mode", "healthy"), ("batch", "5")], None).await;
    healthy.start(&hcfg).await.unwrap();

    // One thread runs both: the looping guest must yield at epoch ticks for
    // the healthy one to make progress at all.
    let started = Instant::now();
    let busy = async { (looping.poll().await, started.elapsed()) };
    let steady = async {
        let mut seen = 0;
        for _ in 0..20 {
            seen += healthy.poll().await.unwrap().len();
        }
        (seen, started.elapsed())
    };
    let ((looped, loop_time), (seen, healthy_time)) = tokio::join!(busy, steady);
    assert_eq!(seen, 100);
    assert!(
        healthy_time < loop_time,
        "healthy polls finished after {healthy_time:?}, the loop ended at {loop_time:?}"
    );
    assert_eq!(
        looped.unwrap_err().to_string(),
        "plugin did not return from poll within its 1500 ms call deadline"
    );
    assert!(
        loop_time < Duration::from_secs(5),
        "deadline enforced late: {loop_time:?}"
    );
}

#[tokio::test]
async fn runaway_memory_stops_at_the_limit_with_a_named_cause() {
    let limits = Limits {
        memory_bytes: 32 << 20,
        call_deadline: Duration::from_secs(30),
        ..Limits::default()
    };
    let (mut t, cfg) = task(&[("mode", "grow-memory")], Some(limits)).await;
    t.start(&cfg).await.unwrap();
    let err = t.poll().await.unwrap_err();
    let GuestError::MemoryLimit {
        call,
        limit,
        requested,
    } = err
    else {
        panic!("expected a memory limit error, got {err:?}")
    };
    assert_eq!((call, limit), ("poll", 32 << 20));
    assert!(requested > 32 << 20);
    assert!(t.peak_memory() <= 32 << 20);
}

#[tokio::test]
async fn bytes_that_are_not_a_plugin_are_refused_with_the_reason() {
    let sb = sandbox();
    assert_eq!(
        Plugin::load(&sb, b"definitely not wasm").await.unwrap_err(),
        PluginError::NotWasm
    );
    let core_module = b"\0asm\x01\0\0\0";
    assert_eq!(
        Plugin::load(&sb, core_module).await.unwrap_err(),
        PluginError::CoreModule
    );
    let bytes = std::fs::read(plugin_path("file-source")).unwrap();
    let truncated = &bytes[..bytes.len() / 2];
    let err = Plugin::load(&sb, truncated).await.unwrap_err();
    assert!(matches!(err, PluginError::Invalid(_)), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("not a valid WebAssembly component"),
        "{err}"
    );
}

#[tokio::test]
async fn precompiled_artifacts_are_cached_by_content_and_reused() {
    let cache = tempfile::tempdir().unwrap();
    let sb = wasmconnect::Sandbox::new(wasmconnect::SandboxConfig {
        cache_dir: Some(cache.path().to_path_buf()),
        max_instances: 4,
        ..Default::default()
    })
    .unwrap();
    let path = plugin_path("file-sink");
    let first = Plugin::load_file(&sb, &path).await.unwrap();
    // One artifact (beside it, the digest it is checked against).
    let artifacts: Vec<_> = std::fs::read_dir(cache.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .collect();
    assert_eq!(artifacts.len(), 1);
    let name = artifacts[0]
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(name.starts_with(&first.info().sha256), "{name}");
    let written = std::fs::metadata(&artifacts[0])
        .unwrap()
        .modified()
        .unwrap();
    let second = Plugin::load_file(&sb, &path).await.unwrap();
    assert_eq!(second.info(), first.info());
    assert_eq!(
        std::fs::metadata(&artifacts[0])
            .unwrap()
            .modified()
            .unwrap(),
        written,
        "artifact rewritten"
    );
    assert_eq!(std::fs::read_dir(cache.path()).unwrap().count(), 2);
}
