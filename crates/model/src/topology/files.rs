//! What a pod's containers read as files: the keys of the Secrets and ConfigMaps their volumes
//! mount, as the cluster holds them now (the kubelet keeps mounted Secrets and ConfigMaps in
//! step with the API; every target is consistent when a step starts).
//!
//! Owns: `file_in` (a path in a container to its `FileContent`), `FileError`,
//! `client_credentials` (what curl's `--cacert`, `--cert`, `--key` and `-k` amount to in a pod,
//! or on the workstation) and `server_credential` (what a gateway server's `credentialName`
//! Secret gives it).
//! Leaves out: the files a workload's image brings (none are modelled: only mounted ones exist),
//! `items` and projected volumes, and what reads the files (nginx's `ssl_certificate`, `pods`).

use super::workload::{MountSource, Workload};
use egressbench_resources::files::FileContent;
use egressbench_resources::{Body, Kind, ResourceId, Store};

/// Why a file could not be read in a container.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    /// Nothing is mounted there, or the mounted volume has no such key.
    #[error("{path}: No such file or directory")]
    Missing { path: String },
    /// The path is a mounted volume's folder.
    #[error("{path}: Is a directory")]
    Directory { path: String },
    /// The volume mounted there names a Secret or ConfigMap the namespace does not have: the
    /// kubelet does not start the pod.
    #[error(
        "{path}: the {kind} `{name}` its volume mounts does not exist, so the pod does not start"
    )]
    SourceMissing {
        path: String,
        kind: &'static str,
        name: String,
    },
}

/// The file at `path` in `container` of `w` (its first application container when `None`).
pub fn file_in(
    store: &Store,
    w: &Workload,
    container: Option<&str>,
    path: &str,
) -> Result<FileContent, FileError> {
    let missing = || FileError::Missing {
        path: path.to_string(),
    };
    let c = match container {
        Some(name) => w.containers.iter().find(|c| c.name == name),
        None => w.containers.first(),
    }
    .ok_or_else(missing)?;
    let wanted = path.trim_end_matches('/');
    for m in c.mounts.iter().rev() {
        let key = match &m.sub_path {
            Some(sub) if wanted == m.path => sub.as_str(),
            Some(_) => continue,
            None if wanted == m.path => {
                return Err(FileError::Directory {
                    path: path.to_string(),
                })
            }
            None => match wanted
                .strip_prefix(&m.path)
                .and_then(|r| r.strip_prefix('/'))
            {
                Some(key) => key,
                None => continue,
            },
        };
        let (kind, name) = match &m.source {
            MountSource::Secret(n) => (Kind::Secret, n),
            MountSource::ConfigMap(n) => (Kind::ConfigMap, n),
        };
        let id = ResourceId::new(kind, w.id.namespace.as_str(), name.as_str());
        let entries = match store.get(&id).map(|r| &r.body) {
            Some(Body::Secret(f) | Body::ConfigFiles(f)) => &f.entries,
            _ => {
                return Err(FileError::SourceMissing {
                    path: path.to_string(),
                    kind: if kind == Kind::Secret {
                        "Secret"
                    } else {
                        "ConfigMap"
                    },
                    name: name.clone(),
                })
            }
        };
        return entries.get(key).cloned().ok_or_else(missing);
    }
    Err(missing())
}

/// What curl's TLS options (`request`'s `--cacert`, `--cert`, `--key`, `-k`) amount to with the
/// files `read` finds (a pod's first container, or the workstation): what it trusts and the
/// certificate it can present, or which file it could not use (curl stops before connecting).
pub fn client_credentials(
    read: impl Fn(&str) -> Option<FileContent>,
    tls: &crate::request::ClientTls,
) -> Result<crate::request::ClientCredentials, crate::outcome::TlsFileProblem> {
    use crate::outcome::TlsFileProblem;
    use crate::request::{ClientCredentials, Trust};
    let trust = match (&tls.ca_file, tls.insecure) {
        (_, true) => Trust::Anything,
        (None, false) => Trust::System,
        (Some(path), false) => match read(path) {
            Some(FileContent::Certificate(c)) => Trust::Anchors(vec![c]),
            _ => return Err(TlsFileProblem::CaFile),
        },
    };
    let certificate = match &tls.cert_file {
        None => None,
        Some(path) => {
            let Some(FileContent::Certificate(cert)) = read(path) else {
                return Err(TlsFileProblem::CertFile);
            };
            // The key is read from `--key`, else from the certificate's own file.
            let key_path = tls.key_file.as_deref().unwrap_or(path);
            match read(key_path) {
                Some(FileContent::PrivateKey { key }) if key == cert.key => Some(cert),
                _ => return Err(TlsFileProblem::KeyFile),
            }
        }
    };
    Ok(ClientCredentials { trust, certificate })
}

