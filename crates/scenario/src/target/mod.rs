//! Targets: where a scenario runs. The model (pure reference semantics) lives here; the simulated
//! mesh, real Envoy and a live cluster implement the same trait in their own modules.
//!
//! Owns: the `Target` trait, `TargetError`, `TargetNetwork` (a target as the network a command's
//! requests go over), the model target, and applying or deleting objects
//! in a store (`applied`, `deleted`). Leaves out: parsing scenarios and checking expectations (the
//! rest of this crate), and the shell the socket-running targets share
//! (`egressbench-network`'s `engine`).

mod model;

pub use model::ModelTarget;

use egressbench_compile::CompileError;
use egressbench_model::answer::Exchange;
use egressbench_model::outcome::counters::ProxyCounters;
use egressbench_model::outcome::AccessLogEntry;
use egressbench_model::request::{ClientRequest, Origin, WorkloadRef};
use egressbench_model::topology::workload::{
    injection_at_creation, INJECTED_AT_CREATION, POD_GENERATION,
};
use egressbench_resources::{Body, Kind, Resource, ResourceId, Store};
use egressbench_text::{BoxDiagnostic, Diagnostic};

/// Why a target could not carry out a step (as opposed to the step's outcome being unexpected).
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("no workload `{workload}`: known workloads are {known}")]
    UnknownWorkload { workload: String, known: String },
    #[error("{what} `{id}` does not exist, so it cannot be deleted")]
    NotFound { what: &'static str, id: String },
    /// The manifests applied so far do not make a mesh (an ASM policy that does not compile).
    #[error(transparent)]
    Compile(#[from] CompileError),
    /// The target's engine (the simulated mesh, the Envoy processes, a cluster) failed or
    /// refused the change; its own diagnostic says why.
    #[error("{0}")]
    Engine(BoxDiagnostic),
}

impl Diagnostic for TargetError {
    fn help(&self) -> Option<String> {
        match self {
            TargetError::UnknownWorkload { .. } => Some(
                "run the command from a workload whose Deployment is in the manifests (NAMESPACE/NAME)"
                    .into(),
            ),
            TargetError::NotFound { .. } => {
                Some("delete only objects an earlier step applied".into())
            }
            TargetError::Compile(e) => e.help(),
            TargetError::Engine(e) => e.help(),
        }
    }
}

impl TargetError {
    /// `from` is not a workload of `mesh`; the error lists the ones that are.
    pub fn unknown_workload(mesh: &egressbench_model::mesh::Mesh, from: &WorkloadRef) -> Self {
        TargetError::UnknownWorkload {
            workload: from.to_string(),
            known: mesh
                .ctx
                .workloads
                .keys()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

/// A place where requests can be made against a mesh built from resources.
pub trait Target {
    /// Short name for reports: `model`, `sim`, `envoy`, `live`.
    fn name(&self) -> &'static str;

    /// Create or replace objects (as `kubectl apply`). ASM policies are compiled by the target.
    fn apply(&mut self, resources: Vec<Resource>) -> Result<(), TargetError>;

    /// Delete objects by identity (as `kubectl delete`).
    fn delete(&mut self, ids: &[ResourceId]) -> Result<(), TargetError>;

    /// Make one request from a workload, as its application would (or from the workstation).
    fn exec(&mut self, from: &Origin, request: &ClientRequest) -> Result<Exchange, TargetError>;

    /// Every access-log entry a proxy (`namespace/workload`) has written so far, oldest first.
    fn logs(&self, proxy: &WorkloadRef) -> Vec<AccessLogEntry>;

    /// A proxy's upstream counters so far, as its admin interface reports them (zero for a
    /// proxy that has sent nothing).
    fn counters(&mut self, proxy: &WorkloadRef) -> Result<ProxyCounters, TargetError>;

    /// The mesh as the target runs it, for targets that hold it (the model); the runner asks
    /// the model beside a target that does not. The default holds none.
    fn mesh(&self) -> Option<&egressbench_model::mesh::Mesh> {
        None
    }

    /// Proxy `proxy`'s compiled config, for targets that hold it (the model); the runner asks
    /// the model beside a target that does not. The default holds none.
    fn proxy_config(&self, proxy: &WorkloadRef) -> Option<egressbench_model::xds::ProxyConfig> {
        let _ = proxy;
        None
    }

    /// Announce requests that are about to be made (in this state or later ones), so that a
    /// target with per-request setup can do it once, up front. Making them is still `exec`'s job;
    /// a request not announced works too. The default does nothing.
    fn prepare(&mut self, requests: &[(WorkloadRef, ClientRequest)]) -> Result<(), TargetError> {
        let _ = requests;
        Ok(())
    }
}

/// A target as the network of a command run at `from` (a pod, or the workstation): every request the command made
/// and the exchange it got, in order, or the target's refusal, which stops the command.
pub struct TargetNetwork<'a> {
    target: &'a mut dyn Target,
    from: &'a Origin,
    pub made: Vec<(ClientRequest, Exchange)>,
    pub refused: Option<TargetError>,
}

impl std::fmt::Debug for TargetNetwork<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TargetNetwork")
            .field("target", &self.target.name())
            .field("from", &self.from)
            .field("made", &self.made.len())
            .field("refused", &self.refused)
            .finish()
    }
}

impl<'a> TargetNetwork<'a> {
    pub fn new(target: &'a mut dyn Target, from: &'a Origin) -> Self {
        TargetNetwork {
            target,
            from,
            made: Vec::new(),
            refused: None,
        }
    }
}

impl crate::command::Network for TargetNetwork<'_> {
    fn send(
        &mut self,
        request: &ClientRequest,
    ) -> Result<crate::command::Received, crate::command::Aborted> {
        match self.target.exec(self.from, request) {
            Ok(exchange) => {
                let received = crate::command::Received {
                    result: exchange.result.clone(),
                    elapsed_ms: exchange.elapsed_ms,
                    remote: exchange.remote,
                };
                self.made.push((request.clone(), exchange));
                Ok(received)
            }
            Err(e) => {
                self.refused = Some(e);
                Err(crate::command::Aborted)
            }
        }
    }
}

