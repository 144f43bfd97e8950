//! Manifests: Kubernetes YAML as users write it (multi-document files, folders, `kind: List`), in;
//! typed `Resource`s out, each with its origin. Bad input gives a `LoadError` at the offending
//! token's `file:line:column`, saying what was expected, what arrived, and the closest fix.
//!
//! Owns: reading files and folders, splitting streams, the document passes (syntax, header,
//! typed read), skipping kinds that are not modelled (as `Note`s) and every error message of
//! loading. Leaves out: the shapes of resources (`egressbench_resources`) and what they mean
//! (`compile`, `xds`, `decide`).
//!
//! Pipeline, one module each: `files` → `split` → `document` (`syntax`, then `header`, then
//! `object` via `typed`/`navigate`) → `mesh` for the mesh config string. Errors are explained by
//! `diagnose` (with `hints` and `suggest`), placed by `locate`, and rendered by `error`.

mod base64;
mod diag;
mod diagnose;
mod document;
mod envelope;
mod error;
mod field_path;
mod files;
mod header;
mod hints;
mod introspect;
mod locate;
mod mesh_config;
mod navigate;
mod object;
mod split;
mod syntax;
mod typed;

pub use error::LoadError;

use egressbench_resources::{Origin, Resource};
use std::path::Path;

/// What a load produced: the resources, and notes about documents skipped (kinds not modelled).
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub resources: Vec<Resource>,
    pub notes: Vec<Note>,
}

impl Loaded {
    fn extend(&mut self, other: Loaded) {
        self.resources.extend(other.resources);
        self.notes.extend(other.notes);
    }
}

/// A document that was read but not used, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    pub origin: Origin,
    pub message: String,
}

/// Load files and folders (recursively: `*.yaml`, `*.yml`, sorted by path; hidden entries
/// skipped). Files named directly are read whatever their extension.
pub fn load_paths<P: AsRef<Path>>(paths: &[P]) -> Result<Loaded, LoadError> {
    let mut loaded = Loaded::default();
    for file in files::collect(paths)? {
        let text = std::fs::read_to_string(&file).map_err(|e| files::unreadable(&file, &e))?;
        loaded.extend(load_str(&text, &file.display().to_string())?);
    }
    Ok(loaded)
}

/// Load one YAML stream; `file` names it in errors and origins.
pub fn load_str(text: &str, file: &str) -> Result<Loaded, LoadError> {
    let mut loaded = Loaded::default();
    for chunk in split::split(text) {
        let doc = object::Doc {
            file,
            text: chunk.text,
            first_line: chunk.first_line,
        };
        document::load(&doc, &mut loaded).map_err(|d| {
            LoadError::from_diag(file, text, &d.map_pos(diag::shift(chunk.first_line)))
        })?;
    }
    Ok(loaded)
}

#[cfg(test)]
mod tests;
