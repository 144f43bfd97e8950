//! The simulated-mesh target: the same manifests and config as the model, served by real proxies
//! over real sockets in process (`crate::sim`).
//!
//! Owns: `SimTarget` — the shared target shell (`engine::OnRuntime`) over a running `SimMesh`, and
//! how it is started. Dropping it stops every listener, connection and task it started. Leaves
//! out: the simulated mesh itself (`sim`).

use crate::{SimError, SimMesh};
use egressbench_model::answer::Exchange;
use egressbench_model::external::Internet;
use egressbench_model::mesh::Mesh;
use egressbench_model::outcome::AccessLogEntry;
use egressbench_model::request::{ClientRequest, WorkloadRef};
use egressbench_network::engine::{Engine, OnRuntime};
use egressbench_network::{ClientKind, Clock};
use egressbench_resources::{Resource, ResourceId};
use egressbench_scenario::target::{Target, TargetError};
use std::sync::Arc;

/// The simulated mesh as a target.
#[derive(Debug)]
pub struct SimTarget(OnRuntime<SimMesh>);

impl Target for SimTarget {
    fn name(&self) -> &'static str {
        self.0.name()
    }

    fn apply(&mut self, resources: Vec<Resource>) -> Result<(), TargetError> {
        self.0.apply(resources)
    }

    fn delete(&mut self, ids: &[ResourceId]) -> Result<(), TargetError> {
        self.0.delete(ids)
    }

    fn exec(
        &mut self,
        from: &WorkloadRef,
        request: &ClientRequest,
    ) -> Result<Exchange, TargetError> {
        self.0.exec(from, request)
    }

    fn logs(&self, proxy: &WorkloadRef) -> Vec<AccessLogEntry> {
        self.0.logs(proxy)
    }

    fn prepare(&mut self, requests: &[(WorkloadRef, ClientRequest)]) -> Result<(), TargetError> {
        self.0.prepare(requests)
    }
}

impl Engine for SimMesh {
    type Error = SimError;

    fn mesh(&self) -> Arc<Mesh> {
        self.world().mesh()
    }

    async fn configure(&mut self, mesh: Arc<Mesh>) -> Result<(), SimError> {
        SimMesh::configure(self, mesh).await
    }

    async fn exec(
        &mut self,
        from: &WorkloadRef,
        request: &ClientRequest,
    ) -> Result<Exchange, SimError> {
        SimMesh::exec(self, from, request).await
    }

    fn logs(&self, proxy: &WorkloadRef) -> Vec<AccessLogEntry> {
        SimMesh::logs(self, proxy)
    }
}

impl SimTarget {
    /// A simulated mesh over `internet`, requests made by the built-in curl.
    pub fn new(internet: Internet) -> Result<Self, TargetError> {
        SimTarget::with_client(internet, ClientKind::BuiltIn)
    }

    /// A simulated mesh over `internet`, requests made by `client`.
    pub fn with_client(internet: Internet, client: ClientKind) -> Result<Self, TargetError> {
        let name = match client {
            ClientKind::BuiltIn => "sim",
            ClientKind::RealCurl(_) => "sim-curl",
        };
        OnRuntime::start(name, "the simulated mesh", || {
            SimMesh::start(internet, Clock::default(), client)
        })
        .map(SimTarget)
    }

    /// The running simulated mesh.
    pub fn sim(&self) -> Option<&SimMesh> {
        self.0.engine.as_ref()
    }

    /// Run `f` on the simulated mesh inside this target's runtime.
    pub fn block_on<T>(&self, f: impl std::future::Future<Output = T>) -> T {
        self.0.runtime.block_on(f)
    }
}