/// `store` with `resources` created or replaced (as `kubectl apply`).
pub fn applied(store: &Store, resources: Vec<Resource>) -> Store {
    let before = store;
    let mut store = store.clone();
    let mut deployments = Vec::new();
    for r in resources {
        if r.kind() == Kind::Deployment {
            deployments.push(r.id());
        }
        store.apply(r);
    }
    // A Deployment's pod is created when the Deployment is new, its pod template changed, or
    // it was asked to recreate it; only then does the webhook decide injection, with the
    // namespaces as they are after this apply.
    for id in deployments {
        let Some(mut now) = store.get(&id).cloned() else {
            continue;
        };
        let earlier = before.get(&id);
        // `kubectl apply` of the manifest again keeps the restart marker the object carries.
        if let Some(generation) = earlier
            .and_then(|old| old.meta.annotations.get(POD_GENERATION))
            .filter(|_| !now.meta.annotations.contains_key(POD_GENERATION))
        {
            now.meta
                .annotations
                .insert(POD_GENERATION.to_string(), generation.clone());
        }
        let same_pod = earlier.is_some_and(|old| same_pod(old, &now));
        let stamp = match earlier.filter(|_| same_pod) {
            Some(old) => old.meta.annotations.get(INJECTED_AT_CREATION).cloned(),
            None => injection_at_creation(&store, &now),
        };
        if let Some(stamp) = stamp {
            now.meta
                .annotations
                .insert(INJECTED_AT_CREATION.to_string(), stamp);
        }
        store.apply(now);
    }
    store
}

/// Whether Deployment `new` keeps `old`'s pod: the same pod template and no request to recreate
/// it (`POD_GENERATION`).
fn same_pod(old: &Resource, new: &Resource) -> bool {
    let template = |r: &Resource| match &r.body {
        Body::Deployment(spec) => Some(spec.template.clone()),
        _ => None,
    };
    let generation = |r: &Resource| r.meta.annotations.get(POD_GENERATION).cloned();
    template(old) == template(new) && generation(old) == generation(new)
}

/// `store` without the objects `ids`; every one of them must exist.
pub fn deleted(store: &Store, ids: &[ResourceId]) -> Result<Store, TargetError> {
    let mut store = store.clone();
    for id in ids {
        if store.delete(id).is_none() {
            return Err(TargetError::NotFound {
                what: if id.kind == Kind::AsmEgressTrafficPolicy {
                    "ASMEgressTrafficPolicy"
                } else {
                    "object"
                },
                id: id.to_string(),
            });
        }
    }
    Ok(store)
}

#[cfg(test)]
mod pod_creation_tests {
    use super::*;

    fn load(text: &str) -> Vec<Resource> {
        match egressbench_manifest::load_str(text, "test.yaml") {
            Ok(l) => l.resources,
            Err(e) => panic!("{}", e.render()),
        }
    }

    const SLEEP: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: sleep, namespace: default}\nspec:\n  template:\n    metadata: {labels: {app: sleep}}\n";

    fn injected(store: &Store) -> String {
        store
            .get(&ResourceId::new(Kind::Deployment, "default", "sleep"))
            .and_then(|d| d.meta.annotations.get(INJECTED_AT_CREATION).cloned())
            .unwrap_or_default()
    }

    #[test]
    fn injection_is_decided_when_the_pod_is_created() {
        let unlabelled = "apiVersion: v1\nkind: Namespace\nmetadata: {name: default}\n";
        let labelled = "apiVersion: v1\nkind: Namespace\nmetadata: {name: default, labels: {istio-injection: enabled}}\n";
        let store = applied(&Store::new(), load(&format!("{unlabelled}---\n{SLEEP}")));
        assert!(
            injected(&store).starts_with("false; "),
            "{}",
            injected(&store)
        );
        // The label alone, and the same Deployment applied again, keep the pod as it is.
        let store = applied(&store, load(labelled));
        let store = applied(&store, load(SLEEP));
        assert!(
            injected(&store).starts_with("false; "),
            "{}",
            injected(&store)
        );
        // A recreated pod is injected.
        let mut again = load(SLEEP);
        again[0]
            .meta
            .annotations
            .insert(POD_GENERATION.into(), "steps[4]".into());
        let store = applied(&store, again);
        assert!(
            injected(&store).starts_with("true; namespace has istio-injection=enabled"),
            "{}",
            injected(&store)
        );
        // Applying the manifest again after that keeps the recreated pod: no new decision.
        let unlabel = "apiVersion: v1\nkind: Namespace\nmetadata: {name: default}\n";
        let store = applied(&applied(&store, load(unlabel)), load(SLEEP));
        assert!(
            injected(&store).starts_with("true; "),
            "{}",
            injected(&store)
        );
        // So is one whose template changed.
        let changed = SLEEP.replace("app: sleep", "app: sleep, version: v2");
        let store = applied(&applied(&Store::new(), load(unlabelled)), load(&changed));
        let store = applied(&store, load(labelled));
        let store = applied(&store, load(SLEEP));
        assert!(
            injected(&store).starts_with("true; "),
            "{}",
            injected(&store)
        );
    }
}
