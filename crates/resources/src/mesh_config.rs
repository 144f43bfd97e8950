//! The mesh config: the part of Istio's `MeshConfig` egress depends on.
//!
//! It is read from the `istio` ConfigMap's `mesh` key (namespace `istio-system`), the place istiod
//! reads it from, e.g.
//!
//! ```yaml
//! apiVersion: v1
//! kind: ConfigMap
//! metadata: {name: istio, namespace: istio-system}
//! data:
//!   mesh: |-
//!     outboundTrafficPolicy:
//!       mode: REGISTRY_ONLY
//! ```
//!
//! Without one, Istio's default applies: `ALLOW_ANY`.
//!
//! Owns: `MeshConfig` and `OutboundTrafficPolicy`: the keys egressbench reads (the outbound
//! traffic policy, the root namespace, the trust domain) with Istio's defaults; other MeshConfig
//! keys are accepted and ignored. Leaves out: parsing the `mesh` string and placing its errors
//! (`egressbench-manifest`'s `mesh_config`), finding the ConfigMap in a store
//! (`Store::mesh_config`), and what the mode does (`egressbench-model`).

use crate::enums::OutboundMode;
use serde::{Deserialize, Serialize};

/// The typed content of the `mesh` key. Unknown MeshConfig keys are accepted and ignored (MeshConfig
/// has dozens); the keys egressbench reads are strict.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MeshConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbound_traffic_policy: Option<OutboundTrafficPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust_domain: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OutboundTrafficPolicy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<OutboundMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub egress_proxy: Option<serde_yaml::Value>,
}

impl MeshConfig {
    /// `outboundTrafficPolicy.mode`, ALLOW_ANY when unset (Istio's default).
    pub fn outbound_mode(&self) -> OutboundMode {
        self.outbound_traffic_policy
            .as_ref()
            .and_then(|p| p.mode)
            .unwrap_or(OutboundMode::AllowAny)
    }

    /// The root namespace (`istio-system` by default): its policies apply mesh-wide.
    pub fn root_namespace(&self) -> &str {
        self.root_namespace.as_deref().unwrap_or("istio-system")
    }

    /// The SPIFFE trust domain (`cluster.local` by default).
    pub fn trust_domain(&self) -> &str {
        self.trust_domain.as_deref().unwrap_or("cluster.local")
    }
}
