//! `_bulk` requests and what their answers mean for each record. Pure
//! functions: the task sends what [`body`] builds and acts on [`outcomes`].

use serde_json::{Map, Value as Json, json};

/// What one record asks of its index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Index the document (replacing one with the same id).
    Index {
        doc: String,
        /// External version (the record's offset): an older record
        /// replayed after a newer one does not overwrite it.
        version: Option<i64>,
    },
    /// Update the document, creating it when missing (`write.method=upsert`).
    Upsert { doc: String },
    /// Delete the document (a null value with `behavior.on.null.values=delete`).
    Delete { version: Option<i64> },
}

/// One line pair of a `_bulk` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub index: String,
    pub id: String,
    pub action: Action,
}

impl Item {
    /// Bytes this item adds to a body (for `bulk.size.bytes`).
    pub fn size(&self) -> usize {
        let doc = match &self.action {
            Action::Index { doc, .. } | Action::Upsert { doc } => doc.len() + 32,
            Action::Delete { .. } => 0,
        };
        self.index.len() + self.id.len() + 96 + doc
    }
}

/// The newline-delimited body for `items`; `type_name` is added to each
/// action for servers that still want a document type.
pub fn body(items: &[&Item], type_name: Option<&str>) -> Vec<u8> {
    let mut out = Vec::with_capacity(items.iter().map(|i| i.size()).sum());
    for item in items {
        let mut meta = Map::new();
        meta.insert("_index".into(), Json::String(item.index.clone()));
        meta.insert("_id".into(), Json::String(item.id.clone()));
        if let Some(t) = type_name {
            meta.insert("_type".into(), Json::String(t.to_string()));
        }
        let (op, version, doc) = match &item.action {
            Action::Index { doc, version } => ("index", *version, Some(doc.clone())),
            Action::Upsert { doc } => (
                "update",
                None,
                Some(format!("{{\"doc\":{doc},\"doc_as_upsert\":true}}")),
            ),
            Action::Delete { version } => ("delete", *version, None),
        };
        if let Some(v) = version {
            meta.insert("version".into(), json!(v));
            meta.insert("version_type".into(), json!("external"));
        }
        out.extend_from_slice(json!({ op: meta }).to_string().as_bytes());
        out.push(b'\n');
        if let Some(doc) = doc {
            out.extend_from_slice(doc.as_bytes());
            out.push(b'\n');
        }
    }
    out
}

/// What became of one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Written (or already there at a newer version, or already deleted).
    Done,
    /// Refused for now (429, 5xx): send again later.
    Retry(String),
    /// Refused as a bad document: `behavior.on.malformed.documents` decides.
    Malformed(String),
    /// Refused for another reason: the record fails.
    Failed(String),
}

/// Error types Confluent's connector treats as malformed documents.
const MALFORMED: [&str; 6] = [
    "mapper_parsing_exception",
    "mapper_parse_exception",
    "document_parsing_exception",
    "illegal_argument_exception",
    "action_request_validation_exception",
    "strict_dynamic_mapping_exception",
];

/// The outcome of each of `count` items from a `_bulk` answer with HTTP
/// status `status`. `Err` when the answer as a whole says to retry or fail.
pub fn outcomes(status: u16, body: &[u8], count: usize) -> Result<Vec<Outcome>, Outcome> {
    let text = String::from_utf8_lossy(body);
    if status == 429 || status >= 500 {
        return Err(Outcome::Retry(format!(
            "HTTP {status}: {}",
            abridged(&text)
        )));
    }
    if !(200..300).contains(&status) {
        return Err(Outcome::Failed(format!(
            "HTTP {status}: {}",
            abridged(&text)
        )));
    }
    let answer: Json = serde_json::from_slice(body).map_err(|e| {
        Outcome::Retry(format!(
            "the _bulk answer is not JSON ({e}): {}",
            abridged(&text)
        ))
    })?;
    let items = answer
        .get("items")
        .and_then(Json::as_array)
        .filter(|items| items.len() == count)
        .ok_or_else(|| {
            Outcome::Failed(format!(
                "the _bulk answer does not have one item for each of the {count} actions: {}",
                abridged(&text)
            ))
        })?;
    Ok(items.iter().map(item_outcome).collect())
}

