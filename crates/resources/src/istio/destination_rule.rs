//! `DestinationRule` (networking.istio.io): subsets and upstream TLS for a host.
//!
//! Owns: `DestinationRule` and its parts (traffic policy, port-level settings, client TLS
//! settings, subsets; load balancing, connection pools, outlier detection, tunnel and PROXY
//! protocol accepted as untyped values), and which TLS settings hold for a port
//! (`TrafficPolicy::tls_for_port`, and `effective_tls` with a subset's merged over the rule's).
//! Leaves out: which DestinationRule applies to a host (`MeshContext::destination_rule` in
//! `egressbench-model`'s `topology`) and the clusters and upstream TLS it yields (`xds::build`).

use crate::enums::ClientTlsMode;
use crate::istio::virtual_service::PortSelector;
use crate::meta::WorkloadSelector;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DestinationRule {
    pub host: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic_policy: Option<TrafficPolicy>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subsets: Vec<Subset>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub export_to: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload_selector: Option<WorkloadSelector>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TrafficPolicy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<ClientTlsSettings>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub port_level_settings: Vec<PortTrafficPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer: Option<serde_yaml::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_pool: Option<serde_yaml::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outlier_detection: Option<serde_yaml::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tunnel: Option<serde_yaml::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_protocol: Option<serde_yaml::Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PortTrafficPolicy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<PortSelector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<ClientTlsSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer: Option<serde_yaml::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_pool: Option<serde_yaml::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outlier_detection: Option<serde_yaml::Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClientTlsSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<ClientTlsMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sni: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subject_alt_names: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_certificate: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_certificates: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insecure_skip_verify: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Subset {
    pub name: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic_policy: Option<TrafficPolicy>,
}

impl TrafficPolicy {
    /// The TLS settings for `port` of this policy alone: a matching port-level entry replaces the
    /// policy-wide settings wholesale (Istio's port-level policies do not inherit, istio/istio
    /// `pilot/pkg/networking/util/util.go` `GetPortLevelTrafficPolicy`), so an entry without `tls`
    /// means no TLS settings at all.
    pub fn tls_for_port(&self, port: u16) -> Option<&ClientTlsSettings> {
        match self
            .port_level_settings
            .iter()
            .find(|p| p.port.as_ref().map(|s| s.number) == Some(port))
        {
            Some(p) => p.tls.as_ref(),
            None => self.tls.as_ref(),
        }
    }
}

/// Where effective TLS settings came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsSource {
    Rule,
    Subset,
}

/// The TLS settings for `port` of a subset of a DestinationRule: the subset's settings merged over
/// the rule's (a subset's `tls` or `portLevelSettings` replace the rule's, as istiod's
/// `MergeSubsetTrafficPolicy` does), then the port-level entry for `port` if there is one.
pub fn effective_tls<'a>(
    rule: Option<&'a TrafficPolicy>,
    subset: Option<&'a TrafficPolicy>,
    port: u16,
) -> Option<(&'a ClientTlsSettings, TlsSource)> {
    let ports = match subset {
        Some(s) if !s.port_level_settings.is_empty() => Some((s, TlsSource::Subset)),
        _ => rule.map(|r| (r, TlsSource::Rule)),
    };
    if let Some((policy, source)) = ports {
        if let Some(entry) = policy
            .port_level_settings
            .iter()
            .find(|p| p.port.as_ref().map(|s| s.number) == Some(port))
        {
            return entry.tls.as_ref().map(|t| (t, source));
        }
    }
    subset
        .and_then(|s| s.tls.as_ref().map(|t| (t, TlsSource::Subset)))
        .or_else(|| rule.and_then(|r| r.tls.as_ref().map(|t| (t, TlsSource::Rule))))
}
