//! A proxy's compiled config (`xds::ProxyConfig`) rendered as an Envoy v3 bootstrap with static
//! resources only (no xDS server): what istiod would send that proxy, in a form `envoy -c` runs
//! and `envoy --mode validate` checks.
//!
//! Pipeline, one file each: `listeners` (addresses, binding, listener filters, chain selection) →
//! `chains` (match, TLS termination, network filters) → `http` (connection manager) → `routes`
//! (inline route configuration); `rbac` and `rbac_rules` (AuthorizationPolicies as RBAC filters);
//! `clusters` and `tls` (upstreams); `access_log` (Istio's JSON access log); `matchers` (shared
//! matcher messages). `placement` says where things really are when Envoy runs; `certs` writes the
//! certificate files a config reads; `binary` finds and invokes `envoy`; `run` runs one Envoy per
//! proxy of a mesh on loopback (the `envoy` target's engine).
//!
//! Owns: the rendering, which is pure (`bootstrap`). Leaves out: building the config (`xds`),
//! the scenario bookkeeping of the Envoy target (`target::EnvoyTarget`), and the command line
//! (`cli::envoy_config`).
//! Names are istiod's throughout, so that access logs and Envoy's admin output read as in a mesh.

mod access_log;
mod admin;
mod binary;
mod certs;
mod chains;
mod clusters;
mod error;
mod http;
mod listeners;
mod matchers;
mod placement;
mod rbac;
mod rbac_rules;
mod routes;
pub mod run;
mod tls;

#[cfg(test)]
mod tests;

pub use binary::{envoy_version, find_envoy, validate};
pub use certs::{write_credentials, CertPems};
pub use error::EnvoyError;
pub use listeners::inbound_listener_name;
pub use placement::{AccessLogSink, Capture, CertPaths, Placement};

use egressbench_model::mesh::Mesh;
use egressbench_model::request::WorkloadRef;
use egressbench_model::xds::{ProxyConfig, ProxyKind};
use egressbench_text::suggest::closest;
use serde_json::{json, Value};

/// Envoy's node identity for a proxy, in istiod's format:
/// `sidecar~<pod ip>~<workload>.<namespace>~<namespace>.svc.cluster.local` (`router~…` for a
/// gateway), cluster `<workload>.<namespace>`.
fn node(proxy: &ProxyConfig) -> Value {
    let (ns, name) = proxy
        .proxy
        .split_once('/')
        .unwrap_or((proxy.namespace.as_str(), &proxy.proxy));
    let kind = match proxy.kind {
        ProxyKind::Sidecar => "sidecar",
        ProxyKind::Gateway => "router",
    };
    json!({
        "id": format!("{kind}~{}~{name}.{ns}~{ns}.svc.cluster.local", proxy.address),
        "cluster": format!("{name}.{ns}"),
    })
}

/// The Envoy bootstrap for `proxy` (a proxy of `mesh`), placed by `placement`.
pub fn bootstrap(proxy: &ProxyConfig, mesh: &Mesh, placement: &Placement) -> Value {
    let admin = placement.admin;
    json!({
        "node": node(proxy),
        "admin": {
            "address": {"socket_address": {
                "address": admin.ip().to_string(),
                "port_value": admin.port(),
            }},
        },
        "static_resources": {
            "listeners": listeners::listeners(proxy, placement),
            "clusters": clusters::clusters(proxy, mesh, placement),
        },
    })
}

/// The proxies of `mesh`, as `namespace/name`.
pub fn proxy_names(mesh: &Mesh) -> Vec<String> {
    mesh.proxies.keys().map(ToString::to_string).collect()
}

/// The config of proxy `id` of `mesh`; an error naming the proxies there are when `id` has none.
pub fn proxy_config<'m>(mesh: &'m Mesh, id: &WorkloadRef) -> Result<&'m ProxyConfig, EnvoyError> {
    if let Some(p) = mesh.proxy(id) {
        return Ok(p);
    }
    let known = proxy_names(mesh);
    if let Some(w) = mesh.workload(id) {
        return Err(EnvoyError::NoProxy {
            proxy: id.to_string(),
            reason: w.proxy_reason.clone(),
            known,
        });
    }
    let wanted = id.to_string();
    let suggestion = closest(&wanted, known.iter().map(String::as_str)).map(str::to_string);
    Err(EnvoyError::UnknownProxy {
        proxy: wanted,
        known,
        suggestion,
    })
}

/// The bootstrap of proxy `id` of `mesh` (see `bootstrap`).
pub fn render(mesh: &Mesh, id: &WorkloadRef, placement: &Placement) -> Result<Value, EnvoyError> {
    proxy_config(mesh, id).map(|p| bootstrap(p, mesh, placement))
}

/// Keys every object starts with when printed, so a listener, chain, filter or cluster reads
/// from its name (the rest in name order).
const LEADING_KEYS: [&str; 2] = ["name", "@type"];

/// `v` with `LEADING_KEYS` first in every object (an order-preserving YAML value, which prints as
/// YAML or JSON).
fn for_reading(v: &Value) -> serde_yaml::Value {
    match v {
        Value::Object(map) => {
            let mut out = serde_yaml::Mapping::new();
            let leading = LEADING_KEYS.iter().filter_map(|k| map.get_key_value(*k));
            let rest = map
                .iter()
                .filter(|(k, _)| !LEADING_KEYS.contains(&k.as_str()));
            for (k, v) in leading.chain(rest) {
                out.insert(serde_yaml::Value::String(k.clone()), for_reading(v));
            }
            serde_yaml::Value::Mapping(out)
        }
        Value::Array(items) => serde_yaml::Value::Sequence(items.iter().map(for_reading).collect()),
        Value::String(s) => serde_yaml::Value::String(s.clone()),
        Value::Bool(b) => serde_yaml::Value::Bool(*b),
        Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => serde_yaml::Value::Number(u.into()),
            (None, Some(i), _) => serde_yaml::Value::Number(i.into()),
            (None, None, Some(f)) => serde_yaml::Value::Number(f.into()),
            _ => serde_yaml::Value::Null,
        },
        Value::Null => serde_yaml::Value::Null,
    }
}

/// A rendered bootstrap as YAML (what `egressbench envoy-config` prints by default).
pub fn to_yaml(bootstrap: &Value) -> Result<String, EnvoyError> {
    serde_yaml::to_string(&for_reading(bootstrap)).map_err(|e| EnvoyError::Print(e.to_string()))
}

/// A rendered bootstrap as pretty JSON, names first like `to_yaml`.
pub fn to_json(bootstrap: &Value) -> Result<String, EnvoyError> {
    serde_json::to_string_pretty(&for_reading(bootstrap))
        .map_err(|e| EnvoyError::Print(e.to_string()))
}
mod target;
pub use target::{target, EnvoyTarget};
