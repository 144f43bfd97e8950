//! Envoy-style access-log entries, with the field names of Istio's JSON access log.
//!
//! Owns: `AccessLogEntry` — its fields, the blank entry (every field unset), a field by its JSON
//! name (`field`, `FIELDS`, for scenario expectations) and the entry as one JSON line. Leaves out:
//! filling entries (`answer` for the model, the simulated proxies in `egressbench-sim`), Envoy's
//! log format and reading its lines into entries (`egressbench-envoy`'s `access_log` and `run`),
//! and the flag and details values (`reply`).

use serde::Serialize;

/// One access-log line, as Istio's default JSON format names its fields
/// (istio/istio `pilot/pkg/model/telemetry_logging.go`). `-` stands for "not set", as Envoy prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessLogEntry {
    /// Which proxy wrote it: `namespace/workload` (sidecar or gateway).
    pub proxy: String,
    pub method: String,
    pub path: String,
    pub protocol: String,
    pub response_code: u16,
    pub response_flags: String,
    pub response_code_details: String,
    pub connection_termination_details: String,
    pub upstream_transport_failure_reason: String,
    pub authority: String,
    pub upstream_host: String,
    pub upstream_cluster: String,
    pub requested_server_name: String,
    pub route_name: String,
    /// The mTLS peer's SPIFFE identity as the proxy saw it (`-` when plaintext).
    pub downstream_peer_principal: String,
    /// The address the downstream connection was made to, as the proxy saw it: for a sidecar's
    /// captured connection its original destination (what the application dialed), for a
    /// gateway or a sidecar's inbound side the pod's address and listener port.
    pub downstream_local_address: String,
}

impl AccessLogEntry {
    /// An entry with every field unset (`-`, response code 0), for `proxy`.
    pub fn blank(proxy: impl Into<String>) -> Self {
        let dash = || "-".to_string();
        AccessLogEntry {
            proxy: proxy.into(),
            method: dash(),
            path: dash(),
            protocol: dash(),
            response_code: 0,
            response_flags: dash(),
            response_code_details: dash(),
            connection_termination_details: dash(),
            upstream_transport_failure_reason: dash(),
            authority: dash(),
            upstream_host: dash(),
            upstream_cluster: dash(),
            requested_server_name: dash(),
            route_name: dash(),
            downstream_peer_principal: dash(),
            downstream_local_address: dash(),
        }
    }

    /// A field by its JSON name, as a string (for scenario expectations).
    pub fn field(&self, name: &str) -> Option<String> {
        Some(match name {
            "proxy" => self.proxy.clone(),
            "method" => self.method.clone(),
            "path" => self.path.clone(),
            "protocol" => self.protocol.clone(),
            "response_code" => self.response_code.to_string(),
            "response_flags" => self.response_flags.clone(),
            "response_code_details" => self.response_code_details.clone(),
            "connection_termination_details" => self.connection_termination_details.clone(),
            "upstream_transport_failure_reason" => self.upstream_transport_failure_reason.clone(),
            "authority" => self.authority.clone(),
            "upstream_host" => self.upstream_host.clone(),
            "upstream_cluster" => self.upstream_cluster.clone(),
            "requested_server_name" => self.requested_server_name.clone(),
            "route_name" => self.route_name.clone(),
            "downstream_peer_principal" => self.downstream_peer_principal.clone(),
            "downstream_local_address" => self.downstream_local_address.clone(),
            // Istio's text format writes the three as one quoted field: "GET /politics HTTP/2",
            // or "- - -" for a TCP connection.
            "request" => format!("{} {} {}", self.method, self.path, self.protocol),
            _ => return None,
        })
    }

    /// Fields read from others (Istio's text format's `"%REQ(:METHOD)% %REQ(:PATH)% %PROTOCOL%"`),
    /// which `field` answers but the JSON line does not carry.
    pub const DERIVED: &'static [&'static str] = &["request"];

    /// Every field of the JSON line, as `field` names them.
    pub const FIELDS: &'static [&'static str] = &[
        "proxy",
        "method",
        "path",
        "protocol",
        "response_code",
        "response_flags",
        "response_code_details",
        "connection_termination_details",
        "upstream_transport_failure_reason",
        "authority",
        "upstream_host",
        "upstream_cluster",
        "requested_server_name",
        "route_name",
        "downstream_peer_principal",
        "downstream_local_address",
    ];

    /// The entry as one JSON line, as `kubectl logs ... -c istio-proxy` shows it.
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_field_reads_and_request_is_istios_text_form() {
        let mut e = AccessLogEntry::blank("istio-system/istio-egressgateway");
        for name in AccessLogEntry::FIELDS.iter().chain(AccessLogEntry::DERIVED) {
            assert!(e.field(name).is_some(), "{name}");
        }
        assert_eq!(e.field("nope"), None);
        assert_eq!(e.field("request").as_deref(), Some("- - -"));
        e.method = "GET".into();
        e.path = "/politics".into();
        e.protocol = "HTTP/2".into();
        assert_eq!(e.field("request").as_deref(), Some("GET /politics HTTP/2"));
    }
}
