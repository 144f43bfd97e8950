//! One filter chain: its `filter_chain_match` (SNI names, `tls` / `raw_buffer`), the TLS it
//! terminates, and its network filters — the HTTP connection manager, or network RBAC then a TCP
//! proxy — each writing the access log.
//!
//! Owns: the chain. Leaves out: the listener around it and which chains it keeps (`listeners`),
//! the connection manager's inside (`http`).

use super::access_log::file_logger;
use super::http::connection_manager;
use super::placement::Placement;
use super::rbac::{self, Layer};
use super::tls;
use egressbench_model::xds::{
    ChainMatch, FilterChain, ProxyConfig, Terminal, Transport, BLACKHOLE_CLUSTER,
};
use serde_json::{json, Map, Value};

/// The `filter_chain_match` of a chain (`None` when it matches everything). A bare `*` among the
/// server names matches any SNI, which Envoy writes as no `server_names`.
pub(crate) fn chain_match(m: &ChainMatch) -> Option<Value> {
    let mut out = Map::new();
    if !m.server_names.is_empty() && !m.server_names.iter().any(|n| n == "*") {
        let names: Vec<String> = m
            .server_names
            .iter()
            .map(|n| n.to_ascii_lowercase())
            .collect();
        out.insert("server_names".into(), json!(names));
    }
    match m.transport {
        Some(Transport::Tls) => {
            out.insert("transport_protocol".into(), json!("tls"));
        }
        Some(Transport::RawBuffer) => {
            out.insert("transport_protocol".into(), json!("raw_buffer"));
        }
        None => {}
    }
    (!out.is_empty()).then_some(Value::Object(out))
}

/// The network filters of a chain's terminal.
fn filters(proxy: &ProxyConfig, listener: &str, chain: &FilterChain, log: &str) -> Vec<Value> {
    match &chain.terminal {
        Terminal::Http { route_config, rbac } => vec![connection_manager(
            proxy,
            listener,
            &chain.name,
            route_config,
            rbac.as_ref(),
            log,
        )],
        Terminal::Tcp { routes, rbac } => {
            // Every route of a chain is for the chain's own port: the first one decides, as in
            // the model. A chain without routes has nowhere to send bytes: BlackHoleCluster.
            let cluster = routes
                .first()
                .map(|r| r.cluster.to_string())
                .unwrap_or_else(|| BLACKHOLE_CLUSTER.to_string());
            let mut out = rbac::filters(rbac.as_ref(), Layer::Tcp);
            out.push(json!({
                "name": "envoy.filters.network.tcp_proxy",
                "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
                    "stat_prefix": cluster,
                    "cluster": cluster,
                    "access_log": [file_logger(&proxy.proxy, log)],
                },
            }));
            out
        }
    }
}

/// The whole chain, without its match when `with_match` is false (the default chain).
pub(crate) fn filter_chain(
    proxy: &ProxyConfig,
    listener: &str,
    chain: &FilterChain,
    placement: &Placement,
    with_match: bool,
) -> Value {
    let log = placement.access_log.path();
    let mut out = Map::new();
    out.insert("name".into(), json!(chain.name.to_string()));
    if with_match {
        if let Some(m) = chain_match(&chain.matcher) {
            out.insert("filter_chain_match".into(), m);
        }
    }
    out.insert(
        "filters".into(),
        Value::Array(filters(proxy, listener, chain, &log)),
    );
    if let Some(t) = &chain.downstream_tls {
        let http = matches!(chain.terminal, Terminal::Http { .. });
        out.insert(
            "transport_socket".into(),
            tls::downstream(t, &placement.certs, http),
        );
    }
    Value::Object(out)
}
