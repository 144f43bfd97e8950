//! What sidecar and gateway config share: clusters for visible services (with DestinationRule
//! subsets and upstream TLS, including auto mTLS), the cluster a route destination names, and the
//! RBAC filter of the AuthorizationPolicies that select a workload.
//!
//! Owns: `build_proxy` (a sidecar's or a gateway's config, by the workload's proxy kind),
//! `destination_cluster`, `service_clusters` (every port and subset of the visible services, plus
//! BlackHoleCluster and PassthroughCluster) and `rbac_for` (the policies in the workload's or the
//! root namespace that select it). Leaves out: the cluster and RBAC types (`cluster`, `rbac`),
//! listeners and routes (`sidecar`, `gateway`, `routes`), which services are visible and which
//! DestinationRule applies (`topology`), and evaluating RBAC (`decide::authorize`).

use super::cluster::{Cluster, ClusterKind, Endpoint, EndpointTarget, UpstreamTls};
use super::rbac::{RbacAction, RbacFilter, RbacPolicy};
use super::{Provenance, ProxyConfig, ProxyKind};
use crate::topology::destination_host;
use crate::topology::registry::{ServiceEndpoint, ServiceInfo};
use crate::topology::{MeshContext, Workload};
use egressbench_resources::istio::destination_rule::{effective_tls, ClientTlsSettings, TlsSource};
use egressbench_resources::istio::virtual_service::Destination;
use egressbench_resources::{meta::selects, Action, Body, ClientTlsMode, Kind};
use std::collections::BTreeMap;

/// Build the config of the proxy beside `w` (a sidecar or a gateway).
pub fn build_proxy(ctx: &MeshContext, w: &Workload) -> ProxyConfig {
    match w.proxy {
        Some(ProxyKind::Gateway) => super::gateway::build(ctx, w),
        _ => super::sidecar::build(ctx, w),
    }
}

/// `outbound|port|subset|host` for a route destination. The port is the destination's, else the
/// service's only port, else the listener's.
pub(crate) fn destination_cluster(
    ctx: &MeshContext,
    d: &Destination,
    vs_ns: &str,
    port: u16,
) -> String {
    let host = destination_host(ctx, &d.host, vs_ns);
    let port = d.port.as_ref().map(|p| p.number).unwrap_or_else(|| {
        let svc = ctx.registry.exact(&host).next();
        match svc.map(|s| s.ports.as_slice()) {
            Some([only]) => only.number,
            _ => port,
        }
    });
    Cluster::outbound_name(port, d.subset.as_deref(), &host)
}

/// Upstream TLS from explicit DestinationRule settings; `None` for DISABLE (a `tls` block with no
/// `mode` is DISABLE too, and it turns auto mTLS off).
fn tls_from(s: &ClientTlsSettings, provenance: Provenance) -> Option<UpstreamTls> {
    let mode = s.mode.unwrap_or(ClientTlsMode::Disable);
    (mode != ClientTlsMode::Disable).then(|| UpstreamTls {
        mode,
        sni: s.sni.clone(),
        auto: false,
        provenance: Some(provenance),
    })
}

/// Does a workload endpoint accept Istio mTLS (auto mTLS target)? Sidecars do; gateways when their
/// pods carry `security.istio.io/tlsMode: istio`.
fn accepts_istio_mtls(ctx: &MeshContext, ep: &ServiceEndpoint) -> bool {
    match ep {
        ServiceEndpoint::Workload(id) => ctx.workloads.get(id).is_some_and(|w| {
            w.proxy == Some(ProxyKind::Sidecar)
                || w.labels
                    .get("security.istio.io/tlsMode")
                    .map(String::as_str)
                    == Some("istio")
        }),
        _ => false,
    }
}

