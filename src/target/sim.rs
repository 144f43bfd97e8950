//! The simulated-mesh target: the same manifests and config as the model, served by real proxies
//! over real sockets in process (`crate::sim`).
//!
//! Owns: `SimTarget` — a tokio runtime of its own (one thread), the objects applied so far, and the
//! running `SimMesh` that every change reconfigures. Dropping it stops every listener, connection
//! and task it started. Leaves out: the simulated mesh itself (`sim`).

use super::{Target, TargetError};
use crate::external::Internet;
use crate::mesh::Mesh;
use crate::outcome::{AccessLogEntry, Exchange};
use crate::request::{ClientRequest, WorkloadRef};
use crate::resources::{Resource, ResourceId, Store};
use crate::sim::{ClientKind, Clock, SimMesh};
use std::sync::Arc;

#[derive(Debug)]
pub struct SimTarget {
    runtime: tokio::runtime::Runtime,
    /// `Some` until dropped (it is dropped inside the runtime).
    sim: Option<SimMesh>,
    store: Store,
    name: &'static str,
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
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| TargetError::Rejected(format!("starting the simulated mesh: {e}")))?;
        let sim = runtime
            .block_on(SimMesh::start(internet, Clock::default(), client))
            .map_err(|e| TargetError::Rejected(format!("starting the simulated mesh: {e}")))?;
        Ok(SimTarget {
            runtime,
            sim: Some(sim),
            store: Store::new(),
            name,
        })
    }

    /// The running simulated mesh.
    pub fn sim(&self) -> Option<&SimMesh> {
        self.sim.as_ref()
    }

    /// Run `f` on the simulated mesh inside this target's runtime.
    pub fn block_on<T>(&self, f: impl std::future::Future<Output = T>) -> T {
        self.runtime.block_on(f)
    }

    fn commit(&mut self, store: Store) -> Result<(), TargetError> {
        let mesh = Mesh::build(&store).map_err(|e| TargetError::Rejected(e.to_string()))?;
        let Some(sim) = self.sim.as_mut() else {
            return Err(TargetError::Rejected(
                "the simulated mesh is stopped".into(),
            ));
        };
        self.runtime
            .block_on(sim.configure(Arc::new(mesh)))
            .map_err(|e| TargetError::Rejected(e.to_string()))?;
        self.store = store;
        Ok(())
    }
}

impl Drop for SimTarget {
    fn drop(&mut self) {
        let _inside = self.runtime.enter();
        self.sim = None;
    }
}

impl Target for SimTarget {
    fn name(&self) -> &'static str {
        self.name
    }

    fn apply(&mut self, resources: Vec<Resource>) -> Result<(), TargetError> {
        let store = super::applied(&self.store, resources);
        self.commit(store)
    }

    fn delete(&mut self, ids: &[ResourceId]) -> Result<(), TargetError> {
        let store = super::deleted(&self.store, ids)?;
        self.commit(store)
    }

    fn exec(
        &mut self,
        from: &WorkloadRef,
        request: &ClientRequest,
    ) -> Result<Exchange, TargetError> {
        let Some(sim) = self.sim.as_ref() else {
            return Err(TargetError::Rejected(
                "the simulated mesh is stopped".into(),
            ));
        };
        let mesh = sim.world().mesh();
        if mesh.workload(from).is_none() {
            return Err(TargetError::unknown_workload(&mesh, from));
        }
        self.runtime
            .block_on(sim.exec(from, request))
            .map_err(|e| TargetError::Rejected(e.to_string()))
    }

    fn logs(&self, proxy: &WorkloadRef) -> Vec<AccessLogEntry> {
        self.sim.as_ref().map(|s| s.logs(proxy)).unwrap_or_default()
    }
}
