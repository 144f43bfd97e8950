//! Checks on a policy's spec that need nothing from the cluster, turning each `to` entry into a
//! named `Dest`.
//!
//! Owns the shape rules ASM documents (at least one rule, `from` and `to`; 1–50 hosts; supported
//! protocols; `httpsUpgrade` only for HTTP; unique `to` names) and naming destinations. Leaves out
//! the gateway (`gateway`) and gateway ports (`gateway_ports`), which need the cluster.

use crate::error::{FieldError, Problem};
use crate::family::family_of;
use crate::names;
use crate::plan::Dest;
use egressbench_resources::asm::{AsmEgressTrafficPolicy, EgressRule, EgressTo};

/// ASM's bound on `to[].hosts`.
const MAX_HOSTS: usize = 50;

/// The port ASM originates TLS to when `httpsUpgrade.port` is left out.
const DEFAULT_UPGRADE_PORT: u16 = 443;

/// Check `spec` and name its destinations, in policy order.
pub(crate) fn check(spec: &AsmEgressTrafficPolicy) -> Result<Vec<Dest<'_>>, FieldError> {
    if spec.by_egress_gateway.name.is_empty() {
        return Err(FieldError::new(
            "spec.byEgressGateway.name",
            Problem::Blank {
                what: "egress gateway name",
            },
        ));
    }
    if spec.by_egress_gateway.port == Some(0) {
        return Err(FieldError::new(
            "spec.byEgressGateway.port",
            Problem::ZeroPort,
        ));
    }
    if spec.egress_rules.is_empty() {
        return Err(FieldError::new(
            "spec.egressRules",
            Problem::Empty {
                what: "egress rule",
            },
        ));
    }
    let mut dests: Vec<Dest<'_>> = Vec::new();
    let mut by_name: std::collections::HashMap<String, usize> = Default::default();
    for (i, rule) in spec.egress_rules.iter().enumerate() {
        check_rule(i, rule)?;
        for (j, to) in rule.to.iter().enumerate() {
            let dest = check_to(i, j, to)?;
            if let Some(other) = by_name.get(&dest.name).map(|&k| &dests[k]) {
                return Err(FieldError::new(
                    dest.field("name"),
                    Problem::DuplicateName {
                        got: dest.name.clone(),
                        other: other.path(),
                    },
                ));
            }
            by_name.insert(dest.name.clone(), dests.len());
            dests.push(dest);
        }
    }
    Ok(dests)
}

fn check_rule(i: usize, rule: &EgressRule) -> Result<(), FieldError> {
    let at = |rest: &str| format!("spec.egressRules[{i}].{rest}");
    if rule.from.is_empty() {
        return Err(FieldError::new(
            at("from"),
            Problem::Empty {
                what: "`from` entry (the workloads allowed out)",
            },
        ));
    }
    if rule.to.is_empty() {
        return Err(FieldError::new(
            at("to"),
            Problem::Empty {
                what: "`to` entry (the external destinations)",
            },
        ));
    }
    if let Some(f) = rule.from.iter().position(|f| f.namespace.is_empty()) {
        return Err(FieldError::new(
            at(&format!("from[{f}].namespace")),
            Problem::Blank { what: "namespace" },
        ));
    }
    Ok(())
}

