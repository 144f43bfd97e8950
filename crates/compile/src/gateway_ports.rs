//! Gateway ports: which port of the egress gateway each destination is carried through.
//!
//! Owns the precedence (`to[].byEgressGateway.port`, then `spec.byEgressGateway.port`, then an
//! allocated port), v1beta1's requirement that a port be given, ASM's allocation for v1 (the first
//! port of the gateway's Service, in declared order, that no other server of the policy uses with
//! another server protocol), and the rule that one gateway port carries one server protocol.
//! Leaves out what is generated on those ports (`generate`).

use crate::error::{FieldError, Problem};
use crate::gateway::EgressGateway;
use crate::plan::{Dest, PolicyRef, Target};
use egressbench_resources::Protocol;
use std::collections::BTreeMap;

/// Destinations with their gateway ports, and a note for each port that was allocated.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Assigned<'a> {
    pub targets: Vec<Target<'a>>,
    /// `allocated gateway port 80 for egressRules[0].to[0]`, one per allocation.
    pub allocations: Vec<String>,
}

/// The server protocol each gateway port carries so far, and the destination that set it.
type Claims = BTreeMap<u16, (Protocol, String)>;

/// Give every destination a gateway port.
pub(crate) fn assign<'a>(
    dests: Vec<Dest<'a>>,
    default: Option<u16>,
    gateway: &EgressGateway,
    policy: &PolicyRef,
) -> Result<Assigned<'a>, FieldError> {
    let mut claims = Claims::new();
    // Given ports first, so allocation avoids every port the policy names.
    let given: Vec<Option<u16>> = dests
        .iter()
        .map(|d| {
            d.to.by_egress_gateway
                .as_ref()
                .and_then(|g| g.port)
                .or(default)
        })
        .collect();
    for (dest, port) in dests.iter().zip(&given) {
        match port {
            Some(p) => claim(&mut claims, *p, dest)?,
            None if policy.requires_gateway_port() => {
                return Err(FieldError::new(
                    dest.field("byEgressGateway.port"),
                    Problem::GatewayPortRequired {
                        api_version: policy.api_version.clone(),
                    },
                ))
            }
            None => {}
        }
    }
    let service_ports = gateway.service_ports.as_deref().unwrap_or(&[]);
    let mut allocations = Vec::new();
    let mut targets = Vec::with_capacity(dests.len());
    for (dest, port) in dests.into_iter().zip(given) {
        let gateway_port = match port {
            Some(p) => p,
            None => {
                let p = allocate(&claims, service_ports, &dest, gateway)?;
                claim(&mut claims, p, &dest)?;
                allocations.push(format!("allocated gateway port {p} for {}", dest.path()));
                p
            }
        };
        targets.push(Target { dest, gateway_port });
    }
    Ok(Assigned {
        targets,
        allocations,
    })
}

/// Record that `dest` needs a server of its family's protocol on `port`.
fn claim(claims: &mut Claims, port: u16, dest: &Dest<'_>) -> Result<(), FieldError> {
    let wanted = dest.family.server_protocol;
    match claims.get(&port) {
        Some((protocol, other)) if *protocol != wanted => Err(FieldError::new(
            dest.field("byEgressGateway.port"),
            Problem::PortProtocolClash {
                port,
                got: wanted,
                other: other.clone(),
                other_protocol: *protocol,
            },
        )),
        Some(_) => Ok(()),
        None => {
            claims.insert(port, (wanted, dest.path()));
            Ok(())
        }
    }
}

