//! The JSON converter on record keys and values from any producer, with and
//! without Kafka Connect's schema envelope.
#![no_main]

use wasmconnect::convert::Converter;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    for schemas in [true, false] {
        let _ = Converter::json(schemas).to_payload(Some(data));
    }
});
