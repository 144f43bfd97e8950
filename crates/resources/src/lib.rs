//! Typed resources: every kind egressbench reads, as values, and the `Store` that holds a cluster's
//! worth of them.
//!
//! Owns: the shape of each kind (strict serde models), identities (`ResourceId`), origins (file,
//! line, column) and the store's apply/delete. Leaves out: reading YAML text (`manifest`), what
//! the resources mean to proxies (`xds`), and ASM compilation (`compile`).

pub mod asm;
pub mod enums;
pub mod files;
pub mod istio;
pub mod kube;
pub mod mesh_config;
pub mod meta;
mod store;

pub use enums::{
    Action, ClientTlsMode, Location, OutboundMode, Protocol, Resolution, ServerTlsMode,
};
pub use meta::{Kind, ObjectMeta, Origin, ResourceId};
pub use store::Store;

use serde::Serialize;

/// The typed body of a resource: its `spec` (or, for the mesh config, the parsed `mesh` key).
/// Boxed, so that resources are small to move and sort whatever their kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    ServiceEntry(Box<istio::ServiceEntry>),
    VirtualService(Box<istio::VirtualService>),
    Gateway(Box<istio::Gateway>),
    DestinationRule(Box<istio::DestinationRule>),
    AuthorizationPolicy(Box<istio::AuthorizationPolicy>),
    Sidecar(Box<istio::Sidecar>),
    AsmEgressTrafficPolicy(Box<asm::AsmEgressTrafficPolicy>),
    Namespace,
    /// Boxed: a pod spec is large, and resources are moved around whole.
    Deployment(Box<kube::DeploymentSpec>),
    Service(Box<kube::ServiceSpec>),
    ServiceAccount,
    /// The `istio` ConfigMap; `data.mesh` parsed.
    MeshConfig(Box<mesh_config::MeshConfig>),
    /// Any other ConfigMap: its keys as files.
    ConfigFiles(Box<kube::FileSet>),
    /// A Secret: its keys as files.
    Secret(Box<kube::FileSet>),
}

/// One object: apiVersion, metadata, typed body, and where it was read from (none when generated).
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub api_version: String,
    pub meta: ObjectMeta,
    pub body: Body,
    pub origin: Option<Origin>,
}

impl Resource {
    pub fn new(api_version: impl Into<String>, meta: ObjectMeta, body: Body) -> Self {
        Resource {
            api_version: api_version.into(),
            meta,
            body,
            origin: None,
        }
    }

    pub fn kind(&self) -> Kind {
        match &self.body {
            Body::ServiceEntry(_) => Kind::ServiceEntry,
            Body::VirtualService(_) => Kind::VirtualService,
            Body::Gateway(_) => Kind::Gateway,
            Body::DestinationRule(_) => Kind::DestinationRule,
            Body::AuthorizationPolicy(_) => Kind::AuthorizationPolicy,
            Body::Sidecar(_) => Kind::Sidecar,
            Body::AsmEgressTrafficPolicy(_) => Kind::AsmEgressTrafficPolicy,
            Body::Namespace => Kind::Namespace,
            Body::Deployment(_) => Kind::Deployment,
            Body::Service(_) => Kind::Service,
            Body::ServiceAccount => Kind::ServiceAccount,
            Body::MeshConfig(_) | Body::ConfigFiles(_) => Kind::ConfigMap,
            Body::Secret(_) => Kind::Secret,
        }
    }

    /// The namespace (`default` when left out; empty for cluster-scoped kinds).
    pub fn namespace(&self) -> &str {
        if self.kind().namespaced() {
            self.meta.namespace_or_default()
        } else {
            ""
        }
    }

    pub fn name(&self) -> &str {
        &self.meta.name
    }

    pub fn id(&self) -> ResourceId {
        ResourceId::new(self.kind(), self.namespace(), self.name())
    }

