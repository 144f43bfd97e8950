//! The checked view of one policy that generation works from: the policy's identity, its
//! destinations (`to` entries) with their names, families and gateway ports, and the gateway.
//!
//! Owns these types and the derived values several generators share (field paths, upstream
//! ports, `exportTo` lists). Leaves out the checks that produce them (`validate`, `gateway`,
//! `gateway_ports`) and the resources built from them (`generate`, `routes`).

use crate::family::Family;
use crate::gateway::EgressGateway;
use egressbench_resources::asm::{EgressRule, EgressTo};
use egressbench_resources::Resource;
use std::collections::BTreeSet;

/// Which policy is being compiled, and how messages and annotations name it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PolicyRef {
    pub namespace: String,
    pub name: String,
    pub api_version: String,
    /// `ASMEgressTrafficPolicy/ns/name`: what annotations name.
    pub id: String,
    /// `id`, plus ` (file:line:column)` when the policy was read from a file: what errors and
    /// warnings name.
    pub display: String,
}

impl PolicyRef {
    pub(crate) fn of(resource: &Resource) -> Self {
        let namespace = resource.namespace().to_string();
        let name = resource.name().to_string();
        let id = format!("{}/{namespace}/{name}", resource.kind());
        let display = match &resource.origin {
            Some(o) => format!("{id} ({o})"),
            None => id.clone(),
        };
        PolicyRef {
            namespace,
            name,
            api_version: resource.api_version.clone(),
            id,
            display,
        }
    }

    /// v1beta1 requires a gateway port for every destination; v1 lets ASM allocate one.
    pub(crate) fn requires_gateway_port(&self) -> bool {
        self.api_version.ends_with("/v1beta1")
    }

    /// The `N/P` reference to the generated `Gateway`, as VirtualServices name it.
    pub(crate) fn gateway_ref(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// One `to` entry, checked: its place in the policy, its object-name part and its family.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Dest<'a> {
    pub rule: usize,
    pub index: usize,
    /// The sanitized `to.name` (or `to-<i>-<j>`): names the ServiceEntry, subset and server.
    pub name: String,
    pub to: &'a EgressTo,
    pub family: &'static Family,
    /// The port the gateway originates TLS to, when `httpsUpgrade` is enabled.
    pub upgrade_port: Option<u16>,
}

impl Dest<'_> {
    /// `egressRules[i].to[j]`.
    pub(crate) fn path(&self) -> String {
        format!("egressRules[{}].to[{}]", self.rule, self.index)
    }

    /// `spec.egressRules[i].to[j].<rest>`.
    pub(crate) fn field(&self, rest: &str) -> String {
        format!("spec.{}.{rest}", self.path())
    }

    /// The external host's port the gateway connects to: the upgrade port, else the rule's port.
    pub(crate) fn upstream_port(&self) -> u16 {
        self.upgrade_port.unwrap_or(self.to.port.number)
    }
}

/// A destination with the gateway port it is carried through.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Target<'a> {
    pub dest: Dest<'a>,
    pub gateway_port: u16,
}

/// Everything generation needs for one policy.
#[derive(Debug, Clone)]
pub(crate) struct Plan<'a> {
    pub policy: PolicyRef,
    pub rules: &'a [EgressRule],
    pub gateway: EgressGateway,
    pub targets: Vec<Target<'a>>,
    /// The `policy` label's value, and each rule's `rule` label value (computed once).
    pub policy_label: String,
    pub rule_labels: Vec<String>,
}

impl Plan<'_> {
    /// `exportTo` for objects of rule `i`: `.` and every namespace the rule admits traffic from.
    pub(crate) fn rule_export_to(&self, i: usize) -> Vec<String> {
        self.export_to(self.rules.get(i).into_iter())
    }

    /// `exportTo` for objects shared by every rule: `.` and every `from` namespace of the policy.
    pub(crate) fn policy_export_to(&self) -> Vec<String> {
        self.export_to(self.rules.iter())
    }

    /// `.` first, then the distinct `from` namespaces, sorted. The policy's own namespace is left
    /// out: `.` already stands for it and Istio rejects the pair as a duplicate
    /// (istio/istio `pkg/config/validation/validation.go`, `validateExportTo`).
    fn export_to<'r>(&self, rules: impl Iterator<Item = &'r EgressRule>) -> Vec<String> {
        let namespaces: BTreeSet<&str> = rules
            .flat_map(|r| r.from.iter().map(|f| f.namespace.as_str()))
            .filter(|ns| *ns != self.policy.namespace)
            .collect();
        std::iter::once(".")
            .chain(namespaces)
            .map(str::to_string)
            .collect()
    }
}
