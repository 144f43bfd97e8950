//! Fake external hosts. (API placeholder.)

/// The hosts outside the mesh, by name.
#[derive(Debug, Clone, Default)]
pub struct Internet {}
