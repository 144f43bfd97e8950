//! Where a rendered proxy's things really are when Envoy runs it: the address each listener
//! listens on, how outbound traffic reaches the sidecar, where each cluster endpoint really is,
//! the certificate files, the access log and the admin address.
//!
//! Owns: `Placement` (plain data) and its "in the pod" default, which is what `egressbench
//! envoy-config` prints for people. Leaves out: choosing loopback addresses and ports for a run
//! (the Envoy runner fills a `Placement` of its own) and writing certificate files (`certs`).

use egressbench_model::xds::{Endpoint, EndpointTarget};
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

/// How outbound connections of the application reach a sidecar's listeners.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capture {
    /// iptables redirects every outbound connection to `virtualOutbound` (15001), which hands it
    /// to the listener for its original destination (`use_original_dst` and the `original_dst`
    /// listener filter); the other listeners do not bind (`bind_to_port: false`). Istio's layout.
    Iptables,
    /// As `Iptables`, but the original destination comes from a PROXY protocol header the
    /// connecting side sends to `virtualOutbound` (the `proxy_protocol` listener filter restores
    /// it, and Envoy hands the connection off by it). Lets a runner on loopback reproduce the
    /// listener choice without iptables.
    ProxyProtocol,
    /// Every listener binds its own address (from `Placement::listeners`, else its config address).
    /// The original destination is then the listener's own address.
    Direct,
}

/// The certificate files a proxy's TLS contexts read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertPaths {
    /// The proxy's certificate chain (leaf first), PEM.
    pub cert_chain: PathBuf,
    /// The proxy's private key, PEM.
    pub private_key: PathBuf,
    /// The mesh CA root: trusted for mesh mTLS (ISTIO_MUTUAL) in both directions.
    pub mesh_root: PathBuf,
    /// The CA bundle trusted for TLS to external hosts (SIMPLE origination).
    pub public_ca: PathBuf,
    /// A folder holding, per gateway `credentialName` Secret NAME, `NAME/<fingerprint>/cert.pem`,
    /// `key.pem` and `ca.pem` (istiod sends them by SDS as `kubernetes://NAME`).
    pub credentials: PathBuf,
}

impl CertPaths {
    /// The files of a credential Secret: certificate chain, private key and CA, in a folder
    /// named after the Secret and a fingerprint of what it holds, so that a Secret replaced with
    /// other contents is another path, and the config that reads it changes with it.
    pub fn credential(
        &self,
        credential: &egressbench_model::xds::ServerCredential,
    ) -> (PathBuf, PathBuf, PathBuf) {
        let held = format!("{:?}{:?}", credential.certificate, credential.ca);
        let fingerprint = egressbench_text::hash::fnv1a(&held);
        let dir = self
            .credentials
            .join(&*credential.secret)
            .join(format!("{fingerprint:08x}"));
        (
            dir.join("cert.pem"),
            dir.join("key.pem"),
            dir.join("ca.pem"),
        )
    }

    /// The file standing for the SDS source of a credential Secret that does not exist: it holds
    /// no secret, so the server's certificate never arrives.
    pub fn missing_credential(&self, name: &str) -> PathBuf {
        self.credentials.join(format!("{name}.missing.yaml"))
    }

    /// Where an Istio proxy finds them in its pod (file-mounted certificates).
    pub fn in_pod() -> CertPaths {
        CertPaths {
            cert_chain: "/etc/certs/cert-chain.pem".into(),
            private_key: "/etc/certs/key.pem".into(),
            mesh_root: "/etc/certs/root-cert.pem".into(),
            public_ca: "/etc/ssl/certs/ca-certificates.crt".into(),
            credentials: "/etc/istio/credentials".into(),
        }
    }
}

/// Where access-log entries go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessLogSink {
    /// `/dev/stdout`, as Istio configures it (`kubectl logs … -c istio-proxy` shows it).
    Stdout,
    /// A file (one JSON object per line).
    File(PathBuf),
}

impl AccessLogSink {
    /// The path Envoy's file access logger writes to.
    pub fn path(&self) -> String {
        match self {
            AccessLogSink::Stdout => "/dev/stdout".to_string(),
            AccessLogSink::File(p) => p.display().to_string(),
        }
    }
}

/// Where things are when the proxy runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub capture: Capture,
    /// The address a listener binds, by listener name (`0.0.0.0_80`, `virtualOutbound`). A
    /// listener not named here uses its config address (`0.0.0.0` when it has none) and port.
    /// Listeners that do not bind (behind `virtualOutbound` under `Iptables`/`ProxyProtocol`)
    /// always keep their config address: Envoy hands connections to them by it.
    pub listeners: BTreeMap<String, SocketAddr>,
    /// Where a cluster endpoint really is, by `endpoint_key`: the endpoint's `address:port` as the config has it
    /// (`10.244.0.3:80` for a pod, `httpbin.org:443` for a DNS name). A DNS-resolved cluster whose
    /// endpoints are all placed becomes a STATIC cluster of the placed addresses. Endpoints not
    /// named here keep their address (a DNS name stays STRICT_DNS).
    pub endpoints: BTreeMap<String, SocketAddr>,
    pub certs: CertPaths,
    pub access_log: AccessLogSink,
    /// Envoy's admin interface.
    pub admin: SocketAddr,
}

impl Placement {
    /// The proxy as it runs in its pod: Istio's iptables capture, listeners on their config
    /// addresses, endpoints at their addresses or DNS names, file-mounted certificates, the access
    /// log on stdout and the admin interface on 127.0.0.1:15000.
    pub fn in_pod() -> Placement {
        Placement {
            capture: Capture::Iptables,
            listeners: BTreeMap::new(),
            endpoints: BTreeMap::new(),
            certs: CertPaths::in_pod(),
            access_log: AccessLogSink::Stdout,
            admin: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 15000),
        }
    }

    /// The real address of endpoint `e`, if placed.
    pub fn endpoint(&self, e: &Endpoint) -> Option<SocketAddr> {
        self.endpoints.get(&Placement::endpoint_key(e)).copied()
    }

    /// The key of `e` in `endpoints`: `address:port`, or `app/address:port` for a sidecar's own
    /// application (the same pod address and port as the sidecar's inbound listener, which is
    /// what other proxies reach there).
    pub fn endpoint_key(e: &Endpoint) -> String {
        match e.target {
            EndpointTarget::App(_) => format!("app/{}:{}", e.address, e.port),
            _ => format!("{}:{}", e.address, e.port),
        }
    }
}

impl Default for Placement {
    fn default() -> Self {
        Placement::in_pod()
    }
}
