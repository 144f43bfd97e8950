//! The simulated mesh: the compiled per-proxy config acted on over real sockets, in process.
//!
//! Owns: the simulated network (`fabric`), the certificate authorities (`pki`), TLS ClientHello
//! inspection (`hello`), the external hosts served over real sockets (`hosts`), the clients that
//! make requests from workloads (`client`), and the proxies. Leaves out: what config each proxy
//! gets (`xds`, built by the model from the same manifests) and how scenarios are replayed
//! (`scenario`, through `target::SimTarget`).

pub mod client;
pub mod fabric;
pub mod hello;
pub mod hosts;
pub mod logs;
pub mod mesh;
pub mod pki;
pub mod proxy;
pub mod task;
pub mod world;

pub use client::ClientKind;
pub use fabric::{Clock, Fabric};
pub use mesh::{SimError, SimMesh};
