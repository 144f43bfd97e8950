//! What every proxy of one simulated mesh shares: the network, the outside world, the certificate
//! authorities, the access logs, and the current config snapshot.
//!
//! Owns: `World` and `Certs` (the mesh CA and the public CA, and each identity's certificate and
//! rustls configs, issued on first use). Leaves out: serving anything (`proxy`, `hosts`).

use super::fabric::Fabric;
use super::logs::LogSink;
use super::pki::{self, CertificateAuthority, ClientAuth, Leaf, LeafSpec, PkiError};
use egressbench_model::external::Internet;
use egressbench_model::mesh::Mesh;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

/// One identity's certificate and the TLS configs built on it.
#[derive(Debug)]
pub struct IdentityTls {
    pub leaf: Leaf,
    /// Mesh mTLS towards another proxy (ISTIO_MUTUAL origination).
    pub mesh_client: Arc<rustls::ClientConfig>,
    /// A server that requires a client certificate from the mesh CA (ISTIO_MUTUAL / MUTUAL).
    pub mesh_server_mutual: Arc<rustls::ServerConfig>,
    /// A server that asks for no client certificate (SIMPLE).
    pub mesh_server_simple: Arc<rustls::ServerConfig>,
}

/// The certificate authorities of one simulated mesh.
#[derive(Debug)]
pub struct Certs {
    /// Issues workload identities (`spiffe://cluster.local/ns/<ns>/sa/<sa>`).
    pub mesh_ca: CertificateAuthority,
    /// Issues the external hosts' server certificates; workloads and proxies trust it as they
    /// trust a system CA bundle.
    pub public_ca: CertificateAuthority,
    /// TLS origination to external hosts (no ALPN, as Envoy's upstream TLS for HTTP/1.1).
    pub public_client: Arc<rustls::ClientConfig>,
    /// An application's own https (curl offers h2 by ALPN).
    pub app_client: Arc<rustls::ClientConfig>,
    /// The scenario's own certificates and keys (what its `openssl` lines made), made on first
    /// use.
    pub materials: Arc<crate::materials::Materials>,
    identities: Mutex<HashMap<String, Arc<IdentityTls>>>,
}

impl Certs {
    pub fn new() -> Result<Certs, PkiError> {
        let mesh_ca = CertificateAuthority::new("egressbench mesh CA (cluster.local)")?;
        let public_ca = CertificateAuthority::new("egressbench public root CA")?;
        let public_client = pki::public_client(&public_ca, &[])?;
        let app_client = pki::public_client(&public_ca, &[b"h2", b"http/1.1"])?;
        Ok(Certs {
            mesh_ca,
            public_ca,
            public_client,
            app_client,
            materials: Arc::default(),
            identities: Mutex::new(HashMap::new()),
        })
    }

    /// The certificate and configs of SPIFFE identity `spiffe`, issued on first use.
    pub fn identity(&self, spiffe: &str) -> Result<Arc<IdentityTls>, PkiError> {
        let mut ids = self
            .identities
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(found) = ids.get(spiffe) {
            return Ok(found.clone());
        }
        let leaf = self.mesh_ca.issue(&LeafSpec::workload(spiffe))?;
        let made = Arc::new(IdentityTls {
            mesh_client: pki::mesh_client(&self.mesh_ca, &leaf, &[])?,
            mesh_server_mutual: pki::mesh_server(&self.mesh_ca, &leaf, ClientAuth::Required, &[])?,
            mesh_server_simple: pki::mesh_server(&self.mesh_ca, &leaf, ClientAuth::None, &[])?,
            leaf,
        });
        ids.insert(spiffe.to_string(), made.clone());
        Ok(made)
    }
}

/// Everything the proxies of one simulated mesh share.
#[derive(Debug)]
pub struct World {
    pub fabric: Arc<Fabric>,
    pub internet: Arc<Internet>,
    pub certs: Arc<Certs>,
    pub logs: Arc<LogSink>,
    mesh: RwLock<Arc<Mesh>>,
}

impl World {
    pub fn new(fabric: Arc<Fabric>, internet: Arc<Internet>, certs: Arc<Certs>) -> World {
        World {
            fabric,
            internet,
            certs,
            logs: LogSink::new(),
            mesh: RwLock::new(Arc::new(Mesh::empty())),
        }
    }

    /// The config snapshot new connections are served with (as Envoy's last xDS push).
    pub fn mesh(&self) -> Arc<Mesh> {
        self.mesh
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Push a new snapshot; connections already open keep the one they started with.
    pub fn set_mesh(&self, mesh: Arc<Mesh>) {
        *self.mesh.write().unwrap_or_else(PoisonError::into_inner) = mesh;
    }
}
