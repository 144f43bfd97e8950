//! Compilation of `ASMEgressTrafficPolicy` into the native Istio resources it stands for.
//!
//! Owns the public API (`compile_policy`, `expand`, `render_yaml`) and the order of the stages:
//! `validate` (spec shape) → `gateway` (the gateway in the cluster) → `gateway_ports` (a port per
//! destination) → `generate` / `routes` (the objects) → `warnings`. Leaves out reading YAML
//! (`manifest`) and what the objects mean to proxies (`xds`, `decide`).
//!
//! # What a policy becomes
//!
//! Policy `P` in namespace `N` (ASM fixes `N = istio-egress`; others compile with a warning) names
//! gateway `G`: the Deployment `N/G` (its pod labels select the gateway) with Service `N/G` (host
//! `G.N.svc.cluster.local`). Each `to` entry `j` of rule `i` is a destination named `t` (its
//! `name` lowercased to DNS-1123, or `to-<i>-<j>`), carried through gateway port
//! `to[].byEgressGateway.port`, else `spec.byEgressGateway.port`, else (v1 only) the first port
//! of the gateway's Service not used by this policy with another server protocol. Generated, all
//! `networking.istio.io/v1`:
//!
//! - `Gateway` `N/P`: one server per destination on its gateway port, `tls.mode: ISTIO_MUTUAL`,
//!   protocol HTTPS for HTTP-family destinations (HTTP, HTTP2, GRPC), TLS for stream ones (HTTPS,
//!   TLS, TCP, MONGO).
//! - `DestinationRule` `N/P-gateway` for the gateway host: a subset `t` per destination with
//!   ISTIO_MUTUAL and SNI = its first host on its gateway port.
//! - per destination: `ServiceEntry` `N/P-t` (MESH_EXTERNAL, DNS; with `httpsUpgrade`, also the
//!   upgrade port as HTTPS); VirtualService(s) carrying both hops (see `routes` for when an HTTP
//!   destination gets one per host); with `httpsUpgrade`, a `DestinationRule` `N/P-t-tls-<k>` per
//!   host originating TLS on the upgrade port, exported to `.` only.
//! - per distinct (`from.namespace`, `workloadSelector`): `Sidecar` pinning REGISTRY_ONLY.
//!
//! ServiceEntries and VirtualServices are exported to `.` and the rule's `from` namespaces; the
//! gateway `DestinationRule` to `.` and every `from` namespace of the policy. Every object carries
//! the labels `asm.egressbench.io/policy` and `asm.egressbench.io/rule` and the annotation
//! `asm.egressbench.io/generated-from`. Output order is stable.
//!
//! # What cannot be written
//!
//! ASM documents that it does not support weighted egress routing, mTLS origination from the
//! gateway to the external host, or plaintext between sidecar and gateway. None of them has a
//! field in the CRD's types (`resources::asm`), and the strict loader rejects unknown fields with hints, so
//! such a policy never reaches this module; the sidecar→gateway hop is always ISTIO_MUTUAL here.

pub mod dns;
mod error;
mod expand;
mod family;
#[cfg(test)]
mod fixtures;
mod gateway;
mod gateway_ports;
mod generate;
mod names;
mod plan;
mod provenance;
mod render;
mod routes;
mod validate;
mod warnings;

#[cfg(test)]
mod policy_tests;
#[cfg(test)]
mod seed_tests;

pub use error::{CompileError, Problem};
pub use expand::expand;
pub use provenance::{ALL_RULES, GENERATED_FROM, POLICY_LABEL, RULE_LABEL};
pub use render::render_yaml;

use egressbench_resources::{Body, Resource, ResourceId, Store};
use error::FieldError;
use plan::{Plan, PolicyRef};
use std::collections::BTreeSet;

/// The native resources one policy stands for, and warnings about what they cannot guarantee.
#[derive(Debug, Clone, Default)]
pub struct Compiled {
    pub resources: Vec<Resource>,
    /// Each starts with the policy (`ASMEgressTrafficPolicy/ns/name: …`).
    pub warnings: Vec<String>,
}

