//! The RBAC filters of a chain, from the AuthorizationPolicies the proxy holds: one filter per
//! action, in istiod's order — AUDIT (Envoy `LOG`), DENY, then ALLOW — each with the enforced
//! policies in `rules` and the `istio.io/dry-run` ones in `shadow_rules`; policy names
//! `ns[<ns>]-policy[<name>]-rule[<i>]` (istio/istio `pilot/pkg/security/authz/builder`). HTTP
//! chains get `envoy.filters.http.rbac`, TCP chains `envoy.filters.network.rbac`.
//!
//! Owns: grouping and naming. Leaves out: translating a rule (`rbac_rules`). CUSTOM policies are
//! not rendered (no ext_authz provider is modelled; the model skips them too).

use super::rbac_rules::{match_never, policy, RuleContext};
use egressbench_model::xds::{RbacAction, RbacFilter, RbacPolicy};
use serde_json::{json, Map, Value};

/// Which filter family: in an HTTP connection manager or in a network filter chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layer {
    Http,
    Tcp,
}

/// The `RBAC` config (`action` and named `policies`) of `policies`, all of one action.
fn rules(action: RbacAction, policies: &[&RbacPolicy], tcp: bool) -> Value {
    let envoy_action = match action {
        RbacAction::Allow => "ALLOW",
        RbacAction::Deny => "DENY",
        RbacAction::Audit | RbacAction::Custom => "LOG",
    };
    let mut named = Map::new();
    for p in policies {
        match p.rules.as_deref() {
            None | Some([]) => {
                named.insert(p.rule_name(0), match_never());
            }
            Some(list) => {
                let cx = RuleContext {
                    tcp,
                    action,
                    namespace: &p.policy.namespace,
                };
                for (i, rule) in list.iter().enumerate() {
                    if let Some(generated) = policy(rule, cx) {
                        named.insert(p.rule_name(i), generated);
                    }
                }
            }
        }
    }
    json!({"action": envoy_action, "policies": named})
}

/// The RBAC filters for `rbac` on a chain of `layer`, in evaluation order (empty without
/// policies).
pub(crate) fn filters(rbac: Option<&RbacFilter>, layer: Layer) -> Vec<Value> {
    let Some(rbac) = rbac else {
        return Vec::new();
    };
    let tcp = layer == Layer::Tcp;
    let mut out = Vec::new();
    for action in [RbacAction::Audit, RbacAction::Deny, RbacAction::Allow] {
        let of_action: Vec<&RbacPolicy> = rbac
            .policies
            .iter()
            .filter(|p| p.action == action)
            .collect();
        if of_action.is_empty() {
            continue;
        }
        let (shadow, enforced): (Vec<&RbacPolicy>, Vec<&RbacPolicy>) =
            of_action.into_iter().partition(|p| p.dry_run);
        let mut config = Map::new();
        let type_url = match layer {
            Layer::Http => "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC",
            Layer::Tcp => "type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC",
        };
        config.insert("@type".into(), json!(type_url));
        if tcp {
            config.insert("stat_prefix".into(), json!("tcp."));
        }
        if !enforced.is_empty() {
            config.insert("rules".into(), rules(action, &enforced, tcp));
        }
        if !shadow.is_empty() {
            config.insert("shadow_rules".into(), rules(action, &shadow, tcp));
            let prefix = match action {
                RbacAction::Allow => Some("istio_dry_run_allow_"),
                RbacAction::Deny => Some("istio_dry_run_deny_"),
                _ => None,
            };
            if let Some(prefix) = prefix {
                config.insert("shadow_rules_stat_prefix".into(), json!(prefix));
            }
        }
        let name = match layer {
            Layer::Http => "envoy.filters.http.rbac",
            Layer::Tcp => "envoy.filters.network.rbac",
        };
        out.push(json!({"name": name, "typed_config": Value::Object(config)}));
    }
    out
}