/// Clusters for every port (and DestinationRule subset) of the services a proxy can see.
pub(crate) fn service_clusters(
    ctx: &MeshContext,
    client_ns: &str,
    services: &[&ServiceInfo],
) -> BTreeMap<String, Cluster> {
    let mut out = BTreeMap::new();
    for svc in services {
        let dr = ctx.destination_rule(&svc.hostname, client_ns, &svc.namespace);
        let mut subsets: Vec<Option<&egressbench_resources::istio::destination_rule::Subset>> =
            vec![None];
        if let Some((_, d)) = dr {
            subsets.extend(d.subsets.iter().map(Some));
        }
        for port in &svc.ports {
            for subset in &subsets {
                let name = Cluster::outbound_name(
                    port.number,
                    subset.map(|s| s.name.as_str()),
                    &svc.hostname,
                );
                if out.contains_key(&name) {
                    continue;
                }
                let endpoints: Vec<&ServiceEndpoint> = svc
                    .endpoints
                    .iter()
                    .filter(|e| match (e, subset) {
                        (ServiceEndpoint::Workload(id), Some(s)) => ctx
                            .workloads
                            .get(id)
                            .is_some_and(|w| selects(&s.labels, &w.labels)),
                        _ => true,
                    })
                    .collect();
                let kind = match endpoints.first() {
                    Some(ServiceEndpoint::Workload(_)) => ClusterKind::Eds,
                    Some(ServiceEndpoint::Dns(_)) => ClusterKind::StrictDns,
                    Some(ServiceEndpoint::OriginalDestination) => ClusterKind::OriginalDst,
                    None => ClusterKind::Eds,
                };
                let mut provenance = vec![Provenance::new(
                    svc.origin.clone(),
                    format!("port {}", port.number),
                )];
                // The subset's settings merged over the rule's, then the port-level entry.
                let explicit = dr.and_then(|(r, d)| {
                    let sub_tp = subset.and_then(|s| s.traffic_policy.as_ref());
                    effective_tls(d.traffic_policy.as_ref(), sub_tp, port.number).map(
                        |(settings, source)| {
                            let rule = match (source, subset) {
                                (TlsSource::Subset, Some(s)) => {
                                    format!("subsets[{}].trafficPolicy", s.name)
                                }
                                _ => "trafficPolicy".to_string(),
                            };
                            tls_from(settings, Provenance::new(r.id(), rule))
                        },
                    )
                });
                if let Some((r, _)) = dr {
                    provenance.push(Provenance::new(r.id(), ""));
                }
                let tls = match explicit {
                    Some(t) => t,
                    None if !endpoints.is_empty()
                        && endpoints.iter().all(|e| accepts_istio_mtls(ctx, e)) =>
                    {
                        Some(UpstreamTls {
                            mode: ClientTlsMode::IstioMutual,
                            sni: None,
                            auto: true,
                            provenance: None,
                        })
                    }
                    None => None,
                };
                let tls = tls.map(|mut t| {
                    if t.mode == ClientTlsMode::IstioMutual && t.sni.is_none() {
                        t.sni = Some(format!(
                            "outbound_.{}_.{}_.{}",
                            port.number,
                            subset.map(|s| s.name.as_str()).unwrap_or(""),
                            svc.hostname
                        ));
                    }
                    if t.mode == ClientTlsMode::Simple && t.sni.is_none() {
                        t.sni = Some(svc.hostname.clone());
                    }
                    t
                });
                let endpoints = endpoints
                    .iter()
                    .map(|e| match e {
                        ServiceEndpoint::Workload(id) => Endpoint {
                            address: ctx
                                .workloads
                                .get(id)
                                .map(|w| w.address.to_string())
                                .unwrap_or_default(),
                            port: port.target_port,
                            target: EndpointTarget::Workload(id.clone()),
                        },
                        ServiceEndpoint::Dns(h) => Endpoint {
                            address: h.clone(),
                            port: port.target_port,
                            target: EndpointTarget::External(h.clone()),
                        },
                        ServiceEndpoint::OriginalDestination => Endpoint {
                            address: "original-destination".into(),
                            port: port.number,
                            target: EndpointTarget::OriginalDestination,
                        },
                    })
                    .collect();
                out.insert(
                    name.clone(),
                    Cluster {
                        name: name.as_str().into(),
                        kind,
                        host: svc.hostname.clone(),
                        port: port.number,
                        subset: subset.map(|s| s.name.clone()),
                        endpoints,
                        tls,
                        http2: port.protocol.is_http2(),
                        provenance,
                    },
                );
            }
        }
    }
    let bh = Cluster::blackhole();
    out.insert(bh.name.to_string(), bh);
    let pt = Cluster::passthrough();
    out.insert(pt.name.to_string(), pt);
    out
}

/// The AuthorizationPolicies that apply to a workload: in its namespace or the root namespace,
/// with no selector or a selector matching its labels.
pub(crate) fn rbac_for(ctx: &MeshContext, w: &Workload) -> Option<RbacFilter> {
    let root = ctx.config.root_namespace();
    let policies: Vec<RbacPolicy> = ctx
        .store
        .of_kind(Kind::AuthorizationPolicy)
        .filter_map(|r| match &r.body {
            Body::AuthorizationPolicy(ap) => Some((r, ap)),
            _ => None,
        })
        .filter(|(r, ap)| {
            (r.namespace() == w.id.namespace || r.namespace() == root)
                && ap
                    .selector
                    .as_ref()
                    .is_none_or(|s| selects(&s.match_labels, &w.labels))
        })
        .map(|(r, ap)| RbacPolicy {
            policy: r.id(),
            action: match ap.action() {
                Action::Allow => RbacAction::Allow,
                Action::Deny => RbacAction::Deny,
                Action::Audit => RbacAction::Audit,
                Action::Custom => RbacAction::Custom,
            },
            dry_run: r
                .meta
                .annotations
                .get("istio.io/dry-run")
                .map(String::as_str)
                == Some("true"),
            rules: ap.rules.clone(),
            provenance: Provenance::new(r.id(), ""),
        })
        .collect();
    (!policies.is_empty()).then_some(RbacFilter { policies })
}
