//! Per-proxy config, shaped on Envoy's own model and named as istiod names it.
//!
//! Owns: the config types (listeners → filter chains → route configurations → virtual hosts →
//! routes → clusters, plus RBAC policies) and their construction from the mesh registry for a
//! sidecar (`sidecar.rs`, its inbound side in `inbound.rs`) or a gateway (`gateway.rs`). Every piece records the resource and rule it
//! came from, so a decision can say why. Leaves out: walking a request through it (`decide`), and
//! rendering it as Envoy's JSON (a later target).
//!
//! Names follow istiod (istio/istio `pilot/pkg/networking/core`, `pilot/pkg/networking/util`):
//! listeners `0.0.0.0_80`, `10.96.0.10_443`, `virtualOutbound`; route configurations `80`
//! (sidecar) and `http.80` / `https.443.<server>.<gateway>.<ns>` (gateway); the catch-all virtual
//! host and route `block_all` (REGISTRY_ONLY, direct 502) or `allow_any` (PassthroughCluster);
//! clusters `outbound|<port>|<subset>|<host>`, `BlackHoleCluster`, `PassthroughCluster`; a sidecar's
//! inbound listeners `virtualInbound` with chains `0.0.0.0_<port>`, route configurations and
//! clusters `inbound|<port>||`.

pub(crate) mod build;
pub(crate) mod cluster;
pub(crate) mod domains;
pub(crate) mod gateway;
pub(crate) mod inbound;
pub(crate) mod rbac;
pub(crate) mod routes;
pub(crate) mod sidecar;
#[cfg(test)]
mod tests;

pub use crate::topology::files::ServerCredential;
pub use build::build_proxy;
pub use cluster::{Cluster, ClusterKind, Endpoint, EndpointTarget, UpstreamTls};
pub use inbound::{inbound_name, VIRTUAL_INBOUND};
pub use rbac::{RbacAction, RbacFilter, RbacPolicy};

use egressbench_resources::{OutboundMode, ResourceId, ServerTlsMode};
use serde::Serialize;
use std::collections::BTreeMap;

pub use crate::topology::workload::{Name, ProxyKind};

pub const BLACKHOLE_CLUSTER: &str = "BlackHoleCluster";
pub const PASSTHROUGH_CLUSTER: &str = "PassthroughCluster";

/// Whether an HTTP route to `cluster` retries a failed connect: istiod gives every route to a
/// cluster its default retry policy (connect failures and refused streams, twice), except the
/// `allow_any` catch-all to `PassthroughCluster` and the inbound routes to a sidecar's own
/// application (istiod's `BuildDefaultHTTPInboundRoute` sets no retry policy). The renderer, the
/// model and the sim ask here.
pub fn retries_connect_failures(cluster: &str) -> bool {
    cluster != PASSTHROUGH_CLUSTER && !cluster.starts_with("inbound|")
}
pub const BLOCK_ALL: &str = "block_all";
pub const ALLOW_ANY: &str = "allow_any";
pub const VIRTUAL_OUTBOUND: &str = "virtualOutbound";

/// The resource (and the rule inside it) a piece of config came from. Shared, not copied: every
/// decision that uses a piece of config points at its provenance.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Provenance(std::sync::Arc<Origin>);

/// What a `Provenance` points at.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Origin {
    pub resource: ResourceId,
    /// Path of the rule inside the resource, e.g. `http[0].match[1]`, `servers[2]`, `rules[0]`.
    pub rule: String,
}

impl Provenance {
    pub fn new(resource: ResourceId, rule: impl Into<String>) -> Self {
        Provenance(std::sync::Arc::new(Origin {
            resource,
            rule: rule.into(),
        }))
    }
}

impl std::ops::Deref for Provenance {
    type Target = Origin;
    fn deref(&self) -> &Origin {
        &self.0
    }
}

impl Serialize for Provenance {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl std::fmt::Display for Provenance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.rule.is_empty() {
            write!(f, "{}", self.resource)
        } else {
            write!(f, "{} {}", self.resource, self.rule)
        }
    }
}

