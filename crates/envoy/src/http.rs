//! The HTTP connection manager of an HTTP chain, as istiod configures it for a sidecar's outbound
//! listener or a gateway server (istio/istio `pilot/pkg/networking/core/listener.go`,
//! `gateway.go` `buildGatewayConnectionManager`): the inline route configuration, the HTTP
//! filters (RBAC, the fault filter when a route aborts, the router), the access log, and the
//! client-address and client-certificate headers.
//!
//! - Sidecars, outbound: `use_remote_address: false`; `x-forwarded-client-cert` SANITIZE
//!   (dropped).
//! - Sidecars, inbound: APPEND_FORWARD with subject, DNS and URI (`By=…;Hash=…;Subject="";URI=…`
//!   appended to what came).
//! - Gateways: `use_remote_address: true` (so Envoy sets `x-forwarded-proto` from the downstream
//!   connection and appends the peer to `x-forwarded-for`); SANITIZE_SET with the verified peer's
//!   URI (`By=…;Hash=…;URI=…`; istiod also asks for subject, DNS and the certificate, which the
//!   model leaves out of its header).
//!
//! Owns: the `envoy.filters.network.http_connection_manager` filter. Leaves out: routes
//! (`routes`), RBAC policies (`rbac`).

use super::access_log::file_logger;
use super::rbac::{self, Layer};
use super::routes;
use egressbench_model::decide::step::ClientCertDetails;
use egressbench_model::xds::{ProxyConfig, ProxyKind, RbacFilter};
use serde_json::{json, Value};

/// The connection manager for a chain named `chain` whose routes are `route_config`.
pub(crate) fn connection_manager(
    proxy: &ProxyConfig,
    listener: &str,
    chain: &str,
    route_config: &str,
    rbac: Option<&RbacFilter>,
    access_log_path: &str,
) -> Value {
    let rc = proxy.routes.get(route_config);
    let mut http_filters = rbac::filters(rbac, Layer::Http);
    if routes::uses_fault(rc) {
        http_filters.push(json!({
            "name": "envoy.filters.http.fault",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault",
            },
        }));
    }
    http_filters.push(json!({
        "name": "envoy.filters.http.router",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router",
        },
    }));
    let gateway = proxy.kind == ProxyKind::Gateway;
    let inbound = listener == egressbench_model::xds::VIRTUAL_INBOUND;
    let stat_prefix = if gateway {
        chain.to_string()
    } else if inbound {
        format!("inbound_{chain}")
    } else {
        format!("outbound_{listener}")
    };
    let mut hcm = json!({
        "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
        "stat_prefix": stat_prefix,
        "route_config": routes::route_config(route_config, rc),
        "http_filters": http_filters,
        "access_log": [file_logger(&proxy.proxy, access_log_path)],
        "use_remote_address": gateway,
        "normalize_path": true,
        "path_with_escaped_slashes_action": "KEEP_UNCHANGED",
        "stream_idle_timeout": "0s",
        "upgrade_configs": [{"upgrade_type": "websocket"}],
    });
    match ClientCertDetails::of(proxy.kind, gateway || inbound) {
        ClientCertDetails::SanitizeSet => {
            hcm["forward_client_cert_details"] = json!("SANITIZE_SET");
            hcm["set_current_client_cert_details"] = json!({"uri": true});
        }
        ClientCertDetails::AppendForward => {
            hcm["forward_client_cert_details"] = json!("APPEND_FORWARD");
            hcm["set_current_client_cert_details"] =
                json!({"subject": true, "dns": true, "uri": true});
        }
        ClientCertDetails::Sanitize => {
            hcm["forward_client_cert_details"] = json!("SANITIZE");
        }
    }
    json!({
        "name": "envoy.filters.network.http_connection_manager",
        "typed_config": hcm,
    })
}
