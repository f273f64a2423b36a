//! The `connect` group's member metadata and assignments, as other workers
//! (or anything that joins the group) send them: decoded without a panic,
//! and what decodes encodes back to something that decodes the same.
#![no_main]

use wasmconnect::distributed::protocol::{Assignment, MemberMetadata};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(a) = Assignment::decode(data) {
        let again = Assignment::decode(&a.encode()).expect("a re-encoded assignment decodes");
        assert_eq!(again.encode(), a.encode());
    }
    if let Ok(m) = MemberMetadata::decode(data) {
        MemberMetadata::decode(&m.encode()).expect("re-encoded metadata decodes");
    }
});
