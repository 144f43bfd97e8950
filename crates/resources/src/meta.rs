//! Object metadata, identities of resources, and where each one was read from.
//!
//! Owns: `ObjectMeta` (server-populated fields accepted and dropped), `Origin`, `Kind` (names,
//! the spellings kubectl accepts, API groups and versions, whether namespaced), `ResourceId`, the
//! two selector shapes and `selects` (label equality; `matchExpressions` is not evaluated).
//! Leaves out: `Resource` and `Body` (the crate root), reading `apiVersion`, `kind` and origins
//! from documents (`egressbench-manifest`), and the store keyed by `ResourceId` (`store`).

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Kubernetes `metadata`, the parts the mesh reads. Server-populated fields are accepted and ignored
/// (not stored) so that `kubectl get -o yaml` output loads unchanged.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ObjectMeta {
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    #[serde(default, skip_serializing)]
    pub generate_name: Option<String>,
    #[serde(default, skip_serializing)]
    pub uid: Option<IgnoredAny>,
    #[serde(default, skip_serializing)]
    pub resource_version: Option<IgnoredAny>,
    #[serde(default, skip_serializing)]
    pub generation: Option<IgnoredAny>,
    #[serde(default, skip_serializing)]
    pub creation_timestamp: Option<IgnoredAny>,
    #[serde(default, skip_serializing)]
    pub deletion_timestamp: Option<IgnoredAny>,
    #[serde(default, skip_serializing)]
    pub finalizers: Option<IgnoredAny>,
    #[serde(default, skip_serializing)]
    pub owner_references: Option<IgnoredAny>,
    #[serde(default, skip_serializing)]
    pub managed_fields: Option<IgnoredAny>,
    #[serde(default, skip_serializing)]
    pub self_link: Option<IgnoredAny>,
}

impl ObjectMeta {
    /// Metadata with a name, a namespace and labels: what generated resources carry.
    pub fn named(name: impl Into<String>, namespace: impl Into<String>) -> Self {
        ObjectMeta {
            name: name.into(),
            namespace: Some(namespace.into()),
            ..ObjectMeta::default()
        }
    }

    /// The namespace, or `default` when the manifest leaves it out (as `kubectl apply` does).
    pub fn namespace_or_default(&self) -> &str {
        self.namespace.as_deref().unwrap_or("default")
    }
}

/// Where a document was read from: the file and the line and column of its first key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Origin {
    pub file: String,
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// The kinds egressbench understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Kind {
    ServiceEntry,
    VirtualService,
    Gateway,
    DestinationRule,
    AuthorizationPolicy,
    Sidecar,
    #[serde(rename = "ASMEgressTrafficPolicy")]
    AsmEgressTrafficPolicy,
    Namespace,
    Deployment,
    Service,
    ServiceAccount,
    /// The `istio` ConfigMap carrying the mesh config under its `mesh` key, or a ConfigMap of
    /// files a pod mounts.
    ConfigMap,
    /// Files a pod mounts (certificates and keys).
    Secret,
}

impl Kind {
    pub const ALL: [Kind; 13] = [
        Kind::ServiceEntry,
        Kind::VirtualService,
        Kind::Gateway,
        Kind::DestinationRule,
        Kind::AuthorizationPolicy,
        Kind::Sidecar,
        Kind::AsmEgressTrafficPolicy,
        Kind::Namespace,
        Kind::Deployment,
        Kind::Service,
        Kind::ServiceAccount,
        Kind::ConfigMap,
        Kind::Secret,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::ServiceEntry => "ServiceEntry",
            Kind::VirtualService => "VirtualService",
            Kind::Gateway => "Gateway",
            Kind::DestinationRule => "DestinationRule",
            Kind::AuthorizationPolicy => "AuthorizationPolicy",
            Kind::Sidecar => "Sidecar",
            Kind::AsmEgressTrafficPolicy => "ASMEgressTrafficPolicy",
            Kind::Namespace => "Namespace",
            Kind::Deployment => "Deployment",
            Kind::Service => "Service",
            Kind::ServiceAccount => "ServiceAccount",
            Kind::ConfigMap => "ConfigMap",
            Kind::Secret => "Secret",
        }
    }

    /// Parse a kind as `kubectl` accepts it: the kind, case-insensitively, or its plural.
    pub fn parse_loose(s: &str) -> Option<Kind> {
        let l = s.to_ascii_lowercase();
        let l = l.split('.').next().unwrap_or(&l).to_string();
        Kind::ALL.into_iter().find(|k| {
            let k_l = k.as_str().to_ascii_lowercase();
            l == k_l
                || l == format!("{k_l}s")
                || l == format!("{k_l}es")
                || (k_l.ends_with('y') && l == format!("{}ies", &k_l[..k_l.len() - 1]))
        })
    }

    /// The API groups (without version) a kind may be written with.
    pub fn groups(self) -> &'static [&'static str] {
        match self {
            Kind::ServiceEntry
            | Kind::VirtualService
            | Kind::Gateway
            | Kind::DestinationRule
            | Kind::Sidecar => &["networking.istio.io"],
            Kind::AuthorizationPolicy => &["security.istio.io"],
            Kind::AsmEgressTrafficPolicy => &["istio.alibabacloud.com"],
            Kind::Deployment => &["apps"],
            Kind::Namespace
            | Kind::Service
            | Kind::ServiceAccount
            | Kind::ConfigMap
            | Kind::Secret => &[""],
        }
    }

    /// The versions Istio (or Kubernetes) ships for the kind's group.
    pub fn versions(self) -> &'static [&'static str] {
        match self {
            Kind::ServiceEntry
            | Kind::VirtualService
            | Kind::Gateway
            | Kind::DestinationRule
            | Kind::Sidecar => &["v1", "v1beta1", "v1alpha3"],
            Kind::AuthorizationPolicy => &["v1", "v1beta1"],
            Kind::AsmEgressTrafficPolicy => &["v1", "v1beta1"],
            _ => &["v1"],
        }
    }

    /// Whether objects of this kind live in a namespace.
    pub fn namespaced(self) -> bool {
        self != Kind::Namespace
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A resource's identity: kind, namespace and name (`ServiceEntry/istio-egress/httpbin`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ResourceId {
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
}

impl ResourceId {
    pub fn new(kind: Kind, namespace: impl Into<String>, name: impl Into<String>) -> Self {
        ResourceId {
            kind,
            namespace: namespace.into(),
            name: name.into(),
        }
    }
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.kind.namespaced() {
            write!(f, "{}/{}/{}", self.kind, self.namespace, self.name)
        } else {
            write!(f, "{}/{}", self.kind, self.name)
        }
    }
}

/// Label selector as Istio writes it for `Sidecar`, `ServiceEntry` and friends: `{labels: {...}}`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkloadSelector {
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

/// `matchLabels` selector, as `AuthorizationPolicy.selector` and `Deployment.spec.selector` write it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LabelSelector {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub match_labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_expressions: Option<serde_yaml::Value>,
}

/// True when every label of `selector` is on `labels` (an empty selector selects everything).
pub fn selects(selector: &BTreeMap<String, String>, labels: &BTreeMap<String, String>) -> bool {
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}
