//! One proxy's choices, as pure functions of what it received: the listener for a destination, the
//! filter chain for a connection, the route for a request, the request it forwards, and what a
//! pod's DNS answers.
//!
//! Owns: these choices, as Envoy makes them from its config. The walk (`walk.rs`) calls them with
//! the request it models; the simulated mesh's proxies (`crate::sim`) call them with what came off
//! a real socket (the SNI of a real ClientHello, a request hyper parsed, the identity in a verified
//! certificate). Leaves out: carrying anything anywhere (the walk, the proxies).

use super::matchers::{route_matches, sni_matches, HttpView};
use super::HopRequest;
use crate::external::Internet;
use crate::mesh::Mesh;
use crate::request::{ClientRequest, Origin, WorkloadRef};
use crate::xds::{
    Endpoint, EndpointTarget, FilterChain, Listener, Name, ProxyConfig, Route, RouteAction,
    StringMatcher, Transport, VirtualHost,
};
use std::net::{IpAddr, SocketAddr};

/// Pick the sidecar listener for a destination: `<ip>_<port>`, else `0.0.0.0_<port>`, else
/// `virtualOutbound`.
pub fn outbound_listener(
    proxy: &ProxyConfig,
    address: Option<IpAddr>,
    port: u16,
) -> Option<&Listener> {
    address
        .and_then(|a| {
            proxy.listeners.iter().find(|l| {
                l.port == port
                    && l.address.as_deref().and_then(|s| s.parse::<IpAddr>().ok()) == Some(a)
            })
        })
        .or_else(|| {
            proxy.listeners.iter().find(|l| {
                l.port == port && l.address.is_none() && &*l.name != crate::xds::VIRTUAL_OUTBOUND
            })
        })
        .or_else(|| proxy.listener(crate::xds::VIRTUAL_OUTBOUND))
}

/// What the listener sees of a connection's first bytes: plaintext, or TLS with this SNI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hello<'a> {
    Plain,
    Tls { sni: Option<&'a str> },
}

/// Envoy's filter chain choice: an exact SNI match first, then chains with a wildcard or no SNI
/// match, then the listener's default chain.
pub fn select_chain<'l>(listener: &'l Listener, hello: Hello<'_>) -> Option<&'l FilterChain> {
    let (is_tls, sni) = match hello {
        Hello::Plain => (false, None),
        Hello::Tls { sni } => (true, sni),
    };
    let transport_ok = |c: &FilterChain| match c.matcher.transport {
        None => true,
        Some(Transport::Tls) => is_tls,
        Some(Transport::RawBuffer) => !is_tls,
    };
    sni.and_then(|s| listener.chain_for_sni(s))
        .filter(|c| transport_ok(c))
        .or_else(|| {
            listener
                .other_chains()
                .find(|c| transport_ok(c) && sni_matches(&c.matcher.server_names, sni))
        })
        .or(listener.default_chain.as_ref())
}

/// The virtual host and route a request selects, and the cluster the route sends it to.
#[derive(Debug, Clone, Default)]
pub struct RouteChoice<'p> {
    pub virtual_host: Option<&'p VirtualHost>,
    pub route: Option<&'p Route>,
    /// The heaviest of the route's weighted clusters (the first among equals).
    pub cluster: Option<Name>,
}

/// Envoy's route selection in route configuration `route_config` of `proxy`: the virtual host by
/// authority, then the first route whose match holds.
pub fn select_route<'p>(
    proxy: &'p ProxyConfig,
    route_config: &str,
    view: &HttpView<'_>,
) -> RouteChoice<'p> {
    let virtual_host = proxy
        .routes
        .get(route_config)
        .and_then(|rc| rc.select(view.authority));
    let route =
        virtual_host.and_then(|vh| vh.routes.iter().find(|r| route_matches(&r.matcher, view)));
    let cluster = route.and_then(|r| match &r.action {
        RouteAction::Cluster { clusters, .. } => clusters
            .iter()
            .enumerate()
            .max_by_key(|(i, (_, w))| (*w, usize::MAX - i))
            .map(|(_, (c, _))| c.clone()),
        _ => None,
    });
    RouteChoice {
        virtual_host,
        route,
        cluster,
    }
}

