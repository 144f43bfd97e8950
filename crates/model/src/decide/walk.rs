//! The walk: a connection's bytes, as layers of TLS around an HTTP request (or an opaque stream),
//! carried through listeners, filter chains, routes and clusters until something answers.

use super::machine::{self, Connection, HttpNext, TcpNext};
use super::note::{Note, WireKind};
use super::step::{self, Hello};
use super::{Call, DecideError, End, Hop, HopMode, HopRequest, Reached, Trace};
use crate::external::forward::{connect_answer, TunnelVerdict};
use crate::external::{Arrival, ArrivedRequest, Internet, Served};
use crate::mesh::Mesh;
use crate::outcome::reply::{
    Details, LocalReply, ResponseFlag, ResponseFlags, UpstreamFailure, TLS_HANDSHAKE_FAILED,
};
use crate::request::{ClientRequest, Origin, Scheme, WorkloadRef};
use crate::xds::{
    EndpointTarget, FilterChain, Listener, Name, ProxyConfig, ProxyKind, RbacFilter, Terminal,
};
use egressbench_resources::ClientTlsMode;
use std::borrow::Cow;

/// One TLS layer on the wire: the SNI of its ClientHello and the certificate the client presents.
#[derive(Debug, Clone)]
struct TlsLayer {
    sni: Option<String>,
    /// The ClientHello offers `h2` by ALPN (curl does for https; the proxies' origination does not).
    alpn_h2: bool,
    /// SPIFFE identity of a client certificate issued by the mesh CA.
    client_identity: Option<String>,
    /// The client's check of the certificate the TLS server presents: what it trusts and the
    /// name it asked for (curl's own TLS; `None` where the model does not check, as for the
    /// proxies' own origination).
    verify: Option<(crate::request::Trust, String)>,
    /// The certificate the client presents when the server asks (`curl --cert`).
    client_certificate: Option<egressbench_resources::files::Certificate>,
}

impl TlsLayer {
    /// Whether it is the client's own TLS (curl's, which checks the server), not a proxy's
    /// origination.
    fn is_clients(&self) -> bool {
        self.verify.is_some()
    }
}

/// What travels on one connection: TLS layers (outermost first) around an HTTP request or an
/// opaque stream.
#[derive(Debug, Clone)]
struct Wire {
    layers: Vec<TlsLayer>,
    http: Option<HopRequest>,
    /// Address of the peer that opened this connection (RBAC `source.ip`, `ipBlocks`).
    source: Name,
}

impl Wire {
    /// What the connection carries, as a proxy or host sees it arrive.
    fn kind(&self) -> WireKind {
        match (self.outer(), &self.http) {
            (None, Some(_)) => WireKind::PlaintextHttp,
            (None, None) => WireKind::PlaintextTcp,
            (Some(l), _) => WireKind::Tls {
                sni: l.sni.clone(),
                client_certificate: l.client_identity.is_some(),
            },
        }
    }

    fn outer(&self) -> Option<&TlsLayer> {
        self.layers.first()
    }

    fn peel(mut self) -> Wire {
        if !self.layers.is_empty() {
            self.layers.remove(0);
        }
        self
    }

    fn wrap(mut self, layer: TlsLayer) -> Wire {
        self.layers.insert(0, layer);
        self
    }

    /// The same bytes, sent on a new connection opened from `source`.
    fn from(mut self, source: &Name) -> Wire {
        self.source = source.clone();
        self
    }

    /// What the destination host sees arriving on `port`.
    fn arrival(&self, port: u16, source: std::net::Ipv4Addr) -> Arrival {
        // A web server takes an absolute-form target as its authority and path (RFC 9112).
        let request = |h: &HopRequest| {
            let h = step::origin_form(h.clone());
            let mut r = ArrivedRequest::new(&h.method, &h.path, &h.authority)
                .with_body(&h.body)
                .in_version(h.protocol);
            r.headers = h.headers;
            r
        };
        let a = match (self.layers.as_slice(), &self.http) {
            ([], Some(h)) => Arrival::http(port, request(h)),
            ([], None) => Arrival::tcp_stream(port),
            ([one], Some(h)) => Arrival::https(port, one.sni.as_deref(), request(h)),
            ([outer, ..], _) => Arrival::tls_stream(port, outer.sni.as_deref()),
        };
        a.from_source(source)
    }
}

/// How long a forward proxy waits for an unanswered connect: 10 s, as every connect in the
/// bench's network gives up (Envoy's clusters' default). Squid's own `connect_timeout` is one
/// minute; the bench does not model it.
pub(crate) const PROXY_CONNECT_TIMEOUT_MS: u64 = 10_000;

/// `NR`: no filter chain, or no TCP route.
const NO_ROUTE_FLAG: ResponseFlags = ResponseFlags::one(ResponseFlag::NoRouteFound);

struct Walk<'a> {
    mesh: &'a Mesh,
    internet: &'a Internet,
    hops: Vec<Hop>,
    /// What the destination received, in its own words.
    received: Vec<crate::outcome::Received>,
    /// Where the client meant to go (for PassthroughCluster).
    original_host: &'a str,
    original_port: u16,
    /// The request a forward proxy's tunnel carries, when the client sent it through one.
    tunneled: Option<&'a ClientRequest>,
    /// What the client's own TLS trusts and presents (through a tunnel too: it is end to end).
    credentials: crate::request::ClientCredentials,
    /// The address and port the client dialed (a captured connection's original destination).
    original_address: Option<std::net::SocketAddr>,
}

