//! Small text and lookup helpers every stage shares: "did you mean …?" suggestions and
//! case-insensitive name maps. Leaves out: anything about manifests, meshes or requests.

pub mod index;
pub mod suggest;
