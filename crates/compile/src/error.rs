//! Compile errors: which policy, which field inside it, what was expected and what arrived.
//!
//! Owns `CompileError` and `Problem`, the closed set of reasons a policy does not compile. Leaves
//! out deciding when a problem occurs (`validate`, `gateway`, `gateway_ports`, `expand`).

use crate::family::SUPPORTED;
use egressbench_resources::{Kind, Protocol};

/// A policy that does not compile: the policy, the field path inside it, and the problem.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{policy}: {field}: {message}")]
pub struct CompileError {
    /// `ASMEgressTrafficPolicy/ns/name`, with the file position when known.
    pub policy: String,
    /// Field path inside the policy, e.g. `spec.egressRules[0].to[1].hosts`.
    pub field: String,
    /// `problem`, rendered.
    pub message: String,
    /// Boxed so that `Result<_, CompileError>` stays small.
    pub problem: Box<Problem>,
}

impl egressbench_text::Diagnostic for CompileError {
    fn help(&self) -> Option<String> {
        Some(
            "fix that field of the policy; `egressbench check FILES` checks manifests on their own"
                .into(),
        )
    }
}

/// A problem at one field, found before the policy's name is attached.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FieldError {
    pub field: String,
    pub problem: Problem,
}

impl FieldError {
    pub(crate) fn new(field: impl Into<String>, problem: Problem) -> Self {
        FieldError {
            field: field.into(),
            problem,
        }
    }

    pub(crate) fn in_policy(self, policy: &str) -> CompileError {
        CompileError {
            policy: policy.to_string(),
            field: self.field,
            message: self.problem.to_string(),
            problem: Box::new(self.problem),
        }
    }
}

/// Why a policy does not compile. Each message says what was expected and what arrived.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("expected an ASMEgressTrafficPolicy, got a {got}")]
    NotAPolicy { got: Kind },
    #[error("expected at least one {what}, got none")]
    Empty { what: &'static str },
    #[error("expected a non-empty {what}, got an empty string")]
    Blank { what: &'static str },
    #[error("expected 1 to 50 hosts, got {got}")]
    HostCount { got: usize },
    #[error(
        "expected a fully qualified host name (the generated ServiceEntry resolves hosts by DNS, \
         which Istio refuses for wildcards), got `{got}`"
    )]
    NotFqdn { got: String },
    #[error(
        "expected a name unique within the policy (compared as the lowercase object name it \
         becomes), got `{got}`, which {other} also uses"
    )]
    DuplicateName { got: String, other: String },
    #[error(
        "protocol `{got}` is not supported by ASMEgressTrafficPolicy, expected one of {}",
        supported_list()
    )]
    UnsupportedProtocol { got: Protocol },
    #[error(
        "httpsUpgrade needs an HTTP-family port protocol (HTTP, HTTP2, GRPC), got `{got}` \
         (its traffic is already a stream the gateway cannot upgrade)"
    )]
    UpgradeNeedsHttp { got: Protocol },
    #[error(
        "expected an httpsUpgrade port other than port.number, got {got} for both \
         (the ServiceEntry would declare the port twice)"
    )]
    UpgradePortClash { got: u16 },
    #[error("expected a port number in 1..=65535, got 0")]
    ZeroPort,
    #[error(
        "expected a gateway port ({api_version} requires one, here or at \
         spec.byEgressGateway.port), got none"
    )]
    GatewayPortRequired { api_version: String },
    #[error(
        "expected a port of Service `{service}` that this policy does not already use with another \
         protocol, got none free{}",
        ports_suffix(.ports)
    )]
    NoPortToAllocate { service: String, ports: Vec<u16> },
    #[error(
        "gateway port {port} needs a {got} server here, but {other} already has a {other_protocol} \
         server on it; expected one server protocol per gateway port"
    )]
    PortProtocolClash {
        port: u16,
        got: Protocol,
        other: String,
        other_protocol: Protocol,
    },
    #[error(
        "no egress gateway `{name}` in namespace `{namespace}`: expected a Deployment of that name \
         there (with a Service of the same name){}",
        found_suffix(.found, .suggestion)
    )]
    NoGateway {
        name: String,
        namespace: String,
        /// Gateway-looking Deployments that exist, as `namespace/name`.
        found: Vec<String>,
        suggestion: Option<String>,
    },
    #[error(
        "expected pod template labels on egress gateway Deployment `{name}` (they select the \
         gateway's pods), got none"
    )]
    GatewayWithoutLabels { name: String },
    #[error("generated {id} collides with {existing}; expected every generated object to be new")]
    Collision { id: String, existing: String },
}

fn supported_list() -> String {
    SUPPORTED
        .iter()
        .map(|p| p.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn ports_suffix(ports: &[u16]) -> String {
    if ports.is_empty() {
        "; the Service has no ports (or does not exist); set byEgressGateway.port".to_string()
    } else {
        let list = ports
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        format!(" among {list}; set byEgressGateway.port")
    }
}

fn found_suffix(found: &[String], suggestion: &Option<String>) -> String {
    let mut out = if found.is_empty() {
        "; found no gateway Deployments (pod label `istio`) in the cluster".to_string()
    } else {
        let list = found
            .iter()
            .map(|f| format!("`{f}`"))
            .collect::<Vec<_>>()
            .join(", ");
        format!("; gateway Deployments found: {list}")
    };
    if let Some(s) = suggestion {
        out.push_str(&format!(" (did you mean `{s}`?)"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_policy_field_and_problem() {
        let e = FieldError::new(
            "spec.egressRules[0].to[0].hosts",
            Problem::HostCount { got: 0 },
        )
        .in_policy("ASMEgressTrafficPolicy/istio-egress/p");
        assert_eq!(
            e.to_string(),
            "ASMEgressTrafficPolicy/istio-egress/p: spec.egressRules[0].to[0].hosts: \
             expected 1 to 50 hosts, got 0"
        );
        assert_eq!(e.message, "expected 1 to 50 hosts, got 0");
    }

    #[test]
    fn no_gateway_lists_and_suggests() {
        let p = Problem::NoGateway {
            name: "egressgateway".into(),
            namespace: "istio-egress".into(),
            found: vec!["istio-egress/egressgateway-a".into()],
            suggestion: Some("egressgateway-a".into()),
        };
        let m = p.to_string();
        assert!(m.starts_with("no egress gateway `egressgateway` in namespace `istio-egress`"));
        assert!(m.contains("`istio-egress/egressgateway-a`"), "{m}");
        assert!(m.ends_with("(did you mean `egressgateway-a`?)"), "{m}");
    }
}