/// The `x-request-id` a proxy adds when the request has none. Fixed, so that decisions and
/// simulated runs are reproducible.
pub const REQUEST_ID: &str = "5c3d1f0e-0000-4000-8000-000000000001";

/// The header carrying the downstream client certificate's details.
pub const XFCC: &str = "x-forwarded-client-cert";

/// How a connection manager treats `x-forwarded-client-cert` (Envoy's
/// `forward_client_cert_details`, as istiod sets it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientCertDetails {
    /// A sidecar's outbound side (Envoy's default): whatever the client sent is dropped.
    Sanitize,
    /// A gateway: over mTLS the header is replaced by the proxy's own identity and the verified
    /// peer's (`By=…;URI=…`), never taken from the request.
    SanitizeSet,
    /// A sidecar's inbound side: over mTLS the header is kept and the proxy appends
    /// `By=<own>;Subject="";URI=<peer>` (istiod sets subject, DNS and URI details; mesh
    /// certificates have an empty subject and no DNS names); over plain text Envoy removes it, as
    /// in every mode but ALWAYS_FORWARD_ONLY (`mutateXfccRequestHeader`).
    AppendForward,
}

impl ClientCertDetails {
    pub fn of(kind: crate::xds::ProxyKind, inbound: bool) -> ClientCertDetails {
        match (kind, inbound) {
            (crate::xds::ProxyKind::Gateway, _) => ClientCertDetails::SanitizeSet,
            (crate::xds::ProxyKind::Sidecar, true) => ClientCertDetails::AppendForward,
            (crate::xds::ProxyKind::Sidecar, false) => ClientCertDetails::Sanitize,
        }
    }
}

/// What a proxy forwards in `x-forwarded-client-cert` (`None`: the header is removed), given
/// what the request carried (`existing`). Envoy also writes the peer certificate's `Hash=`; it
/// is left out here (the certificates are the socket-running targets' own).
pub fn client_cert_header(
    details: ClientCertDetails,
    own_identity: &str,
    peer_identity: Option<&str>,
    existing: Option<&str>,
) -> Option<String> {
    match (details, peer_identity) {
        (ClientCertDetails::Sanitize, _)
        | (ClientCertDetails::SanitizeSet | ClientCertDetails::AppendForward, None) => None,
        (ClientCertDetails::SanitizeSet, Some(peer)) => {
            Some(format!("By={own_identity};URI={peer}"))
        }
        (ClientCertDetails::AppendForward, Some(peer)) => {
            let own = format!("By={own_identity};Subject=\"\";URI={peer}");
            Some(match existing {
                Some(e) if !e.is_empty() => format!("{e},{own}"),
                _ => own,
            })
        }
    }
}

/// A request whose target is in absolute form (`GET http://host:port/path`, as a client sends it
/// to a forward proxy), as an HTTP proxy's connection manager reads it (Envoy 1.40, measured): the
/// URL's authority replaces the `Host` header and the path is what follows it; it is forwarded in
/// origin form. Any other request is left as it is.
pub fn origin_form(mut req: HopRequest) -> HopRequest {
    let has = |scheme: &str| {
        req.path
            .get(..scheme.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(scheme))
    };
    let Some(scheme_len) = ["http://", "https://"]
        .into_iter()
        .find(|s| has(s))
        .map(str::len)
    else {
        return req;
    };
    let rest = &req.path[scheme_len..];
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) if rest.as_bytes()[i] == b'/' => (&rest[..i], rest[i..].to_string()),
        Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
        None => (rest, "/".to_string()),
    };
    req.authority = authority.into();
    req.path = path.into();
    req
}