/// A store with every ASM policy replaced by the native resources it compiles to.
#[derive(Debug, Clone, Default)]
pub struct Expanded {
    pub store: Store,
    /// Identities of the generated objects, in generation order.
    pub generated: Vec<ResourceId>,
    pub warnings: Vec<String>,
}

/// Compile one policy against the cluster it will be applied to.
pub fn compile_policy(store: &Store, policy: &Resource) -> Result<Compiled, CompileError> {
    let (plan, mut notes) = plan(store, policy)?;
    let resources = generate::generate(&plan);
    check_unique(&plan, &resources)?;
    notes.extend(warnings::collect(
        &plan,
        store.mesh_config().outbound_mode(),
    ));
    let warnings = notes
        .into_iter()
        .map(|w| format!("{}: {w}", plan.policy.display))
        .collect();
    Ok(Compiled {
        resources,
        warnings,
    })
}

/// Check `policy` against `store` and settle every destination's name and gateway port; also
/// returns the gateway port allocation notes.
fn plan<'a>(store: &Store, policy: &'a Resource) -> Result<(Plan<'a>, Vec<String>), CompileError> {
    let policy_ref = PolicyRef::of(policy);
    let fail = |e: FieldError| e.in_policy(&policy_ref.display);
    let Body::AsmEgressTrafficPolicy(spec) = &policy.body else {
        return Err(fail(FieldError::new(
            "kind",
            Problem::NotAPolicy { got: policy.kind() },
        )));
    };
    let dests = validate::check(spec).map_err(fail)?;
    let gateway =
        gateway::find(store, &policy_ref.namespace, &spec.by_egress_gateway.name).map_err(fail)?;
    let assigned = gateway_ports::assign(dests, spec.by_egress_gateway.port, &gateway, &policy_ref)
        .map_err(fail)?;
    let plan = Plan {
        policy_label: names::fit(&policy_ref.name),
        rule_labels: (0..spec.egress_rules.len())
            .map(|i| provenance::rule_label(&spec.egress_rules, i))
            .collect(),
        policy: policy_ref,
        rules: &spec.egress_rules,
        gateway,
        targets: assigned.targets,
    };
    Ok((plan, assigned.allocations))
}

/// Two objects of one policy with one identity (possible when one destination's name ends the way
/// another's per-host names do, e.g. `a` with two hosts and `a-1`) would overwrite each other.
fn check_unique(plan: &Plan<'_>, resources: &[Resource]) -> Result<(), CompileError> {
    let mut seen = BTreeSet::new();
    for r in resources {
        if !seen.insert(r.id()) {
            return Err(FieldError::new(
                provenance::source_path(r).unwrap_or("metadata.name"),
                Problem::Collision {
                    id: r.id().to_string(),
                    existing: "another object this policy generates".to_string(),
                },
            )
            .in_policy(&plan.policy.display));
        }
    }
    Ok(())
}

#[cfg(test)]
mod profile {
    use super::fixtures::{cluster, policy};

    /// A loop to profile compiling a large policy (`valgrind --tool=callgrind`); not a timing test.
    #[test]
    #[ignore = "a profiling loop, run by hand"]
    fn compile_a_thousand_rules() {
        let rules: String = (0..1000)
            .map(|i| {
                format!(
                    "
  - name: rule-{i}
    from:
    - namespace: mytest
      workloadSelector: {{app: sleep-a}}
    to:
    - name: to-{i}
      hosts: [r{i}.example.com]
      port: {{number: 80, name: http, protocol: HTTP}}
      byEgressGateway: {{port: 80}}"
                )
            })
            .collect();
        let spec = format!("byEgressGateway: {{name: egressgateway}}\negressRules:{rules}");
        let p = policy("istio.alibabacloud.com/v1", &spec);
        let store = cluster();
        for _ in 0..3 {
            assert!(super::compile_policy(&store, &p).is_ok());
        }
    }
}
