//! Field paths inside a document (`spec.egressRules[0].from[0]`): the value type, how it prints,
//! and the conversion from `serde_path_to_error`'s paths.
//!
//! Owns: naming a place in a document. Leaves out: finding that place's line and column
//! (`locate`) and walking to it (`navigate`).

use std::fmt;

/// One step of a path: a mapping key or a sequence index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
}

/// A path from a document's root; empty is the root itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FieldPath(pub Vec<Seg>);

impl FieldPath {
    pub(crate) fn root() -> Self {
        FieldPath(Vec::new())
    }

    pub(crate) fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn segs(&self) -> &[Seg] {
        &self.0
    }

    /// This path with one more key.
    pub(crate) fn key(&self, key: &str) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Key(key.to_string()));
        p
    }

    /// This path with one more index.
    pub(crate) fn index(&self, index: usize) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Index(index));
        p
    }

    /// The path without its last step (the root stays the root).
    pub(crate) fn parent(&self) -> Self {
        let mut p = self.clone();
        p.0.pop();
        p
    }

    /// The last step when it is a key.
    pub(crate) fn last_key(&self) -> Option<&str> {
        match self.0.last() {
            Some(Seg::Key(k)) => Some(k),
            _ => None,
        }
    }

    /// The keys of the path, indices left out (`spec.egressRules[0].to` → `spec`, `egressRules`, `to`).
    pub(crate) fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().filter_map(|s| match s {
            Seg::Key(k) => Some(k.as_str()),
            Seg::Index(_) => None,
        })
    }

    /// The path from the object's own root: a `List` item's `items[N]` prefix removed.
    pub(crate) fn relative_to_object(&self) -> FieldPath {
        let mut segs = self.0.as_slice();
        while let [Seg::Key(k), Seg::Index(_), rest @ ..] = segs {
            if k != "items" {
                break;
            }
            segs = rest;
        }
        FieldPath(segs.to_vec())
    }

    /// Read a `serde_path_to_error` path. Enum variants and unknown steps end the path there (the
    /// models here have no externally tagged enums, so they do not arise).
    pub(crate) fn from_tracked(path: &serde_path_to_error::Path) -> Self {
        let mut out = Vec::new();
        for seg in path.iter() {
            match seg {
                serde_path_to_error::Segment::Seq { index } => out.push(Seg::Index(*index)),
                serde_path_to_error::Segment::Map { key } => out.push(Seg::Key(key.clone())),
                serde_path_to_error::Segment::Enum { .. }
                | serde_path_to_error::Segment::Unknown => break,
            }
        }
        FieldPath(out)
    }
}

impl fmt::Display for FieldPath {
    /// `spec.ports[0].number`; the root prints as `.`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str(".");
        }
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if i == 0 => f.write_str(k)?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_like_serde() {
        let p = FieldPath::root()
            .key("spec")
            .key("egressRules")
            .index(0)
            .key("from")
            .index(1);
        assert_eq!(p.to_string(), "spec.egressRules[0].from[1]");
        assert_eq!(FieldPath::root().to_string(), ".");
        assert_eq!(
            FieldPath::root().index(2).key("kind").to_string(),
            "[2].kind"
        );
        assert_eq!(p.parent().to_string(), "spec.egressRules[0].from");
        assert_eq!(
            p.keys().collect::<Vec<_>>(),
            ["spec", "egressRules", "from"]
        );
    }

    #[test]
    fn prefixes_compose() {
        let p = FieldPath::root().key("items").index(3).key("spec");
        assert_eq!(p.to_string(), "items[3].spec");
        assert_eq!(p.last_key(), Some("spec"));
        assert_eq!(p.relative_to_object().to_string(), "spec");
        let nested = FieldPath::root()
            .key("items")
            .index(0)
            .key("items")
            .index(1)
            .key("kind");
        assert_eq!(nested.relative_to_object().to_string(), "kind");
    }
}