/// The request as `route` forwards it upstream: the connection's own headers dropped
/// (`request::drop_connection_headers`), host and prefix rewrites, the route's header additions,
/// `x-forwarded-client-cert` replaced by `xfcc` (see `client_cert_header`), and the headers Envoy
/// adds (`x-forwarded-proto` from the downstream connection, `x-request-id`,
/// `x-envoy-attempt-count`) when absent.
pub fn forwarded(
    req: &HopRequest,
    route: &Route,
    downstream_tls: bool,
    xfcc: Option<String>,
) -> HopRequest {
    let mut fwd = req.clone();
    crate::request::drop_connection_headers(&mut fwd.headers);
    fwd.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(XFCC));
    if let Some(value) = xfcc {
        fwd.headers.push((XFCC.to_string(), value));
    }
    let RouteAction::Cluster {
        host_rewrite,
        prefix_rewrite,
        request_headers_to_add,
        ..
    } = &route.action
    else {
        return fwd;
    };
    if let Some(a) = host_rewrite {
        fwd.authority = a.as_str().into();
    }
    if let (Some(new), Some(StringMatcher::Prefix(old))) = (prefix_rewrite, &route.matcher.path) {
        if let Some(rest) = fwd.path.strip_prefix(old.as_str()) {
            fwd.path = format!("{new}{rest}").into();
        }
    }
    let mut add = |k: &str, v: &str| {
        if !fwd.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(k)) {
            fwd.headers.push((k.to_string(), v.to_string()));
        }
    };
    add(
        "x-forwarded-proto",
        if downstream_tls { "https" } else { "http" },
    );
    add("x-request-id", REQUEST_ID);
    add("x-envoy-attempt-count", "1");
    for (k, v) in request_headers_to_add {
        fwd.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(k));
        fwd.headers.push((k.clone(), v.clone()));
    }
    fwd
}

/// What a pod's DNS lookup of a name gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    /// The name as resolved: a Kubernetes service's FQDN (search path applied), else the name.
    pub host: String,
    /// The address, if the name resolves.
    pub address: Option<IpAddr>,
    /// Whether the name is a Kubernetes service (not an external host).
    pub in_cluster: bool,
}

/// DNS as the pod in `namespace` sees it: Kubernetes names first (with the search path), then the
/// world.
pub fn resolve(mesh: &Mesh, internet: &Internet, namespace: &str, host: &str) -> Destination {
    let registry = &mesh.ctx.registry;
    let k8s = registry.expand_short_name(host, namespace).or_else(|| {
        registry
            .exact(host)
            .find(|s| !s.mesh_external)
            .map(|s| s.hostname.clone())
    });
    match k8s {
        Some(fqdn) => Destination {
            address: registry
                .exact(&fqdn)
                .next()
                .and_then(|s| s.addresses.first())
                .and_then(|a| a.parse().ok()),
            host: fqdn,
            in_cluster: true,
        },
        None => Destination {
            host: host.to_string(),
            address: internet.resolve(host).map(IpAddr::V4),
            in_cluster: false,
        },
    }
}

/// DNS as `from` sees it: a pod's (`resolve`), or the workstation's, which knows only public
/// names (an address is itself).
pub fn resolve_from(mesh: &Mesh, internet: &Internet, from: &Origin, host: &str) -> Destination {
    match from {
        Origin::Pod(pod) => resolve(mesh, internet, &pod.namespace, host),
        Origin::Workstation(_) => Destination {
            host: host.to_string(),
            address: internet.resolve(host).map(IpAddr::V4),
            in_cluster: false,
        },
    }
}

/// kube-proxy's rules for a Service's load-balancer address (`type: LoadBalancer`), the one way
/// into the cluster from outside: `address:port` lands on the Service's first workload endpoint,
/// on the port's `targetPort`.
pub fn load_balancer(mesh: &Mesh, address: IpAddr, port: u16) -> Option<(WorkloadRef, u16)> {
    let address = address.to_string();
    let svc = mesh
        .ctx
        .registry
        .services
        .iter()
        .find(|s| s.load_balancer.as_deref() == Some(address.as_str()))?;
    kube_proxy(mesh, &svc.hostname, port)
}

