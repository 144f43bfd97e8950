//! Line and column of a place in a YAML document: of a value, or of a mapping key.
//!
//! Owns: asking the parser itself where a node starts. The probe walks to the place and fails
//! there on purpose; the parser stamps that failure with the node's position. Leaves out: which
//! place an error is about (`diagnose`).
//!
//! Positions are those of the parser: 1-based, columns counted in characters; a block mapping
//! starts at its first key, a block scalar at its `|` or `>` indicator.

use super::field_path::FieldPath;
use super::navigate::{KeyText, Navigate};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// A 1-based line and column, relative to the text that was parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pos {
    pub line: usize,
    pub column: usize,
}

impl Pos {
    pub(crate) fn new(line: usize, column: usize) -> Self {
        Pos { line, column }
    }
}

/// Text of the deliberate failure, to tell it from a real error.
const PROBE: &str = "\u{1}egressbench-locate-probe\u{1}";

/// Where the value at `path` starts.
pub(crate) fn value_at(text: &str, path: &FieldPath) -> Option<Pos> {
    probe(text, path, FailHere)
}

/// Where the `nth` (0-based) occurrence of `key` in the mapping at `parent` is.
pub(crate) fn key_at(text: &str, parent: &FieldPath, key: &str, nth: usize) -> Option<Pos> {
    probe(text, parent, FailAtKey { key, nth })
}

/// Turn a parser error into a position (the parser's own location of it).
pub(crate) fn error_pos(err: &serde_yaml::Error) -> Option<Pos> {
    err.location().map(|l| Pos::new(l.line(), l.column()))
}

fn probe<'de, S: DeserializeSeed<'de, Value = ()>>(
    text: &'de str,
    path: &FieldPath,
    seed: S,
) -> Option<Pos> {
    let de = serde_yaml::Deserializer::from_str(text);
    match Navigate::new(path, seed).deserialize(de) {
        Err(e) if e.to_string().contains(PROBE) => error_pos(&e),
        _ => None,
    }
}

/// Fails on whatever value it is given.
struct FailHere;

impl<'de> DeserializeSeed<'de> for FailHere {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FailHere {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Err(E::custom(PROBE))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Err(E::custom(PROBE))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Err(E::custom(PROBE))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Err(E::custom(PROBE))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Err(E::custom(PROBE))
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Err(E::custom(PROBE))
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Err(E::custom(PROBE))
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(de::Error::custom(PROBE))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(de::Error::custom(PROBE))
    }
    fn visit_enum<A: de::EnumAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(de::Error::custom(PROBE))
    }
}

/// Walks a mapping's keys and fails on the `nth` one equal to `key`.
struct FailAtKey<'k> {
    key: &'k str,
    nth: usize,
}

impl<'de> DeserializeSeed<'de> for FailAtKey<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FailAtKey<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = 0;
        loop {
            let is_it = if seen == self.nth {
                map.next_key_seed(KeyProbe(self.key))?
            } else {
                map.next_key_seed(KeyText)?
                    .map(|k| k.as_deref() == Some(self.key))
            };
            match is_it {
                None => return Ok(()),
                Some(true) => seen += 1,
                Some(false) => {}
            }
            map.next_value::<IgnoredAny>()?;
        }
    }
}

/// Reads a key, failing (at the key's position) when it is `self.0`.
struct KeyProbe<'k>(&'k str);

impl<'de> DeserializeSeed<'de> for KeyProbe<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KeyProbe<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
        if v == self.0 {
            Err(E::custom(PROBE))
        } else {
            Ok(false)
        }
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<bool, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<bool, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<bool, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(false)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "\
# leading comment
apiVersion: v1
kind: ConfigMap
metadata:
  name: istio
data:
  mesh: |-
    outboundTrafficPolicy:
      mode: REGISTRY_ONLY
items:
- apiVersion: v1
  kind: A
-   {kind: B, port: 80}
";

    fn at(path: &FieldPath) -> Option<(usize, usize)> {
        value_at(DOC, path).map(|p| (p.line, p.column))
    }

    #[test]
    fn values() {
        let root = FieldPath::root();
        assert_eq!(at(&root), Some((2, 1)));
        assert_eq!(at(&root.key("kind")), Some((3, 7)));
        assert_eq!(at(&root.key("metadata")), Some((5, 3)));
        assert_eq!(at(&root.key("data").key("mesh")), Some((7, 9)));
        assert_eq!(at(&root.key("items").index(0)), Some((11, 3)));
        assert_eq!(at(&root.key("items").index(1)), Some((13, 5)));
        assert_eq!(at(&root.key("items").index(1).key("port")), Some((13, 21)));
        assert_eq!(at(&root.key("nope")), None);
    }

    #[test]
    fn keys() {
        let root = FieldPath::root();
        let key = |parent: &FieldPath, k, n| key_at(DOC, parent, k, n).map(|p| (p.line, p.column));
        assert_eq!(key(&root, "data", 0), Some((6, 1)));
        assert_eq!(key(&root.key("data"), "mesh", 0), Some((7, 3)));
        assert_eq!(key(&root.key("items").index(1), "port", 0), Some((13, 15)));
        assert_eq!(key(&root, "data", 1), None);
        let dup = "a: 1\nb: 2\na: 3\n";
        assert_eq!(
            key_at(dup, &root, "a", 1).map(|p| (p.line, p.column)),
            Some((3, 1))
        );
    }

    #[test]
    fn columns_count_characters() {
        let text = "é: ü\nb: [1, éé, x]\n";
        let p = value_at(text, &FieldPath::root().key("b").index(2));
        assert_eq!(p, Some(Pos::new(2, 12)));
    }
}
