//! Listeners: address and binding (from the `Placement`), listener filters (`tls_inspector` where a
//! chain matches on TLS or SNI; `original_dst` or `proxy_protocol` on a sidecar's
//! `virtualOutbound`), the filter chains, the default (fallthrough) chain, and a listener-level
//! access log for connections no chain takes; a sidecar's inbound listeners, one per port.
//!
//! Envoy refuses two chains with the same match; istiod never sends them. Where the config has
//! overlapping chains, the first keeps each server name (and the first of two chains with no
//! server names and one transport keeps the pair), which is the choice the model makes
//! (`decide::step::select_chain`); a chain left with nothing of its own is not rendered.
//!
//! Owns: the listener list. Leaves out: the chains' inside (`chains`).

use super::access_log::listener_logger;
use super::chains::{chain_match, filter_chain};
use super::placement::{Capture, Placement};
use egressbench_model::xds::{
    FilterChain, Listener, ProxyConfig, ProxyKind, Transport, VIRTUAL_INBOUND, VIRTUAL_OUTBOUND,
};
use serde_json::{json, Map, Value};
use std::collections::HashSet;
use std::net::SocketAddr;

/// Every listener of `proxy`, in config order, then a sidecar's inbound side.
pub(crate) fn listeners(proxy: &ProxyConfig, placement: &Placement) -> Vec<Value> {
    let mut out: Vec<Value> = proxy
        .listeners
        .iter()
        .map(|l| listener(proxy, l, placement))
        .collect();
    if proxy.inbound.is_empty() {
        return out;
    }
    match placement.capture {
        Capture::Direct => out.extend(proxy.inbound.iter().map(|l| inbound(proxy, l, placement))),
        Capture::Iptables | Capture::ProxyProtocol => out.push(virtual_inbound(proxy, placement)),
    }
    out
}

/// The port iptables redirects inbound connections to.
const VIRTUAL_INBOUND_PORT: u16 = 15006;

/// istiod's one `virtualInbound` listener (15006, where iptables redirects inbound
/// connections): every inbound port's chains, each also matching its `destination_port`.
fn virtual_inbound(proxy: &ProxyConfig, placement: &Placement) -> Value {
    let capture = Listener::new(
        VIRTUAL_INBOUND,
        None,
        VIRTUAL_INBOUND_PORT,
        Vec::new(),
        None,
    );
    let mut out = listener(proxy, &capture, placement);
    let chains: Vec<Value> = proxy
        .inbound
        .iter()
        .flat_map(|l| {
            distinct_chains(&l.filter_chains)
                .into_iter()
                .map(move |c| (l.port, c))
        })
        .map(|(port, c)| {
            let mut chain = filter_chain(proxy, VIRTUAL_INBOUND, &c, placement, true);
            chain["filter_chain_match"]["destination_port"] = json!(port);
            chain
        })
        .collect();
    out["filter_chains"] = Value::Array(chains);
    out["use_original_dst"] = json!(true);
    out["traffic_direction"] = json!("INBOUND");
    let mut filters = vec![match placement.capture {
        Capture::ProxyProtocol => json!({
            "name": "envoy.filters.listener.proxy_protocol",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol",
            },
        }),
        _ => json!({
            "name": "envoy.filters.listener.original_dst",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst",
            },
        }),
    }];
    filters.push(json!({
        "name": "envoy.filters.listener.tls_inspector",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector",
        },
    }));
    out["listener_filters"] = Value::Array(filters);
    out["continue_on_listener_filters_timeout"] = json!(true);
    if let Some(obj) = out.as_object_mut() {
        obj.remove("bind_to_port");
    }
    out
}

/// The rendered name of a sidecar's inbound listener on `port` under `Capture::Direct`: istiod
/// has one `virtualInbound` listener whose chains match on the destination port (rendered so
/// for the pod, `virtual_inbound`); placed on loopback, nothing redirects to 15006, so each port
/// is its own listener (`virtualInbound_<port>`), bound where the `Placement` says.
pub fn inbound_listener_name(port: u16) -> String {
    format!("{VIRTUAL_INBOUND}_{port}")
}

/// A sidecar's inbound listener: bound, named per port, facing inbound.
fn inbound(proxy: &ProxyConfig, l: &Listener, placement: &Placement) -> Value {
    let mut out = listener(proxy, l, placement);
    let name = inbound_listener_name(l.port);
    out["address"] = placement
        .listeners
        .get(&name)
        .map(|a| socket(*a))
        .unwrap_or_else(|| config_address(l));
    out["name"] = json!(name);
    out["traffic_direction"] = json!("INBOUND");
    if let Some(obj) = out.as_object_mut() {
        obj.remove("bind_to_port");
    }
    out
}