/// Where a connection from outside the cluster to `address:port` goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FromOutside {
    /// A Service's load-balancer address: kube-proxy leads it to this workload's `targetPort`.
    Balanced(WorkloadRef, u16),
    /// A load-balancer address on a port its Service does not have: refused.
    Rejected,
    /// An address of the cluster's own network (a pod's, a ClusterIP): nothing routes it there.
    Unroutable,
    /// Anything else: the Internet.
    Internet,
}

/// The one reading of a connection from the workstation, for the walk and the socket targets.
pub fn from_outside(mesh: &Mesh, address: IpAddr, port: u16) -> FromOutside {
    if let Some((w, target)) = load_balancer(mesh, address, port) {
        return FromOutside::Balanced(w, target);
    }
    let text = address.to_string();
    let balanced = mesh
        .ctx
        .registry
        .services
        .iter()
        .any(|s| s.load_balancer.as_deref() == Some(text.as_str()));
    if balanced {
        FromOutside::Rejected
    } else if cluster_addresses(mesh).contains(&address) {
        FromOutside::Unroutable
    } else {
        FromOutside::Internet
    }
}

/// `w`'s pod address and `port`, if it has one.
fn pod_socket(mesh: &Mesh, w: &WorkloadRef, port: u16) -> Option<SocketAddr> {
    Some(SocketAddr::new(
        mesh.workload(w)?.address.parse().ok()?,
        port,
    ))
}

/// kube-proxy: where a connection to Kubernetes Service `host` (its FQDN, its ClusterIP or its
/// load-balancer address) on
/// `port` lands — the Service's first workload endpoint, on the port's `targetPort`; a connection
/// to a pod's own address lands on that pod, on the same port (the pod network routes it, no
/// Service involved). `None` for a name or address that is neither.
pub fn kube_proxy(mesh: &Mesh, host: &str, port: u16) -> Option<(WorkloadRef, u16)> {
    if let Some(pod) = mesh.ctx.workloads.values().find(|w| &*w.address == host) {
        return Some((pod.id.clone(), port));
    }
    let registry = &mesh.ctx.registry;
    let is_service =
        |s: &&crate::topology::ServiceInfo| s.origin.kind == egressbench_resources::Kind::Service;
    let svc = registry.exact(host).find(is_service).or_else(|| {
        registry.services.iter().filter(is_service).find(|s| {
            s.addresses
                .iter()
                .chain(&s.load_balancer)
                .any(|a| a == host)
        })
    })?;
    let target_port = svc.port(port)?.target_port;
    let w = svc.endpoints.iter().find_map(|e| match e {
        crate::topology::registry::ServiceEndpoint::Workload(id) => Some(id.clone()),
        _ => None,
    })?;
    Some((w, target_port))
}

/// Every address of the cluster that answers whether or not something listens on the port: the
/// pods' (and their applications') and the Services' ClusterIPs (kube-proxy rejects a port or a
/// Service without endpoints). Connections elsewhere are unroutable.
pub fn cluster_addresses(mesh: &Mesh) -> Vec<IpAddr> {
    let mut out = crate::pods::addresses(&mesh.ctx.workloads);
    out.extend(
        mesh.ctx
            .registry
            .services
            .iter()
            .filter(|s| s.origin.kind == egressbench_resources::Kind::Service)
            .flat_map(|s| {
                s.addresses
                    .iter()
                    .chain(&s.load_balancer)
                    .filter_map(|a| a.parse::<IpAddr>().ok())
            }),
    );
    out
}

