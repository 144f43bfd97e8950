//! The native Istio objects of one checked policy, in a stable order.
//!
//! Owns the `Gateway` and gateway `DestinationRule` (one per policy), each destination's
//! `ServiceEntry` and TLS-origination `DestinationRule`s, and the `Sidecar`s that pin
//! REGISTRY_ONLY for selected workloads. Leaves out VirtualServices (`routes`), labels and
//! annotations (`provenance`), and every check (`validate`, `gateway`, `gateway_ports`).
//!
//! Order: `Gateway`, gateway `DestinationRule`, then per destination in policy order its
//! `ServiceEntry`, VirtualServices and TLS `DestinationRule`s, then the `Sidecar`s.

use crate::names::object_name;
use crate::plan::{Plan, Target};
use crate::provenance::{object, Source};
use crate::routes::virtual_services;
use egressbench_resources::istio::destination_rule::{
    ClientTlsSettings, PortTrafficPolicy, Subset, TrafficPolicy,
};
use egressbench_resources::istio::gateway::{Server, ServerTlsSettings};
use egressbench_resources::istio::service_entry::ServicePort;
use egressbench_resources::istio::sidecar::{EgressListener, SidecarOutboundPolicy};
use egressbench_resources::istio::virtual_service::PortSelector;
use egressbench_resources::istio::{DestinationRule, Gateway, ServiceEntry, Sidecar};
use egressbench_resources::meta::WorkloadSelector;
use egressbench_resources::{
    Body, ClientTlsMode, Location, OutboundMode, Protocol, Resolution, Resource, ServerTlsMode,
};
use std::collections::BTreeMap;

/// Every object `plan` stands for.
pub(crate) fn generate(plan: &Plan<'_>) -> Vec<Resource> {
    // Sized up front: one policy can stand for tens of thousands of objects.
    let hosts: usize = plan.targets.iter().map(|t| t.dest.to.hosts.len()).sum();
    let mut out = Vec::with_capacity(2 + plan.targets.len() + 2 * hosts + plan.rules.len());
    out.push(gateway(plan));
    out.push(gateway_destination_rule(plan));
    for target in &plan.targets {
        out.push(service_entry(plan, target));
        out.extend(virtual_services(plan, target));
        out.extend(tls_origination(plan, target));
    }
    out.extend(sidecars(plan));
    out
}

fn source(target: &Target<'_>) -> Source {
    Source::To {
        rule: target.dest.rule,
        to: target.dest.index,
    }
}

/// The source of the objects every destination shares.
fn shared_source(plan: &Plan<'_>) -> Source {
    Source::merge_all(plan.targets.iter().map(source))
}

/// Port-level client TLS for one port.
fn port_tls(port: u16, mode: ClientTlsMode, sni: &str) -> PortTrafficPolicy {
    PortTrafficPolicy {
        port: Some(PortSelector { number: port }),
        tls: Some(ClientTlsSettings {
            mode: Some(mode),
            sni: Some(sni.to_string()),
            ..ClientTlsSettings::default()
        }),
        ..PortTrafficPolicy::default()
    }
}

fn first_host(target: &Target<'_>) -> String {
    target.dest.to.hosts.first().cloned().unwrap_or_default()
}

/// `Gateway` `P`: one ISTIO_MUTUAL server per destination on its gateway port.
fn gateway(plan: &Plan<'_>) -> Resource {
    let servers = plan
        .targets
        .iter()
        .map(|t| {
            let protocol = t.dest.family.server_protocol;
            Server {
                port: ServicePort {
                    number: t.gateway_port,
                    protocol: Some(protocol),
                    name: object_name(&[protocol.as_str(), &t.dest.name]),
                    target_port: None,
                },
                hosts: t.dest.to.hosts.clone(),
                tls: Some(ServerTlsSettings {
                    mode: Some(ServerTlsMode::IstioMutual),
                    ..ServerTlsSettings::default()
                }),
                ..Server::default()
            }
        })
        .collect();
    object(
        plan,
        object_name(&[&plan.policy.name]),
        &plan.policy.namespace,
        shared_source(plan),
        Body::Gateway(Box::new(Gateway {
            selector: plan.gateway.selector.clone(),
            servers,
        })),
    )
}

/// `DestinationRule` `P-gateway` for the gateway's host: a subset per destination carrying
/// ISTIO_MUTUAL and the destination's first host as SNI on its gateway port.
fn gateway_destination_rule(plan: &Plan<'_>) -> Resource {
    let subsets = plan
        .targets
        .iter()
        .map(|t| Subset {
            name: t.dest.name.clone(),
            labels: BTreeMap::new(),
            traffic_policy: Some(TrafficPolicy {
                port_level_settings: vec![port_tls(
                    t.gateway_port,
                    ClientTlsMode::IstioMutual,
                    &first_host(t),
                )],
                ..TrafficPolicy::default()
            }),
        })
        .collect();
    object(
        plan,
        object_name(&[&plan.policy.name, "gateway"]),
        &plan.policy.namespace,
        shared_source(plan),
        Body::DestinationRule(Box::new(DestinationRule {
            host: plan.gateway.host.clone(),
            subsets,
            export_to: plan.policy_export_to(),
            ..DestinationRule::default()
        })),
    )
}

