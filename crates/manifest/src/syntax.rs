//! Is this document well-formed YAML? Syntax errors (indentation, tabs, unclosed quotes) and
//! duplicate keys, each with its position and a hint.
//!
//! Owns: the first pass over a document, before anything is typed, so that a syntax error is
//! reported as such rather than as whatever the typed read tripped over first. Leaves out: the
//! meaning of keys and values (`object`, `diagnose`).

use super::diag::Diag;
use super::field_path::FieldPath;
use super::locate::{self, Pos};
use super::navigate::KeyText;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::fmt;

const DUPLICATE: &str = "\u{1}egressbench-duplicate-key\u{1}";

/// Check that `text` (one document) parses and has no mapping with a key twice.
pub(crate) fn check(text: &str) -> Result<(), Diag> {
    let found = RefCell::new(None);
    let walk = Walk {
        path: FieldPath::root(),
        found: &found,
    };
    let Err(err) = walk.deserialize(serde_yaml::Deserializer::from_str(text)) else {
        return Ok(());
    };
    let pos = locate::error_pos(&err).unwrap_or(Pos::new(1, 1));
    match found.into_inner() {
        Some((parent, key)) if err.to_string().contains(DUPLICATE) => {
            let second = locate::key_at(text, &parent, &key, 1).unwrap_or(pos);
            Err(duplicate(text, &parent, &key, second))
        }
        _ => Err(yaml_error(text, &err, pos)),
    }
}

fn duplicate(text: &str, parent: &FieldPath, key: &str, pos: Pos) -> Diag {
    let place = if parent.is_root() {
        "at the top level".to_string()
    } else {
        format!("in {parent}")
    };
    let diag = Diag::new(pos, format!("duplicate key `{key}` {place}")).with_hint(Some(
        "a key may appear only once in a mapping; merge the two entries or remove one".into(),
    ));
    match locate::key_at(text, parent, key, 0) {
        Some(first) => diag.with_related("first defined", first),
        None => diag,
    }
}

/// A parser error as a `Diag`: message without the parser's own positions, the context it gives
/// as a related place, and a hint for the usual causes.
pub(crate) fn yaml_error(text: &str, err: &serde_yaml::Error, pos: Pos) -> Diag {
    let full = err.to_string();
    let (problem, context) = match full.split_once(", while ") {
        Some((p, c)) => (p.to_string(), Some(format!("while {c}"))),
        None => (full.clone(), None),
    };
    let (problem, _) = strip_mark(&problem);
    let line = text.lines().nth(pos.line.saturating_sub(1)).unwrap_or("");
    let mut pos = pos;
    if problem.contains("mapping values are not allowed") {
        // The parser points at the `:`; the key that is out of place starts the line.
        if let Some(first) = line.chars().position(|c| !c.is_whitespace()) {
            pos.column = pos.column.min(first + 1);
        }
    }
    let diag = Diag::new(pos, format!("invalid YAML: {problem}")).with_hint(hint(&problem, line));
    match context.map(|c| strip_mark(&c)) {
        Some((what, Some(at))) if at != pos => diag.with_related(what, at),
        Some((what, _)) => Diag {
            message: format!("{}, {what}", diag.message),
            ..diag
        },
        None => diag,
    }
}

fn hint(problem: &str, line: &str) -> Option<String> {
    let indent: String = line.chars().take_while(|c| c.is_whitespace()).collect();
    if problem.contains("tab") || indent.contains('\t') {
        return Some(
            "YAML indentation must be spaces; replace the tab characters on this line".into(),
        );
    }
    if problem.contains("mapping values are not allowed")
        || problem.contains("did not find expected key")
        || problem.contains("could not find expected ':'")
    {
        return Some(
            "check this line's indentation: keys of one mapping start in the same column, \
             and nested keys are indented further than their parent"
                .into(),
        );
    }
    if problem.contains("did not find expected '-' indicator") {
        return Some("items of one list start with `- ` in the same column".into());
    }
    if problem.contains("end of stream") {
        return Some("a quoted string or a `[`/`{` collection is not closed".into());
    }
    if problem.contains("unknown anchor") {
        return Some("an alias `*name` must follow an anchor `&name` in the same document".into());
    }
    None
}

/// Split a trailing ` at line L column C` (or ` at position N`) off a parser message.
pub(crate) fn strip_mark(s: &str) -> (String, Option<Pos>) {
    if let Some((head, tail)) = s.rsplit_once(" at line ") {
        if let Some((l, c)) = tail.split_once(" column ") {
            if let (Ok(l), Ok(c)) = (l.trim().parse(), c.trim().parse()) {
                return (head.to_string(), Some(Pos::new(l, c)));
            }
        }
    }
    if let Some((head, tail)) = s.rsplit_once(" at position ") {
        if tail.trim().parse::<usize>().is_ok() {
            return (head.to_string(), None);
        }
    }
    (s.to_string(), None)
}

