//! Manifests: YAML text in, typed resources out. (API placeholder, replaced by the loader.)
pub mod suggest;

use crate::resources::{Origin, Resource};
use std::path::Path;

/// What a load produced: the resources, and notes about documents skipped (kinds not modelled).
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub resources: Vec<Resource>,
    pub notes: Vec<Note>,
}

/// A document that was read but not used, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    pub origin: Origin,
    pub message: String,
}

/// A load error: where (file:line:column), what, and how to fix it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct LoadError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub hint: Option<String>,
}

/// Load files and folders (recursively: `*.yaml`, `*.yml`, sorted by path).
pub fn load_paths<P: AsRef<Path>>(paths: &[P]) -> Result<Loaded, LoadError> {
    let _ = paths;
    Err(LoadError {
        file: String::new(),
        line: 0,
        column: 0,
        message: "loader not built yet".into(),
        hint: None,
    })
}

/// Load one YAML stream; `file` names it in errors and origins.
pub fn load_str(text: &str, file: &str) -> Result<Loaded, LoadError> {
    let _ = text;
    Err(LoadError {
        file: file.into(),
        line: 0,
        column: 0,
        message: "loader not built yet".into(),
        hint: None,
    })
}
