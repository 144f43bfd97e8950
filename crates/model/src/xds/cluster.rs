//! Clusters: where a route or TCP proxy sends traffic, and with which upstream TLS.
//!
//! Owns: `Cluster` and its parts (`ClusterKind`, `Endpoint`, `EndpointTarget`, `UpstreamTls`),
//! istiod's `outbound|<port>|<subset>|<host>` name, and the two special clusters
//! (`BlackHoleCluster`, `PassthroughCluster`). Leaves out: building a proxy's clusters (`build`),
//! connecting through one (the walk in `decide`, the simulated proxies in `egressbench-sim`), and
//! Envoy's cluster config (`egressbench-envoy`'s `clusters`).

use super::Provenance;
use crate::request::WorkloadRef;
use egressbench_resources::ClientTlsMode;
use serde::Serialize;

/// How the cluster finds its endpoints, as Envoy's cluster types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ClusterKind {
    /// Endpoints from the registry (Kubernetes pods).
    Eds,
    /// A DNS name resolved by the proxy (ServiceEntry `resolution: DNS`).
    StrictDns,
    /// The connection's original destination (`PassthroughCluster`, `resolution: NONE`).
    OriginalDst,
    /// Fixed endpoints; none for `BlackHoleCluster`.
    Static,
}

/// Who is behind an endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndpointTarget {
    /// A mesh workload (its proxy receives the connection).
    Workload(WorkloadRef),
    /// A host outside the mesh, by DNS name.
    External(String),
    /// Whatever address the client dialed.
    OriginalDestination,
    /// A sidecar's own application (an inbound cluster), at its `pods::app_address`.
    App(WorkloadRef),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Endpoint {
    pub address: String,
    pub port: u16,
    pub target: EndpointTarget,
}

/// TLS the proxy originates to the upstream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpstreamTls {
    pub mode: ClientTlsMode,
    pub sni: Option<String>,
    /// Chosen by auto mTLS (the endpoints carry a sidecar), not by a DestinationRule.
    pub auto: bool,
    pub provenance: Option<Provenance>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Cluster {
    pub name: super::Name,
    pub kind: ClusterKind,
    /// The service host and port this cluster stands for (empty for the special clusters).
    pub host: String,
    pub port: u16,
    pub subset: Option<String>,
    pub endpoints: Vec<Endpoint>,
    pub tls: Option<UpstreamTls>,
    /// The upstream speaks HTTP/2 (the service port's protocol is HTTP2 or gRPC), so HTTP is sent
    /// to it as HTTP/2 (istiod's `setH2Options`).
    pub http2: bool,
    pub provenance: Vec<Provenance>,
}

impl Cluster {
    /// Whether the proxy speaks HTTP/2 upstream for a request that came in `downstream`: when
    /// the service port's protocol says so, and on the passthrough cluster when the client spoke
    /// it (istiod gives `PassthroughCluster` Envoy's `use_downstream_protocol_config`).
    pub fn upstream_http2(&self, downstream: crate::outcome::HttpVersion) -> bool {
        self.http2
            || (&*self.name == super::PASSTHROUGH_CLUSTER
                && downstream == crate::outcome::HttpVersion::Http2)
    }

    /// Whether `other` reaches the same endpoints the same way (kind, endpoints, TLS, HTTP/2):
    /// an update that changes any of these drains the cluster's connections in Envoy.
    pub fn same_upstream(&self, other: &Cluster) -> bool {
        let tls = |c: &Cluster| c.tls.as_ref().map(|t| (t.mode, t.sni.clone()));
        self.kind == other.kind
            && self.endpoints == other.endpoints
            && tls(self) == tls(other)
            && self.http2 == other.http2
    }

    /// `outbound|<port>|<subset>|<host>`, as istiod names outbound clusters.
    pub fn outbound_name(port: u16, subset: Option<&str>, host: &str) -> String {
        format!("outbound|{port}|{}|{host}", subset.unwrap_or(""))
    }

    /// `BlackHoleCluster`: a static cluster with no endpoints (connections are reset).
    pub fn blackhole() -> Self {
        Cluster {
            name: super::BLACKHOLE_CLUSTER.into(),
            kind: ClusterKind::Static,
            host: String::new(),
            port: 0,
            subset: None,
            endpoints: Vec::new(),
            tls: None,
            http2: false,
            provenance: Vec::new(),
        }
    }

    /// `PassthroughCluster`: forwards to the original destination.
    pub fn passthrough() -> Self {
        Cluster {
            name: super::PASSTHROUGH_CLUSTER.into(),
            kind: ClusterKind::OriginalDst,
            host: String::new(),
            port: 0,
            subset: None,
            endpoints: vec![Endpoint {
                address: "original-destination".into(),
                port: 0,
                target: EndpointTarget::OriginalDestination,
            }],
            tls: None,
            http2: false,
            provenance: Vec::new(),
        }
    }
}
