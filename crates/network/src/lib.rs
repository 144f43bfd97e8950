//! The test network every socket-running target shares: simulated addresses on loopback
//! (`fabric`), certificate authorities (`pki`), TLS ClientHello inspection (`hello`), the external
//! hosts served over real sockets (`hosts`), the clients that make requests from workloads
//! (`client`), access-log settling (`logs`), what a running mesh shares (`world`), and the target
//! shell over a running engine (`engine`).
//!
//! Owns: those modules, plus tasks scoped to their owner (`task`) and the temporary folders a run
//! owns, removed also when a signal stops it (`owned`). Leaves out: the proxies (the
//! simulated ones in `egressbench-sim`, real Envoy in `egressbench-envoy`), what config they get
//! (`egressbench-model`), and what the external hosts answer (`external` in `egressbench-model`;
//! `hosts` serves it over sockets).

pub mod client;
pub mod engine;
pub mod fabric;
pub mod hello;
pub mod hosts;
pub mod logs;
pub mod materials;
pub mod own_tls;
pub mod owned;
pub mod pki;
pub mod task;
pub mod world;

pub use client::ClientKind;
pub use fabric::{Clock, Fabric};
