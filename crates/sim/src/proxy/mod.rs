//! The proxies of the simulated mesh: each connection a sidecar captures or a gateway accepts is
//! served by the proxy's compiled config, as Envoy serves it.
//!
//! Owns: a connection's way in — the listener (a sidecar's by the connection's original
//! destination, a gateway's by port), the ClientHello read off the socket (`sim::hello`), the filter
//! chain chosen by it (`decide::step::select_chain`), TLS termination with the proxy's own mesh
//! certificate and the peer identity from the client's verified certificate — then hands the stream
//! to the chain's terminal filter: `http` (hyper) or `tcp`. Leaves out: building the config
//! (`xds`) and the certificate authorities (`pki`).

pub(crate) mod http;
pub(crate) mod pool;
pub(crate) mod tcp;
pub(crate) mod upstream;

use egressbench_model::decide::machine::Connection;
use egressbench_model::decide::step::{self, Hello};
use egressbench_model::mesh::Mesh;
use egressbench_model::outcome::reply::{Details, ResponseFlag, ResponseFlags};
use egressbench_model::outcome::AccessLogEntry;
use egressbench_model::request::WorkloadRef;
use egressbench_model::xds::{ProxyConfig, Terminal};
use egressbench_network::hello::{self, FirstBytes, Replay};
use egressbench_network::pki;
use egressbench_network::world::World;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use tokio::net::TcpStream;
use upstream::BoxIo;

/// How a connection reached the proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Captured from the proxy's own application, headed for `original` (iptables' original
    /// destination).
    Outbound { original: SocketAddr },
    /// Accepted on the proxy's own listener port (a gateway's, or a sidecar's inbound one).
    Inbound { port: u16 },
}

/// One downstream connection as the proxy knows it once the TLS (if any) is terminated.
#[derive(Debug)]
pub(crate) struct Downstream {
    pub world: Arc<World>,
    /// The proxies' idle upstream connections and counters.
    pub upstreams: Arc<pool::Upstreams>,
    /// The snapshot this connection is served with.
    pub mesh: Arc<Mesh>,
    pub proxy: WorkloadRef,
    /// The listener's port.
    pub port: u16,
    /// The simulated address the connection came from.
    pub source: IpAddr,
    /// SNI of the ClientHello (`requested_server_name`).
    pub sni: Option<String>,
    /// The proxy terminated TLS on this connection.
    pub tls_terminated: bool,
    /// SPIFFE identity of the verified client certificate.
    pub peer_identity: Option<String>,
    /// Where the connection was originally headed (`PassthroughCluster`).
    pub original: SocketAddr,
    /// Accepted on a listener facing inbound.
    pub inbound: bool,
}

impl Downstream {
    pub(crate) fn config(&self) -> Option<&ProxyConfig> {
        self.mesh.proxies.get(&self.proxy)
    }

    /// An access-log entry for this connection, with what every entry of it shares.
    pub(crate) fn entry(&self) -> AccessLogEntry {
        let mut e = AccessLogEntry::blank(self.proxy.to_string());
        e.downstream_local_address = self.original.to_string();
        if let Some(sni) = &self.sni {
            e.requested_server_name = sni.clone();
        }
        if let Some(p) = &self.peer_identity {
            e.downstream_peer_principal = p.clone();
        }
        e
    }

    /// What the request-handling machine knows of this connection; `source` is the peer's
    /// address as text (`self.source`, written out by the caller, which keeps it).
    pub(crate) fn connection<'a>(&'a self, source: &'a str) -> Connection<'a> {
        Connection {
            source,
            port: self.port,
            sni: self.sni.as_deref(),
            peer_identity: self.peer_identity.as_deref(),
            tls_terminated: self.tls_terminated,
            inbound: self.inbound,
        }
    }

    /// The original destination as `(host, port)` for `decide::step::endpoint_address`.
    pub(crate) fn original_host(&self) -> (String, u16) {
        (self.original.ip().to_string(), self.original.port())
    }
}

/// The downstream stream after the listener: as accepted, or with TLS terminated.
enum Down {
    Plain(Replay<TcpStream>),
    Tls(Box<tokio_rustls::server::TlsStream<Replay<TcpStream>>>),
}

impl Down {
    /// Close the connection with a TCP RST.
    fn reset(self) {
        let tcp = match self {
            Down::Plain(r) => r.into_inner().1,
            Down::Tls(t) => t.into_inner().0.into_inner().1,
        };
        egressbench_network::fabric::reset(tcp);
    }
}