/// How a listener gets its connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Binds its address.
    Bound,
    /// A sidecar's capture listener: binds, and hands connections to the listener of their
    /// original destination.
    Capture(Capture),
    /// Receives connections only from the capture listener (`bind_to_port: false`).
    HandedOff,
}

fn role(proxy: &ProxyConfig, l: &Listener, placement: &Placement) -> Role {
    if proxy.kind == ProxyKind::Gateway || placement.capture == Capture::Direct {
        Role::Bound
    } else if &*l.name == VIRTUAL_OUTBOUND {
        Role::Capture(placement.capture)
    } else {
        Role::HandedOff
    }
}

fn socket(addr: SocketAddr) -> Value {
    json!({"socket_address": {"address": addr.ip().to_string(), "port_value": addr.port()}})
}

/// The listener's own address: its config address (`0.0.0.0` when it has none) and port.
fn config_address(l: &Listener) -> Value {
    let ip = l.address.clone().unwrap_or_else(|| "0.0.0.0".to_string());
    json!({"socket_address": {"address": ip, "port_value": l.port}})
}

/// The chains Envoy gets: each claims the (server name, transport) pairs no earlier chain
/// claimed.
fn distinct_chains(chains: &[FilterChain]) -> Vec<FilterChain> {
    let mut claimed: HashSet<(String, &'static str)> = HashSet::new();
    let mut out = Vec::new();
    for c in chains {
        let transport = match c.matcher.transport {
            Some(Transport::Tls) => "tls",
            Some(Transport::RawBuffer) => "raw_buffer",
            None => "",
        };
        let any_name =
            c.matcher.server_names.is_empty() || c.matcher.server_names.iter().any(|n| n == "*");
        if any_name {
            if claimed.insert((String::new(), transport)) {
                out.push(c.clone());
            }
            continue;
        }
        let mut kept = c.clone();
        kept.matcher.server_names = c
            .matcher
            .server_names
            .iter()
            .filter(|n| claimed.insert((n.to_ascii_lowercase(), transport)))
            .cloned()
            .collect();
        if !kept.matcher.server_names.is_empty() {
            out.push(kept);
        }
    }
    out
}

fn listener(proxy: &ProxyConfig, l: &Listener, placement: &Placement) -> Value {
    let role = role(proxy, l, placement);
    let chains = distinct_chains(&l.filter_chains);
    let mut out = Map::new();
    out.insert("name".into(), json!(l.name.to_string()));
    let address = match role {
        Role::HandedOff => config_address(l),
        Role::Bound | Role::Capture(_) => placement
            .listeners
            .get(&*l.name)
            .map(|a| socket(*a))
            .unwrap_or_else(|| config_address(l)),
    };
    out.insert("address".into(), address);
    if role == Role::HandedOff {
        out.insert("bind_to_port".into(), json!(false));
    }
    let mut listener_filters = Vec::new();
    match role {
        Role::Capture(Capture::Iptables) => {
            listener_filters.push(json!({
                "name": "envoy.filters.listener.original_dst",
                "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst",
                },
            }));
        }
        Role::Capture(Capture::ProxyProtocol) => {
            listener_filters.push(json!({
                "name": "envoy.filters.listener.proxy_protocol",
                "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol",
                },
            }));
        }
        _ => {}
    }
    if let Role::Capture(_) = role {
        out.insert("use_original_dst".into(), json!(true));
    }
    let rendered: Vec<Value> = chains
        .iter()
        .map(|c| filter_chain(proxy, &l.name, c, placement, true))
        .collect();
    if chains.iter().any(|c| chain_match(&c.matcher).is_some()) {
        listener_filters.push(json!({
            "name": "envoy.filters.listener.tls_inspector",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector",
            },
        }));
        out.insert("continue_on_listener_filters_timeout".into(), json!(true));
    }
    if !listener_filters.is_empty() {
        out.insert("listener_filters".into(), Value::Array(listener_filters));
    }
    out.insert("filter_chains".into(), Value::Array(rendered));
    if let Some(default) = &l.default_chain {
        out.insert(
            "default_filter_chain".into(),
            filter_chain(proxy, &l.name, default, placement, false),
        );
    }
    if proxy.kind == ProxyKind::Sidecar {
        out.insert("traffic_direction".into(), json!("OUTBOUND"));
    }
    out.insert(
        "access_log".into(),
        json!([listener_logger(&proxy.proxy, &placement.access_log.path())]),
    );
    Value::Object(out)
}
