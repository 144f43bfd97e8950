//! The certificate files a rendered config reads: a proxy's SPIFFE certificate chain and key from
//! a mesh CA, the mesh root, and a public CA bundle, issued (`CertPems::issue`) or taken from
//! existing authorities (`CertPems::from_authorities`, for a run that shares the simulated mesh's
//! CAs), and written to a folder (`write`); and its gateway servers' `credentialName`
//! certificates, made from the scenario's certificate values (`write_credentials`).
//!
//! Owns: the PEM texts and their files. Leaves out: the CAs themselves (`sim::pki`) and where the
//! config expects the files (`Placement`).

use super::error::EnvoyError;
use super::placement::CertPaths;
use egressbench_model::xds::ProxyConfig;
use egressbench_network::materials::Materials;
use egressbench_network::pki::{CertificateAuthority, LeafSpec};
use std::path::Path;

/// The PEM texts of one proxy's certificate files.
#[derive(Clone)]
pub struct CertPems {
    /// Leaf first, then the mesh root.
    pub cert_chain: String,
    pub private_key: String,
    pub mesh_root: String,
    pub public_ca: String,
}

impl std::fmt::Debug for CertPems {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertPems")
            .field("private_key", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl CertPems {
    /// The files for SPIFFE identity `identity`, from the given authorities.
    pub fn from_authorities(
        mesh_ca: &CertificateAuthority,
        public_ca: &CertificateAuthority,
        identity: &str,
    ) -> Result<CertPems, EnvoyError> {
        let leaf = mesh_ca
            .issue(&LeafSpec::workload(identity))
            .map_err(|e| EnvoyError::Certs(e.to_string()))?;
        Ok(CertPems {
            cert_chain: leaf.cert_pem(),
            private_key: leaf.key_pem(),
            mesh_root: mesh_ca.root_pem(),
            public_ca: public_ca.root_pem(),
        })
    }

    /// The files for `identity` from a fresh mesh CA and a fresh public CA (enough for
    /// `envoy --mode validate`, and for a proxy that only talks to peers issued by the same CAs).
    pub fn issue(identity: &str) -> Result<CertPems, EnvoyError> {
        let certs = |e: egressbench_network::pki::PkiError| EnvoyError::Certs(e.to_string());
        let mesh_ca =
            CertificateAuthority::new("egressbench mesh CA (cluster.local)").map_err(certs)?;
        let public_ca = CertificateAuthority::new("egressbench public root CA").map_err(certs)?;
        CertPems::from_authorities(&mesh_ca, &public_ca, identity)
    }

    /// Write the files into `dir` (created when missing) as `cert-chain.pem`, `key.pem`
    /// (owner-only), `root-cert.pem` and `ca-certificates.crt`; the absolute paths written.
    pub fn write(&self, dir: &Path) -> Result<CertPaths, EnvoyError> {
        let failed = |path: &Path| {
            let path = path.to_path_buf();
            move |source| EnvoyError::Write { path, source }
        };
        std::fs::create_dir_all(dir).map_err(failed(dir))?;
        let dir = std::path::absolute(dir).map_err(failed(dir))?;
        let paths = CertPaths {
            cert_chain: dir.join("cert-chain.pem"),
            private_key: dir.join("key.pem"),
            mesh_root: dir.join("root-cert.pem"),
            public_ca: dir.join("ca-certificates.crt"),
            credentials: dir.join("credentials"),
        };
        for (path, text) in [
            (&paths.cert_chain, &self.cert_chain),
            (&paths.mesh_root, &self.mesh_root),
            (&paths.public_ca, &self.public_ca),
        ] {
            std::fs::write(path, text).map_err(failed(path))?;
        }
        write_private(&paths.private_key, &self.private_key).map_err(failed(&paths.private_key))?;
        Ok(paths)
    }
}

/// Write the files of every `credentialName` Secret `proxy`'s servers present into `paths`'
/// credentials folder (`CertPaths::credential`), made by `materials` (the same certificates the
/// simulated mesh serves), and an empty SDS source for each Secret that does not exist.
pub fn write_credentials(
    proxy: &ProxyConfig,
    paths: &CertPaths,
    materials: &Materials,
) -> Result<(), EnvoyError> {
    let write = |path: &Path, text: &str| {
        let failed = |source| EnvoyError::Write {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(failed)?;
        }
        std::fs::write(path, text).map_err(failed)
    };
    let made = |c: &egressbench_resources::files::Certificate| {
        materials
            .certificate(c)
            .map_err(|e| EnvoyError::Certs(e.to_string()))
    };
    for credential in proxy.credentials() {
        let Some(certificate) = &credential.certificate else {
            write(&paths.missing_credential(&credential.secret), "")?;
            continue;
        };
        let (_, key) = materials
            .key(&certificate.key)
            .map_err(|e| EnvoyError::Certs(e.to_string()))?;
        let (cert_path, key_path, ca_path) = paths.credential(credential);
        write(&cert_path, &made(certificate)?.pem)?;
        write_private(&key_path, &key).map_err(|source| EnvoyError::Write {
            path: key_path.clone(),
            source,
        })?;
        if let Some(ca) = &credential.ca {
            write(&ca_path, &made(ca)?.pem)?;
        }
    }
    Ok(())
}

/// Write a file only its owner can read.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(text.as_bytes())
}