/// Serve one accepted connection on `proxy`.
pub(crate) async fn serve(
    world: Arc<World>,
    upstreams: Arc<pool::Upstreams>,
    proxy: WorkloadRef,
    direction: Direction,
    mut stream: TcpStream,
    peer: SocketAddr,
) {
    let busy = world.logs.begin();
    let mesh = world.mesh();
    let Some(config) = mesh.proxies.get(&proxy) else {
        egressbench_network::fabric::reset(stream);
        return;
    };
    let source = world.fabric.simulated_peer(peer).unwrap_or(peer.ip());
    let Ok((first, bytes)) = hello::inspect(&mut stream).await else {
        return;
    };
    let (hello, sni) = match &first {
        FirstBytes::Tls(h) => (
            Hello::Tls {
                sni: h.sni.as_deref(),
            },
            h.sni.clone(),
        ),
        FirstBytes::Plain => (Hello::Plain, None),
    };
    let (listener, port, original) = match direction {
        Direction::Outbound { original } => (
            step::outbound_listener(config, Some(original.ip()), original.port()),
            original.port(),
            original,
        ),
        Direction::Inbound { port } => (
            config.inbound_listener(port),
            port,
            SocketAddr::new(config.address.parse().unwrap_or(source), port),
        ),
    };
    let inbound = matches!(direction, Direction::Inbound { .. });
    // A listener that does not read the ClientHello has no SNI (`Listener::inspects_tls`).
    let sni = sni.filter(|_| inbound || listener.is_some_and(|l| l.inspects_tls()));
    let mut down = Downstream {
        world: world.clone(),
        upstreams,
        mesh: mesh.clone(),
        proxy: proxy.clone(),
        port,
        source,
        sni,
        tls_terminated: false,
        peer_identity: None,
        original,
        inbound,
    };
    let Some(chain) = listener.and_then(|l| step::select_chain(l, hello)) else {
        let mut e = down.entry();
        e.response_flags = ResponseFlags::one(ResponseFlag::NoRouteFound).to_string();
        e.response_code_details = Details::FilterChainNotFound.to_string();
        world.logs.write(busy.seq, e);
        egressbench_network::fabric::reset(stream);
        return;
    };
    let is_tls = matches!(first, FirstBytes::Tls(_));
    let replay = Replay::new(bytes, stream);
    let stream = match &chain.downstream_tls {
        None => Down::Plain(replay),
        Some(tls) => {
            if !is_tls {
                // A TLS server chain reading plaintext: the handshake fails and Envoy closes.
                return;
            }
            let server = match &tls.credential {
                // A gateway server's own certificate (`credentialName`); without one, it has
                // nothing to present.
                Some(credential) => {
                    let Some(certificate) = &credential.certificate else {
                        return;
                    };
                    let alpn: &[&[u8]] = match chain.terminal {
                        Terminal::Http { .. } => &[b"h2", b"http/1.1"],
                        Terminal::Tcp { .. } => &[],
                    };
                    let Ok(server) = egressbench_network::own_tls::own_server(
                        &world.certs.materials,
                        certificate,
                        tls.require_client_certificate,
                        alpn,
                    ) else {
                        return;
                    };
                    server
                }
                None => {
                    let Ok(identity) = world.certs.identity(&config.identity) else {
                        return;
                    };
                    if tls.require_client_certificate {
                        identity.mesh_server_mutual.clone()
                    } else {
                        identity.mesh_server_simple.clone()
                    }
                }
            };
            let Ok(tls_stream) = tokio_rustls::TlsAcceptor::from(server).accept(replay).await
            else {
                // The client's certificate was missing or not from the mesh CA.
                return;
            };
            // MUTUAL with a credential: the client's certificate must chain to its CA.
            if let Some(credential) = tls
                .credential
                .as_ref()
                .filter(|_| tls.require_client_certificate)
            {
                let presented = tls_stream
                    .get_ref()
                    .1
                    .peer_certificates()
                    .and_then(|c| c.first())
                    .and_then(|der| world.certs.materials.identify(der));
                let issued = match (presented, &credential.ca) {
                    (Some(client), Some(ca)) => client.chains_to(ca),
                    _ => false,
                };
                if !issued {
                    return;
                }
            }
            down.tls_terminated = true;
            down.peer_identity = tls_stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|c| c.first())
                .and_then(pki::peer_identity);
            Down::Tls(Box::new(tls_stream))
        }
    };
    let down = Arc::new(down);
    match &chain.terminal {
        Terminal::Http { route_config, rbac } => {
            let boxed: BoxIo = match stream {
                Down::Plain(s) => Box::new(s),
                Down::Tls(s) => s,
            };
            // TLS bytes or a raw stream reaching an HTTP chain fail in the codec (`http::serve`).
            http::serve(down, boxed, route_config.clone(), rbac.clone(), busy).await;
            return;
        }
        Terminal::Tcp { routes, rbac } => {
            let rbac = rbac.as_ref();
            let to_reset = match stream {
                Down::Plain(s) => tcp::proxy(down, s, routes, rbac, busy.seq)
                    .await
                    .map(Down::Plain),
                Down::Tls(s) => tcp::proxy(down, *s, routes, rbac, busy.seq)
                    .await
                    .map(|s| Down::Tls(Box::new(s))),
            };
            if let Some(s) = to_reset {
                s.reset();
            }
        }
    }
    drop(busy);
}
