//! Hostile input to every parser that reads what others wrote: property
//! files, the `connect` group's metadata and assignments, the config,
//! status and offset topics' records, and the JSON converter. Each gets
//! valid samples mutated (bit flips, insertions, deletions, truncations,
//! splices, lengths set to extremes) and plain random bytes, from a fixed
//! seed so a failure reproduces; each must answer with a value or an error,
//! never a panic.
//!
//! This is a bounded, repeatable fuzzing pass that runs on stable Rust in
//! every CI run; cargo-fuzz needs a nightly toolchain this project does not
//! install. The figures it prints go into the security note.

use std::panic::{AssertUnwindSafe, catch_unwind};

use wasmconnect::config::properties;
use wasmconnect::convert::Converter;
use wasmconnect::distributed::config_log::ConfigRecord;
use wasmconnect::distributed::protocol::{Assignment, MemberMetadata};
use wasmconnect::distributed::status_log::{StatusKey, StatusRecord, parse_offset_key};
use wasmconnect_tests::work;

/// Inputs per target.
const ROUNDS: usize = 100_000;

/// xorshift64*: small, fast, and the same sequence on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// `seed` changed in one to four ways, or replaced by random bytes.
    fn mutate(&mut self, seed: &[u8], seeds: &[Vec<u8>]) -> Vec<u8> {
        let mut out = seed.to_vec();
        for _ in 0..1 + self.below(4) {
            match self.below(7) {
                0 if !out.is_empty() => {
                    let i = self.below(out.len());
                    out[i] ^= 1 << self.below(8);
                }
                1 => {
                    let i = self.below(out.len() + 1);
                    out.insert(i, self.next() as u8);
                }
                2 if !out.is_empty() => {
                    let i = self.below(out.len());
                    out.remove(i);
                }
                3 => out.truncate(self.below(out.len() + 1)),
                4 => {
                    let other = &seeds[self.below(seeds.len())];
                    let (i, j) = (self.below(out.len() + 1), self.below(other.len() + 1));
                    out.splice(i.., other[j..].iter().copied());
                }
                5 if out.len() >= 4 => {
                    // Lengths and counts at their extremes.
                    let i = self.below(out.len() - 3);
                    let extreme = [[0xff; 4], [0x7f, 0xff, 0xff, 0xff], [0x80, 0, 0, 0], [0; 4]];
                    out[i..i + 4].copy_from_slice(&extreme[self.below(4)]);
                }
                _ => {
                    let n = self.below(64);
                    out = (0..n).map(|_| self.next() as u8).collect();
                }
            }
        }
        out
    }
}

/// Feeds `ROUNDS` inputs derived from `seeds` to `parse`; panics naming
/// the first input that made it panic. Returns how many were accepted.
fn hammer(name: &str, seed: u64, seeds: &[Vec<u8>], parse: impl Fn(&[u8]) -> bool) -> usize {
    let mut rng = Rng(seed);
    let mut accepted = 0;
    for round in 0..ROUNDS {
        let input = rng.mutate(&seeds[round % seeds.len()], seeds);
        match catch_unwind(AssertUnwindSafe(|| parse(&input))) {
            Ok(true) => accepted += 1,
            Ok(false) => {}
            Err(_) => panic!("{name}: round {round} panicked on {input:02x?}"),
        }
    }
    println!("{name}: {ROUNDS} inputs, {accepted} accepted, the rest refused, no panic");
    accepted
}

#[test]
fn property_files() {
    let seeds = vec![
        b"a=1\nb : 2\n# c\n! d\nlong = x\\\n  y\n".to_vec(),
        b"key\\u0041=\\t\\n\\\\ value\r\n".to_vec(),
        "name=caf\u{e9} \u{2713}\n".as_bytes().to_vec(),
    ];
    hammer("properties", 1, &seeds, |b| properties::parse(b).is_ok());
}

#[test]
fn group_metadata_and_assignments() {
    let assignment = Assignment {
        version: 2,
        leader: "member-1".into(),
        leader_url: "http://a:8083/".into(),
        config_offset: 7,
        assigned: work(&["c1", "cé"], &[("c1", 0), ("c1", 1)]),
        revoked: work(&["old"], &[("old", 3)]),
        delay_ms: 100,
        ..Assignment::default()
    };
    let metadata = MemberMetadata {
        version: 2,
        url: "http://b:8083/".into(),
        config_offset: 9,
        allocation: Some(assignment.clone()),
    };
    let seeds = vec![assignment.encode(), metadata.encode()];
    hammer("assignments", 2, &seeds, |b| Assignment::decode(b).is_ok());
    hammer("member metadata", 3, &seeds, |b| {
        MemberMetadata::decode(b).is_ok()
    });
}

#[test]
fn config_status_and_offset_records() {
    let records = [
        ConfigRecord::Connector {
            name: "c".into(),
            properties: Some([("k".to_string(), "v".to_string())].into()),
        },
        ConfigRecord::Commit {
            connector: "c".into(),
            tasks: 2,
        },
        ConfigRecord::Restart {
            connector: "c".into(),
            include_tasks: true,
            only_failed: false,
        },
    ];
    // Key and value travel together: the first line is the key.
    let seeds: Vec<Vec<u8>> = records
        .iter()
        .map(|r| {
            let (key, value) = r.encode();
            [key.into_bytes(), b"\n".to_vec(), value.unwrap_or_default()].concat()
        })
        .chain([
            b"task-c-0\n{\"properties\":{\"a\":1,\"b\":null,\"c\":[true]}}".to_vec(),
            b"target-state-c\n{\"state\":\"PAUSED\",\"state.v2\":\"STOPPED\"}".to_vec(),
            b"session-key\n{\"key\":\"AAAA\",\"algorithm\":\"HmacSHA256\",\"creation-timestamp\":1}"
                .to_vec(),
        ])
        .collect();
    hammer("config records", 4, &seeds, |b| {
        let text = String::from_utf8_lossy(b);
        let (key, value) = text.split_once('\n').unwrap_or((&text, ""));
        ConfigRecord::decode(key, Some(value.as_bytes())).is_ok()
    });
    let status = vec![
        br#"{"state":"RUNNING","trace":null,"worker_id":"a:8083","generation":3}"#.to_vec(),
        b"status-task-c-0".to_vec(),
        br#"["c",{"filename":"/x"}]"#.to_vec(),
    ];
    hammer("status records", 5, &status, |b| {
        StatusRecord::decode(b).is_ok()
    });
    hammer("status keys", 6, &status, |b| {
        StatusKey::decode(&String::from_utf8_lossy(b)).is_some()
    });
    hammer("offset keys", 7, &status, |b| parse_offset_key(b).is_ok());
}

#[test]
fn the_json_converter() {
    let seeds = vec![
        br#"{"schema":{"type":"struct","fields":[{"field":"a","type":"int32"}],"optional":false},"payload":{"a":1}}"#.to_vec(),
        br#"{"schema":{"type":"bytes"},"payload":"AAE="}"#.to_vec(),
        br#"{"a":[1,2.5,"x",null,{"b":true}]}"#.to_vec(),
    ];
    for (name, schemas, seed) in [("json with schemas", true, 8), ("json", false, 9)] {
        let converter = Converter::json(schemas);
        hammer(name, seed, &seeds, |b| {
            converter.to_payload(Some(b)).is_ok()
        });
    }
}
