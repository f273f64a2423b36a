//! Building the one `Engine` and driving its epoch.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use super::SandboxConfig;

/// Core instances, memories and tables a component may need, per component
/// instance. Rust and C components use a handful; interpreters (Python, JS)
/// bring more, hence the headroom.
const CORE_INSTANCES_PER_COMPONENT: u32 = 8;
const MEMORIES_PER_COMPONENT: u32 = 2;
const TABLES_PER_COMPONENT: u32 = 4;
/// Large enough for the function tables of interpreter guests.
const TABLE_ELEMENTS: usize = 200_000;
/// Per-instance metadata budget; interpreter guests need several MiB.
const MAX_INSTANCE_METADATA: usize = 10 << 20;

/// Builds the engine: component model, epoch interruption, pooling allocator
/// sized from `max_instances` (on-demand allocation if the pool cannot be
/// reserved on this machine).
pub fn build(config: &SandboxConfig) -> anyhow::Result<Engine> {
    let mut pooled = base_config();
    pooled.allocation_strategy(InstanceAllocationStrategy::Pooling(pool(config)));
    match Engine::new(&pooled) {
        Ok(engine) => Ok(engine),
        Err(e) => {
            tracing::warn!(error = %e, "pooling allocator unavailable, allocating instances on demand");
            Engine::new(&base_config())
                .map_err(|e| anyhow::anyhow!("cannot create the wasm engine: {e}"))
        }
    }
}

/// The wasm call stack each instance gets (wasmtime's default, stated so
/// that a stack overflow's error can name it). Recursion past it traps.
pub const WASM_STACK_BYTES: usize = 512 << 10;

fn base_config() -> Config {
    let mut c = Config::new();
    c.wasm_component_model(true);
    c.max_wasm_stack(WASM_STACK_BYTES);
    // `WASMCONNECT_PERFMAP=1` writes /tmp/perf-<pid>.map so that `perf`
    // can name the functions of compiled guests (for profiling only).
    if std::env::var_os("WASMCONNECT_PERFMAP").is_some() {
        c.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    // Busy guests are interrupted at every epoch tick so that they yield to
    // the async runtime, and deadlines are enforced around each call.
    c.epoch_interruption(true);
    c
}

fn pool(config: &SandboxConfig) -> PoolingAllocationConfig {
    let n = config.max_instances.max(1);
    let mut p = PoolingAllocationConfig::default();
    p.total_component_instances(n)
        .total_core_instances(n * CORE_INSTANCES_PER_COMPONENT)
        .total_memories(n * MEMORIES_PER_COMPONENT)
        .total_tables(n * TABLES_PER_COMPONENT)
        .total_stacks(n)
        .max_memories_per_component(MEMORIES_PER_COMPONENT * CORE_INSTANCES_PER_COMPONENT)
        .max_tables_per_component(TABLES_PER_COMPONENT * CORE_INSTANCES_PER_COMPONENT)
        .max_core_instances_per_component(CORE_INSTANCES_PER_COMPONENT * 4)
        .max_memory_size(config.max_limits.memory_bytes)
        .table_elements(TABLE_ELEMENTS)
        .max_component_instance_size(MAX_INSTANCE_METADATA)
        .max_core_instance_size(MAX_INSTANCE_METADATA);
    p
}

/// Starts the thread that advances the engine's epoch every `tick`; it ends
/// when the returned flag is set.
pub fn start_epoch_ticker(engine: &Engine, tick: Duration) -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let engine = engine.clone();
    let spawned = std::thread::Builder::new()
        .name("wasm-epoch".into())
        .spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(tick);
                engine.increment_epoch();
            }
        });
    if let Err(e) = spawned {
        // Without the ticker guests never yield; deadlines still bound calls
        // that wait on host I/O, but not busy loops. Say so loudly.
        tracing::error!(error = %e, "cannot start the epoch ticker thread: busy guests will not be interrupted");
    }
    stop
}