fn item_outcome(item: &Json) -> Outcome {
    // Each item is {"<op>": {...}} with a single key.
    let Some(result) = item.as_object().and_then(|o| o.values().next()) else {
        return Outcome::Failed(format!("unexpected _bulk item {item}"));
    };
    let status = result.get("status").and_then(Json::as_u64).unwrap_or(0);
    let error = result.get("error");
    let kind = error
        .and_then(|e| e.get("type"))
        .and_then(Json::as_str)
        .unwrap_or("");
    let reason = match error {
        Some(e) => format!(
            "{kind}: {}",
            e.get("reason")
                .and_then(Json::as_str)
                .unwrap_or("no reason given")
        ),
        None => format!("status {status}"),
    };
    match status {
        200..=299 => Outcome::Done,
        // A newer version is already there, or the document to delete is gone.
        409 if kind == "version_conflict_engine_exception" => Outcome::Done,
        404 if error.is_none() => Outcome::Done,
        429 | 500.. => Outcome::Retry(reason),
        _ if MALFORMED.contains(&kind) => Outcome::Malformed(reason),
        _ => Outcome::Failed(reason),
    }
}

/// At most 500 characters of a server's answer, for messages.
pub fn abridged(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(500) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_action_and_document_lines() {
        let index = Item {
            index: "t".into(),
            id: "k".into(),
            action: Action::Index {
                doc: "{\"a\":1}".into(),
                version: Some(7),
            },
        };
        let upsert = Item {
            index: "t".into(),
            id: "u".into(),
            action: Action::Upsert {
                doc: "{\"b\":2}".into(),
            },
        };
        let delete = Item {
            index: "t".into(),
            id: "d".into(),
            action: Action::Delete { version: None },
        };
        let text = String::from_utf8(body(&[&index, &upsert, &delete], None)).unwrap();
        assert_eq!(
            text,
            "{\"index\":{\"_id\":\"k\",\"_index\":\"t\",\"version\":7,\"version_type\":\"external\"}}\n{\"a\":1}\n\
             {\"update\":{\"_id\":\"u\",\"_index\":\"t\"}}\n{\"doc\":{\"b\":2},\"doc_as_upsert\":true}\n\
             {\"delete\":{\"_id\":\"d\",\"_index\":\"t\"}}\n"
        );
        let typed = String::from_utf8(body(&[&delete], Some("_doc"))).unwrap();
        assert!(typed.contains("\"_type\":\"_doc\""));
    }

    #[test]
    fn each_item_is_classified() {
        let answer = br#"{"took":3,"errors":true,"items":[
            {"index":{"status":201}},
            {"index":{"status":409,"error":{"type":"version_conflict_engine_exception","reason":"newer"}}},
            {"delete":{"status":404,"result":"not_found"}},
            {"index":{"status":429,"error":{"type":"es_rejected_execution_exception","reason":"queue full"}}},
            {"index":{"status":400,"error":{"type":"mapper_parsing_exception","reason":"failed to parse field [n]"}}},
            {"index":{"status":403,"error":{"type":"cluster_block_exception","reason":"read-only"}}}
        ]}"#;
        assert_eq!(
            outcomes(200, answer, 6).unwrap(),
            [
                Outcome::Done,
                Outcome::Done,
                Outcome::Done,
                Outcome::Retry("es_rejected_execution_exception: queue full".into()),
                Outcome::Malformed("mapper_parsing_exception: failed to parse field [n]".into()),
                Outcome::Failed("cluster_block_exception: read-only".into()),
            ]
        );
        assert_eq!(
            outcomes(503, b"busy", 1),
            Err(Outcome::Retry("HTTP 503: busy".into()))
        );
        assert!(matches!(outcomes(401, b"no", 1), Err(Outcome::Failed(_))));
        assert!(matches!(
            outcomes(200, br#"{"items":[]}"#, 1),
            Err(Outcome::Failed(_))
        ));
    }
}