/// kube-proxy's rules for the whole mesh: every Service ClusterIP (and load-balancer address) and
/// port → its first workload endpoint's address and target port (what the socket-running targets' networks translate).
pub fn kube_proxy_table(mesh: &Mesh) -> Vec<(SocketAddr, SocketAddr)> {
    let mut out = Vec::new();
    for svc in &mesh.ctx.registry.services {
        if svc.origin.kind != egressbench_resources::Kind::Service {
            continue;
        }
        for vip in svc
            .addresses
            .iter()
            .chain(&svc.load_balancer)
            .filter_map(|a| a.parse::<IpAddr>().ok())
        {
            for p in &svc.ports {
                if let Some((w, target)) = kube_proxy(mesh, &svc.hostname, p.number) {
                    if let Some(pod) = mesh.workload(&w).and_then(|w| w.address.parse().ok()) {
                        out.push((SocketAddr::new(vip, p.number), SocketAddr::new(pod, target)));
                    }
                }
            }
        }
    }
    out
}

/// Where a workload's application connection goes, as the pod's kernel sends it: before any
/// proxy, from the pod's address (or, leaving the cluster without a proxy, from its public one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppConnection {
    /// The name does not resolve (or the workload is unknown).
    Unresolved { source: IpAddr },
    /// Captured by the workload's sidecar (iptables), headed for `original`.
    Captured {
        original: SocketAddr,
        source: IpAddr,
    },
    /// To an address of the cluster's own network (a pod's, a ClusterIP) from outside it, where
    /// nothing routes it: the attempt times out.
    Unroutable {
        original: SocketAddr,
        source: IpAddr,
    },
    /// Straight to `to`: kube-proxy's first endpoint for a service address, else the address;
    /// the application still sees `original` as its peer.
    Direct {
        to: SocketAddr,
        original: SocketAddr,
        source: IpAddr,
    },
}

impl AppConnection {
    /// The address the application believes it connected to (a captured connection keeps its
    /// original destination), if the name resolved.
    pub fn remote(&self) -> Option<SocketAddr> {
        match *self {
            AppConnection::Unresolved { .. } => None,
            AppConnection::Captured { original, .. } => Some(original),
            AppConnection::Unroutable { original, .. } => Some(original),
            AppConnection::Direct { original, .. } => Some(original),
        }
    }
}

/// Whether `w`'s proxy captures `request`: it has one, and the request does not come from the
/// proxy's own container (whose user iptables does not redirect).
pub(crate) fn captures(w: &crate::topology::Workload, request: &ClientRequest) -> bool {
    w.proxy.is_some() && !request.from_proxy_container
}

/// What `from`'s curl trusts and presents for `request` (its `--cacert`, `--cert`, `--key`, `-k`
/// read where it runs: in `from`'s pod, or on the workstation; only for `https://`; through a
/// forward proxy's tunnel too), or which file it cannot use: the walk and the socket-running
/// targets all ask here.
pub fn client_credentials(
    mesh: &Mesh,
    from: &Origin,
    request: &ClientRequest,
) -> Result<crate::request::ClientCredentials, crate::outcome::TlsFileProblem> {
    if request.scheme != crate::request::Scheme::Https {
        return Ok(Default::default());
    }
    match from {
        Origin::Pod(pod) => {
            let Some(w) = mesh.workload(pod) else {
                return Ok(Default::default());
            };
            let store = &mesh.ctx.store;
            crate::topology::files::client_credentials(
                |path| crate::topology::files::file_in(store, w, None, path).ok(),
                &request.tls,
            )
        }
        Origin::Workstation(files) => crate::topology::files::client_credentials(
            |path| files.get(path.trim_start_matches("./")).cloned(),
            &request.tls,
        ),
    }
}