fn hop(proxy: &ProxyConfig, direction: &'static str, listener: Name) -> Hop {
    Hop {
        proxy: proxy.proxy.clone(),
        kind: proxy.kind,
        direction,
        listener,
        filter_chain: None,
        mode: HopMode::Tcp,
        route_config: None,
        virtual_host: None,
        route: None,
        route_timeout_ms: None,
        cluster: None,
        upstream_host: None,
        downstream_local: None,
        matched: Vec::new(),
        downstream_tls: None,
        peer_identity: None,
        sni: None,
        upstream_tls: None,
        presented_identity: None,
        rbac: None,
        request: None,
        notes: Vec::new(),
    }
}

fn responded(hop: usize, reply: LocalReply) -> End {
    End::Responded { hop, reply }
}

fn closed(
    hop: usize,
    flags: ResponseFlags,
    details: Details,
    termination: impl Into<Cow<'static, str>>,
) -> End {
    End::Closed {
        hop,
        flags,
        details,
        termination: termination.into(),
        graceful: false,
        handshake: false,
    }
}

/// A network RBAC filter's denial at `hop`: it reads the first bytes, then closes (a FIN).
fn denied(hop: usize, termination: String) -> End {
    End::Closed {
        hop,
        flags: ResponseFlags::NONE,
        details: Details::None,
        termination: termination.into(),
        graceful: true,
        handshake: false,
    }
}

/// What hop `h` knows of its downstream connection, arrived from `source` on `port`.
fn connection<'h>(h: &'h Hop, source: &'h str, port: u16) -> Connection<'h> {
    Connection {
        source,
        port,
        sni: h.sni.as_deref(),
        peer_identity: h.peer_identity.as_deref(),
        tls_terminated: h.downstream_tls.is_some(),
        inbound: h.direction == "inbound",
    }
}

fn select_chain<'l>(listener: &'l Listener, wire: &Wire) -> Option<&'l FilterChain> {
    let hello = match wire.outer() {
        None => Hello::Plain,
        Some(l) => Hello::Tls {
            sni: l.sni.as_deref(),
        },
    };
    step::select_chain(listener, hello)
}

/// Record what matched, once each; a bare resource entry gives way to the same resource's rule.
fn push_unique(matched: &mut Vec<crate::xds::Provenance>, more: &[crate::xds::Provenance]) {
    for p in more {
        if matched.contains(p) {
            continue;
        }
        if !p.rule.is_empty() {
            matched.retain(|m| !(m.resource == p.resource && m.rule.is_empty()));
        } else if matched.iter().any(|m| m.resource == p.resource) {
            continue;
        }
        matched.push(p.clone());
    }
}

