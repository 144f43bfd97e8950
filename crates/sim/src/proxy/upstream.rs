//! A proxy's upstream connection through one of its clusters: pick the endpoint, resolve it, open a
//! connection on the simulated network from the proxy's address, and originate TLS where the
//! cluster says (mesh mTLS with the proxy's own certificate, or TLS to an external host).
//!
//! Owns: `pick` (the endpoint), `open` (the connection to it), `connect` (both) and the ways
//! they fail. Leaves out: what is sent on the connection (`http`, `tcp`) and keeping it open for
//! the next request (`pool`).

use egressbench_model::decide::step;
use egressbench_model::decide::UpstreamFailure;
use egressbench_model::xds::{Cluster, EndpointTarget, ProxyConfig};
use egressbench_network::world::World;
use egressbench_resources::ClientTlsMode;
use rustls::pki_types::ServerName;
use std::net::{IpAddr, SocketAddr};
use tokio::io::{AsyncRead, AsyncWrite};

/// A byte stream of any kind (plain TCP, TLS over TCP, a replayed prefix before either).
pub(crate) trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}
pub(crate) type BoxIo = Box<dyn Io>;

/// An open upstream connection.
pub(crate) struct Upstream {
    pub stream: BoxIo,
    /// The simulated address connected to (Envoy's `upstream_host`).
    pub host: SocketAddr,
    /// TLS was originated on it.
    pub tls: bool,
    /// The cluster speaks HTTP/2 to its endpoints (istiod's `setH2Options`).
    pub http2: bool,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream")
            .field("host", &self.host)
            .field("tls", &self.tls)
            .field("http2", &self.http2)
            .finish()
    }
}

/// Why no upstream connection could be had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The route names a cluster this proxy does not have (Envoy `NC`).
    ClusterNotFound,
    /// The cluster has no endpoints (`BlackHoleCluster`; Envoy `UH`).
    NoEndpoints,
    /// The endpoint's name does not resolve.
    Unresolved,
    /// Refused, unroutable, or the TLS handshake failed (Envoy `UF`).
    Connect { host: SocketAddr, why: String },
}

impl Failure {
    /// The failure as the reference semantics names it (`None`: the cluster does not exist).
    pub(crate) fn kind(&self) -> Option<UpstreamFailure> {
        match self {
            Failure::ClusterNotFound => None,
            Failure::NoEndpoints | Failure::Unresolved => Some(UpstreamFailure::NoHealthyUpstream),
            Failure::Connect { .. } => Some(UpstreamFailure::ConnectFailure),
        }
    }

    pub(crate) fn host(&self) -> Option<SocketAddr> {
        match self {
            Failure::Connect { host, .. } => Some(*host),
            _ => None,
        }
    }
}

/// The endpoint a cluster's load balancer picked: the address Envoy names it by, where it is
/// dialed, and how TLS is originated to it.
#[derive(Debug, Clone)]
pub(crate) struct Picked<'c> {
    /// The cluster it was picked from.
    pub cluster: &'c Cluster,
    /// The simulated address (Envoy's `upstream_host`).
    pub host: SocketAddr,
    /// Where the connection is dialed (a sidecar's own application listens behind it).
    dialed: SocketAddr,
    source: IpAddr,
    /// The name the endpoint was resolved from (the default SNI).
    name: String,
}

/// Pick the endpoint of cluster `cluster_name` of `proxy`. `original` is where the downstream
/// connection was originally headed (for `PassthroughCluster`).
pub(crate) fn pick<'c>(
    world: &World,
    proxy: &'c ProxyConfig,
    cluster_name: &str,
    original: (&str, u16),
) -> Result<Picked<'c>, Failure> {
    let cluster = proxy
        .clusters
        .get(cluster_name)
        .ok_or(Failure::ClusterNotFound)?;
    let ep = cluster.endpoints.first().ok_or(Failure::NoEndpoints)?;
    let (name, port, address) = step::endpoint_address(&world.internet, ep, original);
    let address = address.ok_or(Failure::Unresolved)?;
    let host = SocketAddr::new(address, port);
    // A sidecar's own application listens behind it, at its `app_address`; the log names the
    // pod's address, as Envoy's does.
    let dialed = match &ep.target {
        EndpointTarget::App(w) => world
            .mesh()
            .workload(w)
            .and_then(egressbench_model::pods::app_address)
            .map_or(host, |a| SocketAddr::new(IpAddr::V4(a), port)),
        _ => host,
    };
    // Pods talk from their own address (a sidecar to its own application from 127.0.0.6); what
    // leaves the cluster the hosts outside see from one public address (`Hosts`' source NAT).
    let source: IpAddr = match &ep.target {
        EndpointTarget::App(_) => IpAddr::V4(egressbench_model::pods::INBOUND_SOURCE),
        _ => proxy
            .address
            .parse()
            .unwrap_or(IpAddr::V4(egressbench_model::external::DEFAULT_PEER)),
    };
    Ok(Picked {
        cluster,
        host,
        dialed,
        source,
        name,
    })
}

/// Open a connection from `proxy` to the endpoint `pick` chose.
pub(crate) async fn open(
    world: &World,
    proxy: &ProxyConfig,
    picked: &Picked<'_>,
) -> Result<Upstream, Failure> {
    let cluster = picked.cluster;
    let host = picked.host;
    let tcp = world
        .fabric
        .connect(picked.source, picked.dialed)
        .await
        .map_err(|e| Failure::Connect {
            host,
            why: e.to_string(),
        })?;
    let Some(tls) = &cluster.tls else {
        return Ok(Upstream {
            stream: Box::new(tcp),
            host,
            tls: false,
            http2: cluster.http2,
        });
    };
    let config = match tls.mode {
        ClientTlsMode::IstioMutual => world
            .certs
            .identity(&proxy.identity)
            .map_err(|e| Failure::Connect {
                host,
                why: e.to_string(),
            })?
            .mesh_client
            .clone(),
        _ => world.certs.public_client.clone(),
    };
    let sni = tls.sni.clone().unwrap_or_else(|| picked.name.clone());
    let server_name = ServerName::try_from(sni.clone())
        .or_else(|_| ServerName::try_from(host.ip().to_string()))
        .map_err(|e| Failure::Connect {
            host,
            why: format!("SNI {sni}: {e}"),
        })?;
    let stream = tokio_rustls::TlsConnector::from(config)
        .connect(server_name, tcp)
        .await
        .map_err(|e| Failure::Connect {
            host,
            why: format!("TLS handshake: {e}"),
        })?;
    Ok(Upstream {
        stream: Box::new(stream),
        host,
        tls: true,
        http2: cluster.http2,
    })
}

/// Pick an endpoint of cluster `cluster_name` and open a connection to it.
pub(crate) async fn connect(
    world: &World,
    proxy: &ProxyConfig,
    cluster_name: &str,
    original: (&str, u16),
) -> Result<Upstream, Failure> {
    let picked = pick(world, proxy, cluster_name, original)?;
    open(world, proxy, &picked).await
}
