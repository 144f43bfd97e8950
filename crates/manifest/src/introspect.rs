//! The field names a serde struct accepts, read from its own `Deserialize` implementation.
//!
//! Owns: asking a type for its fields without a value (used to say "`hosts` belongs under
//! `spec`"). Leaves out: every other use of the names.

use serde::de::{self, Deserialize, Deserializer, Visitor};
use std::fmt;

/// The fields `T` declares (empty when `T` is not a struct).
pub(crate) fn struct_fields<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Capture {
        fields: &mut fields,
    });
    fields
}

/// A deserializer that has no data: it records the fields of the struct asked for and stops.
struct Capture<'a> {
    fields: &'a mut &'static [&'static str],
}

#[derive(Debug)]
struct Stop;

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("field names captured")
    }
}

impl std::error::Error for Stop {}

impl de::Error for Stop {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Stop
    }
}

impl<'de> Deserializer<'de> for Capture<'_> {
    type Error = Stop;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
        Err(Stop)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Stop> {
        *self.fields = fields;
        Err(Stop)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use egressbench_resources::asm::EgressFrom;

    #[test]
    fn reads_field_names() {
        assert_eq!(
            struct_fields::<EgressFrom>(),
            ["namespace", "workloadSelector"]
        );
        assert!(struct_fields::<String>().is_empty());
    }
}
