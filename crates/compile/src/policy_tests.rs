//! End-to-end tests of `compile_policy` for what needs the whole pipeline: errors carrying the
//! policy, warnings, several rules sharing objects, and names generated for unnamed entries.
//!
//! Owns assertions on whole compilations of hand-written policies. Leaves the guide's policies to
//! `seed_tests`, and per-stage cases to the tests beside each stage.

use crate::fixtures::{self, body, compile, compile_err, get, strings};
use crate::{compile_policy, Problem, ALL_RULES, GENERATED_FROM, RULE_LABEL};
use egressbench_resources::{Kind, Store};

#[test]
fn missing_gateway_suggests_the_closest() {
    let store = Store::from_resources([
        fixtures::gateway_deployment(
            "istio-egress",
            "egressgateway-a",
            &[("app", "egressgateway-a"), ("istio", "egressgateway-a")],
        ),
        fixtures::service("istio-egress", "egressgateway-a", &[("http", 80)]),
    ]);
    let e = compile_err(&store, fixtures::V1, &fixtures::seed_http());
    assert_eq!(
        e.policy,
        "ASMEgressTrafficPolicy/istio-egress/egress-by-egressgateway"
    );
    assert_eq!(e.field, "spec.byEgressGateway.name");
    assert!(
        e.message
            .starts_with("no egress gateway `egressgateway` in namespace `istio-egress`"),
        "{e}"
    );
    assert!(e.message.contains("`istio-egress/egressgateway-a`"), "{e}");
    assert!(e.message.contains("did you mean `egressgateway-a`?"), "{e}");
}

#[test]
fn validation_errors_carry_the_policy() {
    let e = compile_err(
        &fixtures::cluster(),
        fixtures::V1,
        "byEgressGateway: {name: egressgateway}\negressRules: []",
    );
    assert_eq!(e.field, "spec.egressRules");
    assert_eq!(
        e.to_string(),
        "ASMEgressTrafficPolicy/istio-egress/egress-by-egressgateway: spec.egressRules: \
         expected at least one egress rule, got none"
    );
}

#[test]
fn v1beta1_needs_the_gateway_port() {
    let e = compile_err(
        &fixtures::cluster(),
        fixtures::V1BETA1,
        &fixtures::seed_tcp(),
    );
    assert_eq!(e.field, "spec.egressRules[0].to[0].byEgressGateway.port");
    assert!(matches!(*e.problem, Problem::GatewayPortRequired { .. }));
    // The same policy with its port given compiles under v1beta1.
    let c = compile(
        fixtures::V1BETA1,
        &fixtures::seed_tcp().replace("byEgressGateway: {}", "byEgressGateway: {port: 443}"),
    );
    assert!(c.warnings.iter().all(|w| !w.contains("allocated")));
}

#[test]
fn non_policies_are_refused() {
    let r = fixtures::service("istio-egress", "egressgateway", &[]);
    let e = match compile_policy(&fixtures::cluster(), &r) {
        Ok(_) => panic!("a Service compiled"),
        Err(e) => e,
    };
    assert_eq!(e.field, "kind");
    assert_eq!(*e.problem, Problem::NotAPolicy { got: Kind::Service });
}

#[test]
fn colliding_names_within_a_policy_are_an_error() {
    let e = compile_err(
        &fixtures::cluster(),
        fixtures::V1,
        "byEgressGateway: {name: egressgateway, port: 80}
egressRules:
- from: [{namespace: mytest}]
  to:
  - {name: a, hosts: [a.com, b.com], port: {number: 80, protocol: HTTP}}
  - {name: a-1, hosts: [c.com], port: {number: 80, protocol: HTTP}}
",
    );
    assert_eq!(e.field, "spec.egressRules[0].to[1]");
    assert_eq!(
        *e.problem,
        Problem::Collision {
            id: "VirtualService/istio-egress/egress-by-egressgateway-a-1".into(),
            existing: "another object this policy generates".into(),
        }
    );
}

