//! The reference semantics of a mesh: what each proxy is configured with and what it does with a
//! request, as pure functions of the manifests.
//!
//! Data flows one way, one module per stage: `request` and `outcome` (the values on the wire) →
//! `external` (the hosts outside the mesh) → `topology` (workloads, registry, what each proxy
//! sees) → `pods` (what the pods' applications serve) → `xds` (per-proxy config, as istiod would build it) → `mesh` (the snapshot: topology
//! and every proxy's config) → `proxy_config` (that config as `istioctl proxy-config` prints it)
//! → `decide` (a request walked through it, with a trace) → `answer` (what the client sees, what
//! proxies log, for one request: an `Exchange`) → `admin` (what the proxies counted upstream, and
//! their admin pages) → `explain`.
//!
//! Owns: these stages, pure and deterministic. Leaves out: reading YAML (`egressbench-manifest`),
//! compiling ASM policies (`egressbench-compile`, which `topology` calls), scenarios and the model
//! target (`egressbench-scenario`), and sockets, processes and clocks (the socket-running
//! targets: `egressbench-network`, `egressbench-sim`, `egressbench-envoy`).

pub mod admin;
pub mod answer;
pub mod decide;
pub mod explain;
pub mod external;
pub mod mesh;
pub mod outcome;
pub mod pods;
pub mod proxy_config;
pub mod request;
pub mod topology;
pub mod xds;

#[cfg(test)]
mod testing;