/// Where `from`'s application connection for `request` goes (its dial host and port): every
/// socket-running target asks here, then dials its own capture listener for `Captured`. A
/// request from the proxy's own container is never captured.
pub fn app_connection(
    mesh: &Mesh,
    internet: &Internet,
    from: &Origin,
    request: &ClientRequest,
) -> AppConnection {
    // Through a forward proxy, the connection goes to the proxy.
    if let Some(to_proxy) = request.to_proxy() {
        return app_connection(mesh, internet, from, &to_proxy);
    }
    let (host, port) = (request.dial_host(), request.dial_port());
    let public = IpAddr::V4(crate::external::DEFAULT_PEER);
    let dest = resolve_from(mesh, internet, from, host);
    let pod = match from {
        Origin::Pod(pod) => pod,
        Origin::Workstation(_) => {
            // Outside the cluster: a load-balancer address leads to its Service's endpoint.
            let source = IpAddr::V4(crate::request::WORKSTATION_ADDRESS);
            let Some(address) = dest.address else {
                return AppConnection::Unresolved { source };
            };
            let original = SocketAddr::new(address, port);
            let to = match from_outside(mesh, address, port) {
                FromOutside::Unroutable => return AppConnection::Unroutable { original, source },
                FromOutside::Balanced(w, target) => {
                    pod_socket(mesh, &w, target).unwrap_or(original)
                }
                // The network refuses a port the Service lacks at its (present) address.
                FromOutside::Rejected | FromOutside::Internet => original,
            };
            return AppConnection::Direct {
                to,
                original,
                source,
            };
        }
    };
    let Some(w) = mesh.workload(pod) else {
        return AppConnection::Unresolved { source: public };
    };
    let source: IpAddr = w.address.parse().unwrap_or(public);
    let Some(address) = dest.address else {
        return AppConnection::Unresolved { source };
    };
    let original = SocketAddr::new(address, port);
    if captures(w, request) && mesh.proxies.contains_key(pod) {
        return AppConnection::Captured { original, source };
    }
    if dest.in_cluster {
        // kube-proxy: the service port to the first endpoint's target port.
        let to = kube_proxy(mesh, &dest.host, port)
            .and_then(|(w, target)| pod_socket(mesh, &w, target))
            .unwrap_or(original);
        return AppConnection::Direct {
            to,
            original,
            source,
        };
    }
    // Straight to the address, from the pod's own (a host outside the cluster sees the
    // cluster's public address: the node's source NAT, which the targets' hosts apply).
    AppConnection::Direct {
        to: original,
        original,
        source,
    }
}

