//! The real-Envoy target: the same manifests and config as the model, served by one real `envoy`
//! process per proxy on loopback (`crate::envoy::run`), in front of the simulated mesh's hosts.
//!
//! Owns: `EnvoyTarget` — the shared target shell (`engine::OnRuntime`) over a running
//! `EnvoyMesh`, and how it is started. Dropping it kills every Envoy. Leaves out: running Envoy
//! (`envoy::run`).

use super::engine::{Engine, OnRuntime};
use super::TargetError;
use crate::envoy::run::{EnvoyMesh, RunError};
use crate::external::Internet;
use crate::mesh::Mesh;
use crate::outcome::{AccessLogEntry, Exchange};
use crate::request::{ClientRequest, WorkloadRef};
use crate::sim::ClientKind;
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

impl OnRuntime<EnvoyMesh> {
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
    }
}
