//! `Sidecar` (networking.istio.io): which hosts a workload's proxy can see and reach.
//!
//! Owns: `Sidecar`, `EgressListener` and `SidecarOutboundPolicy` (`ingress` and `egressProxy`
//! accepted as untyped values). Leaves out: which Sidecar applies to a workload and what it
//! imports (`topology::scope` in `egressbench-model`), and the listeners the workload's proxy gets
//! (`xds::sidecar`).

use crate::enums::{CaptureMode, OutboundMode};
use crate::istio::service_entry::ServicePort;
use crate::meta::WorkloadSelector;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Sidecar {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload_selector: Option<WorkloadSelector>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub egress: Vec<EgressListener>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress: Option<serde_yaml::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbound_traffic_policy: Option<SidecarOutboundPolicy>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EgressListener {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<ServicePort>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capture_mode: Option<CaptureMode>,
    /// `namespace/dnsName` entries: `./*`, `istio-system/*`, `*/httpbin.org`.
    #[serde(default)]
    pub hosts: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SidecarOutboundPolicy {
    pub mode: OutboundMode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub egress_proxy: Option<serde_yaml::Value>,
}
