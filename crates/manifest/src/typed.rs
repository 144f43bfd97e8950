//! Typed reads: the value at a place of a document, as a Rust type, with the field path tracked
//! so that a failure becomes a located, explained `Diag`.
//!
//! Owns: running serde (with `serde_path_to_error`) over a document's own events. Leaves out: the
//! explanation (`diagnose`) and the choice of type (`object`, `mesh`).

use super::diag::Diag;
use super::diagnose::{self, Ctx};
use super::field_path::FieldPath;
use super::navigate::Navigate;
use serde::de::{DeserializeOwned, DeserializeSeed};
use std::marker::PhantomData;

/// Read the value at `at` in `text` as a `T`; `Ok(None)` when there is no value there.
pub(crate) fn read_at<T: DeserializeOwned>(
    text: &str,
    at: &FieldPath,
    ctx: &Ctx,
) -> Result<Option<T>, Diag> {
    let mut track = serde_path_to_error::Track::new();
    let de = serde_path_to_error::Deserializer::new(
        serde_yaml::Deserializer::from_str(text),
        &mut track,
    );
    match Navigate::new(at, PhantomData::<T>).deserialize(de) {
        Ok(v) => Ok(v),
        Err(err) => {
            let path = FieldPath::from_tracked(&track.path());
            Err(diagnose::data_error(text, &path, &err, ctx))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::locate::Pos;
    use egressbench_resources::istio::ServiceEntry;

    const LIST: &str = "\
apiVersion: v1
kind: List
items:
- kind: ServiceEntry
  spec: {hosts: [a]}
- kind: ServiceEntry
  spec:
    hosts: [b]
    ports:
    - number: 80
      protocol: HTTQ
";

    #[test]
    fn reads_list_items_in_place() {
        let at = FieldPath::root().key("items").index(0).key("spec");
        let se: Option<ServiceEntry> = read_at(LIST, &at, &Ctx::default()).ok().flatten();
        assert_eq!(se.map(|s| s.hosts), Some(vec!["a".to_string()]));
    }

    #[test]
    fn errors_in_items_keep_the_document_path_and_position() {
        let at = FieldPath::root().key("items").index(1).key("spec");
        let err = read_at::<ServiceEntry>(LIST, &at, &Ctx::default()).unwrap_err();
        assert_eq!(err.pos, Pos::new(11, 17));
        assert!(
            err.message.ends_with("at items[1].spec.ports[0].protocol"),
            "{}",
            err.message
        );
    }

    #[test]
    fn absent_places() {
        let at = FieldPath::root().key("nothing");
        assert_eq!(
            read_at::<ServiceEntry>(LIST, &at, &Ctx::default()),
            Ok(None)
        );
    }
}
