//! The application's client in a workload, as a target runs it: the built-in curl, or the real
//! curl binary pointed at the same place. The simulated mesh and the Envoy runner both make their
//! requests through it, so `--curl` means the same on both.
//!
//! Owns: `ClientKind`, `AppClient` (the kind, and for the real curl the public CA as a file for
//! `--cacert`, removed on drop) and the choice between the two clients for one request. Leaves
//! out: where the connection goes (`Dial`, chosen by the target) and the clients themselves
//! (`builtin`, `real_curl`).

use super::builtin::{send, Dial};
use super::real_curl::{send_with_curl, CurlError};
use crate::Fabric;
use egressbench_model::outcome::{ClientResult, ConnectionError};
use egressbench_model::request::{ClientCredentials, ClientRequest, Scheme};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// Which client makes the requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientKind {
    /// egressbench's own curl (hyper and rustls).
    BuiltIn,
    /// The real `curl` binary at this path, pointed at the sidecar with `--connect-to`. Raw TCP
    /// (which curl does not send) still goes through the built-in client.
    RealCurl(PathBuf),
}

/// What a client got for one request, and how long it took in simulated milliseconds.
#[derive(Debug, Clone)]
pub struct Sent {
    pub result: ClientResult,
    pub elapsed_ms: u64,
}

impl Sent {
    /// What curl reports when it cannot use one of its TLS files (`step::client_credentials`):
    /// it sent nothing.
    pub fn unusable_tls_file(problem: egressbench_model::outcome::TlsFileProblem) -> Sent {
        Sent {
            result: ClientResult::ConnectionFailed {
                error: ConnectionError::TlsFile(problem),
                during_tls: false,
            },
            elapsed_ms: 0,
        }
    }
}

/// A workload application's client, ready to send.
#[derive(Debug)]
pub struct AppClient {
    kind: ClientKind,
    /// The public CA's certificate as a file, for the real curl's `--cacert`, in a folder of its
    /// own (removed with the client, or when a signal stops the run).
    ca_file: Option<(crate::owned::OwnedDir, PathBuf)>,
    /// The built-in client's TLS config (trusts the public CA; offers h2 and http/1.1).
    tls: Arc<rustls::ClientConfig>,
    /// The scenario's own certificates (a server's, a client's `--cert`).
    materials: Arc<crate::materials::Materials>,
}

impl AppClient {
    /// A client of `kind` that trusts the public CA `public_ca_pem` (`tls` is the built-in
    /// client's config for the same CA). Writes the CA file the real curl needs.
    pub fn new(
        kind: ClientKind,
        public_ca_pem: &str,
        tls: Arc<rustls::ClientConfig>,
    ) -> std::io::Result<AppClient> {
        let ca_file = match &kind {
            ClientKind::BuiltIn => None,
            ClientKind::RealCurl(_) => Some(write_ca_file(public_ca_pem)?),
        };
        Ok(AppClient {
            kind,
            ca_file,
            tls,
            materials: Arc::default(),
        })
    }

    /// The same client, with the mesh's own certificates (`Certs::materials`).
    pub fn with_materials(mut self, materials: Arc<crate::materials::Materials>) -> Self {
        self.materials = materials;
        self
    }

    pub fn kind(&self) -> &ClientKind {
        &self.kind
    }

    /// Send `request` from simulated source `from` to `dial`, its TLS as `credentials` say (what
    /// curl's `--cacert`, `--cert`, `--key`, `-k` read in the pod: `client_credentials`), and
    /// report what curl would see and how long it took (measured, in simulated time).
    pub async fn send(
        &self,
        fabric: &Fabric,
        from: IpAddr,
        dial: Dial,
        request: &ClientRequest,
        credentials: &ClientCredentials,
    ) -> Result<Sent, CurlError> {
        let started = std::time::Instant::now();
        let built_in = |result| Sent {
            result,
            elapsed_ms: fabric.clock().simulated(started.elapsed()),
        };
        let curl = match (&self.kind, self.ca_file.as_ref().map(|(_, f)| f)) {
            (ClientKind::RealCurl(curl), Some(ca)) if request.scheme != Scheme::Tcp => {
                Some((curl, ca))
            }
            _ => None,
        };
        // curl's own check of the server, for requests that change what it trusts or presents,
        // and wherever a server has a certificate of its own (the public CA's check would only
        // say "unknown issuer").
        let own = (*credentials != ClientCredentials::default() || !self.materials.is_empty())
            .then_some((&*self.materials, credentials));
        let Some((curl, ca)) = curl else {
            let tls = match own {
                Some((_, credentials)) if request.scheme == Scheme::Https => {
                    crate::own_tls::curl_client(
                        &self.materials,
                        credentials,
                        &request.host,
                        &[b"h2", b"http/1.1"],
                    )
                    .map_err(|e| CurlError::Io(std::io::Error::other(e.to_string())))?
                }
                _ => self.tls.clone(),
            };
            return Ok(built_in(send(fabric, from, dial, request, tls).await));
        };
        let real = match dial {
            Dial::Real(a) => Some(a),
            Dial::Simulated(a) => fabric.real_addr(a),
            Dial::Unresolved => {
                return Ok(built_in(ClientResult::ConnectionFailed {
                    error: ConnectionError::Unresolved,
                    during_tls: false,
                }))
            }
            // Nothing real stands for an address that does not route: the built-in client
            // waits it out as curl would.
            Dial::Unroutable(_) => {
                return Ok(built_in(
                    send(fabric, from, dial, request, self.tls.clone()).await,
                ))
            }
        };
        match real {
            Some(real) => {
                let local = Some(fabric.alias(from));
                send_with_curl(curl, real, local, request, ca, own, fabric.clock()).await
            }
            None => Ok(built_in(ClientResult::ConnectionFailed {
                error: ConnectionError::Refused,
                during_tls: false,
            })),
        }
    }
}

fn write_ca_file(pem: &str) -> std::io::Result<(crate::owned::OwnedDir, PathBuf)> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let dir = crate::owned::OwnedDir::create(std::env::temp_dir().join(format!(
        "egressbench-public-ca-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )))?;
    let path = dir.join("public-ca.pem");
    std::fs::write(&path, pem)?;
    Ok((dir, path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::{public_client, CertificateAuthority};

    #[test]
    fn the_real_curls_ca_file_lives_as_long_as_the_client() {
        let ca = CertificateAuthority::new("test public CA").expect("a CA");
        let tls = public_client(&ca, &[b"http/1.1"]).expect("a client config");
        let client = AppClient::new(ClientKind::RealCurl("curl".into()), &ca.root_pem(), tls)
            .expect("the CA file is written");
        let file = client
            .ca_file
            .as_ref()
            .map(|(_, f)| f.clone())
            .expect("a CA file for the real curl");
        assert_eq!(
            std::fs::read_to_string(&file).expect("readable"),
            ca.root_pem()
        );
        drop(client);
        assert!(!file.exists(), "removed with the client");
        let tls = public_client(&ca, &[b"http/1.1"]).expect("a client config");
        let builtin = AppClient::new(ClientKind::BuiltIn, &ca.root_pem(), tls).expect("no file");
        assert!(builtin.ca_file.is_none());
    }
}
