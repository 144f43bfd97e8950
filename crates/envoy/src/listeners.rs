//! Listeners: address and binding (from the `Placement`), listener filters (`tls_inspector` where a
//! chain matches on TLS or SNI; `original_dst` or `proxy_protocol` on a sidecar's
//! `virtualOutbound`), the filter chains, the default (fallthrough) chain, and a listener-level
//! access log for connections no chain takes.
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
    FilterChain, Listener, ProxyConfig, ProxyKind, Transport, VIRTUAL_OUTBOUND,
};
use serde_json::{json, Map, Value};
use std::collections::HashSet;
use std::net::SocketAddr;

/// Every listener of `proxy`, in config order.
pub(crate) fn listeners(proxy: &ProxyConfig, placement: &Placement) -> Vec<Value> {
    proxy
        .listeners
        .iter()
        .map(|l| listener(proxy, l, placement))
        .collect()
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
