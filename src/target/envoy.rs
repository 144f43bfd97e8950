//! The real-Envoy target: the same manifests and config as the model, served by one real `envoy`
//! process per proxy on loopback (`crate::envoy::run`), in front of the simulated mesh's hosts.
//!
//! Owns: `EnvoyTarget` — a tokio runtime of its own (one thread), the objects applied so far, and
//! the running `EnvoyMesh` that every change reconfigures. Dropping it kills every Envoy. Leaves
//! out: running Envoy (`envoy::run`).

use super::{Target, TargetError};
use crate::envoy::run::EnvoyMesh;
use crate::external::Internet;
use crate::mesh::Mesh;
use crate::outcome::{AccessLogEntry, Exchange};
use crate::request::{ClientRequest, WorkloadRef};
use crate::resources::{Resource, ResourceId, Store};
use crate::sim::ClientKind;
use std::sync::Arc;

#[derive(Debug)]
pub struct EnvoyTarget {
    runtime: tokio::runtime::Runtime,
    /// `Some` until dropped (it is dropped inside the runtime).
    envoy: Option<EnvoyMesh>,
    store: Store,
    name: &'static str,
}

fn rejected(e: impl std::fmt::Display) -> TargetError {
    TargetError::Rejected(e.to_string())
}

impl EnvoyTarget {
    /// Real Envoy proxies over `internet`'s hosts, requests made by the built-in curl; the envoy
    /// binary is the one `envoy::find_envoy` finds.
    pub fn new(internet: Internet) -> Result<Self, TargetError> {
        EnvoyTarget::with_options(internet, None, ClientKind::BuiltIn)
    }

    /// As `new`, with the envoy binary at `envoy` when given, requests made by `client` (the
    /// target is called `envoy-curl` when that is the real curl).
    pub fn with_options(
        internet: Internet,
        envoy: Option<std::path::PathBuf>,
        client: ClientKind,
    ) -> Result<Self, TargetError> {
        let name = match client {
            ClientKind::BuiltIn => "envoy",
            ClientKind::RealCurl(_) => "envoy-curl",
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| rejected(format!("starting the Envoy target: {e}")))?;
        let envoy = runtime
            .block_on(EnvoyMesh::start(internet, envoy, client))
            .map_err(rejected)?;
        Ok(EnvoyTarget {
            runtime,
            envoy: Some(envoy),
            store: Store::new(),
            name,
        })
    }

    fn commit(&mut self, store: Store) -> Result<(), TargetError> {
        let mesh = Mesh::build(&store).map_err(rejected)?;
        let Some(envoy) = self.envoy.as_mut() else {
            return Err(rejected("the Envoy target is stopped"));
        };
        self.runtime
            .block_on(envoy.configure(Arc::new(mesh)))
            .map_err(rejected)?;
        self.store = store;
        Ok(())
    }
}

impl Drop for EnvoyTarget {
    fn drop(&mut self) {
        let _inside = self.runtime.enter();
        self.envoy = None;
    }
}

impl Target for EnvoyTarget {
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
        let Some(envoy) = self.envoy.as_mut() else {
            return Err(rejected("the Envoy target is stopped"));
        };
        let mesh = envoy.mesh().clone();
        if mesh.workload(from).is_none() {
            return Err(TargetError::unknown_workload(&mesh, from));
        }
        self.runtime
            .block_on(envoy.exec(from, request))
            .map_err(rejected)
    }

    fn prepare(&mut self, requests: &[(WorkloadRef, ClientRequest)]) -> Result<(), TargetError> {
        let Some(envoy) = self.envoy.as_mut() else {
            return Err(rejected("the Envoy target is stopped"));
        };
        self.runtime
            .block_on(envoy.prepare(requests))
            .map_err(rejected)
    }

    fn logs(&self, proxy: &WorkloadRef) -> Vec<AccessLogEntry> {
        self.envoy
            .as_ref()
            .map(|e| e.logs(proxy))
            .unwrap_or_default()
    }
}
