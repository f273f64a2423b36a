//! The conformance kit, `wasmconnect plugin test`: every bundled connector
//! passes it, and components that break the contract fail it with the
//! reason.

use std::path::Path;

use wasmconnect_tests::{plugin_path, test_plugin_path, worker_bin};

/// Runs `wasmconnect plugin test FILE --config …`; returns the exit code
/// and what it printed.
fn plugin_test(file: &Path, config: &[(&str, &str)]) -> (i32, String) {
    let mut cmd = std::process::Command::new(worker_bin());
    cmd.arg("plugin").arg("test").arg(file);
    for (k, v) in config {
        cmd.arg("--config").arg(format!("{k}={v}"));
    }
    let out = cmd
        .env("RUST_LOG", "warn")
        .output()
        .expect("run the worker binary");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    (out.status.code().unwrap_or(-1), stdout)
}

#[test]
fn every_bundled_connector_passes() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    std::fs::write(&input, "one\ntwo\n").unwrap();
    let output = dir.path().join("out.txt");
    let cases: [(&str, Vec<(&str, &str)>); 4] = [
        (
            "file-source",
            vec![("file", input.to_str().unwrap()), ("topic", "lines")],
        ),
        ("file-sink", vec![("file", output.to_str().unwrap())]),
        ("datagen", vec![("topic", "gen"), ("iterations", "10")]),
        // The kit's records are text, not datagen's: check nothing.
        ("null-sink", vec![("verify", "false")]),
    ];
    for (name, config) in cases {
        let (code, stdout) = plugin_test(&plugin_path(name), &config);
        assert_eq!(code, 0, "{name} failed the kit:\n{stdout}");
        assert!(!stdout.contains("FAIL"), "{stdout}");
        assert!(stdout.contains("PASS task-configs:"), "{stdout}");
        assert!(stdout.contains("PASS task stop: stopped"), "{stdout}");
        // The SDK builds against the current contract, whose batches are
        // packed.
        assert!(stdout.contains(", contract 0.2.0 "), "{stdout}");
    }
    // The sink really received the kit's records.
    let written = std::fs::read_to_string(&output).unwrap();
    assert_eq!(written.lines().count(), 10, "{written}");
    assert_eq!(written.lines().next(), Some("conformance record 0"));
}

#[test]
fn too_many_task_configurations_fail_with_the_count() {
    let (code, stdout) = plugin_test(
        &plugin_path("misbehaving-source"),
        &[("mode", "extra-task-configs")],
    );
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains(
            "FAIL task-configs: task-configs failed: the connector returned 5 task configurations, more than tasks.max (3)"
        ),
        "{stdout}"
    );
}

#[test]
fn a_malformed_source_offset_fails_poll() {
    let (code, stdout) = plugin_test(
        &plugin_path("misbehaving-source"),
        &[("mode", "malformed-offset")],
    );
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains(
            r#"FAIL poll: record 0 has a source offset that is not a JSON object ("position 7"): "#
        ),
        "{stdout}"
    );
    assert!(stdout.contains("PASS task start: started"), "{stdout}");
}

#[test]
fn a_component_that_is_not_a_plugin_fails_to_load() {
    let (code, stdout) = plugin_test(&test_plugin_path("not-a-plugin.wasm"), &[]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("FAIL load: "), "{stdout}");
    assert!(stdout.contains("1 checks, 0 passed, 1 failed"), "{stdout}");
}

#[test]
fn a_configuration_that_does_not_validate_is_reported() {
    let (code, stdout) = plugin_test(&plugin_path("datagen"), &[("record.bytes", "many")]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("FAIL validate (given config): the given configuration does not validate:"),
        "{stdout}"
    );
    assert!(stdout.contains("record.bytes"), "{stdout}");
    assert!(
        stdout.contains("PASS validate (empty config): "),
        "{stdout}"
    );
}
