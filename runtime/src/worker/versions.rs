//! Plugin versions and KIP-891 version requirements.
//!
//! `connector.plugin.version` takes an exact version (`1.2.0`) or a
//! Maven-style range: `[1.0,2.0)` (1.0 ≤ v < 2.0), `(,2.0]` (v ≤ 2.0),
//! `[1.5,)` (v ≥ 1.5). Versions compare numerically part by part
//! (`1.10.0` > `1.9.3`); a non-numeric part compares as text after numbers.

use std::cmp::Ordering;

/// Compares two version strings.
pub fn compare(a: &str, b: &str) -> Ordering {
    let parts = |v: &str| -> Vec<String> { v.split(['.', '-', '+']).map(str::to_string).collect() };
    let (pa, pb) = (parts(a), parts(b));
    for i in 0..pa.len().max(pb.len()) {
        let (x, y) = (
            pa.get(i).map(String::as_str).unwrap_or("0"),
            pb.get(i).map(String::as_str).unwrap_or("0"),
        );
        let ord = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(x), Ok(y)) => x.cmp(&y),
            (Ok(_), Err(_)) => Ordering::Greater,
            (Err(_), Ok(_)) => Ordering::Less,
            (Err(_), Err(_)) => x.cmp(y),
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

/// A parsed `connector.plugin.version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    /// Exactly this version.
    Exact(String),
    /// A range; `None` bounds are open-ended; `bool` is inclusive.
    Range {
        /// Lower bound.
        low: Option<(String, bool)>,
        /// Upper bound.
        high: Option<(String, bool)>,
    },
}

impl Requirement {
    /// Parses a requirement, or says what is wrong with it.
    pub fn parse(spec: &str) -> Result<Requirement, String> {
        let s = spec.trim();
        let (Some(first), Some(last)) = (s.chars().next(), s.chars().last()) else {
            return Err("an empty version requirement".into());
        };
        if !matches!(first, '[' | '(') {
            return Ok(Requirement::Exact(s.to_string()));
        }
        if !matches!(last, ']' | ')') {
            return Err(format!("the version range {s} does not end with ] or )"));
        }
        let inner = &s[1..s.len() - 1];
        let bound = |v: &str, inclusive: bool| {
            (!v.trim().is_empty()).then(|| (v.trim().to_string(), inclusive))
        };
        match inner.split_once(',') {
            Some((lo, hi)) => Ok(Requirement::Range {
                low: bound(lo, first == '['),
                high: bound(hi, last == ']'),
            }),
            None if first == '[' && last == ']' => Ok(Requirement::Exact(inner.trim().to_string())),
            None => Err(format!(
                "the version range {s} needs a comma between its bounds"
            )),
        }
    }

    /// Whether `version` meets the requirement.
    pub fn matches(&self, version: &str) -> bool {
        match self {
            Requirement::Exact(v) => compare(v, version) == Ordering::Equal,
            Requirement::Range { low, high } => {
                let above = low
                    .as_ref()
                    .is_none_or(|(l, inc)| match compare(version, l) {
                        Ordering::Greater => true,
                        Ordering::Equal => *inc,
                        Ordering::Less => false,
                    });
                let below = high
                    .as_ref()
                    .is_none_or(|(h, inc)| match compare(version, h) {
                        Ordering::Less => true,
                        Ordering::Equal => *inc,
                        Ordering::Greater => false,
                    });
                above && below
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_numerically() {
        assert_eq!(compare("1.10.0", "1.9.3"), Ordering::Greater);
        assert_eq!(compare("2.0", "2.0.0"), Ordering::Equal);
        assert_eq!(
            compare("1.0.0", "1.0.0-rc1"),
            Ordering::Greater,
            "a pre-release sorts before its release"
        );
    }

    #[test]
    fn exact_versions_and_maven_ranges() {
        let r = Requirement::parse("[1.0,2.0)").unwrap();
        assert!(r.matches("1.0.0") && r.matches("1.9") && !r.matches("2.0.0") && !r.matches("0.9"));
        assert!(Requirement::parse("(,2.0]").unwrap().matches("2.0"));
        assert!(Requirement::parse("[1.5,)").unwrap().matches("7"));
        assert!(Requirement::parse("0.1.0").unwrap().matches("0.1.0"));
        assert!(!Requirement::parse("0.1.0").unwrap().matches("0.1.1"));
        assert!(Requirement::parse("[1.0").is_err());
    }
}
