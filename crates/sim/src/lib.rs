//! The simulated mesh: the compiled per-proxy config acted on over real sockets, in process.
//!
//! Owns: the simulated proxies (`proxy`: sidecars and gateways), the running mesh that starts and
//! reconfigures them (`sim_mesh`), and the `SimTarget`. Leaves out: the test network they run on
//! (`egressbench-network`: fabric, certificates, hosts, clients) and what config each proxy gets
//! (`egressbench-model`, built from the same manifests).

mod proxy;
mod sim_mesh;
mod target;

pub use sim_mesh::{SimError, SimMesh};
pub use target::{target, SimTarget};