/// What a gateway server's `credentialName` Secret gives it (istiod serves it to the gateway by
/// SDS as `kubernetes://NAME`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ServerCredential {
    /// The Secret's name, in the gateway's namespace.
    pub secret: super::workload::Name,
    /// The certificate the Secret holds with its key (`tls.crt`/`tls.key`, or `cert`/`key`);
    /// `None` when the Secret is missing or holds no such pair: the server has nothing to
    /// present, and every handshake fails.
    pub certificate: Option<egressbench_resources::files::Certificate>,
    /// The CA client certificates must chain to, for MUTUAL (`ca.crt` or `cacert` in the Secret,
    /// else in the Secret `NAME-cacert`).
    pub ca: Option<egressbench_resources::files::Certificate>,
}

/// What the Secret `name` in `namespace` gives a gateway server as its `credentialName`, with
/// the key names Istio reads: a certificate and its key (`tls.crt`/`tls.key` of a TLS Secret, or
/// `cert`/`key` of a generic one), and a CA for MUTUAL (`ca.crt` or `cacert`, in the Secret or
/// in `NAME-cacert`).
pub fn server_credential(store: &Store, namespace: &str, name: &str) -> ServerCredential {
    let entries = |secret: &str| {
        let id = ResourceId::new(Kind::Secret, namespace, secret);
        match store.get(&id).map(|r| &r.body) {
            Some(Body::Secret(files)) => Some(files.entries.clone()),
            _ => None,
        }
    };
    let first = |entries: &std::collections::BTreeMap<String, FileContent>, keys: &[&str]| {
        keys.iter().find_map(|k| entries.get(*k).cloned())
    };
    let own = entries(name).unwrap_or_default();
    let certificate = match (
        first(&own, &["tls.crt", "cert"]),
        first(&own, &["tls.key", "key"]),
    ) {
        (Some(FileContent::Certificate(c)), Some(FileContent::PrivateKey { key }))
            if key == c.key =>
        {
            Some(c)
        }
        _ => None,
    };
    let ca_of = |entries: &std::collections::BTreeMap<String, FileContent>| match first(
        entries,
        &["ca.crt", "cacert"],
    ) {
        Some(FileContent::Certificate(c)) => Some(c),
        _ => None,
    };
    let ca = ca_of(&own).or_else(|| entries(&format!("{name}-cacert")).and_then(|e| ca_of(&e)));
    ServerCredential {
        secret: name.into(),
        certificate,
        ca,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::workload::{Container, Mount};
    use egressbench_resources::kube::FileSet;
    use egressbench_resources::{ObjectMeta, Resource};

    fn pod(mounts: Vec<Mount>) -> Workload {
        Workload {
            id: crate::request::WorkloadRef::new("mesh-external", "my-nginx"),
            labels: Default::default(),
            service_account: "default".into(),
            proxy: None,
            proxy_reason: String::new(),
            identity: "x".into(),
            address: "10.244.0.2".into(),
            containers: vec![Container {
                name: "my-nginx".into(),
                image: "nginx".into(),
                ports: Vec::new(),
                mounts,
            }],
            origin: ResourceId::new(Kind::Deployment, "mesh-external", "my-nginx"),
        }
    }

    #[test]
    fn a_mounted_secrets_keys_are_files_under_its_path() {
        let mut store = Store::default();
        let files = FileSet {
            secret_type: None,
            entries: [("tls.crt".to_string(), FileContent::Text("pem".into()))]
                .into_iter()
                .collect(),
        };
        store.apply(Resource::new(
            "v1",
            ObjectMeta::named("nginx-server-certs", "mesh-external"),
            Body::Secret(Box::new(files)),
        ));
        let w = pod(vec![Mount {
            path: "/etc/nginx-server-certs".into(),
            source: MountSource::Secret("nginx-server-certs".into()),
            sub_path: None,
        }]);
        assert_eq!(
            file_in(&store, &w, None, "/etc/nginx-server-certs/tls.crt"),
            Ok(FileContent::Text("pem".into()))
        );
        assert_eq!(
            file_in(&store, &w, None, "/etc/nginx-server-certs/tls.key"),
            Err(FileError::Missing {
                path: "/etc/nginx-server-certs/tls.key".into()
            })
        );
        assert!(matches!(
            file_in(&store, &w, None, "/etc/nginx-server-certs"),
            Err(FileError::Directory { .. })
        ));
        assert!(file_in(&store, &w, Some("other"), "/etc/nginx-server-certs/tls.crt").is_err());
        // A mount whose Secret does not exist keeps the pod from starting.
        let w = pod(vec![Mount {
            path: "/etc/x".into(),
            source: MountSource::Secret("absent".into()),
            sub_path: None,
        }]);
        assert!(matches!(
            file_in(&store, &w, None, "/etc/x/tls.crt"),
            Err(FileError::SourceMissing { .. })
        ));
    }
}
