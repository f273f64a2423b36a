//! The replay sources the transforms comparison (`tests/tests/transforms.rs`)
//! runs on both sides: Kafka Connect's, a Java connector compiled here
//! against Kafka's jars (`tests/java/ReplaySourceConnector.java`), and
//! ours, the `replay-source` test component.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::repo_root;

/// A `plugin.path` directory holding the Java replay source as a jar with
/// a service-loader manifest, compiled with `javac` against the jars
/// `scripts/kafka.sh` installs. Cached by the source's SHA-256 under
/// `~/.cache/wasmconnect/replay-source/`, so later runs only look it up.
pub fn kafka_replay_plugin_dir() -> PathBuf {
    let source = repo_root().join("tests/java/ReplaySourceConnector.java");
    let digest = run(Command::new("sha256sum").arg(&source));
    let digest = digest.split_whitespace().next().unwrap_or_default();
    let cache = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
        .join(".cache/wasmconnect/replay-source")
        .join(digest);
    let plugins = cache.join("plugins");
    let jar = plugins.join("replay-source.jar");
    if jar.exists() {
        return plugins;
    }
    let lib = run(Command::new("bash")
        .arg(repo_root().join("scripts/kafka.sh"))
        .arg("lib"));
    let build = cache.join(format!("build-{}", std::process::id()));
    let classes = build.join("classes");
    std::fs::create_dir_all(classes.join("META-INF/services")).expect("build dir");
    run(Command::new("javac")
        .args(["-nowarn", "-d"])
        .arg(&classes)
        .arg("-cp")
        .arg(format!("{}/*", lib.trim()))
        .arg(&source));
    std::fs::write(
        classes.join("META-INF/services/org.apache.kafka.connect.source.SourceConnector"),
        "io.wasmconnect.testing.ReplaySourceConnector\n",
    )
    .expect("service manifest");
    std::fs::create_dir_all(&plugins).expect("plugin dir");
    // Built beside, then renamed: a concurrent run never sees half a jar.
    let partial = build.join("replay-source.jar");
    run(Command::new("jar")
        .arg("cf")
        .arg(&partial)
        .arg("-C")
        .arg(&classes)
        .arg("."));
    std::fs::rename(&partial, &jar).expect("install the jar");
    let _ = std::fs::remove_dir_all(&build);
    plugins
}

/// Runs `command`; its standard output, or a failed test with its errors.
fn run(command: &mut Command) -> String {
    let out = command.output().expect("run a build tool");
    assert!(
        out.status.success(),
        "{command:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Copies `from` into `dir` as `name`.
pub fn install(from: &Path, dir: &Path, name: &str) {
    std::fs::create_dir_all(dir).expect("plugin dir");
    std::fs::copy(from, dir.join(name))
        .unwrap_or_else(|e| panic!("copying {}: {e}", from.display()));
}