/// Everything one proxy is configured with.
#[derive(Debug, Clone, Serialize)]
pub struct ProxyConfig {
    /// `namespace/workload`.
    pub proxy: Name,
    pub kind: ProxyKind,
    pub namespace: String,
    /// SPIFFE identity of the proxy's certificate.
    pub identity: String,
    /// The pod address the proxy's upstream connections come from.
    pub address: Name,
    /// The outbound traffic policy in force for this proxy (mesh config, or its Sidecar's override).
    pub outbound_mode: OutboundMode,
    /// Where the outbound mode came from (`mesh config` or a Sidecar).
    pub outbound_mode_source: String,
    pub listeners: Vec<Listener>,
    /// A sidecar's inbound side: one `virtualInbound` listener per port its application listens
    /// on (`inbound`); empty for gateways, whose `listeners` face inbound.
    pub inbound: Vec<Listener>,
    pub routes: BTreeMap<String, RouteConfiguration>,
    pub clusters: BTreeMap<String, Cluster>,
    /// Config that could not be used, and why (conflicts, dangling references).
    pub warnings: Vec<String>,
}

impl ProxyConfig {
    pub fn listener(&self, name: &str) -> Option<&Listener> {
        self.listeners.iter().find(|l| &*l.name == name)
    }

    /// The listener a connection to the proxy's pod on `port` reaches: a gateway's listener on
    /// that port, a sidecar's inbound listener for it.
    pub fn inbound_listener(&self, port: u16) -> Option<&Listener> {
        match self.kind {
            ProxyKind::Gateway => self.listeners.iter().find(|l| l.port == port),
            ProxyKind::Sidecar => self.inbound.iter().find(|l| l.port == port),
        }
    }

    /// The `credentialName` Secrets its gateway servers present, chain by chain.
    pub fn credentials(&self) -> impl Iterator<Item = &ServerCredential> + '_ {
        self.listeners
            .iter()
            .flat_map(|l| &l.filter_chains)
            .filter_map(|c| c.downstream_tls.as_ref()?.credential.as_ref())
    }

    /// Every listener facing inbound connections: a gateway's listeners, a sidecar's inbound ones.
    pub fn inbound_listeners(&self) -> &[Listener] {
        match self.kind {
            ProxyKind::Gateway => &self.listeners,
            ProxyKind::Sidecar => &self.inbound,
        }
    }
}

/// A listener: an address and port, and the filter chains that share it.
#[derive(Debug, Clone, Serialize)]
pub struct Listener {
    pub name: Name,
    /// `None` for `0.0.0.0`.
    pub address: Option<String>,
    pub port: u16,
    pub filter_chains: Vec<FilterChain>,
    /// Used when no chain matches (the fallthrough chain Istio appends).
    pub default_chain: Option<FilterChain>,
    /// Chains by exact SNI (lowercase), as Envoy indexes `server_names`.
    #[serde(skip)]
    sni_index: egressbench_text::index::NameMap<String, usize>,
    /// Chains with no SNI match or a wildcard one, in order.
    #[serde(skip)]
    other_chains: Vec<usize>,
}

impl Listener {
    /// Whether Envoy reads the ClientHello on it (a `tls_inspector`, which istiod adds when a
    /// filter chain matches on SNI or transport): only then does the connection have a requested
    /// server name, for the access log and for RBAC's `connection.sni`.
    pub fn inspects_tls(&self) -> bool {
        // As the renderer writes `server_names`: a list with `*` in it matches any name.
        self.filter_chains.iter().any(|c| {
            let names = &c.matcher.server_names;
            c.matcher.transport.is_some() || (!names.is_empty() && !names.iter().any(|n| n == "*"))
        })
    }

    pub fn new(
        name: impl Into<Name>,
        address: Option<String>,
        port: u16,
        filter_chains: Vec<FilterChain>,
        default_chain: Option<FilterChain>,
    ) -> Self {
        let mut sni_index = egressbench_text::index::NameMap::default();
        let mut other_chains = Vec::new();
        for (i, c) in filter_chains.iter().enumerate() {
            let exact: Vec<&String> = c
                .matcher
                .server_names
                .iter()
                .filter(|n| !n.starts_with('*'))
                .collect();
            for n in &exact {
                sni_index.entry(n.to_ascii_lowercase()).or_insert(i);
            }
            if exact.len() < c.matcher.server_names.len() || c.matcher.server_names.is_empty() {
                other_chains.push(i);
            }
        }
        Listener {
            name: name.into(),
            address,
            port,
            filter_chains,
            default_chain,
            sni_index,
            other_chains,
        }
    }

    /// The chain with `sni` among its exact server names.
    pub fn chain_for_sni(&self, sni: &str) -> Option<&FilterChain> {
        self.sni_index
            .get(&sni.to_ascii_lowercase())
            .and_then(|&i| self.filter_chains.get(i))
    }

    /// Chains matching on no SNI or a wildcard one, in order.
    pub fn other_chains(&self) -> impl Iterator<Item = &FilterChain> {
        self.other_chains
            .iter()
            .filter_map(|&i| self.filter_chains.get(i))
    }
}

