//! A worker or connector property file: any bytes give a value or an error.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = wasmconnect::config::properties::parse(data);
});
