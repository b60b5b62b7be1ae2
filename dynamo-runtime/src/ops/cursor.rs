use std::{collections::BTreeMap, fmt, str::FromStr};

use aws_sdk_dynamodb::{primitives::Blob, types::AttributeValue};
use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};

use crate::{Attributes, Error, Result};

/// An opaque position in a query's results: pass it to `after` to resume.
///
/// It is URL-safe text (`Display` / `FromStr` round-trip), so it can travel
/// through an API as a page token.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cursor(String);

impl Cursor {
    /// The cursor as URL-safe text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub(crate) fn from_key(key: &Attributes) -> Cursor {
        let map: BTreeMap<&str, serde_json::Value> = key
            .iter()
            .filter_map(|(name, value)| {
                let (tag, text) = match value {
                    AttributeValue::S(s) => ("S", s.clone()),
                    AttributeValue::N(n) => ("N", n.clone()),
                    AttributeValue::B(b) => ("B", STANDARD.encode(b.as_ref())),
                    // Key attributes are only ever S, N or B.
                    _ => return None,
                };
                Some((name.as_str(), serde_json::json!({ tag: text })))
            })
            .collect();
        let json = serde_json::to_vec(&map).unwrap_or_default();
        Cursor(URL_SAFE_NO_PAD.encode(json))
    }

    /// Decodes the key, checking that it holds exactly `attributes`.
    pub(crate) fn to_key(&self, attributes: &[&str]) -> Result<Attributes> {
        let invalid = |reason: &str| Error::InvalidCursor {
            reason: reason.to_owned(),
        };
        let json = URL_SAFE_NO_PAD
            .decode(&self.0)
            .map_err(|_| invalid("not URL-safe base64"))?;
        let map: BTreeMap<String, BTreeMap<String, String>> =
            serde_json::from_slice(&json).map_err(|_| invalid("not a key"))?;
        let mut key = Attributes::with_capacity(map.len());
        for (name, typed) in map {
            let mut typed = typed.into_iter();
            let value = match (typed.next(), typed.next()) {
                (Some((tag, text)), None) => match tag.as_str() {
                    "S" => AttributeValue::S(text),
                    "N" => AttributeValue::N(text),
                    "B" => AttributeValue::B(Blob::new(
                        STANDARD
                            .decode(text)
                            .map_err(|_| invalid("bad binary value"))?,
                    )),
                    _ => return Err(invalid("unknown value type")),
                },
                _ => return Err(invalid("a value must have exactly one type")),
            };
            key.insert(name, value);
        }
        if key.len() != attributes.len() || !attributes.iter().all(|a| key.contains_key(*a)) {
            let mut found: Vec<&str> = key.keys().map(String::as_str).collect();
            found.sort_unstable();
            return Err(Error::InvalidCursor {
                reason: format!(
                    "it holds attributes {found:?}, but this query's keys are {attributes:?}"
                ),
            });
        }
        Ok(key)
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Cursor {
    type Err = Error;

    /// Parses a cursor's text; its contents are checked when it is used.
    fn from_str(s: &str) -> Result<Self> {
        if s.is_empty()
            || !s
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(Error::InvalidCursor {
                reason: "not URL-safe base64".to_owned(),
            });
        }
        Ok(Cursor(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_key_type() {
        let mut key = Attributes::new();
        key.insert("pk".into(), AttributeValue::S("CUSTOMER#c1".into()));
        key.insert("sk".into(), AttributeValue::N("42".into()));
        key.insert("bk".into(), AttributeValue::B(Blob::new(vec![0, 255])));
        let cursor = Cursor::from_key(&key);
        let parsed: Cursor = cursor.to_string().parse().unwrap();
        assert_eq!(parsed.to_key(&["pk", "sk", "bk"]).unwrap(), key);
    }

    #[test]
    fn rejects_foreign_cursors() {
        assert!("not a cursor!".parse::<Cursor>().is_err());
        let bogus: Cursor = "abc".parse().unwrap();
        assert!(matches!(
            bogus.to_key(&["pk"]),
            Err(Error::InvalidCursor { .. })
        ));
        let mut key = Attributes::new();
        key.insert("pk".into(), AttributeValue::S("x".into()));
        let other = Cursor::from_key(&key);
        assert!(other.to_key(&["pk", "sk"]).is_err());
    }
}