/// Where a proxy connects for endpoint `ep`: host (a name or an address), port, and the address it
/// resolves to. `original` is the connection's original destination (for `PassthroughCluster`).
pub fn endpoint_address(
    internet: &Internet,
    ep: &Endpoint,
    original: (&str, u16),
) -> (String, u16, Option<IpAddr>) {
    let (host, port) = match &ep.target {
        EndpointTarget::OriginalDestination => (original.0.to_string(), original.1),
        EndpointTarget::External(h) => (h.clone(), ep.port),
        EndpointTarget::Workload(_) | EndpointTarget::App(_) => (ep.address.clone(), ep.port),
    };
    let address = match &ep.target {
        EndpointTarget::Workload(_) | EndpointTarget::App(_) => host.parse().ok(),
        _ => host
            .parse::<IpAddr>()
            .ok()
            .or_else(|| internet.resolve(&host).map(IpAddr::V4)),
    };
    (host, port, address)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xds::{ProxyKind, RouteMatch};

    fn route() -> Route {
        Route {
            name: "r".into(),
            matcher: RouteMatch::default(),
            action: RouteAction::Cluster {
                clusters: vec![("outbound|80||httpbin.org".into(), 100)],
                timeout_ms: None,
                host_rewrite: None,
                prefix_rewrite: None,
                request_headers_to_add: Vec::new(),
                abort: None,
            },
            provenance: None,
        }
    }

    fn request_claiming(identity: &str) -> HopRequest {
        HopRequest {
            protocol: crate::outcome::HttpVersion::Http11,
            method: "GET".into(),
            path: "/headers".into(),
            authority: "httpbin.org".into(),
            headers: vec![(
                "X-Forwarded-Client-Cert".into(),
                format!("By=x;URI={identity}"),
            )],
            body: "".into(),
        }
    }

    #[test]
    fn an_absolute_form_target_is_read_as_its_authority_and_path() {
        let mut req = request_claiming("x");
        req.authority = "wrong.example".into();
        for (target, authority, path) in [
            (
                "http://other.example:8080/get?x=1",
                "other.example:8080",
                "/get?x=1",
            ),
            ("HTTP://httpbin.org", "httpbin.org", "/"),
            ("http://httpbin.org?q", "httpbin.org", "/?q"),
        ] {
            req.path = target.into();
            let out = origin_form(req.clone());
            assert_eq!((&*out.authority, &*out.path), (authority, path), "{target}");
        }
        req.path = "/headers".into();
        assert_eq!(origin_form(req.clone()), req);
    }

    #[test]
    fn an_h2c_upgrade_and_the_connections_own_headers_are_not_forwarded() {
        let mut req = request_claiming("spiffe://x");
        req.headers = [
            ("Accept", "*/*"),
            ("Connection", "Upgrade, HTTP2-Settings"),
            ("Upgrade", "h2c"),
            ("HTTP2-Settings", "AAMAAABkAAQAoAAAAAIAAAAA"),
            ("Keep-Alive", "timeout=5"),
        ]
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .to_vec();
        let out = forwarded(&req, &route(), false, None);
        let names: Vec<&str> = out.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "Accept",
                "x-forwarded-proto",
                "x-request-id",
                "x-envoy-attempt-count"
            ]
        );
        // Without an h2c upgrade, an `HTTP2-Settings` header is just a header.
        let mut headers = vec![
            ("Upgrade".to_string(), "websocket".to_string()),
            ("HTTP2-Settings".to_string(), "x".to_string()),
        ];
        crate::request::drop_connection_headers(&mut headers);
        assert_eq!(headers, [("HTTP2-Settings".to_string(), "x".to_string())]);
    }

    #[test]
    fn a_client_supplied_client_cert_header_is_never_forwarded() {
        let forged = request_claiming("spiffe://cluster.local/ns/mytest/sa/sleep-a");
        let gw = "spiffe://cluster.local/ns/istio-egress/sa/egressgateway-a";
        let nginx = "spiffe://cluster.local/ns/default/sa/nginx";
        // A sidecar sanitizes: the header is gone.
        let xfcc = client_cert_header(ClientCertDetails::Sanitize, nginx, None, Some("x"));
        let out = forwarded(&forged, &route(), false, xfcc);
        assert!(!out
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case(XFCC)));
        // A gateway sets it from the verified peer, whatever the request said.
        let xfcc = client_cert_header(ClientCertDetails::SanitizeSet, gw, Some(nginx), Some("x"));
        let out = forwarded(&forged, &route(), true, xfcc);
        let values: Vec<&str> = out
            .headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(XFCC))
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(values, [format!("By={gw};URI={nginx}")]);
        // Over plaintext a gateway has no peer to vouch for: removed.
        let xfcc = client_cert_header(ClientCertDetails::SanitizeSet, gw, None, Some("x"));
        let out = forwarded(&forged, &route(), false, xfcc);
        assert!(!out
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case(XFCC)));
    }

    #[test]
    fn a_sidecars_inbound_side_appends_the_verified_peer_and_drops_claims_over_plain_text() {
        let own = "spiffe://cluster.local/ns/foo/sa/httpbin";
        let peer = "spiffe://cluster.local/ns/foo/sa/sleep";
        let details = ClientCertDetails::of(ProxyKind::Sidecar, true);
        assert_eq!(details, ClientCertDetails::AppendForward);
        assert_eq!(
            client_cert_header(details, own, Some(peer), None).as_deref(),
            Some(format!("By={own};Subject=\"\";URI={peer}").as_str())
        );
        assert_eq!(
            client_cert_header(details, own, Some(peer), Some("By=a;URI=b")),
            Some(format!("By=a;URI=b,By={own};Subject=\"\";URI={peer}"))
        );
        // Plain text: nothing to vouch for, and what a client claimed is removed.
        assert_eq!(client_cert_header(details, own, None, None), None);
        assert_eq!(client_cert_header(details, own, None, Some("By=a")), None);
    }
}
