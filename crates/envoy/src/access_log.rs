//! The access log every HTTP connection manager, TCP proxy and listener writes: Envoy's file
//! logger with Istio's default JSON format (istio/istio `pilot/pkg/model/telemetry_logging.go`,
//! `EnvoyJSONLogFormatIstio`), plus two fields so that `outcome::AccessLogEntry`'s reader takes
//! the lines as they are: `proxy` (a constant, the proxy's `namespace/workload`) and
//! `downstream_peer_principal` (the verified client certificate's URI SAN).
//!
//! Owns: the format and the logger config. Leaves out: where the log goes (`Placement`) and
//! reading it back (the runner).

use egressbench_model::outcome::reply::ResponseFlag;
use serde_json::{json, Map, Value};

/// Istio's default JSON access-log fields and their Envoy command operators, then the two
/// egressbench adds.
const FIELDS: &[(&str, &str)] = &[
    ("start_time", "%START_TIME%"),
    ("route_name", "%ROUTE_NAME%"),
    ("method", "%REQ(:METHOD)%"),
    ("path", "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%"),
    ("protocol", "%PROTOCOL%"),
    ("response_code", "%RESPONSE_CODE%"),
    ("response_flags", "%RESPONSE_FLAGS%"),
    ("response_code_details", "%RESPONSE_CODE_DETAILS%"),
    (
        "connection_termination_details",
        "%CONNECTION_TERMINATION_DETAILS%",
    ),
    ("bytes_received", "%BYTES_RECEIVED%"),
    ("bytes_sent", "%BYTES_SENT%"),
    ("duration", "%DURATION%"),
    (
        "upstream_service_time",
        "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%",
    ),
    ("x_forwarded_for", "%REQ(X-FORWARDED-FOR)%"),
    ("user_agent", "%REQ(USER-AGENT)%"),
    ("request_id", "%REQ(X-REQUEST-ID)%"),
    ("authority", "%REQ(:AUTHORITY)%"),
    ("upstream_host", "%UPSTREAM_HOST%"),
    ("upstream_cluster", "%UPSTREAM_CLUSTER_RAW%"),
    ("upstream_local_address", "%UPSTREAM_LOCAL_ADDRESS%"),
    ("downstream_local_address", "%DOWNSTREAM_LOCAL_ADDRESS%"),
    ("downstream_remote_address", "%DOWNSTREAM_REMOTE_ADDRESS%"),
    ("requested_server_name", "%REQUESTED_SERVER_NAME%"),
    (
        "upstream_transport_failure_reason",
        "%UPSTREAM_TRANSPORT_FAILURE_REASON%",
    ),
    ("downstream_peer_principal", "%DOWNSTREAM_PEER_URI_SAN%"),
];

/// The `json_format` struct: every field above, and `proxy` as a literal.
pub(crate) fn json_format(proxy: &str) -> Value {
    let mut fields = Map::new();
    fields.insert("proxy".into(), Value::String(proxy.to_string()));
    for (name, operator) in FIELDS {
        fields.insert((*name).into(), Value::String((*operator).into()));
    }
    Value::Object(fields)
}

/// One file access logger (`envoy.access_loggers.file`) writing `path` in the JSON format.
pub(crate) fn file_logger(proxy: &str, path: &str) -> Value {
    json!({
        "name": "envoy.access_loggers.file",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog",
            "path": path,
            "log_format": {
                "json_format": json_format(proxy),
                "json_format_options": {"sort_properties": false},
            },
        },
    })
}

/// The listener-level logger: only connections no filter chain took (`NR`), as Istio logs them.
pub(crate) fn listener_logger(proxy: &str, path: &str) -> Value {
    let mut logger = file_logger(proxy, path);
    if let Some(obj) = logger.as_object_mut() {
        obj.insert(
            "filter".into(),
            json!({"response_flag_filter": {"flags": [ResponseFlag::NoRouteFound.code()]}}),
        );
    }
    logger
}
