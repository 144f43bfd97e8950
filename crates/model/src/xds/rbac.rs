//! RBAC as a proxy holds it: the AuthorizationPolicies that apply to the proxy's workload, in the
//! store's order (the evaluation order, CUSTOM, then DENY, then ALLOW, with AUDIT only logging,
//! is `decide::authorize`'s).
//!
//! Each policy keeps its rules as written; Envoy's policy names are derived per rule,
//! `ns[<ns>]-policy[<name>]-rule[<i>]` (istio/istio `pilot/pkg/security/authz/builder`).
//!
//! Owns: `RbacAction`, `RbacPolicy` (one AuthorizationPolicy as applied, with its dry-run flag
//! and its rule names) and `RbacFilter`. Leaves out: which policies apply to a workload
//! (`build::rbac_for`), evaluating a request against them (`decide::authorize`), and Envoy's RBAC
//! filters (`egressbench-envoy`'s `rbac` and `rbac_rules`).

use super::Provenance;
use egressbench_resources::istio::authorization_policy::Rule;
use egressbench_resources::ResourceId;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum RbacAction {
    Allow,
    Deny,
    Audit,
    Custom,
}

/// One AuthorizationPolicy as applied to this proxy.
#[derive(Debug, Clone, Serialize)]
pub struct RbacPolicy {
    pub policy: ResourceId,
    pub action: RbacAction,
    /// `istio.io/dry-run: "true"`: evaluated and reported, never enforced.
    pub dry_run: bool,
    /// `None`: the policy has no `rules` (ALLOW: allows nothing; DENY: denies nothing).
    pub rules: Option<Vec<Rule>>,
    pub provenance: Provenance,
}

impl RbacPolicy {
    /// Envoy's name for rule `i` of this policy.
    pub fn rule_name(&self, i: usize) -> String {
        format!(
            "ns[{}]-policy[{}]-rule[{}]",
            self.policy.namespace, self.policy.name, i
        )
    }
}

/// The RBAC filter of a chain: all policies that apply to the proxy's workload.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RbacFilter {
    pub policies: Vec<RbacPolicy>,
}

impl RbacFilter {
    pub fn is_empty(&self) -> bool {
        self.policies.is_empty()
    }
}
