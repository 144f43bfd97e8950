//! Why an Envoy config could not be rendered, written or checked, and how to fix it.
//!
//! Owns: `EnvoyError` and its help lines. Leaves out: printing (`cli::envoy_config`).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum EnvoyError {
    /// No workload by that name in the manifests.
    #[error("no workload `{proxy}`: proxies are {}", list(known))]
    UnknownProxy {
        proxy: String,
        /// The workloads that have a proxy, as `namespace/name`.
        known: Vec<String>,
        /// The closest known name, when the given one looks like a typo of it.
        suggestion: Option<String>,
    },
    /// The workload exists but runs without a proxy.
    #[error("workload `{proxy}` has no proxy ({reason}), so there is no Envoy config for it: proxies are {}", list(known))]
    NoProxy {
        proxy: String,
        reason: String,
        known: Vec<String>,
    },
    /// A file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Certificates could not be issued.
    #[error("cannot issue the certificates the config reads: {0}")]
    Certs(String),
    /// The config could not be printed (as YAML or JSON).
    #[error("cannot print the config: {0}")]
    Print(String),
    /// The envoy binary could not be run.
    #[error("cannot run envoy at {}: {source}", path.display())]
    Spawn {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// `envoy --mode validate` rejected a config.
    #[error("envoy rejected {}: {message}", config.display())]
    Rejected { config: PathBuf, message: String },
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "none (no Deployment in the manifests has a sidecar or is a gateway)".to_string()
    } else {
        names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl egressbench_text::Diagnostic for EnvoyError {
    fn help(&self) -> Option<String> {
        Some(match self {
            EnvoyError::UnknownProxy {
                suggestion: Some(s),
                ..
            } => format!("did you mean `{s}`?"),
            EnvoyError::UnknownProxy { .. } => {
                "name a proxy as NAMESPACE/DEPLOYMENT, one of those listed".to_string()
            }
            EnvoyError::NoProxy { .. } => {
                "label its namespace istio-injection=enabled (or name a gateway Deployment)"
                    .to_string()
            }
            EnvoyError::Write { .. } => {
                "name a folder you can write to (it is created when missing)".to_string()
            }
            EnvoyError::Certs(_) | EnvoyError::Print(_) => {
                "this is a bug in egressbench: please report it with the manifests".to_string()
            }
            EnvoyError::Spawn { .. } => "install Envoy with scripts/install-envoy.sh, or point EGRESSBENCH_ENVOY at an envoy binary".to_string(),
            EnvoyError::Rejected { .. } => "the config egressbench rendered is not valid for this Envoy: please report it with the manifests and `envoy --version`".to_string(),
        })
    }
}