fn check_to(i: usize, j: usize, to: &EgressTo) -> Result<Dest<'_>, FieldError> {
    let at = |rest: &str| format!("spec.egressRules[{i}].to[{j}].{rest}");
    if !(1..=MAX_HOSTS).contains(&to.hosts.len()) {
        return Err(FieldError::new(
            at("hosts"),
            Problem::HostCount {
                got: to.hosts.len(),
            },
        ));
    }
    for (k, host) in to.hosts.iter().enumerate() {
        if host.is_empty() {
            return Err(FieldError::new(
                at(&format!("hosts[{k}]")),
                Problem::Blank { what: "host" },
            ));
        }
        if host.contains('*') {
            return Err(FieldError::new(
                at(&format!("hosts[{k}]")),
                Problem::NotFqdn { got: host.clone() },
            ));
        }
    }
    if to.port.number == 0 {
        return Err(FieldError::new(at("port.number"), Problem::ZeroPort));
    }
    let family = family_of(to.port.protocol).ok_or_else(|| {
        FieldError::new(
            at("port.protocol"),
            Problem::UnsupportedProtocol {
                got: to.port.protocol,
            },
        )
    })?;
    if to.by_egress_gateway.as_ref().and_then(|g| g.port) == Some(0) {
        return Err(FieldError::new(
            at("byEgressGateway.port"),
            Problem::ZeroPort,
        ));
    }
    let upgrade_port = match &to.https_upgrade {
        Some(u) if u.enabled => {
            if !family.upgradable {
                return Err(FieldError::new(
                    at("httpsUpgrade.enabled"),
                    Problem::UpgradeNeedsHttp {
                        got: to.port.protocol,
                    },
                ));
            }
            let port = u.port.unwrap_or(DEFAULT_UPGRADE_PORT);
            if port == 0 {
                return Err(FieldError::new(at("httpsUpgrade.port"), Problem::ZeroPort));
            }
            if port == to.port.number {
                return Err(FieldError::new(
                    at("httpsUpgrade.port"),
                    Problem::UpgradePortClash { got: port },
                ));
            }
            Some(port)
        }
        _ => None,
    };
    let sanitized = names::sanitize(&to.name);
    let name = if sanitized.is_empty() {
        format!("to-{i}-{j}")
    } else {
        names::fit(&sanitized)
    };
    Ok(Dest {
        rule: i,
        index: j,
        name,
        to,
        family,
        upgrade_port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::family::{HTTP, SNI, TCP};
    use egressbench_resources::Protocol;

    fn spec(yaml: &str) -> AsmEgressTrafficPolicy {
        match serde_yaml::from_str(yaml) {
            Ok(s) => s,
            Err(e) => panic!("test spec does not parse: {e}"),
        }
    }

    /// A one-rule spec whose single `to` is `to_yaml` (indented under `to:`).
    fn one_to(to_yaml: &str) -> AsmEgressTrafficPolicy {
        spec(&format!(
            "byEgressGateway: {{name: egressgateway}}
egressRules:
- from: [{{namespace: mytest}}]
  to:
  - {to_yaml}"
        ))
    }

    fn err(s: &AsmEgressTrafficPolicy) -> FieldError {
        match check(s) {
            Ok(d) => panic!("expected an error, got {d:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn names_families_and_upgrade_ports() {
        let s = spec(
            "byEgressGateway: {name: gw}
egressRules:
- from: [{namespace: a}]
  to:
  - {name: Web_One, hosts: [a.com], port: {number: 80, protocol: HTTP}, httpsUpgrade: {enabled: true}}
  - {hosts: [b.com], port: {number: 443, protocol: HTTPS}}
- from: [{namespace: b}]
  to:
  - {name: db, hosts: [c.com], port: {number: 27017, protocol: MONGO}}",
        );
        let d = check(&s).unwrap();
        let got: Vec<_> = d
            .iter()
            .map(|d| (d.name.as_str(), d.family, d.upgrade_port, d.path()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "web-one",
                    &HTTP,
                    Some(443),
                    "egressRules[0].to[0]".to_string()
                ),
                ("to-0-1", &SNI, None, "egressRules[0].to[1]".to_string()),
                ("db", &TCP, None, "egressRules[1].to[0]".to_string()),
            ]
        );
    }

    #[test]
    fn gateway_name_is_required() {
        let mut s = one_to("{hosts: [a.com], port: {number: 80, protocol: HTTP}}");
        s.by_egress_gateway.name.clear();
        let e = err(&s);
        assert_eq!(e.field, "spec.byEgressGateway.name");
        assert_eq!(
            e.problem,
            Problem::Blank {
                what: "egress gateway name"
            }
        );
    }

    #[test]
    fn rules_are_required() {
        let e = err(&spec("byEgressGateway: {name: gw}\negressRules: []"));
        assert_eq!(e.field, "spec.egressRules");
        assert_eq!(
            e.problem,
            Problem::Empty {
                what: "egress rule"
            }
        );
    }

    #[test]
    fn from_and_to_are_required() {
        let e = err(&spec(
            "byEgressGateway: {name: gw}
egressRules:
- from: []
  to: [{hosts: [a.com], port: {number: 80, protocol: HTTP}}]",
        ));
        assert_eq!(e.field, "spec.egressRules[0].from");
        assert!(matches!(e.problem, Problem::Empty { .. }));

        let e = err(&spec(
            "byEgressGateway: {name: gw}
egressRules:
- from: [{namespace: a}]",
        ));
        assert_eq!(e.field, "spec.egressRules[0].to");
        assert!(matches!(e.problem, Problem::Empty { .. }));

        let e = err(&spec(
            "byEgressGateway: {name: gw}
egressRules:
- from: [{namespace: a}, {namespace: ''}]
  to: [{hosts: [a.com], port: {number: 80, protocol: HTTP}}]",
        ));
        assert_eq!(e.field, "spec.egressRules[0].from[1].namespace");
    }

    #[test]
    fn host_count_is_bounded() {
        let e = err(&one_to("{hosts: [], port: {number: 80, protocol: HTTP}}"));
        assert_eq!(e.field, "spec.egressRules[0].to[0].hosts");
        assert_eq!(e.problem, Problem::HostCount { got: 0 });

        let hosts = (0..51).map(|n| format!("h{n}.com")).collect::<Vec<_>>();
        let e = err(&one_to(&format!(
            "{{hosts: [{}], port: {{number: 80, protocol: HTTP}}}}",
            hosts.join(", ")
        )));
        assert_eq!(e.problem, Problem::HostCount { got: 51 });

        let fifty = hosts[..50].join(", ");
        let ok = one_to(&format!(
            "{{hosts: [{fifty}], port: {{number: 80, protocol: HTTP}}}}"
        ));
        assert!(check(&ok).is_ok());
    }

    #[test]
    fn hosts_must_be_fqdns() {
        let e = err(&one_to(
            "{hosts: [a.com, '*.b.com'], port: {number: 80, protocol: HTTP}}",
        ));
        assert_eq!(e.field, "spec.egressRules[0].to[0].hosts[1]");
        assert_eq!(
            e.problem,
            Problem::NotFqdn {
                got: "*.b.com".into()
            }
        );
        let e = err(&one_to("{hosts: [''], port: {number: 80, protocol: HTTP}}"));
        assert_eq!(e.field, "spec.egressRules[0].to[0].hosts[0]");
    }

    #[test]
    fn duplicate_names_are_rejected_even_after_lowercasing() {
        let s = spec(
            "byEgressGateway: {name: gw}
egressRules:
- from: [{namespace: a}]
  to: [{name: Svc_A, hosts: [a.com], port: {number: 80, protocol: HTTP}}]
- from: [{namespace: b}]
  to: [{name: svc-a, hosts: [b.com], port: {number: 80, protocol: HTTP}}]",
        );
        let e = err(&s);
        assert_eq!(e.field, "spec.egressRules[1].to[0].name");
        assert_eq!(
            e.problem,
            Problem::DuplicateName {
                got: "svc-a".into(),
                other: "egressRules[0].to[0]".into()
            }
        );
    }

    #[test]
    fn generated_names_count_as_names() {
        let s = one_to(
            "{hosts: [a.com], port: {number: 80, protocol: HTTP}}
  - {name: to-0-0, hosts: [b.com], port: {number: 80, protocol: HTTP}}",
        );
        let e = err(&s);
        assert_eq!(e.field, "spec.egressRules[0].to[1].name");
    }

    #[test]
    fn unsupported_protocols_are_named() {
        for p in ["UDP", "MYSQL", "REDIS", "GRPC-Web"] {
            let e = err(&one_to(&format!(
                "{{hosts: [a.com], port: {{number: 53, protocol: {p}}}}}"
            )));
            assert_eq!(e.field, "spec.egressRules[0].to[0].port.protocol");
            assert!(matches!(e.problem, Problem::UnsupportedProtocol { .. }));
            assert!(
                e.problem
                    .to_string()
                    .contains("not supported by ASMEgressTrafficPolicy"),
                "{}",
                e.problem
            );
        }
    }

    #[test]
    fn https_upgrade_needs_http() {
        let e = err(&one_to(
            "{hosts: [a.com], port: {number: 443, protocol: TCP}, httpsUpgrade: {enabled: true}}",
        ));
        assert_eq!(e.field, "spec.egressRules[0].to[0].httpsUpgrade.enabled");
        assert_eq!(e.problem, Problem::UpgradeNeedsHttp { got: Protocol::Tcp });
        // Disabled upgrade on a stream protocol is fine.
        let ok = one_to(
            "{hosts: [a.com], port: {number: 443, protocol: TLS}, httpsUpgrade: {enabled: false}}",
        );
        assert_eq!(check(&ok).unwrap()[0].upgrade_port, None);
    }

    #[test]
    fn https_upgrade_port_must_differ() {
        let e = err(&one_to(
            "{hosts: [a.com], port: {number: 443, protocol: HTTP}, httpsUpgrade: {enabled: true}}",
        ));
        assert_eq!(e.field, "spec.egressRules[0].to[0].httpsUpgrade.port");
        assert_eq!(e.problem, Problem::UpgradePortClash { got: 443 });
    }

    #[test]
    fn zero_ports_are_rejected() {
        let e = err(&one_to(
            "{hosts: [a.com], port: {number: 0, protocol: HTTP}}",
        ));
        assert_eq!(e.field, "spec.egressRules[0].to[0].port.number");
        assert_eq!(e.problem, Problem::ZeroPort);
        let e = err(&one_to(
            "{hosts: [a.com], port: {number: 80, protocol: HTTP}, byEgressGateway: {port: 0}}",
        ));
        assert_eq!(e.field, "spec.egressRules[0].to[0].byEgressGateway.port");
        let mut s = one_to("{hosts: [a.com], port: {number: 80, protocol: HTTP}}");
        s.by_egress_gateway.port = Some(0);
        assert_eq!(err(&s).field, "spec.byEgressGateway.port");
    }
}
