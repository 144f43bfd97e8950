//! The real-Envoy target: the same manifests and config as the model, served by one real `envoy`
//! process per proxy on loopback (`crate::run`), in front of the simulated mesh's hosts.
//!
//! Owns: `EnvoyTarget` — the shared target shell (`engine::OnRuntime`) over a running
//! `EnvoyMesh`, and how it is started. Dropping it kills every Envoy. Leaves out: running Envoy
//! (`envoy::run`).

use crate::run::{EnvoyMesh, RunError};
use egressbench_model::answer::Exchange;
use egressbench_model::external::Internet;
use egressbench_model::mesh::Mesh;
use egressbench_model::outcome::AccessLogEntry;
use egressbench_model::request::{ClientRequest, WorkloadRef};
use egressbench_network::engine::{Engine, OnRuntime};
use egressbench_network::ClientKind;
use egressbench_resources::{Resource, ResourceId};
use egressbench_scenario::target::{Target, TargetError};
use std::sync::Arc;

/// Real Envoy as a target.
#[derive(Debug)]
pub struct EnvoyTarget(OnRuntime<EnvoyMesh>);

impl Target for EnvoyTarget {
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

impl Engine for EnvoyMesh {
    type Error = RunError;

    fn mesh(&self) -> Arc<Mesh> {
        EnvoyMesh::mesh(self).clone()
    }

    async fn configure(&mut self, mesh: Arc<Mesh>) -> Result<(), RunError> {
        EnvoyMesh::configure(self, mesh).await
    }

    async fn exec(
        &mut self,
        from: &WorkloadRef,
        request: &ClientRequest,
    ) -> Result<Exchange, RunError> {
        EnvoyMesh::exec(self, from, request).await
    }

    async fn prepare(&mut self, requests: &[(WorkloadRef, ClientRequest)]) -> Result<(), RunError> {
        EnvoyMesh::prepare(self, requests).await
    }

    fn logs(&self, proxy: &WorkloadRef) -> Vec<AccessLogEntry> {
        EnvoyMesh::logs(self, proxy)
    }
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
        OnRuntime::start(name, "the Envoy target", || {
            EnvoyMesh::start(internet, envoy, client)
        })
        .map(EnvoyTarget)
    }
}