impl<'a> Walk<'a> {
    fn proxy(&self, id: &WorkloadRef) -> Option<&'a ProxyConfig> {
        self.mesh.proxies.get(id)
    }

    /// A proxy receives `wire` on `listener`.
    fn receive(
        &mut self,
        proxy: &'a ProxyConfig,
        listener: &'a Listener,
        direction: &'static str,
        wire: Wire,
    ) -> End {
        let idx = self.hops.len();
        let wire_source = wire.source.clone();
        let mut h = hop(proxy, direction, listener.name.clone());
        // A listener that does not read the ClientHello has no SNI (inbound listeners always do).
        h.sni = wire
            .outer()
            .and_then(|l| l.sni.clone())
            .filter(|_| direction != "outbound" || listener.inspects_tls());
        h.downstream_local = match direction {
            "outbound" => self.original_address,
            _ => proxy
                .address
                .parse()
                .ok()
                .map(|ip| std::net::SocketAddr::new(ip, listener.port)),
        };
        let Some(chain) = select_chain(listener, &wire) else {
            h.notes.push(Note::NoFilterChain {
                listener: listener.name.clone(),
                wire: wire.kind(),
            });
            self.hops.push(h);
            let mut end = closed(idx, NO_ROUTE_FLAG, Details::FilterChainNotFound, "-");
            // Only a handshake the connecting proxy made itself is its failed connect; a client's
            // own TLS that a TCP proxy passed on was, to that proxy, a connection that came up
            // and was reset.
            if let End::Closed { handshake, .. } = &mut end {
                *handshake = wire.outer().is_some_and(|l| !l.is_clients());
            }
            return end;
        };
        h.filter_chain = Some(chain.name.clone());
        push_unique(&mut h.matched, &chain.provenance);
        let mut wire = wire;
        if let Some(tls) = &chain.downstream_tls {
            let Some(layer) = wire.outer().cloned() else {
                h.notes.push(Note::PlaintextOnTlsChain {
                    chain: chain.name.clone(),
                });
                self.hops.push(h);
                return closed(
                    idx,
                    ResponseFlags::NONE,
                    Details::None,
                    TLS_HANDSHAKE_FAILED,
                );
            };
            if let Some(credential) = &tls.credential {
                // A gateway server with its own certificate (`credentialName`). A failure here
                // fails the handshake before any request. The client's own TLS ends at the
                // client (the gateway logs nothing); a proxy's handshake (TLS it originated) is
                // that proxy's failed connect (`enter_workload`).
                let failed = |hops: &mut Vec<Hop>, mut h: Hop, note, outcome| {
                    if layer.is_clients() {
                        End::Reached {
                            destination: proxy.proxy.to_string(),
                            port: listener.port,
                            tls: true,
                            outcome,
                        }
                    } else {
                        h.notes.push(note);
                        hops.push(h);
                        closed(
                            idx,
                            ResponseFlags::NONE,
                            Details::None,
                            TLS_HANDSHAKE_FAILED,
                        )
                    }
                };
                // Without its Secret it has nothing to present.
                let Some(certificate) = &credential.certificate else {
                    let note = Note::CredentialMissing {
                        chain: chain.name.clone(),
                        secret: credential.secret.clone(),
                    };
                    return failed(&mut self.hops, h, note, Reached::Reset);
                };
                // The client checks the certificate.
                if let Some((trust, name)) = &layer.verify {
                    let presented = crate::external::tls::Presented::Own(certificate);
                    if let Err(problem) = crate::external::tls::check_server(trust, presented, name)
                    {
                        return End::Reached {
                            destination: proxy.proxy.to_string(),
                            port: listener.port,
                            tls: true,
                            outcome: Reached::CertificateRejected(problem),
                        };
                    }
                }
                // MUTUAL: the client's certificate must chain to the Secret's CA.
                let issued = match (&layer.client_certificate, &credential.ca) {
                    (Some(client), Some(ca)) => client.chains_to(ca),
                    (None, _) | (_, None) => false,
                };
                if tls.require_client_certificate && !issued {
                    let note = Note::ClientCertificateNotIssued {
                        chain: chain.name.clone(),
                        secret: credential.secret.clone(),
                    };
                    return failed(&mut self.hops, h, note, Reached::ResetAfterHandshake);
                }
            } else if tls.require_client_certificate && layer.client_identity.is_none() {
                h.notes.push(Note::ClientCertificateRequired {
                    chain: chain.name.clone(),
                    mode: tls.mode.to_string(),
                });
                self.hops.push(h);
                return closed(
                    idx,
                    ResponseFlags::NONE,
                    Details::None,
                    TLS_HANDSHAKE_FAILED,
                );
            }
            h.downstream_tls = Some(tls.mode.to_string());
            h.peer_identity = layer.client_identity.clone();
            wire = wire.peel();
            // A gateway server's own TLS offers h2 and http/1.1 by ALPN on an HTTP chain: a
            // client that offers h2 speaks HTTP/2 to it.
            if tls.credential.is_some()
                && layer.alpn_h2
                && matches!(chain.terminal, Terminal::Http { .. })
            {
                if let Some(http) = wire.http.as_mut() {
                    http.protocol = crate::outcome::HttpVersion::Http2;
                }
            }
        }
        match &chain.terminal {
            Terminal::Http { route_config, rbac } => self.http(
                proxy,
                h,
                idx,
                route_config,
                rbac.as_ref(),
                wire,
                listener.port,
            ),
            Terminal::Tcp { routes, rbac } => {
                h.mode = HopMode::Tcp;
                let step = machine::tcp_connection(
                    proxy,
                    routes,
                    rbac.as_ref(),
                    &connection(&h, &wire_source, listener.port),
                );
                let denial = step.denial();
                h.rbac = step.rbac.map(Box::new);
                match step.next {
                    TcpNext::Deny { dialed } => {
                        // The TCP proxy opens its upstream connection when the downstream one
                        // opens; the network RBAC filter decides on the first bytes, and closes
                        // both. So the entry names the cluster and host that were dialed.
                        if let Some(route) = dialed {
                            h.cluster = Some(route.cluster.clone());
                            h.upstream_host = self.first_endpoint(proxy, &route.cluster);
                            self.received.extend(closed_unread(
                                proxy,
                                &route.cluster,
                                h.upstream_host,
                            ));
                        }
                        h.notes.push(Note::NetworkRbacDenied);
                        self.hops.push(h);
                        denied(idx, denial.unwrap_or_default())
                    }
                    TcpNext::NoRoute => {
                        h.notes.push(Note::NoTcpRoute);
                        self.hops.push(h);
                        closed(idx, NO_ROUTE_FLAG, Details::None, "-")
                    }
                    TcpNext::Forward(route) => {
                        if let Some(p) = &route.provenance {
                            push_unique(&mut h.matched, std::slice::from_ref(p));
                        }
                        self.hops.push(h);
                        self.connect(proxy, idx, &route.cluster, wire)
                    }
                }
            }
        }
    }

    /// An HTTP connection manager: the request-handling machine's step, recorded on the hop,
    /// then the connection it forwards on, if any.
    #[allow(clippy::too_many_arguments)]
    fn http(
        &mut self,
        proxy: &'a ProxyConfig,
        mut h: Hop,
        idx: usize,
        route_config: &Name,
        rbac: Option<&RbacFilter>,
        wire: Wire,
        port: u16,
    ) -> End {
        h.mode = HopMode::Http;
        let wire_source = wire.source;
        let req = match wire.http {
            Some(req) if wire.layers.is_empty() => step::origin_form(req),
            http => {
                let wire = Wire {
                    layers: wire.layers,
                    http,
                    source: wire_source,
                };
                h.notes.push(Note::CodecError { wire: wire.kind() });
                self.hops.push(h);
                return responded(idx, LocalReply::CODEC_ERROR);
            }
        };
        h.route_config = Some(route_config.clone());
        let step = machine::http_request(
            proxy,
            route_config,
            rbac,
            &connection(&h, &wire_source, port),
            &req,
        );
        if let Some(vh) = step.virtual_host {
            h.virtual_host = Some(vh.name.clone());
            push_unique(&mut h.matched, &vh.provenance);
        }
        if let Some(r) = step.route {
            h.route = Some(r.name.clone());
            if let Some(p) = &r.provenance {
                push_unique(&mut h.matched, std::slice::from_ref(p));
            }
            h.cluster = step.logged_cluster.clone();
        }
        h.rbac = step.rbac.map(Box::new);
        if let Some(note) = step.note {
            h.notes.push(note);
        }
        h.request = Some(req);
        match step.next {
            HttpNext::Respond(reply) => {
                self.hops.push(h);
                responded(idx, reply)
            }
            HttpNext::Forward {
                cluster,
                request,
                timeout_ms,
            } => {
                h.route_timeout_ms = timeout_ms;
                self.hops.push(h);
                self.connect(
                    proxy,
                    idx,
                    &cluster,
                    Wire {
                        layers: Vec::new(),
                        http: Some(request),
                        source: proxy.address.clone(),
                    },
                )
            }
        }
    }

    /// The proxy at hop `idx` opens a connection through `cluster` and sends `wire`.
    fn connect(
        &mut self,
        proxy: &'a ProxyConfig,
        idx: usize,
        cluster_name: &Name,
        wire: Wire,
    ) -> End {
        let http = self.hops[idx].mode == HopMode::Http;
        // A cluster the proxy does not have is named in the trace's notes only: Envoy logs no
        // upstream cluster for it (`-`, flag NC).
        let Some(cluster) = proxy.clusters.get(&**cluster_name) else {
            self.hops[idx].notes.push(Note::ClusterMissing {
                cluster: cluster_name.clone(),
            });
            return if http {
                responded(idx, LocalReply::CLUSTER_NOT_FOUND)
            } else {
                closed(idx, ResponseFlag::NoClusterFound.into(), Details::None, "-")
            };
        };
        self.hops[idx].cluster = Some(cluster_name.clone());
        self.hops[idx]
            .matched
            .extend(cluster.provenance.iter().cloned());
        let Some(ep) = cluster.endpoints.first() else {
            self.hops[idx].notes.push(Note::NoEndpoints {
                cluster: cluster.name.clone(),
            });
            return if http {
                End::UpstreamFailed {
                    hop: idx,
                    failure: UpstreamFailure::NoHealthyUpstream,
                }
            } else {
                closed(
                    idx,
                    UpstreamFailure::NoHealthyUpstream.flag().into(),
                    Details::None,
                    "-",
                )
            };
        };
        let (host, port, address) =
            step::endpoint_address(self.internet, ep, (self.original_host, self.original_port));
        self.hops[idx].upstream_host = self.upstream_address(ep, address, port);
        let mut wire = wire.from(&proxy.address);
        if http {
            if let Some(r) = wire.http.as_mut() {
                r.protocol = if cluster.upstream_http2(r.protocol) {
                    crate::outcome::HttpVersion::Http2
                } else {
                    crate::outcome::HttpVersion::Http11
                };
            }
        }
        let wire = match &cluster.tls {
            Some(tls) => {
                self.hops[idx].upstream_tls = Some(Box::new(tls.clone()));
                let identity = match tls.mode {
                    ClientTlsMode::IstioMutual => Some(proxy.identity.clone()),
                    ClientTlsMode::Mutual => {
                        Some("client certificate from the DestinationRule".into())
                    }
                    _ => None,
                };
                if tls.mode == ClientTlsMode::IstioMutual {
                    self.hops[idx].presented_identity = Some(proxy.identity.clone());
                }
                wire.wrap(TlsLayer {
                    sni: tls.sni.clone(),
                    alpn_h2: false,
                    client_identity: identity,
                    verify: None,
                    client_certificate: None,
                })
            }
            None => wire,
        };
        match &ep.target {
            EndpointTarget::Workload(w) => self.enter_workload(Some(idx), w, port, wire),
            EndpointTarget::App(w) => {
                self.reach_app(Some(idx), w, port, wire, crate::pods::INBOUND_SOURCE)
            }
            // The original destination is a Kubernetes Service: kube-proxy takes the connection
            // to its endpoint (PassthroughCluster to a Service the proxy does not know).
            EndpointTarget::OriginalDestination => {
                match step::kube_proxy(self.mesh, self.original_host, port) {
                    Some((w, target_port)) => self.enter_workload(Some(idx), &w, target_port, wire),
                    None => self.reach(Some(idx), &host, port, wire, crate::external::DEFAULT_PEER),
                }
            }
            // Traffic leaving the cluster is seen from one public address.
            _ => self.reach(Some(idx), &host, port, wire, crate::external::DEFAULT_PEER),
        }
    }

    /// The address of `cluster_name`'s first endpoint on `proxy` (where a connection would go).
    fn first_endpoint(
        &self,
        proxy: &ProxyConfig,
        cluster_name: &Name,
    ) -> Option<std::net::SocketAddr> {
        let ep = proxy.clusters.get(&**cluster_name)?.endpoints.first()?;
        let (_, port, address) =
            step::endpoint_address(self.internet, ep, (self.original_host, self.original_port));
        self.upstream_address(ep, address, port)
    }

    /// The address a connection to endpoint `ep` (its name resolved to `address`) goes to: for
    /// the original destination, the address the client dialed (a Service's ClusterIP, which no
    /// public DNS resolves), as Envoy's `ORIGINAL_DST` cluster takes it off the connection.
    fn upstream_address(
        &self,
        ep: &crate::xds::Endpoint,
        address: Option<std::net::IpAddr>,
        port: u16,
    ) -> Option<std::net::SocketAddr> {
        match (&ep.target, self.original_address) {
            (EndpointTarget::OriginalDestination, Some(dialed)) => Some(dialed),
            _ => address.map(|a| std::net::SocketAddr::new(a, port)),
        }
    }

    fn enter_workload(
        &mut self,
        from_hop: Option<usize>,
        w: &WorkloadRef,
        port: u16,
        wire: Wire,
    ) -> End {
        // A failed connect: reported by the proxy that tried, or seen by the client itself.
        let failed = |w: &WorkloadRef, outcome: Reached| match from_hop {
            Some(hop) => End::UpstreamFailed {
                hop,
                failure: if outcome == Reached::Refused {
                    UpstreamFailure::ConnectFailure
                } else {
                    UpstreamFailure::ConnectionTermination
                },
            },
            None => End::Reached {
                destination: w.to_string(),
                port,
                tls: false,
                outcome,
            },
        };
        if self.mesh.workload(w).is_none() {
            return failed(w, Reached::Refused);
        }
        let Some(proxy) = self.proxy(w) else {
            // No proxy: the pod's application itself takes the connection.
            let source = wire.source.parse().unwrap_or(crate::external::DEFAULT_PEER);
            return self.reach_app(from_hop, w, port, wire, source);
        };
        let Some(listener) = proxy.inbound_listener(port) else {
            let note = match proxy.kind {
                ProxyKind::Gateway => Note::GatewayPortClosed {
                    gateway: proxy.proxy.clone(),
                    port,
                },
                ProxyKind::Sidecar => Note::AppPortClosed {
                    workload: proxy.proxy.clone(),
                    port,
                },
            };
            if let Some(h) = from_hop.and_then(|i| self.hops.get_mut(i)) {
                h.notes.push(note);
            }
            return failed(w, Reached::Refused);
        };
        let end = self.receive(proxy, listener, "inbound", wire);
        // A handshake the proxy refused is, for the caller, a failed connect.
        match (end, from_hop) {
            (
                End::Closed {
                    hop, termination, ..
                },
                Some(from),
            ) if termination == TLS_HANDSHAKE_FAILED && hop == from + 1 => {
                let because = self.hops[hop].notes.clone();
                self.hops[from]
                    .notes
                    .push(Note::UpstreamTlsFailed { because });
                self.hops.truncate(from + 1);
                End::UpstreamFailed {
                    hop: from,
                    failure: UpstreamFailure::ConnectFailure,
                }
            }
            (End::Closed { termination, .. }, None) if termination == TLS_HANDSHAKE_FAILED => {
                failed(w, Reached::Reset)
            }
            (other, _) => other,
        }
    }

    /// The connection reaches `w`'s application (`Mesh::apps`), from `source`: a pod without a
    /// sidecar listens on its own address; behind a sidecar, the inbound cluster connects to it.
    /// A pod whose application listens nowhere refuses.
    fn reach_app(
        &mut self,
        idx: Option<usize>,
        w: &WorkloadRef,
        port: u16,
        wire: Wire,
        source: std::net::Ipv4Addr,
    ) -> End {
        let address = self
            .mesh
            .workload(w)
            .and_then(crate::pods::app_address)
            .filter(|a| self.mesh.apps.hosts_at(*a).next().is_some());
        let Some(address) = address else {
            return End::Reached {
                destination: w.to_string(),
                port,
                tls: !wire.layers.is_empty(),
                outcome: Reached::Refused,
            };
        };
        let apps = self.mesh.apps.clone();
        let proxy = apps.forward_proxy_at(address, port).cloned();
        let connect = wire.layers.is_empty()
            && wire
                .http
                .as_ref()
                .is_some_and(|r| r.method.eq_ignore_ascii_case("CONNECT"));
        if let (Some(server), true) = (&proxy, connect) {
            let authority = wire.http.as_ref().map(|r| r.authority.to_string());
            return self.tunnel(
                idx,
                w,
                server,
                (address, port),
                &authority.unwrap_or_default(),
                source,
            );
        }
        // A whole request in absolute form: the proxy makes it itself.
        let whole = proxy.zip(wire.http.as_ref().filter(|_| wire.layers.is_empty()));
        if let Some((server, request)) = whole {
            let ip = std::net::IpAddr::V4(source);
            let own = crate::external::forward::proxied_request(
                &server,
                &request.method,
                &request.path,
                &request.headers,
                &request.body,
                ip,
            );
            if let Some(own) = own {
                let record = crate::outcome::Received {
                    host: address.to_string(),
                    port,
                    tls: false,
                    sni: None,
                    method: request.method.to_string(),
                    url: request.path.to_string(),
                    headers: request.headers.clone(),
                    peer: ip,
                    status: 0,
                    upstream: None,
                };
                return self.relay(idx, w, server, record, own);
            }
        }
        let mut end = self.reach_in(&apps, idx, &address.to_string(), port, wire, source);
        // Named as the workload, not by the address standing for its loopback.
        if let End::Reached { destination, .. } = &mut end {
            *destination = w.to_string();
        }
        let shown = address.to_string();
        if let Some(Note::Received { host, .. }) = idx
            .and_then(|i| self.hops.get_mut(i))
            .and_then(|h| h.notes.last_mut())
            .filter(|n| matches!(n, Note::Received { host, .. } if *host == shown))
        {
            *host = format!("{w}'s application");
        }
        end
    }

    /// Forward proxy `server`, `w`'s application, got a whole request (`record`) and makes `own`,
    /// decided as a request of its pod; what it answers follows from that (`answer`).
    fn relay(
        &mut self,
        idx: Option<usize>,
        w: &WorkloadRef,
        server: crate::external::ForwardProxyServer,
        mut record: crate::outcome::Received,
        own: ClientRequest,
    ) -> End {
        let port = record.port;
        let target = record.url.clone();
        let leg = match decide(self.mesh, self.internet, &Call::new(w.clone(), own)) {
            Ok(leg) => leg,
            // The proxy's pod is not in the mesh the walk knows: its own connection goes
            // nowhere, as the sockets answer it.
            Err(_) => {
                let failed = crate::outcome::ClientResult::ConnectionFailed {
                    error: crate::outcome::ConnectionError::Refused,
                    during_tls: false,
                };
                let response = crate::external::forward::relay_answer(&server, &failed);
                record.status = response.status;
                self.received.push(record);
                return End::Reached {
                    destination: w.to_string(),
                    port,
                    tls: false,
                    outcome: Reached::Response {
                        response,
                        delay_ms: 0,
                    },
                };
            }
        };
        if let Some(h) = idx.and_then(|i| self.hops.get_mut(i)) {
            h.notes.push(Note::Relayed {
                proxy: format!("{w}'s application"),
                url: target,
            });
        }
        record.upstream = leg.address;
        self.received.extend(leg.received.iter().cloned());
        End::Reached {
            destination: w.to_string(),
            port,
            tls: false,
            outcome: Reached::Relayed(super::Relay {
                leg: Box::new(leg),
                server,
                record,
            }),
        }
    }

    /// Forward proxy `server`, `w`'s application at `at`, got `CONNECT target` from `source`: it
    /// opens the tunnel if the port is allowed and its own connection to the target (decided as
    /// a request of its pod) gets through, as Squid does; else it answers with an error page.
    fn tunnel(
        &mut self,
        idx: Option<usize>,
        w: &WorkloadRef,
        server: &crate::external::ForwardProxyServer,
        at: (std::net::Ipv4Addr, u16),
        target: &str,
        source: std::net::Ipv4Addr,
    ) -> End {
        let (address, port) = at;
        let parsed = crate::external::forward::connect_target(target);
        let mut record = |status: u16, upstream: Option<std::net::IpAddr>| {
            self.received.push(crate::outcome::Received {
                host: address.to_string(),
                port,
                tls: false,
                sni: None,
                method: "CONNECT".into(),
                url: target.to_string(),
                headers: Vec::new(),
                peer: std::net::IpAddr::V4(source),
                status,
                upstream,
            });
        };
        let leg = match parsed {
            Some((host, target_port)) if TunnelVerdict::allowed(target_port) => {
                let inner = match self.tunneled {
                    Some(r) if r.host == host && r.port == target_port => r.tunneled(),
                    _ => ClientRequest::get(Scheme::Tcp, &host, target_port, ""),
                };
                // The client's TLS goes through the tunnel end to end: its own trust and
                // certificate, not files of the proxy's pod.
                decide_leg(
                    self.mesh,
                    self.internet,
                    &Call::new(w.clone(), inner),
                    None,
                    Ok(self.credentials.clone()),
                )
                .ok()
            }
            _ => None,
        };
        let verdict = match &leg {
            None => TunnelVerdict::Denied,
            Some(t) if !t.hops.is_empty() => TunnelVerdict::Open,
            Some(t) => match &t.end {
                End::Reached {
                    outcome: Reached::Unresolved,
                    ..
                } => TunnelVerdict::NoName,
                End::Reached {
                    outcome: Reached::Refused | Reached::NoRoute,
                    ..
                } => TunnelVerdict::Unreachable,
                _ => TunnelVerdict::Open,
            },
        };
        if let Some(h) = idx.and_then(|i| self.hops.get_mut(i)) {
            h.notes.push(Note::Tunnel {
                proxy: format!("{w}'s application"),
                target: target.to_string(),
                verdict: match verdict {
                    TunnelVerdict::Open => "tunnel open".into(),
                    TunnelVerdict::Denied => "403, only port 443 may be tunnelled".into(),
                    TunnelVerdict::NoName => "503, the name does not resolve".into(),
                    TunnelVerdict::Unreachable => "503, the destination cannot be reached".into(),
                },
            });
        }
        let outcome = match (verdict, leg) {
            (TunnelVerdict::Open, Some(leg)) => {
                record(200, leg.address);
                self.received.extend(leg.received.iter().cloned());
                Reached::Tunnel(super::Tunnel(Box::new(leg)))
            }
            (verdict, leg) => {
                let response = connect_answer(server, verdict);
                record(response.status, None);
                // An unanswered connect ends when the proxy's connect timeout does.
                let unanswered = leg.is_some_and(|l| {
                    matches!(
                        l.end,
                        End::Reached {
                            outcome: Reached::NoRoute,
                            ..
                        }
                    )
                });
                Reached::Response {
                    response,
                    delay_ms: if unanswered {
                        PROXY_CONNECT_TIMEOUT_MS
                    } else {
                        0
                    },
                }
            }
        };
        End::Reached {
            destination: w.to_string(),
            port,
            tls: false,
            outcome,
        }
    }

    /// The connection reaches a host outside the mesh.
    fn reach(
        &mut self,
        idx: Option<usize>,
        host: &str,
        port: u16,
        wire: Wire,
        source: std::net::Ipv4Addr,
    ) -> End {
        let internet = self.internet;
        self.reach_in(internet, idx, host, port, wire, source)
    }

    /// The connection reaches `host` of `world` (the Internet, or the pods' applications).
    fn reach_in(
        &mut self,
        world: &Internet,
        idx: Option<usize>,
        host: &str,
        port: u16,
        wire: Wire,
        source: std::net::Ipv4Addr,
    ) -> End {
        let outer = wire.layers.first();
        let mut arrival = wire
            .arrival(port, source)
            .presenting(outer.and_then(|l| l.client_certificate.clone()));
        // The client checks the certificate of the server its TLS reached; a rejected one ends
        // the handshake (the server saw a ClientHello, and no request).
        if let Some((trust, name)) = outer.and_then(|l| l.verify.as_ref()) {
            if let Some(server) = world.tls_server(host, &arrival) {
                let presented = match server.tls() {
                    Some(own) => crate::external::tls::Presented::Own(&own.certificate),
                    None => crate::external::tls::Presented::Public,
                };
                // The server records nothing of a handshake that did not complete.
                if let Err(problem) = crate::external::tls::check_server(trust, presented, name) {
                    return End::Reached {
                        destination: host.to_string(),
                        port,
                        tls: true,
                        outcome: Reached::CertificateRejected(problem),
                    };
                }
            }
        }
        // The client's own TLS negotiates h2 by ALPN when the host offers it.
        if let ([layer], Some(request)) = (wire.layers.as_slice(), arrival.request.as_mut()) {
            if layer.alpn_h2 && world.listener(host, port).is_some_and(|l| l.http2) {
                request.version = crate::outcome::HttpVersion::Http2;
            }
        }
        let mut served = world.serve(host, &arrival);
        // A host answers in the version the request came in (h2 by ALPN, or an h2c preface).
        if let (Served::Response { response, .. }, Some(request)) =
            (&mut served, arrival.request.as_ref())
        {
            response.version = request.version;
        }
        let tls = arrival.is_tls();
        if let Some(address) = world.resolve(host) {
            self.received
                .extend(received(&arrival, &served, wire.layers.len(), address));
        }
        // Only a destination that took the connection receives anything.
        let accepted = !matches!(
            served,
            Served::Refused | Served::Unresolved | Served::NoRoute
        );
        if let Some(h) = idx.and_then(|i| self.hops.get_mut(i)).filter(|_| accepted) {
            h.notes.push(Note::Received {
                host: host.to_string(),
                port,
                wire: wire.kind(),
            });
        }
        // A second TLS layer inside the one the host terminates is not HTTP to it: a web server
        // answers 400 in plain text, which the client's own handshake cannot read.
        let outcome = match (wire.layers.len(), from_served(served)) {
            (2.., Reached::Response { .. }) => Reached::NotTls,
            (_, other) => other,
        };
        End::Reached {
            destination: host.to_string(),
            port,
            tls,
            outcome,
        }
    }
}

