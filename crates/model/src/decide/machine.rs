//! One proxy's handling of one request, as a machine without I/O: given the proxy's config, the
//! filter chain's terminal filter and the facts of the connection and request, it says what the
//! proxy does next — answer with a local reply, or forward through a cluster. The model's walk
//! and the simulated proxies both drive it (the simulated ones take the facts off real sockets:
//! the SNI of a real ClientHello, the request hyper parsed, the verified peer certificate).
//!
//! Owns: the HTTP connection manager's sequence (route selection → RBAC → no route → direct
//! response or redirect → fault abort → forward, with the headers the proxy sets) and the TCP
//! proxy's (RBAC → no route → relay). Leaves out: choosing the listener and filter chain
//! (`step`), opening the upstream connection and what comes back from it (the walk, the
//! simulated proxies, `answer`).

use super::matchers::HttpView;
use super::note::Note;
use super::rbac::{evaluate, HttpAttrs, RbacInput, RbacOutcome};
use super::step;
use super::HopRequest;
use crate::outcome::reply::LocalReply;
use crate::xds::{Name, ProxyConfig, RbacFilter, Route, RouteAction, TcpRoute, VirtualHost};

/// What a proxy knows of the downstream connection a request came on.
#[derive(Debug, Clone, Copy)]
pub struct Connection<'a> {
    /// The peer's address (RBAC `source.ip`, `ipBlocks`).
    pub source: &'a str,
    /// The listener's port.
    pub port: u16,
    /// SNI of the connection's ClientHello.
    pub sni: Option<&'a str>,
    /// SPIFFE identity of the peer's verified certificate (`spiffe://…`).
    pub peer_identity: Option<&'a str>,
    /// The proxy terminated TLS on the connection.
    pub tls_terminated: bool,
}

impl Connection<'_> {
    /// The RBAC filter's verdict on this connection and, on an HTTP chain, on `http`.
    pub fn authorize(&self, filter: &RbacFilter, http: Option<&HopRequest>) -> RbacOutcome {
        let principal = self
            .peer_identity
            .map(|p| p.strip_prefix("spiffe://").unwrap_or(p));
        evaluate(
            filter,
            &RbacInput {
                principal,
                source_ip: self.source,
                port: self.port,
                sni: self.sni,
                http: http.map(|r| HttpAttrs {
                    method: &r.method,
                    path: &r.path,
                    host: &r.authority,
                    headers: &r.headers,
                }),
            },
        )
    }
}

/// What an HTTP connection manager does next with a request.
#[derive(Debug, Clone)]
pub enum HttpNext {
    /// Answer it itself.
    Respond(LocalReply),
    /// Send `request` through `cluster`, waiting at most `timeout_ms` for the answer.
    Forward {
        cluster: Name,
        request: HopRequest,
        timeout_ms: Option<u64>,
    },
}

/// An HTTP connection manager's handling of one request.
#[derive(Debug, Clone)]
pub struct HttpStep<'p> {
    pub virtual_host: Option<&'p VirtualHost>,
    pub route: Option<&'p Route>,
    /// The upstream cluster the access log names before anything is sent: the route's, when the
    /// proxy has it (a cluster it does not have is logged as `-`).
    pub logged_cluster: Option<Name>,
    /// The RBAC filter's verdict, when the chain has one.
    pub rbac: Option<RbacOutcome>,
    pub note: Option<Note>,
    pub next: HttpNext,
}

