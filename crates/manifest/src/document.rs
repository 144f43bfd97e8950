//! One document of a stream: well-formed first, then its object (or objects, for a `List`).
//!
//! Owns: the order of the passes over a document (syntax and duplicate keys, then the header,
//! then the typed read) and skipping documents that hold nothing. Leaves out: splitting the
//! stream (`split`) and the objects themselves (`object`).

use super::diag::Diag;
use super::field_path::FieldPath;
use super::locate::{self, Pos};
use super::object::{self, Doc};
use super::{syntax, Loaded};
use serde_yaml::Value;

/// Load the document `doc` into `out`. Errors are relative to the document's text.
pub(crate) fn load(doc: &Doc, out: &mut Loaded) -> Result<(), Diag> {
    syntax::check(doc.text)?;
    let value: Value = serde_yaml::from_str(doc.text).map_err(|e| {
        let pos = locate::error_pos(&e).unwrap_or(Pos::new(1, 1));
        syntax::yaml_error(doc.text, &e, pos)
    })?;
    if value.is_null() {
        return Ok(());
    }
    object::load(doc, &FieldPath::root(), &value, out)
}
