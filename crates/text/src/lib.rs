//! Small text and lookup helpers every stage shares: "did you mean …?" suggestions,
//! case-insensitive name maps, and the `Diagnostic` trait every user-facing error implements.
//! Leaves out: anything about manifests, meshes or requests.

mod diagnostic;
pub mod index;
pub mod suggest;

pub use diagnostic::{BoxDiagnostic, Diagnostic, Plain};
