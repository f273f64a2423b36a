//! A plugin's code: dropped when its last instance ends, loaded again on
//! the next use, shared by the instances alive together, refused when its
//! file changed.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::GuestError;
use crate::instance::{Core, InstanceSpec, TransformInstance};
use crate::plugin::Plugin;
use crate::sandbox::{Sandbox, SandboxConfig};

/// A bundled component (built by `scripts/build-plugins.sh`).
fn bundled(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../build/plugins")
        .join(format!("{name}.wasm"));
    assert!(
        path.exists(),
        "{} is missing: run `bash scripts/build-plugins.sh` first",
        path.display()
    );
    path
}

fn sandbox(cache: Option<&Path>) -> Sandbox {
    Sandbox::new(SandboxConfig {
        cache_dir: cache.map(Path::to_path_buf),
        max_instances: 8,
        ..SandboxConfig::default()
    })
    .expect("sandbox")
}

/// `name` copied into `dir`, so that a test may change it.
fn copied(dir: &Path, name: &str) -> PathBuf {
    let file = dir.join(format!("{name}.wasm"));
    std::fs::copy(bundled(name), &file).expect("copy");
    file
}

async fn instance(plugin: &Plugin) -> Result<Core, GuestError> {
    Core::new(plugin, InstanceSpec::inspection()).await
}

#[tokio::test]
async fn code_lives_while_instances_use_it_and_comes_back_on_the_next_use() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = dir.path().join("cache");
    let plugin = Plugin::load_file(&sandbox(Some(&cache)), copied(dir.path(), "smt-filter"))
        .await
        .expect("load");
    assert!(plugin.live_code().is_none(), "code kept after loading");

    let first = instance(&plugin).await.expect("first instance");
    let second = instance(&plugin).await.expect("second instance");
    assert!(
        Arc::ptr_eq(&first.code, &second.code),
        "two live instances must share one copy of the code"
    );
    let live = plugin.live_code().expect("code live while instances are");
    assert!(Arc::ptr_eq(&live, &first.code));
    drop(live);
    drop(first);
    assert!(plugin.live_code().is_some(), "the second instance holds it");
    drop(second);
    assert!(
        plugin.live_code().is_none(),
        "code kept after the last instance"
    );

    // Loaded again (from the artifact cache): typed instances and
    // validation work as before.
    let mut transform = TransformInstance::new(&plugin, InstanceSpec::inspection())
        .await
        .expect("transform after reload");
    transform.configure(&[]).await.expect("configure");
    plugin.validate(&[]).await.expect("validate");
    assert!(plugin.live_code().is_some());
    drop(transform);
    assert!(plugin.live_code().is_none());
}

#[tokio::test]
async fn a_changed_file_is_refused_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    // No artifact cache: the code comes back from the file.
    let file = copied(dir.path(), "smt-filter");
    let plugin = Plugin::load_file(&sandbox(None), &file)
        .await
        .expect("load");
    let held = instance(&plugin).await.expect("instance");
    std::fs::copy(bundled("smt-drop-headers"), &file).expect("replace");

    // While an instance holds the code, new instances share it.
    let shared = instance(&plugin).await.expect("shares the live code");
    assert!(Arc::ptr_eq(&held.code, &shared.code));
    drop((held, shared));

    let err = instance(&plugin).await.err().expect("refused");
    let message = err.to_string();
    assert!(
        message.contains(&format!(
            "plugin file {} changed since it was loaded; it will be picked up by the next scan/upload",
            file.display()
        )),
        "{message}"
    );
    assert!(matches!(err, GuestError::Instantiate(_)), "{err:?}");

    // The same bytes back: loaded again.
    std::fs::copy(bundled("smt-filter"), &file).expect("restore");
    instance(&plugin).await.expect("original bytes load again");
}

#[tokio::test]
async fn with_an_artifact_cache_the_file_is_not_read_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = dir.path().join("cache");
    let file = copied(dir.path(), "smt-filter");
    let plugin = Plugin::load_file(&sandbox(Some(&cache)), &file)
        .await
        .expect("load");
    std::fs::remove_file(&file).expect("remove");
    instance(&plugin).await.expect("from the cached artifact");

    // Without the artifact, the missing file is named.
    for entry in std::fs::read_dir(&cache).expect("cache dir").flatten() {
        std::fs::remove_file(entry.path()).expect("clear cache");
    }
    let message = instance(&plugin).await.err().expect("refused").to_string();
    assert!(
        message.contains(&format!("cannot read plugin file {} again", file.display())),
        "{message}"
    );
}

#[tokio::test]
async fn a_plugin_from_bytes_alone_keeps_its_code() {
    let bytes = std::fs::read(bundled("smt-filter")).expect("read");
    let plugin = Plugin::load(&sandbox(None), &bytes).await.expect("load");
    let kept = plugin.live_code().expect("pinned: nothing to load it from");
    let core = instance(&plugin).await.expect("instance");
    assert!(Arc::ptr_eq(&kept, &core.code));
}
