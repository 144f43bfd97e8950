//! egressbench: a conformance and test bench for service-mesh egress policy.
//!
//! Data flows one way, one module per stage:
//! `manifest` (YAML text) → `resources` (typed objects) → `compile` (ASM policies to native Istio)
//! → `mesh` (workloads, registry, what each proxy sees) → `xds` (per-proxy config, as istiod would
//! build it) → `decide` (a request walked through it, with a trace) → `outcome` (what the client
//! sees, what proxies log) → `explain` / `report`. `scenario` replays documented command lines
//! against a `target`; `external` describes the hosts outside the mesh; `cli` is the thin binary.
#![forbid(unsafe_code)]

pub mod cli;
pub mod compile;
pub mod decide;
pub mod envoy;
pub mod explain;
pub mod external;
pub mod index;
pub mod manifest;
pub mod mesh;
pub mod outcome;
pub mod report;
pub mod request;
pub mod resources;
pub mod scenario;
pub mod sim;
pub mod table;
pub mod target;
pub mod xds;