    /// The object as a Kubernetes manifest value (`apiVersion`, `kind`, `metadata`, `spec`/`data`),
    /// ready for `kubectl apply`.
    pub fn to_manifest(&self) -> serde_yaml::Value {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Doc<'a, S: Serialize> {
            api_version: &'a str,
            kind: &'a str,
            metadata: ObjectMeta,
            #[serde(skip_serializing_if = "Option::is_none")]
            spec: Option<S>,
            #[serde(skip_serializing_if = "Option::is_none")]
            data: Option<std::collections::BTreeMap<String, String>>,
            /// A Secret's text entries (`data` would have to be base64).
            #[serde(skip_serializing_if = "Option::is_none")]
            string_data: Option<std::collections::BTreeMap<String, String>>,
            #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
            secret_type: Option<String>,
        }
        let mut metadata = self.meta.clone();
        if self.kind().namespaced() {
            metadata.namespace = Some(self.namespace().to_string());
        }
        let doc = |spec: Option<serde_yaml::Value>| Doc {
            api_version: &self.api_version,
            kind: self.kind().as_str(),
            metadata: metadata.clone(),
            spec,
            data: None,
            string_data: None,
            secret_type: None,
        };
        let v = |s: &dyn erased::Ser| s.value();
        let out = match &self.body {
            Body::ServiceEntry(s) => serde_yaml::to_value(doc(Some(v(s)))),
            Body::VirtualService(s) => serde_yaml::to_value(doc(Some(v(s)))),
            Body::Gateway(s) => serde_yaml::to_value(doc(Some(v(s)))),
            Body::DestinationRule(s) => serde_yaml::to_value(doc(Some(v(s)))),
            Body::AuthorizationPolicy(s) => serde_yaml::to_value(doc(Some(v(s)))),
            Body::Sidecar(s) => serde_yaml::to_value(doc(Some(v(s)))),
            Body::AsmEgressTrafficPolicy(s) => serde_yaml::to_value(doc(Some(v(s)))),
            Body::Deployment(s) => serde_yaml::to_value(doc(Some(v(s)))),
            Body::Service(s) => serde_yaml::to_value(doc(Some(v(s)))),
            Body::Namespace | Body::ServiceAccount => serde_yaml::to_value(doc(None)),
            Body::MeshConfig(m) => {
                let mesh = serde_yaml::to_string(m).unwrap_or_default();
                let mut d = doc(None);
                d.data = Some([("mesh".to_string(), mesh)].into_iter().collect());
                serde_yaml::to_value(d)
            }
            // Text entries as written; certificates and keys have no bytes here (the targets
            // that hold real key material write those).
            Body::ConfigFiles(f) | Body::Secret(f) => {
                let text: std::collections::BTreeMap<String, String> = f
                    .entries
                    .iter()
                    .filter_map(|(k, v)| match v {
                        files::FileContent::Text(t) => Some((k.clone(), t.clone())),
                        _ => None,
                    })
                    .collect();
                let mut d = doc(None);
                if matches!(self.body, Body::Secret(_)) {
                    d.string_data = Some(text);
                    d.secret_type = f.secret_type.clone();
                } else {
                    d.data = Some(text);
                }
                serde_yaml::to_value(d)
            }
        };
        out.unwrap_or(serde_yaml::Value::Null)
    }
}

/// Serializing the differently-typed specs through one path.
mod erased {
    pub(crate) trait Ser {
        fn value(&self) -> serde_yaml::Value;
    }
    impl<T: serde::Serialize> Ser for T {
        fn value(&self) -> serde_yaml::Value {
            serde_yaml::to_value(self).unwrap_or(serde_yaml::Value::Null)
        }
    }
}

/// Render resources as one multi-document YAML stream, as `kubectl apply -f -` takes it.
pub fn to_yaml_stream<'a>(resources: impl IntoIterator<Item = &'a Resource>) -> String {
    let mut out = String::new();
    for r in resources {
        out.push_str("---\n");
        out.push_str(&serde_yaml::to_string(&r.to_manifest()).unwrap_or_default());
    }
    out
}
