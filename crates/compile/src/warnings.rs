//! Warnings: what a policy compiles to but the generated objects cannot guarantee.
//!
//! Owns the checks that do not stop compilation: a namespace other than `istio-egress`, a gateway
//! without a Service or without the chosen port, a host claimed by two destinations, workloads of
//! a namespace that the policy does not select but that see its hosts anyway, and whole
//! namespaces admitted while the mesh still allows any outbound traffic. Leaves out gateway port
//! allocation notes (`gateway_ports`) and prefixing each warning with the policy (`mod`).

use crate::plan::Plan;
use egressbench_resources::OutboundMode;
use std::collections::{BTreeMap, HashSet};

/// The namespace ASM reads `ASMEgressTrafficPolicy` from.
pub(crate) const ASM_NAMESPACE: &str = "istio-egress";

/// Every warning for `plan`, given the mesh-wide outbound mode.
pub(crate) fn collect(plan: &Plan<'_>, mesh_mode: OutboundMode) -> Vec<String> {
    let mut out = Vec::new();
    namespace(plan, &mut out);
    gateway_service(plan, &mut out);
    shared_hosts(plan, &mut out);
    unselected_workloads(plan, &mut out);
    whole_namespaces(plan, mesh_mode, &mut out);
    out
}

fn backticked<'s>(items: impl IntoIterator<Item = &'s str>) -> String {
    items
        .into_iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn namespace(plan: &Plan<'_>, out: &mut Vec<String>) {
    let ns = &plan.policy.namespace;
    if ns != ASM_NAMESPACE {
        out.push(format!(
            "namespace `{ns}` is not `{ASM_NAMESPACE}`: ASM only reads ASMEgressTrafficPolicy \
             there; compiled for `{ns}` anyway"
        ));
    }
}

fn gateway_service(plan: &Plan<'_>, out: &mut Vec<String>) {
    let gw = &plan.gateway;
    let Some(ports) = &gw.service_ports else {
        out.push(format!(
            "no Service `{}` in namespace `{}`: sidecars have no route to `{}`, so traffic sent \
             to the gateway fails",
            gw.name, gw.namespace, gw.host
        ));
        return;
    };
    for t in &plan.targets {
        if !ports.contains(&t.gateway_port) {
            let list = ports
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            out.push(format!(
                "gateway port {} for {} is not a port of Service `{}/{}` (ports: {list}): \
                 sidecars cannot reach the gateway on it",
                t.gateway_port,
                t.dest.path(),
                gw.namespace,
                gw.name
            ));
        }
    }
}

/// A host in two destinations gets two ServiceEntries and two VirtualServices; a sidecar uses one
/// VirtualService per host, so only one of the destinations routes.
fn shared_hosts(plan: &Plan<'_>, out: &mut Vec<String>) {
    // Destinations by host (positions only: paths are spelled out for the shared hosts alone).
    let mut owners: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (k, t) in plan.targets.iter().enumerate() {
        for h in &t.dest.to.hosts {
            owners.entry(h.as_str()).or_default().push(k);
        }
    }
    for (host, targets) in owners.into_iter().filter(|(_, t)| t.len() > 1) {
        let paths: Vec<String> = targets
            .iter()
            .map(|&k| plan.targets[k].dest.path())
            .collect();
        out.push(format!(
            "host `{host}` is in {}: each gets its own VirtualService, and a sidecar uses only \
             one VirtualService per host, so only one of them routes",
            paths.join(" and ")
        ));
    }
}

/// The Sidecars restrict the selected workloads, but `exportTo` works per namespace: the other
/// workloads of a selected namespace see the rule's hosts and reach them through the gateway.
fn unselected_workloads(plan: &Plan<'_>, out: &mut Vec<String>) {
    // Hosts of each rule, gathered once (a policy may have thousands of rules).
    let mut rule_hosts: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
    for t in &plan.targets {
        rule_hosts
            .entry(t.dest.rule)
            .or_default()
            .extend(t.dest.to.hosts.iter().map(String::as_str));
    }
    // Per namespace: whether a rule admits it whole, and the hosts of rules that select workloads
    // (in first-seen order, each once).
    let mut namespaces: BTreeMap<&str, (bool, Vec<&str>, HashSet<&str>)> = BTreeMap::new();
    for (i, rule) in plan.rules.iter().enumerate() {
        for from in &rule.from {
            let entry = namespaces.entry(from.namespace.as_str()).or_default();
            if from.workload_selector.is_empty() {
                entry.0 = true;
                continue;
            }
            for &h in rule_hosts.get(&i).into_iter().flatten() {
                if entry.2.insert(h) {
                    entry.1.push(h);
                }
            }
        }
    }
    for (ns, (whole, hosts, _)) in namespaces {
        if whole || hosts.is_empty() {
            continue;
        }
        const SHOWN: usize = 5;
        let more = hosts.len().saturating_sub(SHOWN);
        out.push(format!(
            "other workloads in namespace `{ns}` see hosts {}{} too (exportTo is per namespace) and \
             reach them through the gateway; restrict them with an AuthorizationPolicy on the \
             egress gateway (source.principals)",
            backticked(hosts.into_iter().take(SHOWN)),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        ));
    }
}

/// Under ALLOW_ANY, a namespace admitted without a selector gets no Sidecar, so its workloads
/// still reach every other external host directly.
fn whole_namespaces(plan: &Plan<'_>, mesh_mode: OutboundMode, out: &mut Vec<String>) {
    if mesh_mode != OutboundMode::AllowAny {
        return;
    }
    let mut seen: Vec<&str> = Vec::new();
    for (i, rule) in plan.rules.iter().enumerate() {
        for (f, from) in rule.from.iter().enumerate() {
            if !from.workload_selector.is_empty() || seen.contains(&from.namespace.as_str()) {
                continue;
            }
            seen.push(&from.namespace);
            out.push(format!(
                "the mesh's outboundTrafficPolicy is ALLOW_ANY and egressRules[{i}].from[{f}] \
                 admits all of namespace `{}` without a Sidecar: its workloads still reach other \
                 external hosts directly; set REGISTRY_ONLY mesh-wide",
                from.namespace
            ));
        }
    }
}