type Found = RefCell<Option<(FieldPath, String)>>;

/// Walks every node; fails at the second occurrence of a key in one mapping.
struct Walk<'a> {
    path: FieldPath,
    found: &'a Found,
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = BTreeSet::new();
        loop {
            let key = map.next_key_seed(UniqueKey {
                seen: &mut seen,
                parent: &self.path,
                found: self.found,
            })?;
            let Some(key) = key else { return Ok(()) };
            map.next_value_seed(Walk {
                path: self.path.key(key.as_deref().unwrap_or("?")),
                found: self.found,
            })?;
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0;
        while seq
            .next_element_seed(Walk {
                path: self.path.index(index),
                found: self.found,
            })?
            .is_some()
        {
            index += 1;
        }
        Ok(())
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<(), A::Error> {
        let (IgnoredAny, variant) = data.variant::<IgnoredAny>()?;
        de::VariantAccess::newtype_variant_seed(variant, self)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

/// Reads one key and fails if the mapping had it already.
struct UniqueKey<'a> {
    seen: &'a mut BTreeSet<String>,
    parent: &'a FieldPath,
    found: &'a Found,
}

impl<'de> DeserializeSeed<'de> for UniqueKey<'_> {
    type Value = Option<String>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        let key = KeyText.deserialize(d)?;
        if let Some(k) = &key {
            if !self.seen.insert(k.clone()) {
                *self.found.borrow_mut() = Some((self.parent.clone(), k.clone()));
                return Err(de::Error::custom(DUPLICATE));
            }
        }
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> Diag {
        match check(text) {
            Err(d) => d,
            Ok(()) => panic!("expected an error for {text:?}"),
        }
    }

    #[test]
    fn well_formed() {
        assert_eq!(check("a: 1\nb: [1, 2]\nc: {d: e}\n"), Ok(()));
        assert_eq!(check("---\n# only comments\n"), Ok(()));
    }

    #[test]
    fn duplicate_keys_point_at_the_second() {
        let d = err("spec:\n  hosts: [a]\n  ports: []\n  hosts: [b]\n");
        assert_eq!(d.pos, Pos::new(4, 3));
        assert_eq!(
            d.full_message(),
            "duplicate key `hosts` in spec (first defined at line 2 column 3)"
        );
        let d = err("kind: A\nkind: B\n");
        assert_eq!(
            (d.pos, d.message.as_str()),
            (Pos::new(2, 1), "duplicate key `kind` at the top level")
        );
    }

    #[test]
    fn tabs() {
        let d = err("spec:\n\thosts: [a]\n");
        assert_eq!(d.pos, Pos::new(2, 1));
        assert!(d.message.starts_with("invalid YAML: "), "{}", d.message);
        assert!(d.hint.as_deref().unwrap_or("").contains("spaces"), "{d:?}");
    }

    #[test]
    fn misindented_key_points_at_the_key() {
        let d = err("spec:\n  hosts:\n  - httpbin.org\n   ports:\n");
        assert_eq!(d.pos, Pos::new(4, 4));
        assert_eq!(
            d.message,
            "invalid YAML: mapping values are not allowed in this context"
        );
        assert!(d.hint.as_deref().unwrap_or("").contains("indentation"));
    }

    #[test]
    fn context_becomes_a_related_place() {
        let d = err("a:\n  b:\n    c: 1\n   d: 2\n");
        assert_eq!(d.pos, Pos::new(4, 4));
        assert_eq!(
            d.full_message(),
            "invalid YAML: did not find expected key (while parsing a block mapping at line 2 column 3)"
        );
        // A context at the very start of the text has no position of its own.
        let d = err("a:\n  b: 1\n c: 2\n");
        assert_eq!(d.pos, Pos::new(3, 2));
        assert_eq!(
            d.full_message(),
            "invalid YAML: did not find expected key, while parsing a block mapping"
        );
    }

    #[test]
    fn unclosed_quote_and_unknown_alias() {
        let d = err("a: 'open\n");
        assert!(
            d.hint.as_deref().unwrap_or("").contains("not closed"),
            "{d:?}"
        );
        let d = err("a: *nowhere\n");
        assert_eq!(d.pos, Pos::new(1, 4));
        assert!(d.message.contains("unknown anchor"), "{d:?}");
    }

    #[test]
    fn strips_parser_marks() {
        assert_eq!(
            strip_mark("did not find expected key at line 4 column 2"),
            ("did not find expected key".into(), Some(Pos::new(4, 2)))
        );
        assert_eq!(strip_mark("x at position 3"), ("x".into(), None));
        assert_eq!(strip_mark("plain"), ("plain".into(), None));
    }
}
