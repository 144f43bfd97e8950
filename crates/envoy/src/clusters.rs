//! Clusters: every cluster of the proxy as an Envoy static cluster, as istiod builds them
//! (istio/istio `pilot/pkg/networking/core/cluster_builder.go`) with static endpoints in place of
//! EDS: pod endpoints become STATIC `load_assignment`s, DNS names STRICT_DNS (STATIC once the
//! placement says where they really are), `BlackHoleCluster` a STATIC cluster with no endpoints,
//! `PassthroughCluster` (and ServiceEntries with `resolution: NONE`) ORIGINAL_DST. Connect timeout
//! 10s (the mesh default), upstream TLS (`tls`), HTTP/2 to `http2` clusters.
//!
//! ORIGINAL_DST connects to the downstream connection's original destination, which Envoy knows
//! only when the listener restored it (iptables' `SO_ORIGINAL_DST` through the `original_dst`
//! listener filter, or a PROXY protocol header: `Capture::ProxyProtocol`). A runner on loopback
//! without either must send PROXY headers whose destination it can reach, or give each
//! destination a STATIC cluster of its own.
//!
//! A sidecar's inbound clusters (`inbound|PORT||`, endpoint: its own application) are rendered
//! as istiod has them in the pod — ORIGINAL_DST, bound to 127.0.0.6 — except when placed on
//! loopback (`Capture::Direct`), where they are STATIC to where the application really listens.
//!
//! Owns: the cluster list. Leaves out: the TLS context itself (`tls`).

use super::placement::Placement;
use super::tls;
use egressbench_model::mesh::Mesh;
use egressbench_model::xds::{Cluster, ClusterKind, EndpointTarget, ProxyConfig};
use serde_json::{json, Map, Value};
use std::net::IpAddr;

/// istiod's default connect timeout (mesh config `connectTimeout`).
const CONNECT_TIMEOUT: &str = "10s";

/// Every cluster of `proxy`, in name order.
pub(crate) fn clusters(proxy: &ProxyConfig, mesh: &Mesh, placement: &Placement) -> Vec<Value> {
    proxy
        .clusters
        .values()
        .map(|c| cluster(c, mesh, placement))
        .collect()
}

fn socket_address(address: &str, port: u16) -> Value {
    json!({"socket_address": {"address": address, "port_value": port}})
}

/// The endpoints as `(address, port)` where the proxy connects, and whether every one is an IP
/// address (so the cluster can be STATIC).
fn placed_endpoints(c: &Cluster, placement: &Placement) -> (Vec<(String, u16)>, bool) {
    let mut all_ips = true;
    let endpoints = c
        .endpoints
        .iter()
        .filter(|e| e.target != EndpointTarget::OriginalDestination)
        .map(|e| match placement.endpoint(e) {
            Some(real) => (real.ip().to_string(), real.port()),
            None => {
                all_ips &= e.address.parse::<IpAddr>().is_ok();
                (e.address.clone(), e.port)
            }
        })
        .collect();
    (endpoints, all_ips)
}

/// The SPIFFE ids of the workloads behind a cluster, when every endpoint is a known workload
/// (istiod's expected service accounts for mesh mTLS).
fn peer_identities(c: &Cluster, mesh: &Mesh) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for e in &c.endpoints {
        let EndpointTarget::Workload(id) = &e.target else {
            return Vec::new();
        };
        let Some(w) = mesh.workload(id) else {
            return Vec::new();
        };
        if !ids.iter().any(|known| *known == *w.identity) {
            ids.push(w.identity.to_string());
        }
    }
    ids
}

fn http_protocol_options(explicit: Value) -> Value {
    let mut options = explicit;
    options["@type"] =
        json!("type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions");
    json!({"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": options})
}

fn cluster(c: &Cluster, mesh: &Mesh, placement: &Placement) -> Value {
    let name = c.name.to_string();
    let mut out = Map::new();
    out.insert("name".into(), json!(name));
    out.insert("connect_timeout".into(), json!(CONNECT_TIMEOUT));
    // An inbound cluster is ORIGINAL_DST in istiod: the pod's own address as dialed, from
    // 127.0.0.6, which iptables does not send back to the sidecar. So it is rendered for the pod;
    // placed on loopback (`Capture::Direct`), its endpoint is where the application really listens.
    let own_app = c
        .endpoints
        .iter()
        .any(|e| matches!(e.target, EndpointTarget::App(_)));
    let in_pod = own_app && placement.capture != super::placement::Capture::Direct;
    if in_pod {
        out.insert(
            "upstream_bind_config".into(),
            json!({"source_address": {
                "address": egressbench_model::pods::INBOUND_SOURCE.to_string(),
                "port_value": 0,
            }}),
        );
    }
    match c.kind {
        ClusterKind::OriginalDst
            if in_pod
                || c.endpoints
                    .iter()
                    .all(|e| e.target == EndpointTarget::OriginalDestination) =>
        {
            out.insert("type".into(), json!("ORIGINAL_DST"));
            out.insert("lb_policy".into(), json!("CLUSTER_PROVIDED"));
        }
        ClusterKind::OriginalDst
        | ClusterKind::Eds
        | ClusterKind::StrictDns
        | ClusterKind::Static => {
            let (endpoints, all_ips) = placed_endpoints(c, placement);
            let kind = if all_ips { "STATIC" } else { "STRICT_DNS" };
            out.insert("type".into(), json!(kind));
            out.insert("lb_policy".into(), json!("ROUND_ROBIN"));
            if !all_ips {
                out.insert("dns_lookup_family".into(), json!("V4_ONLY"));
            }
            let lb_endpoints: Vec<Value> = endpoints
                .iter()
                .map(|(a, p)| json!({"endpoint": {"address": socket_address(a, *p)}}))
                .collect();
            let mut assignment = json!({"cluster_name": name});
            if !lb_endpoints.is_empty() {
                assignment["endpoints"] = json!([{"lb_endpoints": lb_endpoints}]);
            }
            out.insert("load_assignment".into(), assignment);
        }
    }
    if &*c.name == egressbench_model::xds::PASSTHROUGH_CLUSTER {
        // istiod: the passthrough cluster speaks whatever the downstream spoke.
        out.insert(
            "typed_extension_protocol_options".into(),
            http_protocol_options(json!({"use_downstream_protocol_config": {
                "http_protocol_options": {},
                "http2_protocol_options": {},
            }})),
        );
    } else if c.http2 {
        out.insert(
            "typed_extension_protocol_options".into(),
            http_protocol_options(json!({"explicit_http_config": {"http2_protocol_options": {}}})),
        );
    }
    if let Some(t) = &c.tls {
        out.insert(
            "transport_socket".into(),
            tls::upstream(t, &placement.certs, &peer_identities(c, mesh), c.http2),
        );
    }
    Value::Object(out)
}
