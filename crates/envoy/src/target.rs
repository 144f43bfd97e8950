//! The real-Envoy target: the same manifests and config as the model, served by one real `envoy`
//! process per proxy on loopback (`crate::run`), in front of the simulated mesh's hosts.
//!
//! Owns: `EnvoyTarget` — the shared target shell (`engine::OnRuntime`) over a running
//! `EnvoyMesh` — and `target`, which starts one. Dropping it kills every Envoy. Leaves out:
//! running Envoy (`run`).

use crate::run::{EnvoyMesh, RunError};
use egressbench_model::answer::Exchange;
use egressbench_model::external::Internet;
use egressbench_model::mesh::Mesh;
use egressbench_model::outcome::counters::ProxyCounters;
use egressbench_model::outcome::AccessLogEntry;
use egressbench_model::request::{ClientRequest, Origin, WorkloadRef};
use egressbench_network::engine::{Engine, OnRuntime};
use egressbench_network::ClientKind;
use egressbench_scenario::target::TargetError;
use std::sync::Arc;

/// Real Envoy as a target.
pub type EnvoyTarget = OnRuntime<EnvoyMesh>;

impl Engine for EnvoyMesh {
    type Error = RunError;

    fn mesh(&self) -> Arc<Mesh> {
        EnvoyMesh::mesh(self).clone()
    }

    async fn configure(&mut self, mesh: Arc<Mesh>) -> Result<(), RunError> {
        EnvoyMesh::configure(self, mesh).await
    }

    async fn exec(&mut self, from: &Origin, request: &ClientRequest) -> Result<Exchange, RunError> {
        EnvoyMesh::exec(self, from, request).await
    }

    async fn prepare(&mut self, requests: &[(WorkloadRef, ClientRequest)]) -> Result<(), RunError> {
        EnvoyMesh::prepare(self, requests).await
    }

    fn logs(&self, proxy: &WorkloadRef) -> Vec<AccessLogEntry> {
        EnvoyMesh::logs(self, proxy)
    }

    async fn counters(&mut self, proxy: &WorkloadRef) -> Result<ProxyCounters, RunError> {
        EnvoyMesh::counters(self, proxy).await
    }
}

/// Real Envoy proxies over `internet`'s hosts as a target: the envoy binary at `envoy` when given,
/// else the one `find_envoy` finds; requests made by `client` (the target is called
/// `envoy-curl` when that is the real curl).
pub fn target(
    internet: Internet,
    envoy: Option<std::path::PathBuf>,
    client: ClientKind,
) -> Result<EnvoyTarget, TargetError> {
    let name = match client {
        ClientKind::BuiltIn => "envoy",
        ClientKind::RealCurl(_) => "envoy-curl",
    };
    OnRuntime::start(name, "the Envoy target", || {
        EnvoyMesh::start(internet, envoy, client)
    })
}
