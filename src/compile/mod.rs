//! Compilation of `ASMEgressTrafficPolicy` into native Istio resources. (API placeholder.)

use crate::resources::{Resource, ResourceId, Store};

/// The native resources one policy stands for, and warnings about what they cannot guarantee.
#[derive(Debug, Clone, Default)]
pub struct Compiled {
    pub resources: Vec<Resource>,
    pub warnings: Vec<String>,
}

/// A store with every ASM policy replaced by the native resources it compiles to.
#[derive(Debug, Clone, Default)]
pub struct Expanded {
    pub store: Store,
    pub generated: Vec<ResourceId>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{policy}: {message}")]
pub struct CompileError {
    /// `ASMEgressTrafficPolicy/ns/name`, with the file position when known.
    pub policy: String,
    /// Field path inside the policy, e.g. `spec.egressRules[0].to[1].hosts`.
    pub field: String,
    pub message: String,
}

/// Compile one policy against the cluster it will be applied to.
pub fn compile_policy(store: &Store, policy: &Resource) -> Result<Compiled, CompileError> {
    let _ = (store, policy);
    Ok(Compiled::default())
}

/// Compile every ASM policy in `store`.
pub fn expand(store: &Store) -> Result<Expanded, CompileError> {
    Ok(Expanded {
        store: store.clone(),
        ..Expanded::default()
    })
}
