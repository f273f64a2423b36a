//! Java `.properties` files, as `connect-standalone` reads them.
//!
//! Parsing (separators `=`, `:` and whitespace, `#`/`!` comments, backslash
//! continuations and escapes, `\uXXXX`) is done by the `java-properties`
//! crate; this module adds what an operator needs when a file is wrong: the
//! file name, the line and the reason. Files are read as UTF-8 (Java uses
//! ISO-8859-1; ASCII files, the common case, read the same either way).

use std::path::{Path, PathBuf};

use java_properties::{LineContent, PropertiesIter};

/// A properties file that could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}{}: {reason}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct PropertiesError {
    /// The file.
    pub path: PathBuf,
    /// The 1-based line, when the problem is on one.
    pub line: Option<usize>,
    /// What is wrong.
    pub reason: String,
}

/// The key/value pairs of `path`, in file order (a repeated key keeps its
/// last value, as in Java).
pub fn load(path: &Path) -> Result<Vec<(String, String)>, PropertiesError> {
    let err = |line, reason: String| PropertiesError {
        path: path.to_path_buf(),
        line,
        reason,
    };
    let bytes = std::fs::read(path).map_err(|e| err(None, format!("cannot read the file: {e}")))?;
    parse(&bytes).map_err(|(line, reason)| err(line, reason))
}

/// A parse failure: the 1-based line (when known) and the reason.
pub type ParseError = (Option<usize>, String);

/// Parses properties text; errors carry the line and the reason. Text
/// that is not UTF-8 is refused first: the parser's decoder panics on some
/// invalid bytes (a lone 0xEF, found by `tests/hostile_input.rs`).
pub fn parse(text: &[u8]) -> Result<Vec<(String, String)>, ParseError> {
    if let Err(e) = std::str::from_utf8(text) {
        let line = text[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        return Err((Some(line), "the file is not valid UTF-8 text".into()));
    }
    let mut out: Vec<(String, String)> = Vec::new();
    for line in PropertiesIter::new(text) {
        let line = line.map_err(|e| (e.line_number(), describe(&e)))?;
        if let LineContent::KVPair(key, value) = line.consume_content() {
            out.retain(|(k, _)| *k != key);
            out.push((key, value));
        }
    }
    Ok(out)
}

fn describe(e: &java_properties::PropertiesError) -> String {
    let text = e.to_string();
    // The crate's message repeats the line number; keep just the reason.
    match text.split_once(" on line ") {
        Some((reason, _)) => reason.to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String)> {
        parse(text.as_bytes()).unwrap()
    }

    fn p(k: &str, v: &str) -> (String, String) {
        (k.into(), v.into())
    }

    #[test]
    fn separators_comments_continuations_and_escapes() {
        let text = "# comment\n! also a comment\n\
                    a=1\n b : 2\nc 3\nd\n\
                    rest.advertised.host.name = host\n\
                    long = one, \\\n      two\n\
                    esc = tab\\there\\u00e9\\=\\:\n\
                    key\\ with\\ space = v\n";
        assert_eq!(
            pairs(text),
            [
                p("a", "1"),
                p("b", "2"),
                p("c", "3"),
                p("d", ""),
                p("rest.advertised.host.name", "host"),
                p("long", "one, two"),
                p("esc", "tab\there\u{e9}=:"),
                p("key with space", "v"),
            ]
        );
    }

    #[test]
    fn the_last_of_a_repeated_key_wins() {
        assert_eq!(pairs("k=1\nk=2\n"), [p("k", "2")]);
    }

    #[test]
    fn a_malformed_unicode_escape_names_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("worker.properties");
        std::fs::write(&path, "good=1\nbad=\\u12G4\n").unwrap();
        let err = load(&path).unwrap_err();
        assert_eq!(err.line, Some(2));
        assert!(
            err.to_string()
                .starts_with(&format!("{}:2: ", path.display())),
            "{err}"
        );
    }

    #[test]
    fn a_missing_file_is_named() {
        let err = load(Path::new("/nonexistent/w.properties")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("/nonexistent/w.properties: cannot read the file"),
            "{err}"
        );
    }
}