/// The first Service port free for `dest`'s server protocol.
fn allocate(
    claims: &Claims,
    service_ports: &[u16],
    dest: &Dest<'_>,
    gateway: &EgressGateway,
) -> Result<u16, FieldError> {
    let wanted = dest.family.server_protocol;
    service_ports
        .iter()
        .copied()
        .find(|p| {
            claims
                .get(p)
                .is_none_or(|(protocol, _)| *protocol == wanted)
        })
        .ok_or_else(|| {
            FieldError::new(
                dest.field("byEgressGateway.port"),
                Problem::NoPortToAllocate {
                    service: format!("{}/{}", gateway.namespace, gateway.name),
                    ports: service_ports.to_vec(),
                },
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;
    use crate::{gateway, validate};
    use egressbench_resources::asm::AsmEgressTrafficPolicy;
    use egressbench_resources::{Body, Resource};

    fn spec_of(r: &Resource) -> &AsmEgressTrafficPolicy {
        match &r.body {
            Body::AsmEgressTrafficPolicy(s) => s,
            other => panic!("not a policy: {other:?}"),
        }
    }

    /// Validate and assign `policy` against the fixture cluster with `service_ports`.
    fn run(policy: &Resource, service_ports: Option<Vec<u16>>) -> Result<Assigned<'_>, FieldError> {
        let spec = spec_of(policy);
        let mut gw = gateway::find(&fixtures::cluster(), fixtures::NS, "egressgateway").unwrap();
        gw.service_ports = service_ports;
        let dests = validate::check(spec).unwrap();
        assign(
            dests,
            spec.by_egress_gateway.port,
            &gw,
            &PolicyRef::of(policy),
        )
    }

    fn ports(a: &Assigned<'_>) -> Vec<u16> {
        a.targets.iter().map(|t| t.gateway_port).collect()
    }

    const THREE_TOS: &str = "byEgressGateway: {name: egressgateway}
egressRules:
- from: [{namespace: mytest}]
  to:
  - {name: web, hosts: [a.com], port: {number: 80, protocol: HTTP}, byEgressGateway: {port: 80}}
  - {name: tcp, hosts: [b.com], port: {number: 443, protocol: TCP}, byEgressGateway: {}}
  - {name: tls, hosts: [c.com], port: {number: 443, protocol: TLS}}
";

    #[test]
    fn allocation_skips_ports_used_with_another_protocol() {
        let p = fixtures::policy(fixtures::V1, THREE_TOS);
        let a = run(&p, Some(vec![80, 443, 444])).unwrap();
        // web claims 80 for HTTPS; tcp and tls (both TLS servers) share the first free port, 443.
        assert_eq!(ports(&a), vec![80, 443, 443]);
        assert_eq!(
            a.allocations,
            vec![
                "allocated gateway port 443 for egressRules[0].to[1]",
                "allocated gateway port 443 for egressRules[0].to[2]",
            ]
        );
    }

    #[test]
    fn policy_port_is_the_default() {
        let p = fixtures::policy(
            fixtures::V1BETA1,
            "byEgressGateway: {name: egressgateway, port: 444}
egressRules:
- from: [{namespace: mytest}]
  to:
  - {name: a, hosts: [a.com], port: {number: 443, protocol: HTTPS}}
  - {name: b, hosts: [b.com], port: {number: 443, protocol: TLS}, byEgressGateway: {port: 443}}
",
        );
        let a = run(&p, Some(vec![80, 443, 444])).unwrap();
        assert_eq!(ports(&a), vec![444, 443]);
        assert!(a.allocations.is_empty());
    }

    #[test]
    fn v1beta1_requires_a_port() {
        let p = fixtures::policy(fixtures::V1BETA1, THREE_TOS);
        let e = run(&p, Some(vec![80, 443, 444])).unwrap_err();
        assert_eq!(e.field, "spec.egressRules[0].to[1].byEgressGateway.port");
        assert_eq!(
            e.problem,
            Problem::GatewayPortRequired {
                api_version: fixtures::V1BETA1.into()
            }
        );
    }

    #[test]
    fn one_port_one_server_protocol() {
        let p = fixtures::policy(
            fixtures::V1,
            "byEgressGateway: {name: egressgateway}
egressRules:
- from: [{namespace: mytest}]
  to:
  - {name: web, hosts: [a.com], port: {number: 80, protocol: HTTP}, byEgressGateway: {port: 80}}
  - {name: tcp, hosts: [b.com], port: {number: 443, protocol: TCP}, byEgressGateway: {port: 80}}
",
        );
        let e = run(&p, Some(vec![80])).unwrap_err();
        assert_eq!(e.field, "spec.egressRules[0].to[1].byEgressGateway.port");
        assert_eq!(
            e.problem,
            Problem::PortProtocolClash {
                port: 80,
                got: Protocol::Tls,
                other: "egressRules[0].to[0]".into(),
                other_protocol: Protocol::Https,
            }
        );
    }

    #[test]
    fn no_free_port_is_an_error() {
        let p = fixtures::policy(fixtures::V1, THREE_TOS);
        let e = run(&p, Some(vec![80])).unwrap_err();
        assert_eq!(e.field, "spec.egressRules[0].to[1].byEgressGateway.port");
        assert_eq!(
            e.problem,
            Problem::NoPortToAllocate {
                service: "istio-egress/egressgateway".into(),
                ports: vec![80],
            }
        );
        let e = run(&p, None).unwrap_err();
        assert!(
            matches!(e.problem, Problem::NoPortToAllocate { ref ports, .. } if ports.is_empty())
        );
    }
}