/// What a host outside the mesh records of a plain connection `proxy` opened through `cluster`
/// to `at` and closed before sending a byte (a TCP proxy's upstream when network RBAC denies):
/// a connection that closed before its first byte, from the cluster's public address.
fn closed_unread(
    proxy: &ProxyConfig,
    cluster: &Name,
    at: Option<std::net::SocketAddr>,
) -> Option<crate::outcome::Received> {
    let at = at?;
    let c = proxy.clusters.get(&**cluster)?;
    let outside = c.endpoints.first().is_some_and(|e| {
        matches!(
            e.target,
            EndpointTarget::External(_) | EndpointTarget::OriginalDestination
        )
    });
    (outside && c.tls.is_none()).then(|| crate::outcome::Received {
        host: at.ip().to_string(),
        port: at.port(),
        tls: false,
        sni: None,
        method: "-".into(),
        url: format!("tcp://{}:{}", at.ip(), at.port()),
        headers: Vec::new(),
        peer: std::net::IpAddr::V4(crate::external::DEFAULT_PEER),
        status: 0,
        upstream: None,
    })
}

/// What the destination at `address` records of `arrival` (see `outcome::Received`), given what it
/// did with it and how many TLS layers the connection carried; nothing when nothing accepted it.
fn received(
    arrival: &Arrival,
    served: &Served,
    layers: usize,
    address: std::net::Ipv4Addr,
) -> Option<crate::outcome::Received> {
    let name = |hint: Option<&str>| {
        hint.map(crate::external::normalize_name)
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| address.to_string())
    };
    let port = arrival.port;
    let sni = arrival.sni().map(str::to_string);
    let record = |host: String, tls: bool, method: &str, url: String, status: u16, headers| {
        crate::outcome::Received {
            host,
            port,
            tls,
            sni: sni.clone(),
            method: method.to_string(),
            url,
            headers,
            peer: std::net::IpAddr::V4(arrival.peer()),
            status,
            upstream: None,
        }
    };
    match served {
        Served::Refused | Served::Unresolved | Served::NoRoute => None,
        Served::Reset => Some(record(
            name(arrival.sni()),
            false,
            "-",
            String::new(),
            0,
            Vec::new(),
        )),
        Served::Response { response, .. } => match (&arrival.request, layers) {
            (Some(request), 0 | 1) => {
                let authority_host = match request.authority.rsplit_once(':') {
                    Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) => h,
                    _ => request.authority.as_str(),
                };
                let host = name(arrival.sni().or(Some(authority_host)));
                let scheme = if arrival.is_tls() { "https" } else { "http" };
                let authority = if request.authority.is_empty() {
                    host.clone()
                } else {
                    request.authority.clone()
                };
                let url = format!("{scheme}://{authority}{}", request.path);
                let headers = request
                    .headers
                    .iter()
                    .filter(|(k, _)| !k.eq_ignore_ascii_case("host"))
                    .cloned()
                    .collect();
                Some(record(
                    host,
                    arrival.is_tls(),
                    &request.method,
                    url,
                    response.status,
                    headers,
                ))
            }
            _ => {
                let host = name(arrival.sni());
                let scheme = if arrival.is_tls() { "tls" } else { "tcp" };
                let url = format!("{scheme}://{host}:{port}");
                Some(record(
                    host,
                    arrival.is_tls(),
                    "-",
                    url,
                    response.status,
                    Vec::new(),
                ))
            }
        },
    }
}

