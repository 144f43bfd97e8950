//! The simulated-mesh target: the same manifests and config as the model, served by real proxies
//! over real sockets in process (`sim_mesh`).
//!
//! Owns: `SimTarget` — the shared target shell (`engine::OnRuntime`) over a running `SimMesh` —
//! and `target`, which starts one. Dropping it stops every listener, connection and task it
//! started. Leaves out: the simulated mesh itself (`sim_mesh`).

use crate::{SimError, SimMesh};
use egressbench_model::answer::Exchange;
use egressbench_model::external::Internet;
use egressbench_model::mesh::Mesh;
use egressbench_model::outcome::counters::ProxyCounters;
use egressbench_model::outcome::AccessLogEntry;
use egressbench_model::request::{ClientRequest, Origin, WorkloadRef};
use egressbench_network::engine::{Engine, OnRuntime};
use egressbench_network::{ClientKind, Clock};
use egressbench_scenario::target::TargetError;
use std::sync::Arc;

/// The simulated mesh as a target.
pub type SimTarget = OnRuntime<SimMesh>;

impl Engine for SimMesh {
    type Error = SimError;

    fn mesh(&self) -> Arc<Mesh> {
        self.world().mesh()
    }

    async fn configure(&mut self, mesh: Arc<Mesh>) -> Result<(), SimError> {
        SimMesh::configure(self, mesh).await
    }

    async fn exec(&mut self, from: &Origin, request: &ClientRequest) -> Result<Exchange, SimError> {
        SimMesh::exec(self, from, request).await
    }

    fn logs(&self, proxy: &WorkloadRef) -> Vec<AccessLogEntry> {
        SimMesh::logs(self, proxy)
    }

    async fn counters(&mut self, proxy: &WorkloadRef) -> Result<ProxyCounters, SimError> {
        Ok(SimMesh::counters(self, proxy))
    }
}

/// A simulated mesh over `internet` as a target, requests made by `client` (the built-in curl, or
/// the real one: the target is then called `sim-curl`), its delays and time limits run by `clock`
/// (`Clock::within_tolerance` for a scenario that times its commands).
pub fn target(
    internet: Internet,
    client: ClientKind,
    clock: Clock,
) -> Result<SimTarget, TargetError> {
    let name = match client {
        ClientKind::BuiltIn => "sim",
        ClientKind::RealCurl(_) => "sim-curl",
    };
    OnRuntime::start(name, "the simulated mesh", || {
        SimMesh::start(internet, clock, client)
    })
}
