//! Deserialization helpers shared by the scenario format: maps validated as a whole, and scalars
//! read as text.
//!
//! Owns: the two mechanisms that keep errors located — a check that needs several keys at once
//! runs inside the map's own visitor ([`checked_map`]), so the YAML reader attaches the line and
//! column of that map; a scalar that must be parsed ([`parsed_str`]) fails at the scalar itself —
//! plus text written as any scalar ([`Scalar`]) and one-or-many lists ([`one_or_many`]). Leaves
//! out: the shapes of the file (`format`, `expectation`, `hosts`) and reading files (`load`).

use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use std::fmt;
use std::marker::PhantomData;

/// Separates a message from its fix in errors raised while deserializing; `error` splits them
/// apart again so the fix can be printed on its own `help:` line.
pub(crate) const HELP: &str = "\nhelp: ";

/// An error message with its fix, for errors raised while deserializing.
pub(crate) fn with_help(message: impl fmt::Display, help: impl fmt::Display) -> String {
    format!("{message}{HELP}{help}")
}

/// Deserialize a map into `R` (a strict derive), then validate and convert it with `check` while
/// the reader is still inside that map, so a failed check points at the map.
pub(crate) fn checked_map<'de, D, R, T>(
    d: D,
    expecting: &'static str,
    check: fn(R) -> Result<T, String>,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    R: DeserializeOwned,
{
    struct MapVisitor<R, T> {
        expecting: &'static str,
        check: fn(R) -> Result<T, String>,
        raw: PhantomData<R>,
    }
    impl<'de, R: DeserializeOwned, T> Visitor<'de> for MapVisitor<R, T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.expecting)
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
            let raw = R::deserialize(de::value::MapAccessDeserializer::new(map))?;
            (self.check)(raw).map_err(de::Error::custom)
        }
    }
    d.deserialize_map(MapVisitor {
        expecting,
        check,
        raw: PhantomData,
    })
}

/// Deserialize a string and parse it with `parse`; a failure points at the string itself.
pub(crate) fn parsed_str<'de, D, T>(
    d: D,
    expecting: &'static str,
    parse: fn(&str) -> Result<T, String>,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    struct StrVisitor<T> {
        expecting: &'static str,
        parse: fn(&str) -> Result<T, String>,
    }
    impl<T> Visitor<'_> for StrVisitor<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.expecting)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
            (self.parse)(v).map_err(E::custom)
        }
    }
    d.deserialize_str(StrVisitor { expecting, parse })
}

/// Text written as any YAML scalar: `stdout: 502` means the text `502`. Floats are refused because
/// their spelling is lost on the way (`1.50` would read back as `1.5`); quoting them keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Scalar(pub String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;
        impl Visitor<'_> for ScalarVisitor {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, a whole number or a boolean")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                Err(E::custom(with_help(
                    format!("expected text, got the number {v}"),
                    "quote the value (`\"1.50\"`) so its exact spelling is kept",
                )))
            }
        }
        d.deserialize_any(ScalarVisitor)
    }
}

/// `deserialize_with` for an optional field written as any scalar (see [`Scalar`]).
pub(crate) fn opt_scalar<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Some(Scalar::deserialize(d)?.0))
}

/// One text or a list of texts: `stdout_contains: 200` or `stdout_contains: [200, OK]`.
pub(crate) fn texts<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    struct Texts;
    impl<'de> Visitor<'de> for Texts {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a text or a list of texts")
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<String>, A::Error> {
            let mut items = Vec::new();
            while let Some(Scalar(item)) = seq.next_element()? {
                items.push(item);
            }
            if items.is_empty() {
                return Err(de::Error::custom(
                    "expected at least one text, got an empty list",
                ));
            }
            Ok(items)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<String>, E> {
            Ok(vec![v.to_string()])
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Vec<String>, E> {
            Ok(vec![v.to_string()])
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Vec<String>, E> {
            Ok(vec![v.to_string()])
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Vec<String>, E> {
            Ok(vec![v.to_string()])
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Vec<String>, E> {
            Ok(vec![v.to_string()])
        }
    }
    d.deserialize_any(Texts)
}

/// One map or a list of maps: `json: {..}` or `json: [{..}, {..}]`.
pub(crate) fn one_or_many<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct OneOrMany<T>(PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for OneOrMany<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a map or a list of maps")
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Vec<T>, A::Error> {
            T::deserialize(de::value::MapAccessDeserializer::new(map)).map(|t| vec![t])
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut items = Vec::new();
            while let Some(item) = seq.next_element()? {
                items.push(item);
            }
            Ok(items)
        }
    }
    d.deserialize_any(OneOrMany(PhantomData))
}