fn from_served(s: Served) -> Reached {
    match s {
        Served::Response { response, delay_ms } => Reached::Response { response, delay_ms },
        Served::Refused => Reached::Refused,
        Served::Reset => Reached::Reset,
        Served::Unresolved => Reached::Unresolved,
        Served::NoRoute => Reached::NoRoute,
    }
}

/// Decide one request from a workload (or the workstation). A request through a forward proxy is decided as the
/// client's connection to the proxy, carrying `CONNECT` or the whole request (`to_proxy`); the
/// proxy's own connection is the trace's second leg (`Reached::Tunnel`, `Reached::Relayed`). The
/// trace keeps the client's request.
pub fn decide(mesh: &Mesh, internet: &Internet, call: &Call) -> Result<Trace, DecideError> {
    // curl reads its TLS files where it runs.
    let credentials = step::client_credentials(mesh, &call.from, &call.request);
    let Some(to_proxy) = call.request.to_proxy() else {
        return decide_leg(mesh, internet, call, None, credentials);
    };
    let leg = Call::new((*call.from).clone(), to_proxy);
    let mut trace = decide_leg(mesh, internet, &leg, Some(&call.request), credentials)?;
    trace.request = call.request.clone();
    Ok(trace)
}

/// The client as the walk needs it: its workload (none on the workstation), the address its
/// connections come from, and the identity its workload carries.
struct Client<'m> {
    workload: Option<&'m crate::topology::Workload>,
    source: Name,
    identity: Name,
}

