//! Small text and lookup helpers every stage shares: "did you mean …?" suggestions, fast maps
//! keyed by names, aligned columns, and the `Diagnostic` trait every user-facing error implements.
//!
//! Owns: `suggest`, `index`, `columns`, `hash` (a stable hash of names) and the `Diagnostic` trait (with `BoxDiagnostic` and `Plain`). Leaves
//! out: anything about manifests, meshes or requests, and rendering diagnostics (`cli` in
//! `egressbench`).

pub mod columns;
mod diagnostic;
pub mod hash;
pub mod index;
pub mod suggest;

pub use diagnostic::{BoxDiagnostic, Diagnostic, Plain};
