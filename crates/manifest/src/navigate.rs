//! Walking a YAML document to one place (`items[2].spec`) and running a deserializer there.
//!
//! Owns: descending mappings by key and sequences by index inside a live deserializer, so that the
//! inner value is read from the document's own events (its error locations are the document's).
//! Leaves out: what is done at the place (typed reads in `typed`, position probes in `locate`).

use super::field_path::{FieldPath, Seg};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// Runs `inner` on the value at `path`; `None` when the document has no such place.
#[derive(Debug)]
pub(crate) struct Navigate<'p, S> {
    path: &'p [Seg],
    inner: S,
}

impl<'p, S> Navigate<'p, S> {
    pub(crate) fn new(path: &'p FieldPath, inner: S) -> Self {
        Navigate {
            path: path.segs(),
            inner,
        }
    }
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Navigate<'_, S> {
    type Value = Option<S::Value>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        match self.path.first() {
            None => self.inner.deserialize(d).map(Some),
            Some(_) => d.deserialize_any(self),
        }
    }
}

impl<'de, S: DeserializeSeed<'de>> Visitor<'de> for Navigate<'_, S> {
    type Value = Option<S::Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping or a sequence")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (Some(Seg::Key(want)), rest) = (self.path.first(), &self.path[1..]) else {
            return drain_map(map).map(|()| None);
        };
        let mut found = None;
        while let Some(key) = map.next_key_seed(KeyText)? {
            if found.is_none() && key.as_deref() == Some(want.as_str()) {
                let next = Navigate {
                    path: rest,
                    inner: self.inner,
                };
                found = Some(map.next_value_seed(next)?);
                break;
            }
            map.next_value::<IgnoredAny>()?;
        }
        drain_map(map)?;
        Ok(found.flatten())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let (Some(Seg::Index(want)), rest) = (self.path.first(), &self.path[1..]) else {
            return drain_seq(seq).map(|()| None);
        };
        for _ in 0..*want {
            if seq.next_element::<IgnoredAny>()?.is_none() {
                return Ok(None);
            }
        }
        let next = Navigate {
            path: rest,
            inner: self.inner,
        };
        let found = seq.next_element_seed(next)?;
        drain_seq(seq)?;
        Ok(found.flatten())
    }

    // Scalars have no children: the place does not exist.
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        // A custom tag (`!thing {...}`): look through it at the tagged value.
        let (IgnoredAny, variant) = data.variant::<IgnoredAny>()?;
        de::VariantAccess::newtype_variant_seed(variant, self)
    }
}

fn drain_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

fn drain_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

/// Reads a mapping key as text: strings as they are, numbers and booleans spelt out, `None` for
/// null and for mapping or sequence keys.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeyText;

impl<'de> DeserializeSeed<'de> for KeyText {
    type Value = Option<String>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KeyText {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping key")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        drain_map(map).map(|()| None)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        drain_seq(seq).map(|()| None)
    }
    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        let (IgnoredAny, variant) = data.variant::<IgnoredAny>()?;
        de::VariantAccess::newtype_variant_seed(variant, self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::marker::PhantomData;

    fn read<T: de::DeserializeOwned>(text: &str, path: &FieldPath) -> Option<T> {
        Navigate::new(path, PhantomData::<T>)
            .deserialize(serde_yaml::Deserializer::from_str(text))
            .ok()
            .flatten()
    }

    #[test]
    fn descends_keys_and_indices() {
        let text = "kind: List\nitems:\n- a: 1\n- a: 2\n  b: [x, y]\n";
        let p = FieldPath::root().key("items").index(1).key("b").index(1);
        assert_eq!(read::<String>(text, &p).as_deref(), Some("y"));
        let p = FieldPath::root().key("items").index(0).key("a");
        assert_eq!(read::<u32>(text, &p), Some(1));
    }

    #[test]
    fn missing_places_are_none() {
        let text = "a: {b: 1}\nc: [1]\n";
        for p in [
            FieldPath::root().key("x"),
            FieldPath::root().key("a").key("z"),
            FieldPath::root().key("c").index(5),
            FieldPath::root().key("a").index(0),
            FieldPath::root().key("a").key("b").key("deeper"),
        ] {
            assert_eq!(read::<serde_yaml::Value>(text, &p), None, "{p}");
        }
    }

    #[test]
    fn keys_that_are_not_strings() {
        let text = "80: http\ntrue: yes\n? [a]\n: seq\nname: n\n";
        assert_eq!(
            read::<String>(text, &FieldPath::root().key("80")).as_deref(),
            Some("http")
        );
        assert_eq!(
            read::<String>(text, &FieldPath::root().key("name")).as_deref(),
            Some("n")
        );
    }
}
