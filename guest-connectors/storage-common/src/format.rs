//! The bytes a record's value becomes in a file: Confluent's `JsonFormat`
//! (one JSON document a line, as JsonConverter without schemas writes
//! values) and `ByteArrayFormat` (the raw bytes, then a separator).

use wasmconnect_sdk::Payload;

/// How values are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// JSON lines, `.json`.
    Json,
    /// Raw bytes followed by `separator`, with extension `extension`.
    Bytes {
        extension: String,
        separator: Vec<u8>,
    },
}

impl Format {
    /// The file extension, with its dot.
    pub fn extension(&self) -> &str {
        match self {
            Format::Json => ".json",
            Format::Bytes { extension, .. } => extension,
        }
    }

    /// Appends `value` to `out`. `Err` says why it cannot be written.
    pub fn append(&self, value: &Payload, out: &mut Vec<u8>) -> Result<(), String> {
        match self {
            Format::Json => {
                match value {
                    Payload::Json(j) => {
                        // One line whatever the converter produced.
                        let doc: serde_json::Value = serde_json::from_str(&j.document)
                            .map_err(|e| format!("the value is not valid JSON: {e}"))?;
                        out.extend_from_slice(doc.to_string().as_bytes());
                    }
                    Payload::Text(t) => out.extend_from_slice(
                        serde_json::Value::String(t.clone()).to_string().as_bytes(),
                    ),
                    Payload::Binary(b) => {
                        // JsonConverter writes bytes as base64 text.
                        let text = base64(b);
                        out.extend_from_slice(
                            serde_json::Value::String(text).to_string().as_bytes(),
                        );
                    }
                }
                out.push(b'\n');
            }
            Format::Bytes { separator, .. } => {
                match value {
                    Payload::Binary(b) => out.extend_from_slice(b),
                    Payload::Text(t) => out.extend_from_slice(t.as_bytes()),
                    Payload::Json(j) => out.extend_from_slice(j.document.as_bytes()),
                }
                out.extend_from_slice(separator);
            }
        }
        Ok(())
    }
}

fn base64(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(TABLE[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmconnect_sdk::JsonPayload;

    #[test]
    fn json_lines_and_bytes() {
        let mut out = Vec::new();
        let json = Payload::Json(JsonPayload {
            document: "{ \"a\" :\n 1 }".into(),
            schema: None,
        });
        Format::Json.append(&json, &mut out).unwrap();
        Format::Json
            .append(&Payload::Text("x\"y".into()), &mut out)
            .unwrap();
        Format::Json
            .append(&Payload::Binary(vec![0xff, 0, 1, 2]), &mut out)
            .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"a\":1}\n\"x\\\"y\"\n\"/wABAg==\"\n"
        );
        let bytes = Format::Bytes {
            extension: ".bin".into(),
            separator: b"|".to_vec(),
        };
        let mut out = Vec::new();
        bytes
            .append(&Payload::Binary(vec![1, 2]), &mut out)
            .unwrap();
        bytes.append(&Payload::Text("t".into()), &mut out).unwrap();
        assert_eq!(out, [1, 2, b'|', b't', b'|']);
        assert_eq!(bytes.extension(), ".bin");
    }
}