#[test]
fn shared_objects_of_several_rules() {
    let c = compile(
        fixtures::V1,
        "byEgressGateway: {name: egressgateway, port: 443}
egressRules:
- name: web
  from:
  - {namespace: mytest, workloadSelector: {app: sleep-a}}
  - {namespace: mytest, workloadSelector: {app: sleep-b}}
  to: [{name: a, hosts: [a.com], port: {number: 443, protocol: TLS}}]
- name: db
  from:
  - {namespace: mytest, workloadSelector: {app: sleep-a}}
  - {namespace: default}
  to: [{name: b, hosts: [b.com], port: {number: 443, protocol: TLS}}]
",
    );
    let gw = get(&c, Kind::Gateway, "istio-egress", "egress-by-egressgateway");
    assert_eq!(
        gw.meta.labels.get(RULE_LABEL).map(String::as_str),
        Some(ALL_RULES)
    );
    assert_eq!(
        gw.meta.annotations.get(GENERATED_FROM).map(String::as_str),
        Some("ASMEgressTrafficPolicy/istio-egress/egress-by-egressgateway spec.egressRules")
    );
    let dr = body!(
        get(
            &c,
            Kind::DestinationRule,
            "istio-egress",
            "egress-by-egressgateway-gateway"
        ),
        DestinationRule
    );
    assert_eq!(dr.export_to, strings(&[".", "default", "mytest"]));
    let se_a = body!(
        get(
            &c,
            Kind::ServiceEntry,
            "istio-egress",
            "egress-by-egressgateway-a"
        ),
        ServiceEntry
    );
    assert_eq!(se_a.export_to, strings(&[".", "mytest"]));
    let se_b = get(
        &c,
        Kind::ServiceEntry,
        "istio-egress",
        "egress-by-egressgateway-b",
    );
    assert_eq!(
        se_b.meta.labels.get(RULE_LABEL).map(String::as_str),
        Some("db")
    );
    assert_eq!(
        body!(se_b, ServiceEntry).export_to,
        strings(&[".", "default", "mytest"])
    );

    // sleep-a is selected by both rules: one Sidecar, attributed to both.
    let sidecars: Vec<_> = c
        .resources
        .iter()
        .filter(|r| r.kind() == Kind::Sidecar)
        .map(|r| {
            (
                r.name().to_string(),
                body!(r, Sidecar)
                    .workload_selector
                    .as_ref()
                    .map(|s| s.labels.clone()),
                r.meta.annotations.get(GENERATED_FROM).cloned(),
            )
        })
        .collect();
    let policy = "ASMEgressTrafficPolicy/istio-egress/egress-by-egressgateway";
    assert_eq!(
        sidecars,
        vec![
            (
                "egress-by-egressgateway-mytest-0".to_string(),
                Some(fixtures::labels(&[("app", "sleep-a")])),
                Some(format!("{policy} spec.egressRules")),
            ),
            (
                "egress-by-egressgateway-mytest-1".to_string(),
                Some(fixtures::labels(&[("app", "sleep-b")])),
                Some(format!("{policy} spec.egressRules[0].from[1]")),
            ),
        ]
    );
    // mytest only has selected workloads; default is admitted whole.
    let unselected: Vec<_> = c
        .warnings
        .iter()
        .filter(|w| w.contains("other workloads"))
        .collect();
    assert_eq!(unselected.len(), 1);
    assert!(unselected[0].contains("namespace `mytest` see hosts `a.com`, `b.com`"));
}

#[test]
fn warnings_name_what_cannot_be_guaranteed() {
    // Another namespace, no gateway Service, an ALLOW_ANY mesh, a host in two destinations.
    let ns = "egress";
    let store = Store::from_resources([fixtures::gateway_deployment(
        ns,
        "egressgateway",
        &[("istio", "egressgateway")],
    )]);
    let policy = fixtures::named_policy(
        fixtures::V1,
        ns,
        "p",
        "byEgressGateway: {name: egressgateway, port: 8443}
egressRules:
- from: [{namespace: default}]
  to:
  - {name: a, hosts: [a.com], port: {number: 443, protocol: TLS}}
  - {name: b, hosts: [a.com], port: {number: 80, protocol: HTTP}, byEgressGateway: {port: 8080}}
",
    );
    let c = match compile_policy(&store, &policy) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    };
    let w = c.warnings.join("\n");
    assert!(
        w.contains("p: namespace `egress` is not `istio-egress`"),
        "{w}"
    );
    assert!(
        w.contains("no Service `egressgateway` in namespace `egress`"),
        "{w}"
    );
    assert!(
        w.contains("host `a.com` is in egressRules[0].to[0] and egressRules[0].to[1]"),
        "{w}"
    );
    assert!(
        w.contains("ALLOW_ANY and egressRules[0].from[0] admits all of namespace `default`"),
        "{w}"
    );
    assert!(!w.contains("other workloads"), "{w}");
    // No Sidecar: the only `from` selects a whole namespace.
    assert!(c.resources.iter().all(|r| r.kind() != Kind::Sidecar));
}

#[test]
fn gateway_ports_missing_from_the_service_are_flagged() {
    let c = compile(
        fixtures::V1,
        &fixtures::seed_http().replace(
            "byEgressGateway: {port: 80}",
            "byEgressGateway: {port: 8080}",
        ),
    );
    assert!(
        c.warnings.iter().any(|w| w.ends_with(
            "gateway port 8080 for egressRules[0].to[0] is not a port of Service \
             `istio-egress/egressgateway` (ports: 80, 443, 444): sidecars cannot reach the \
             gateway on it"
        )),
        "{:?}",
        c.warnings
    );
}

#[test]
fn unnamed_destinations_and_default_port_names() {
    let c = compile(
        fixtures::V1,
        "byEgressGateway: {name: egressgateway, port: 80}
egressRules:
- from: [{namespace: mytest}]
  to: [{hosts: [a.com], port: {number: 8080, protocol: HTTP2}}]
",
    );
    let se = body!(
        get(
            &c,
            Kind::ServiceEntry,
            "istio-egress",
            "egress-by-egressgateway-to-0-0"
        ),
        ServiceEntry
    );
    assert_eq!(se.ports[0].name, "http2-8080");
    // One host: one VirtualService named after the destination alone.
    let vs = get(
        &c,
        Kind::VirtualService,
        "istio-egress",
        "egress-by-egressgateway-to-0-0",
    );
    assert_eq!(body!(vs, VirtualService).hosts, strings(&["a.com"]));
}