fn client<'m>(mesh: &'m Mesh, from: &Origin) -> Result<Client<'m>, DecideError> {
    match from {
        Origin::Workstation(_) => Ok(Client {
            workload: None,
            source: crate::request::WORKSTATION_ADDRESS.to_string().into(),
            identity: "".into(),
        }),
        Origin::Pod(pod) => {
            let w = mesh
                .workload(pod)
                .ok_or_else(|| DecideError::UnknownWorkload {
                    workload: pod.to_string(),
                    known: mesh
                        .ctx
                        .workloads
                        .keys()
                        .map(|k| k.to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                })?;
            Ok(Client {
                workload: Some(w),
                source: w.address.clone(),
                identity: w.identity.clone(),
            })
        }
    }
}

fn decide_leg(
    mesh: &Mesh,
    internet: &Internet,
    call: &Call,
    tunneled: Option<&ClientRequest>,
    credentials: Result<crate::request::ClientCredentials, crate::outcome::TlsFileProblem>,
) -> Result<Trace, DecideError> {
    let (from, request) = (&*call.from, &*call.request);
    let client = client(mesh, from)?;
    // The connection goes to the dial host and port (`--resolve`, `--connect-to`), which are the
    // URL's unless the client pinned others; SNI and Host stay the URL's.
    let (dial_host, port) = (request.dial_host(), request.dial_port());
    let dest = step::resolve_from(mesh, internet, from, dial_host);
    let k8s = dest.in_cluster.then_some(dest.host.as_str());
    let (dest_host, address) = (dest.host.as_str(), dest.address);
    let mut walk = Walk {
        mesh,
        internet,
        hops: Vec::with_capacity(2),
        received: Vec::new(),
        original_host: dest_host,
        original_port: port,
        tunneled,
        credentials: Default::default(),
        original_address: address.map(|a| std::net::SocketAddr::new(a, port)),
    };
    let http = call.sent.clone();
    // curl reads its TLS files before it connects (only for https://).
    // A TLS file curl cannot use stops it.
    let credentials = match credentials {
        Ok(c) => c,
        Err(problem) => {
            return Ok(Trace {
                from: call.from.clone(),
                from_identity: client.identity,
                request: call.request.clone(),
                address,
                hops: Vec::new(),
                end: End::NotSent { problem },
                received: Vec::new(),
                remedies: Vec::new(),
            })
        }
    };
    walk.credentials = credentials.clone();
    let source = client.source.clone();
    let wire = match request.scheme {
        Scheme::Http => Wire {
            layers: Vec::new(),
            http: Some(http),
            source,
        },
        Scheme::Https => Wire {
            layers: vec![TlsLayer {
                sni: request
                    .host
                    .parse::<std::net::IpAddr>()
                    .is_err()
                    .then(|| request.host.clone()),
                alpn_h2: request.http.offers_h2(),
                client_identity: None,
                verify: Some((credentials.trust.clone(), request.host.clone())),
                client_certificate: credentials.certificate.clone(),
            }],
            http: Some(http),
            source,
        },
        Scheme::Tcp => Wire {
            layers: Vec::new(),
            http: None,
            source,
        },
    };
    let end = if k8s.is_none() && address.is_none() {
        End::Reached {
            destination: dial_host.to_string(),
            port,
            tls: request.scheme == Scheme::Https,
            outcome: Reached::Unresolved,
        }
    } else {
        let sidecar = client.workload.and_then(|w| {
            w.proxy
                .filter(|_| step::captures(w, request))
                .and_then(|_| walk.proxy(&w.id))
        });
        match (sidecar, client.workload) {
            (Some(proxy), _) => match step::outbound_listener(proxy, address, port) {
                Some(listener) => walk.receive(proxy, listener, "outbound", wire),
                None => walk.reach(None, dest_host, port, wire, crate::external::DEFAULT_PEER),
            },
            (None, Some(_)) => {
                // No sidecar: the application's connection goes straight out, or through
                // kube-proxy to a Service's endpoint.
                match (k8s, step::kube_proxy(mesh, dest_host, port)) {
                    (_, Some((t, target_port))) => walk.enter_workload(None, &t, target_port, wire),
                    (Some(_), None) => End::Reached {
                        destination: dest_host.to_string(),
                        port,
                        tls: false,
                        outcome: Reached::Refused,
                    },
                    (None, None) => {
                        walk.reach(None, dest_host, port, wire, crate::external::DEFAULT_PEER)
                    }
                }
            }
            (None, None) => {
                // The workstation: a Service's load-balancer address leads into the cluster
                // (kube-proxy's rules for it); anything else is the Internet, where the
                // cluster's own addresses do not route.
                let unreachable = |outcome| End::Reached {
                    destination: dest_host.to_string(),
                    port,
                    tls: false,
                    outcome,
                };
                use step::FromOutside;
                match address.map(|a| step::from_outside(mesh, a, port)) {
                    Some(FromOutside::Balanced(t, target_port)) => {
                        walk.enter_workload(None, &t, target_port, wire)
                    }
                    // kube-proxy rejects a port the Service does not have.
                    Some(FromOutside::Rejected) => unreachable(Reached::Refused),
                    Some(FromOutside::Unroutable) => unreachable(Reached::NoRoute),
                    Some(FromOutside::Internet) => walk.reach(
                        None,
                        dest_host,
                        port,
                        wire,
                        crate::request::WORKSTATION_ADDRESS,
                    ),
                    None => unreachable(Reached::Unresolved),
                }
            }
        }
    };
    Ok(Trace {
        from: call.from.clone(),
        from_identity: client.identity,
        request: call.request.clone(),
        address,
        hops: walk.hops,
        end,
        received: walk.received,
        remedies: Vec::new(),
    })
}

#[cfg(test)]
#[path = "walk_tests.rs"]
mod tests;