/// What a filter chain matches on, as Envoy's `FilterChainMatch`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ChainMatch {
    /// SNI names (exact or `*.suffix`); empty matches any.
    pub server_names: Vec<String>,
    /// `tls` or `raw_buffer`; `None` matches any.
    pub transport: Option<Transport>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    Tls,
    RawBuffer,
}

/// TLS the listener terminates (gateway servers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DownstreamTls {
    pub mode: ServerTlsMode,
    /// ISTIO_MUTUAL / MUTUAL: a client certificate is required and verified.
    pub require_client_certificate: bool,
    /// A gateway server's `credentialName`: the certificate it presents instead of the proxy's
    /// mesh one, and for MUTUAL the CA it checks clients against.
    pub credential: Option<ServerCredential>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FilterChain {
    pub name: Name,
    pub matcher: ChainMatch,
    pub downstream_tls: Option<DownstreamTls>,
    pub terminal: Terminal,
    pub provenance: Vec<Provenance>,
}

/// The last filter of a chain: an HTTP connection manager or a TCP proxy.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Terminal {
    Http {
        route_config: Name,
        rbac: Option<RbacFilter>,
    },
    Tcp {
        /// TCP routes in order; the first whose match holds picks the cluster.
        routes: Vec<TcpRoute>,
        rbac: Option<RbacFilter>,
    },
}

/// A TCP proxy route (from a VirtualService `tcp:`/`tls:` route, or the default for a service).
#[derive(Debug, Clone, Serialize)]
pub struct TcpRoute {
    pub cluster: Name,
    /// Listener port this route is for (`None`: any).
    pub port: Option<u16>,
    pub provenance: Option<Provenance>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RouteConfiguration {
    pub name: Name,
    pub virtual_hosts: Vec<VirtualHost>,
    #[serde(skip)]
    index: domains::DomainIndex,
}

impl RouteConfiguration {
    pub fn new(name: impl Into<Name>, virtual_hosts: Vec<VirtualHost>) -> Self {
        let index = domains::DomainIndex::build(virtual_hosts.iter().map(|v| v.domains.as_slice()));
        RouteConfiguration {
            name: name.into(),
            virtual_hosts,
            index,
        }
    }

    /// The virtual host serving `authority`.
    pub fn select(&self, authority: &str) -> Option<&VirtualHost> {
        self.index
            .select(authority)
            .and_then(|i| self.virtual_hosts.get(i))
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct VirtualHost {
    pub name: Name,
    pub domains: Vec<String>,
    pub routes: Vec<Route>,
    pub provenance: Vec<Provenance>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Route {
    pub name: Name,
    pub matcher: RouteMatch,
    pub action: RouteAction,
    pub provenance: Option<Provenance>,
}

impl Route {
    /// istiod's `default` route: every request to `cluster`.
    pub(crate) fn default_to(cluster: String) -> Route {
        Route {
            name: "default".into(),
            matcher: RouteMatch::default(),
            action: RouteAction::Cluster {
                clusters: vec![(cluster.into(), 100)],
                timeout_ms: None,
                host_rewrite: None,
                prefix_rewrite: None,
                request_headers_to_add: Vec::new(),
                abort: None,
            },
            provenance: None,
        }
    }
}

/// String matcher as Envoy's: exact, prefix or regex (regex kept as text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StringMatcher {
    Exact(String),
    Prefix(String),
    Regex(String),
    /// Matches anything (a `{}` StringMatch).
    Any,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RouteMatch {
    pub path: Option<StringMatcher>,
    pub ignore_case: bool,
    pub method: Option<StringMatcher>,
    pub authority: Option<StringMatcher>,
    pub scheme: Option<StringMatcher>,
    /// Header matchers; `present: false` means the header must be absent (`withoutHeaders`).
    pub headers: Vec<HeaderMatcher>,
    pub query: Vec<(String, StringMatcher)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeaderMatcher {
    pub name: String,
    pub matcher: StringMatcher,
    pub invert: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RouteAction {
    Cluster {
        /// Weighted clusters; one entry with weight 100 for a single destination.
        clusters: Vec<(Name, u32)>,
        timeout_ms: Option<u64>,
        host_rewrite: Option<String>,
        prefix_rewrite: Option<String>,
        /// `headers.request.set/add` of the route.
        request_headers_to_add: Vec<(String, String)>,
        /// Fault abort (status) injected at 100%.
        abort: Option<u16>,
    },
    DirectResponse {
        status: u16,
        body: String,
    },
    Redirect {
        location: String,
        status: u16,
    },
}
