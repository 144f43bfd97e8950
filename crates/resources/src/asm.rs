//! `ASMEgressTrafficPolicy` (istio.alibabacloud.com v1 / v1beta1), Alibaba Cloud Service Mesh's one
//! resource for "these workloads may reach these hosts through this egress gateway".
//!
//! Fields follow the public Go types (aliyun/alibabacloud-servicemesh-api).
//!
//! Owns: the spec's types (the policy, its gateway, its rules with their `from` and `to`, ports,
//! gateway ports and `httpsUpgrade`), strict: unknown fields are rejected. Leaves out: reading
//! YAML and checking `apiVersion` (`egressbench-manifest`), and validating a policy and what it
//! compiles to (`egressbench-compile`).

use crate::enums::Protocol;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AsmEgressTrafficPolicy {
    pub by_egress_gateway: PolicyGateway,
    #[serde(default)]
    pub egress_rules: Vec<EgressRule>,
}

/// `spec.byEgressGateway`: the egress gateway (a workload in the policy's namespace).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyGateway {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EgressRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    pub from: Vec<EgressFrom>,
    #[serde(default)]
    pub to: Vec<EgressTo>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EgressFrom {
    pub namespace: String,
    /// Pod labels; empty selects every workload of the namespace.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub workload_selector: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EgressTo {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub hosts: Vec<String>,
    pub port: EgressPort,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by_egress_gateway: Option<GatewayPort>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub https_upgrade: Option<HttpsUpgrade>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EgressPort {
    pub number: u16,
    #[serde(default)]
    pub name: String,
    pub protocol: Protocol,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_port: Option<u16>,
}

/// `to[].byEgressGateway`: the gateway port this destination is reached through. In v1 the port
/// may be left out (`{}`) and is allocated.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GatewayPort {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpsUpgrade {
    #[serde(default)]
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
}