/// `ServiceEntry` `P-t`: the destination's hosts on the rule's port (and the upgrade port).
fn service_entry(plan: &Plan<'_>, target: &Target<'_>) -> Resource {
    let dest = &target.dest;
    let port = &dest.to.port;
    let name = if port.name.is_empty() {
        format!(
            "{}-{}",
            port.protocol.as_str().to_ascii_lowercase(),
            port.number
        )
    } else {
        port.name.clone()
    };
    let mut ports = vec![ServicePort {
        number: port.number,
        protocol: Some(port.protocol),
        name,
        target_port: port.target_port,
    }];
    if let Some(upgrade) = dest.upgrade_port {
        ports.push(ServicePort {
            number: upgrade,
            protocol: Some(Protocol::Https),
            name: format!("https-{upgrade}"),
            target_port: None,
        });
    }
    object(
        plan,
        object_name(&[&plan.policy.name, &dest.name]),
        &plan.policy.namespace,
        source(target),
        Body::ServiceEntry(Box::new(ServiceEntry {
            hosts: dest.to.hosts.clone(),
            ports,
            location: Some(Location::MeshExternal),
            resolution: Some(Resolution::Dns),
            export_to: plan.rule_export_to(dest.rule),
            ..ServiceEntry::default()
        })),
    )
}

/// With `httpsUpgrade`: per host, `DestinationRule` `P-t-tls-<k>` originating TLS (SIMPLE, SNI =
/// host) on the upgrade port. Exported to the policy's namespace only, so the gateway originates
/// TLS while sidecars that send their own TLS to that port are not made to wrap it again.
fn tls_origination(plan: &Plan<'_>, target: &Target<'_>) -> Vec<Resource> {
    let dest = &target.dest;
    let Some(upgrade) = dest.upgrade_port else {
        return Vec::new();
    };
    dest.to
        .hosts
        .iter()
        .enumerate()
        .map(|(k, h)| {
            object(
                plan,
                object_name(&[&plan.policy.name, &dest.name, "tls", &k.to_string()]),
                &plan.policy.namespace,
                source(target),
                Body::DestinationRule(Box::new(DestinationRule {
                    host: h.clone(),
                    traffic_policy: Some(TrafficPolicy {
                        port_level_settings: vec![port_tls(upgrade, ClientTlsMode::Simple, h)],
                        ..TrafficPolicy::default()
                    }),
                    export_to: vec![".".to_string()],
                    ..DestinationRule::default()
                })),
            )
        })
        .collect()
}

/// A `Sidecar` `P-<namespace>-<k>` per distinct (namespace, workload selector) of the policy's
/// `from` entries: REGISTRY_ONLY for the selected workloads whatever the mesh-wide mode, with
/// egress hosts `*/*` so it narrows nothing they can see. `k` counts per namespace, in policy
/// order. Entries without a selector get none: they admit the whole namespace.
fn sidecars(plan: &Plan<'_>) -> Vec<Resource> {
    let mut distinct: Vec<(&str, &BTreeMap<String, String>, Source)> = Vec::new();
    for (i, rule) in plan.rules.iter().enumerate() {
        for (f, from) in rule.from.iter().enumerate() {
            if from.workload_selector.is_empty() {
                continue;
            }
            let here = Source::From { rule: i, from: f };
            let key = (from.namespace.as_str(), &from.workload_selector);
            match distinct.iter_mut().find(|(ns, sel, _)| (*ns, *sel) == key) {
                Some(entry) => entry.2 = entry.2.merge(here),
                None => distinct.push((key.0, key.1, here)),
            }
        }
    }
    let mut per_namespace: BTreeMap<&str, usize> = BTreeMap::new();
    distinct
        .into_iter()
        .map(|(ns, selector, source)| {
            let k = per_namespace.entry(ns).or_default();
            let name = object_name(&[&plan.policy.name, ns, &k.to_string()]);
            *k += 1;
            object(
                plan,
                name,
                ns,
                source,
                Body::Sidecar(Box::new(Sidecar {
                    workload_selector: Some(WorkloadSelector {
                        labels: selector.clone(),
                    }),
                    egress: vec![EgressListener {
                        hosts: vec!["*/*".to_string()],
                        ..EgressListener::default()
                    }],
                    outbound_traffic_policy: Some(SidecarOutboundPolicy {
                        mode: OutboundMode::RegistryOnly,
                        egress_proxy: None,
                    }),
                    ..Sidecar::default()
                })),
            )
        })
        .collect()
}
