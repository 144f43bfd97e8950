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

use super::authorize::{evaluate, HttpAttrs, RbacInput, RbacOutcome};
use super::matchers::HttpView;
use super::note::Note;
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
    /// The connection came in on a listener facing inbound (a gateway's, a sidecar's inbound
    /// one), not captured from the proxy's own application.
    pub inbound: bool,
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
    if req.method.eq_ignore_ascii_case("CONNECT") {
        // A CONNECT has no path, and only a route with a `connect_matcher` matches it; Istio
        // generates none, so Envoy (1.40, as measured) finds no route: `404 NR`.
        return HttpStep {
            virtual_host: None,
            route: None,
            logged_cluster: None,
            rbac: None,
            note: Some(Note::ConnectRefused),
            next: HttpNext::Respond(LocalReply::NO_ROUTE),
        };
    }
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
            let xfcc = step::client_cert_header(
                step::ClientCertDetails::of(proxy.kind, conn.inbound),
                &proxy.identity,
                conn.peer_identity,
                req.header(step::XFCC),
            );
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decide::step::{self, Hello};
    use crate::outcome::reply::Details;
    use crate::request::{ClientRequest, Scheme, WorkloadRef};
    use crate::testing::{mesh, HTTP_VIA_GATEWAY};
    use crate::xds::Terminal;

    /// A DENY policy on the gateway for POST.
    const DENY_POST: &str = r#"
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: no-post, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: egressgateway}}
  action: DENY
  rules: [{to: [{operation: {methods: [POST]}}]}]
"#;

    /// The HTTP terminal of `proxy`'s listener on `port` for plaintext.
    fn http_chain(proxy: &ProxyConfig, port: u16) -> (Name, Option<RbacFilter>) {
        let listener = step::outbound_listener(proxy, None, port)
            .or_else(|| proxy.inbound_listener(port))
            .expect("a listener on the port");
        match &step::select_chain(listener, Hello::Plain)
            .expect("a plaintext chain")
            .terminal
        {
            Terminal::Http { route_config, rbac } => (route_config.clone(), rbac.clone()),
            Terminal::Tcp { .. } => panic!("not an HTTP chain"),
        }
    }

    fn request(method: &str, host: &str) -> HopRequest {
        let mut r = ClientRequest::get(Scheme::Http, host, 80, "/");
        r.method = method.into();
        HopRequest::from_client(&r)
    }

    const PLAIN: Connection<'static> = Connection {
        source: "10.0.0.1",
        port: 80,
        sni: None,
        peer_identity: None,
        tls_terminated: false,
        inbound: false,
    };

    #[test]
    fn an_unregistered_host_gets_block_all_s_direct_response() {
        let m = mesh("");
        let sidecar = &m.proxies[&WorkloadRef::new("default", "sleep")];
        let (rc, rbac) = http_chain(sidecar, 80);
        let step = http_request(
            sidecar,
            &rc,
            rbac.as_ref(),
            &PLAIN,
            &request("GET", "httpbin.org"),
        );
        assert_eq!(step.route.map(|r| &*r.name), Some(crate::xds::BLOCK_ALL));
        assert_eq!(step.logged_cluster, None);
        match step.next {
            HttpNext::Respond(r) => {
                assert_eq!((r.status, r.details), (502, Details::DirectResponse));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_routed_request_is_forwarded_through_the_route_s_cluster() {
        let m = mesh(HTTP_VIA_GATEWAY);
        let sidecar = &m.proxies[&WorkloadRef::new("default", "sleep")];
        let (rc, rbac) = http_chain(sidecar, 80);
        let step = http_request(
            sidecar,
            &rc,
            rbac.as_ref(),
            &PLAIN,
            &request("GET", "httpbin.org"),
        );
        let via_gateway = "outbound|80||gw.istio-system.svc.cluster.local";
        assert_eq!(step.logged_cluster.as_deref(), Some(via_gateway));
        match step.next {
            HttpNext::Forward {
                cluster, request, ..
            } => {
                assert_eq!(&*cluster, via_gateway);
                assert_eq!(&*request.authority, "httpbin.org");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn rbac_runs_after_route_selection_and_denies_with_its_details() {
        let m = mesh(&format!("{HTTP_VIA_GATEWAY}\n---\n{DENY_POST}"));
        let gateway = &m.proxies[&WorkloadRef::new("istio-system", "gw")];
        let (rc, rbac) = http_chain(gateway, 8080);
        assert!(rbac.is_some(), "the gateway's chain has the policy");
        let conn = Connection {
            port: 8080,
            ..PLAIN
        };
        let post = http_request(
            gateway,
            &rc,
            rbac.as_ref(),
            &conn,
            &request("POST", "httpbin.org"),
        );
        // The route was chosen before RBAC ran, so the entry still names its cluster.
        assert_eq!(
            post.logged_cluster.as_deref(),
            Some("outbound|80||httpbin.org")
        );
        assert!(post.rbac.as_ref().is_some_and(|r| !r.allowed));
        match post.next {
            HttpNext::Respond(r) => {
                assert_eq!(r.status, 403);
                assert!(
                    matches!(r.details, Details::Rbac(ref d) if d.starts_with("rbac_access_denied"))
                );
            }
            other => panic!("{other:?}"),
        }
        let get = http_request(
            gateway,
            &rc,
            rbac.as_ref(),
            &conn,
            &request("GET", "httpbin.org"),
        );
        assert!(matches!(get.next, HttpNext::Forward { .. }));
    }

    #[test]
    fn no_virtual_host_for_the_authority_is_a_404_with_a_note() {
        let m = mesh(HTTP_VIA_GATEWAY);
        let gateway = &m.proxies[&WorkloadRef::new("istio-system", "gw")];
        let (rc, rbac) = http_chain(gateway, 8080);
        let conn = Connection {
            port: 8080,
            ..PLAIN
        };
        let step = http_request(
            gateway,
            &rc,
            rbac.as_ref(),
            &conn,
            &request("GET", "other.org"),
        );
        assert!(
            matches!(step.note, Some(Note::NoVirtualHost { .. })),
            "{:?}",
            step.note
        );
        match step.next {
            HttpNext::Respond(r) => assert_eq!(r, LocalReply::NO_ROUTE),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_tcp_proxy_without_a_route_closes_and_with_one_forwards() {
        let m = mesh("");
        let sidecar = &m.proxies[&WorkloadRef::new("default", "sleep")];
        let none = tcp_connection(sidecar, &[], None, &PLAIN);
        assert!(matches!(none.next, TcpNext::NoRoute));
        assert_eq!(none.denial(), None);
        let routes = [TcpRoute {
            cluster: crate::xds::PASSTHROUGH_CLUSTER.into(),
            port: None,
            provenance: None,
        }];
        let one = tcp_connection(sidecar, &routes, None, &PLAIN);
        assert!(
            matches!(one.next, TcpNext::Forward(r) if &*r.cluster == crate::xds::PASSTHROUGH_CLUSTER)
        );
    }
}
