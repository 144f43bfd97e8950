//! The store: the set of objects a cluster holds at one moment, keyed by identity.
//!
//! Owns: `Store` — create or replace (`apply`, as `kubectl apply`), `delete`, lookup by identity
//! or kind, iteration in identity order, and the mesh config it holds (`mesh_config`). Leaves
//! out: reading objects from files (`egressbench-manifest`), the store with ASM policies replaced
//! by what they compile to (`egressbench-compile`'s `expand`), and applying a scenario's changes
//! (the targets: `target` in `egressbench-scenario`, `engine` in `egressbench-network`).

use super::{Body, Kind, Resource, ResourceId};
use crate::mesh_config::MeshConfig;
use std::collections::BTreeMap;

/// Objects by identity; `apply` replaces an object of the same kind, namespace and name, as
/// `kubectl apply` does. Iteration order is by identity, so everything built from it is deterministic.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Store {
    objects: BTreeMap<ResourceId, Resource>,
}

impl Store {
    pub fn new() -> Self {
        Store::default()
    }

    pub fn from_resources(resources: impl IntoIterator<Item = Resource>) -> Self {
        let mut s = Store::new();
        for r in resources {
            s.apply(r);
        }
        s
    }

    /// Create or replace; returns the object it replaced.
    pub fn apply(&mut self, r: Resource) -> Option<Resource> {
        self.objects.insert(r.id(), r)
    }

    /// Delete by identity; returns the object when it existed.
    pub fn delete(&mut self, id: &ResourceId) -> Option<Resource> {
        self.objects.remove(id)
    }

    pub fn get(&self, id: &ResourceId) -> Option<&Resource> {
        self.objects.get(id)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Resource> {
        self.objects.values()
    }

    pub fn of_kind(&self, kind: Kind) -> impl Iterator<Item = &Resource> {
        self.objects.values().filter(move |r| r.kind() == kind)
    }

    pub fn len(&self) -> usize {
        self.objects.len()
    }

    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// The mesh config: from the first ConfigMap named `istio` (in any namespace), else Istio's
    /// defaults.
    pub fn mesh_config(&self) -> MeshConfig {
        self.of_kind(Kind::ConfigMap)
            .find_map(|r| match &r.body {
                Body::MeshConfig(m) if r.name() == "istio" => Some((**m).clone()),
                _ => None,
            })
            .unwrap_or_default()
    }
}