/// Handle `req`, arrived on `conn`, with route configuration `route_config` and the chain's
/// HTTP RBAC filter `rbac`, as proxy `proxy`'s HTTP connection manager does.
pub fn http_request<'p>(
    proxy: &'p ProxyConfig,
    route_config: &str,
    rbac: Option<&RbacFilter>,
    conn: &Connection<'_>,
    req: &HopRequest,
) -> HttpStep<'p> {
    // Envoy picks the route before the RBAC filter runs, so a denied request still logs it.
    let view = HttpView {
        method: &req.method,
        path: &req.path,
        authority: &req.authority,
        scheme: "http",
        headers: &req.headers,
    };
    let choice = step::select_route(proxy, route_config, &view);
    let logged_cluster = choice
        .route
        .and(choice.cluster.clone())
        .filter(|c| proxy.clusters.contains_key(&**c));
    let mut out = HttpStep {
        virtual_host: choice.virtual_host,
        route: choice.route,
        logged_cluster,
        rbac: None,
        note: None,
        next: HttpNext::Respond(LocalReply::NO_ROUTE),
    };
    if let Some(filter) = rbac {
        let verdict = conn.authorize(filter, Some(req));
        let denied = (!verdict.allowed).then(|| verdict.details.clone().unwrap_or_default());
        out.rbac = Some(verdict);
        if let Some(details) = denied {
            out.next = HttpNext::Respond(LocalReply::rbac_denied(details));
            return out;
        }
    }
    let Some(vh) = choice.virtual_host else {
        out.note = Some(Note::NoVirtualHost {
            route_config: route_config.into(),
            authority: req.authority.to_string(),
        });
        return out;
    };
    let Some(route) = choice.route else {
        out.note = Some(Note::NoRoute {
            virtual_host: vh.name.clone(),
        });
        return out;
    };
    out.next = match &route.action {
        RouteAction::DirectResponse { status, body } => {
            HttpNext::Respond(LocalReply::direct(*status, body.clone()))
        }
        RouteAction::Redirect { location, status } => {
            HttpNext::Respond(LocalReply::redirect(*status, location.clone()))
        }
        RouteAction::Cluster {
            abort: Some(status),
            ..
        } => HttpNext::Respond(LocalReply::fault_abort(*status)),
        RouteAction::Cluster {
            clusters,
            timeout_ms,
            ..
        } => {
            let cluster = choice.cluster.unwrap_or_default();
            if clusters.len() > 1 {
                out.note = Some(Note::Weighted {
                    clusters: clusters.clone(),
                    followed: cluster.clone(),
                });
            }
            let xfcc = step::client_cert_header(proxy.kind, &proxy.identity, conn.peer_identity);
            HttpNext::Forward {
                cluster,
                request: step::forwarded(req, route, conn.tls_terminated, xfcc),
                timeout_ms: *timeout_ms,
            }
        }
    };
    out
}

/// What a TCP proxy does next with a connection.
#[derive(Debug, Clone, Copy)]
pub enum TcpNext<'p> {
    /// The network RBAC filter denied it on its first bytes: it is closed with a FIN. The TCP
    /// proxy had dialed `dialed` on accept (when the proxy has the route's cluster), and that
    /// connection is closed too.
    Deny { dialed: Option<&'p TcpRoute> },
    /// No route for the listener's port: the connection is closed (`NR`).
    NoRoute,
    /// Relay the bytes through `route`'s cluster.
    Forward(&'p TcpRoute),
}

/// A TCP proxy's handling of one connection.
#[derive(Debug, Clone)]
pub struct TcpStep<'p> {
    /// The network RBAC filter's verdict, when the chain has one.
    pub rbac: Option<RbacOutcome>,
    pub next: TcpNext<'p>,
}

impl TcpStep<'_> {
    /// The RBAC filter's denial details, when it denied.
    pub fn denial(&self) -> Option<String> {
        self.rbac
            .as_ref()
            .filter(|r| !r.allowed)
            .map(|r| r.details.clone().unwrap_or_default())
    }
}

/// Handle a connection arrived on `conn` with the chain's TCP `routes` (chosen for its port when
/// the config was built) and network RBAC filter `rbac`, as proxy `proxy`'s TCP proxy does.
pub fn tcp_connection<'p>(
    proxy: &ProxyConfig,
    routes: &'p [TcpRoute],
    rbac: Option<&RbacFilter>,
    conn: &Connection<'_>,
) -> TcpStep<'p> {
    let route = routes.first();
    let verdict = rbac.map(|filter| conn.authorize(filter, None));
    let next = match (&verdict, route) {
        (Some(v), _) if !v.allowed => TcpNext::Deny {
            dialed: route.filter(|r| proxy.clusters.contains_key(&*r.cluster)),
        },
        (_, None) => TcpNext::NoRoute,
        (_, Some(r)) => TcpNext::Forward(r),
    };
    TcpStep {
        rbac: verdict,
        next,
    }
}
