//! A scenario ready to run: paths resolved, manifests loaded, variables expanded, command lines
//! parsed, every step one of the actions a target understands (or an `export`, already done).
//!
//! Owns: `Scenario`, `Step` and `Action`. Leaves out: how they are read (`load`), run (`runner`)
//! and checked (`verify`).

use super::command::{AdminRead, ConfigView, ExecCommand, PodField, ProxyLogRead, Stage};
use super::expectation::Expect;
use super::format::Source;
use super::hosts::{self, HostSpec};
use egressbench_model::external::Internet;
use egressbench_model::request::{Origin, WorkloadRef};
use egressbench_resources::{OutboundMode, Resource, ResourceId};
use std::path::PathBuf;

/// One scenario file, loaded.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The file, as it was named.
    pub file: PathBuf,
    /// The file's stem: the scenario's id in reports and test names.
    pub slug: String,
    /// What it shows, as a sentence.
    pub name: String,
    pub source: Source,
    pub hosts: Vec<HostSpec>,
    /// The objects of `manifests:`, applied in order before step 1.
    pub setup: Vec<Resource>,
    pub steps: Vec<Step>,
}

impl Scenario {
    /// The outside world the scenario's target must be built with: the built-in hosts, the
    /// declared ones, and a generic web site for every other public name its commands connect to.
    pub fn internet(&self) -> Internet {
        let mut internet = hosts::internet(&self.hosts);
        let applied = self.steps.iter().filter_map(|s| match &s.action {
            Action::Apply(r) => Some(r.as_slice()),
            _ => None,
        });
        let resources = std::iter::once(self.setup.as_slice())
            .chain(applied)
            .flatten();
        let names = self.steps.iter().flat_map(|s| match &s.action {
            Action::Exec { command, .. } => command.hosts(),
            _ => Vec::new(),
        });
        hosts::add_web_sites(&mut internet, names, resources);
        internet
    }

    /// The tightest `duration` tolerance of any step, in the scenario's milliseconds: a target
    /// whose clock runs faster than real time must run slowly enough that its own jitter fits.
    pub fn duration_tolerance_ms(&self) -> Option<u64> {
        self.steps
            .iter()
            .filter_map(|s| s.expect.duration_tolerance_ms())
            .min()
    }
}

/// One step, ready to run.
#[derive(Debug, Clone)]
pub struct Step {
    /// 1-based, as reports number steps.
    pub index: usize,
    pub name: Option<String>,
    /// The step as reports show it: the kubectl line as written, or the structured action.
    pub command: String,
    pub action: Action,
    pub expect: Expect,
    pub discrepancy: Option<String>,
    /// `precondition: true`: the steps after it run only when it passes.
    pub precondition: bool,
}

impl Step {
    /// `step 3 (nginx is still blocked)`, or `step 3`.
    pub fn title(&self) -> String {
        match &self.name {
            Some(n) => format!("step {} ({n})", self.index),
            None => format!("step {}", self.index),
        }
    }
}

/// What a step does to the target.
#[derive(Debug, Clone)]
pub enum Action {
    /// Create or replace objects.
    Apply(Vec<Resource>),
    /// Delete objects.
    Delete(Vec<ResourceId>),
    /// Run a command in a workload's pod, or on the workstation.
    Exec { from: Origin, command: ExecCommand },
    /// Read a proxy's access log, the last `tail` entries.
    Logs {
        from: WorkloadRef,
        tail: Option<usize>,
    },
    /// Set the mesh's outbound traffic policy.
    Mesh { outbound: OutboundMode },
    /// Print a proxy's compiled config as `istioctl proxy-config` does, through `filters`.
    ProxyConfig {
        proxy: WorkloadRef,
        view: ConfigView,
        filters: Vec<Stage>,
    },
    /// Print a field of pods as `kubectl get pod -o jsonpath=…` does.
    GetPods { pods: Vec<SeenPod>, field: PodField },
    /// Print a forward proxy's access log (Squid's format) from what it received so far.
    ProxyLog {
        proxy: SeenPod,
        read: ProxyLogRead,
        /// Whether the pod runs a forward proxy (a `…/squid` image); any other has no such log.
        runs_proxy: bool,
    },
    /// Print a page of a pod's proxy's admin interface (`pilot-agent request GET stats`), from
    /// the target's counters, through the read's filters; `container` is `-c`.
    ProxyAdmin {
        proxy: WorkloadRef,
        container: Option<String>,
        read: AdminRead,
    },
    /// `export NAME=…`: the variable was set when the scenario was loaded (the later steps'
    /// lines were read with it); running it does nothing to the target.
    Export { name: String, value: String },
    /// `openssl …` or `cat <<EOF > FILE`: made `made` on the workstation when the scenario was
    /// loaded (a later `kubectl create secret` took them); running it does nothing to the target.
    Workstation { made: Vec<String> },
}

impl Action {
    /// Short name for reports.
    pub fn key(&self) -> &'static str {
        match self {
            Action::Apply(_) => "apply",
            Action::Delete(_) => "delete",
            Action::Exec { .. } => "exec",
            Action::Logs { .. } => "logs",
            Action::Mesh { .. } => "mesh",
            Action::Export { .. } => "export",
            Action::Workstation { .. } => "workstation",
            Action::ProxyConfig { .. } => "istioctl",
            Action::GetPods { .. } => "get",
            Action::ProxyLog { .. } | Action::ProxyAdmin { .. } => "exec",
        }
    }

    /// Whether it changes the cluster (apply, delete, mesh) rather than observing it.
    pub fn is_change(&self) -> bool {
        matches!(
            self,
            Action::Apply(_) | Action::Delete(_) | Action::Mesh { .. }
        )
    }
}

/// A pod a `kubectl get pod` names, as the loader knew it: the containers its Deployment names and
/// its address (both `None`: no such Deployment was applied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenPod {
    pub workload: WorkloadRef,
    pub containers: Option<Vec<String>>,
    pub address: Option<std::net::Ipv4Addr>,
}
