//! The simulated-mesh target: the same manifests and config as the model, served by real proxies
//! over real sockets in process (`crate::sim`).
//!
//! Owns: `SimTarget` — the shared target shell (`engine::OnRuntime`) over a running `SimMesh`, and
//! how it is started. Dropping it stops every listener, connection and task it started. Leaves
//! out: the simulated mesh itself (`sim`).

use super::engine::{Engine, OnRuntime};
use super::TargetError;
use crate::external::Internet;
use crate::mesh::Mesh;
use crate::outcome::{AccessLogEntry, Exchange};
use crate::request::{ClientRequest, WorkloadRef};
use crate::sim::{ClientKind, Clock, SimError, SimMesh};
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

impl OnRuntime<SimMesh> {
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
    }

    /// The running simulated mesh.
    pub fn sim(&self) -> Option<&SimMesh> {
        self.engine.as_ref()
    }

    /// Run `f` on the simulated mesh inside this target's runtime.
    pub fn block_on<T>(&self, f: impl std::future::Future<Output = T>) -> T {
        self.runtime.block_on(f)
    }
}
