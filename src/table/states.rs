//! The mesh states a scenario goes through: its changes (setup manifests, `apply`, `delete` and
//! `mesh` steps) replayed in order on every target, and what each target said to each change.
//!
//! Owns: `Change` (a step's change as objects to apply or delete), `ChangeRecord` (every target's
//! answer to one change: applied, or rejected and why), titles of states. A `mesh:` step becomes the
//! `istio` ConfigMap in `istio-system` with only the outbound policy changed, by
//! `scenario::runner::mesh_step`, from the mesh config in the store the model holds. Leaves out: when a state is tabled (`build`), requests (`probe`).

use egressbench_resources::mesh_config::MeshConfig;
use egressbench_resources::{Body, OutboundMode, Resource, ResourceId, Store};
use egressbench_scenario::runner::{mesh_id, mesh_step};
use egressbench_scenario::target::Target;
use egressbench_scenario::{Action, Step};
use serde::Serialize;

/// A change to the mesh, ready for any target.
#[derive(Debug, Clone)]
pub enum Change {
    Apply(Vec<Resource>),
    Delete(Vec<ResourceId>),
}

impl Change {
    /// The change a step makes, given the objects the cluster holds now (a `mesh:` step keeps the
    /// rest of the applied mesh config); `None` for steps that only look (`exec`, `logs`).
    pub fn of_step(action: &Action, current: &Store) -> Option<Change> {
        match action {
            Action::Apply(resources) => Some(Change::Apply(resources.clone())),
            Action::Delete(ids) => Some(Change::Delete(ids.clone())),
            Action::Mesh { outbound } => {
                Some(Change::Apply(vec![mesh_configmap(current, *outbound)]))
            }
            Action::Exec { .. }
            | Action::Logs { .. }
            | Action::Export { .. }
            | Action::Workstation { .. }
            | Action::ProxyConfig { .. }
            | Action::GetPods { .. }
            | Action::ProxyLog { .. }
            | Action::ProxyAdmin { .. } => None,
        }
    }

    /// Carry the change out on `target`: `None` when applied, else the target's error.
    pub fn carry_out(&self, target: &mut dyn Target) -> Option<String> {
        let done = match self {
            Change::Apply(resources) => target.apply(resources.clone()),
            Change::Delete(ids) => target.delete(ids),
        };
        done.err().map(|e| e.to_string())
    }
}

/// The `istio` ConfigMap with `current`'s mesh config (the one in the store, if any) and
/// `outbound` as its outbound traffic policy.
fn mesh_configmap(current: &Store, outbound: OutboundMode) -> Resource {
    let mesh = match current.get(&mesh_id()).map(|r| &r.body) {
        Some(Body::MeshConfig(m)) => (**m).clone(),
        _ => MeshConfig::default(),
    };
    mesh_step(&mesh, outbound).1
}

/// One target's answer to a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeOutcome {
    pub target: &'static str,
    /// `None`: applied; else the target's error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejected: Option<String>,
}

/// One change and every target's answer to it.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeRecord {
    /// The step's number; 0 for the scenario's manifests.
    pub step: usize,
    pub title: String,
    pub outcomes: Vec<ChangeOutcome>,
}

impl ChangeRecord {
    /// Whether every target applied it, or every target rejected it (messages may differ).
    pub fn agrees(&self) -> bool {
        match self.outcomes.split_first() {
            Some((first, rest)) => rest
                .iter()
                .all(|o| o.rejected.is_some() == first.rejected.is_some()),
            None => true,
        }
    }

    /// Whether any target rejected it.
    pub fn any_rejected(&self) -> bool {
        self.outcomes.iter().any(|o| o.rejected.is_some())
    }
}

/// `step 4 "Apply the policy"`, or `step 4 (kubectl apply -f …)` for a step without a name.
pub fn step_title(step: &Step) -> String {
    match &step.name {
        Some(name) => format!("step {} \"{name}\"", step.index),
        None => format!("step {} ({})", step.index, step.command),
    }
}

/// The title of the setup change.
pub const SETUP_TITLE: &str = "the scenario's manifests";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mesh_step_keeps_the_rest_of_the_applied_mesh_config() {
        let mut store = Store::new();
        let id = mesh_id();
        store.apply(Resource::new(
            "v1",
            egressbench_resources::ObjectMeta::named(&id.name, &id.namespace),
            Body::MeshConfig(Box::new(MeshConfig {
                trust_domain: Some("example.org".into()),
                ..MeshConfig::default()
            })),
        ));
        let action = Action::Mesh {
            outbound: OutboundMode::RegistryOnly,
        };
        let Some(Change::Apply(objects)) = Change::of_step(&action, &store) else {
            panic!("a mesh step applies the ConfigMap");
        };
        let Some(Body::MeshConfig(mesh)) = objects.first().map(|r| &r.body) else {
            panic!("{objects:?}");
        };
        assert_eq!(mesh.trust_domain.as_deref(), Some("example.org"));
        assert_eq!(mesh.outbound_mode(), OutboundMode::RegistryOnly);
        let fresh = Change::of_step(&action, &Store::new());
        assert!(matches!(fresh, Some(Change::Apply(o)) if o.len() == 1));
    }

    #[test]
    fn changes_agree_when_every_target_applies_or_every_target_rejects() {
        let record = |a: Option<&str>, b: Option<&str>| ChangeRecord {
            step: 1,
            title: "step 1".into(),
            outcomes: vec![
                ChangeOutcome {
                    target: "model",
                    rejected: a.map(String::from),
                },
                ChangeOutcome {
                    target: "sim",
                    rejected: b.map(String::from),
                },
            ],
        };
        assert!(record(None, None).agrees());
        assert!(record(Some("no gateway"), Some("no gateway `x`")).agrees());
        assert!(!record(Some("no gateway"), None).agrees());
        assert!(record(Some("x"), Some("x")).any_rejected());
    }
}
