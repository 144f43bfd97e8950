//! End-to-end tests of `compile_policy` on the four policies of ASM's egress guide, compiled
//! against the guide's cluster: the objects each generates, their provenance, and determinism.
//!
//! Owns assertions on whole compilations of the guide's policies. Leaves errors, warnings and
//! multi-rule policies to `policy_tests`, and per-stage cases to the tests beside each stage.

use crate::fixtures::{self, body, compile, dest, get, ids, strings, GW_HOST, GW_REF};
use crate::{render_yaml, GENERATED_FROM, POLICY_LABEL, RULE_LABEL};
use egressbench_resources::{
    ClientTlsMode, Kind, Location, OutboundMode, Protocol, Resolution, ServerTlsMode,
};

#[test]
fn http_policy_generates_the_documented_objects() {
    let c = compile(fixtures::V1, &fixtures::seed_http());
    assert_eq!(
        ids(&c),
        strings(&[
            "Gateway/istio-egress/egress-by-egressgateway",
            "DestinationRule/istio-egress/egress-by-egressgateway-gateway",
            "ServiceEntry/istio-egress/egress-by-egressgateway-httpbin-service-http",
            "VirtualService/istio-egress/egress-by-egressgateway-httpbin-service-http-0",
            "VirtualService/istio-egress/egress-by-egressgateway-httpbin-service-http-1",
            "Sidecar/mytest/egress-by-egressgateway-mytest-0",
        ])
    );

    let gw = body!(
        get(&c, Kind::Gateway, "istio-egress", "egress-by-egressgateway"),
        Gateway
    );
    assert_eq!(gw.selector, fixtures::labels(&[("istio", "egressgateway")]));
    assert_eq!(gw.servers.len(), 1);
    let server = &gw.servers[0];
    assert_eq!(server.port.number, 80);
    assert_eq!(server.port.protocol, Some(Protocol::Https));
    assert_eq!(server.port.name, "https-httpbin-service-http");
    assert_eq!(server.hosts, strings(&["www.httpbin.org", "httpbin.org"]));
    assert_eq!(
        server.tls.as_ref().and_then(|t| t.mode),
        Some(ServerTlsMode::IstioMutual)
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
    assert_eq!(dr.host, GW_HOST);
    assert_eq!(dr.export_to, strings(&[".", "mytest"]));
    assert_eq!(dr.subsets.len(), 1);
    assert_eq!(dr.subsets[0].name, "httpbin-service-http");
    let tls = dr.subsets[0]
        .traffic_policy
        .as_ref()
        .and_then(|p| p.tls_for_port(80))
        .unwrap();
    assert_eq!(tls.mode, Some(ClientTlsMode::IstioMutual));
    assert_eq!(tls.sni.as_deref(), Some("www.httpbin.org"));

    let se = body!(
        get(
            &c,
            Kind::ServiceEntry,
            "istio-egress",
            "egress-by-egressgateway-httpbin-service-http"
        ),
        ServiceEntry
    );
    assert_eq!(se.hosts, strings(&["www.httpbin.org", "httpbin.org"]));
    assert_eq!(se.ports.len(), 1);
    assert_eq!(
        (
            se.ports[0].number,
            se.ports[0].name.as_str(),
            se.ports[0].protocol
        ),
        (80, "http", Some(Protocol::Http))
    );
    assert_eq!(se.location, Some(Location::MeshExternal));
    assert_eq!(se.resolution, Some(Resolution::Dns));
    assert_eq!(se.export_to, strings(&[".", "mytest"]));

    for (k, host) in ["www.httpbin.org", "httpbin.org"].into_iter().enumerate() {
        let name = format!("egress-by-egressgateway-httpbin-service-http-{k}");
        let vs = body!(
            get(&c, Kind::VirtualService, "istio-egress", &name),
            VirtualService
        );
        assert_eq!(vs.hosts, strings(&[host]));
        assert_eq!(vs.gateways, strings(&["mesh", GW_REF]));
        assert_eq!(vs.export_to, strings(&[".", "mytest"]));
        assert!(vs.tls.is_empty() && vs.tcp.is_empty());
        assert_eq!(vs.http.len(), 2);
        let (mesh, out) = (&vs.http[0], &vs.http[1]);
        assert_eq!(mesh.name.as_deref(), Some("mesh-to-gateway"));
        assert_eq!(mesh.matches[0].gateways, strings(&["mesh"]));
        assert_eq!(mesh.matches[0].port, Some(80));
        assert_eq!(
            mesh.route[0].destination,
            dest(GW_HOST, Some("httpbin-service-http"), 80)
        );
        assert_eq!(out.name.as_deref(), Some("gateway-to-external"));
        assert_eq!(out.matches[0].gateways, strings(&[GW_REF]));
        assert_eq!(out.matches[0].port, Some(80));
        assert_eq!(out.route[0].destination, dest(host, None, 80));
    }

    let sc = body!(
        get(
            &c,
            Kind::Sidecar,
            "mytest",
            "egress-by-egressgateway-mytest-0"
        ),
        Sidecar
    );
    assert_eq!(
        sc.workload_selector.as_ref().map(|s| &s.labels),
        Some(&fixtures::labels(&[("app", "sleep-a")]))
    );
    assert_eq!(sc.egress.len(), 1);
    assert_eq!(sc.egress[0].hosts, strings(&["*/*"]));
    assert_eq!(
        sc.outbound_traffic_policy.as_ref().map(|p| p.mode),
        Some(OutboundMode::RegistryOnly)
    );

    assert_eq!(
        c.warnings,
        strings(&[
            "ASMEgressTrafficPolicy/istio-egress/egress-by-egressgateway: other workloads in \
             namespace `mytest` see hosts `www.httpbin.org`, `httpbin.org` too (exportTo is per \
             namespace) and reach them through the gateway; restrict them with an \
             AuthorizationPolicy on the egress gateway (source.principals)"
        ])
    );
}

#[test]
fn every_object_names_its_policy_and_rule() {
    let c = compile(fixtures::V1, &fixtures::seed_http());
    for r in &c.resources {
        assert_eq!(r.api_version, "networking.istio.io/v1");
        assert_eq!(
            r.meta.labels.get(POLICY_LABEL).map(String::as_str),
            Some("egress-by-egressgateway"),
            "{}",
            r.id()
        );
        assert_eq!(
            r.meta.labels.get(RULE_LABEL).map(String::as_str),
            Some("rule-0")
        );
        let from = r.meta.annotations.get(GENERATED_FROM).map(String::as_str);
        let expected = if r.kind() == Kind::Sidecar {
            "ASMEgressTrafficPolicy/istio-egress/egress-by-egressgateway spec.egressRules[0].from[0]"
        } else {
            "ASMEgressTrafficPolicy/istio-egress/egress-by-egressgateway spec.egressRules[0].to[0]"
        };
        assert_eq!(from, Some(expected), "{}", r.id());
    }
}

#[test]
fn https_upgrade_originates_tls_at_the_gateway() {
    let c = compile(fixtures::V1, &fixtures::seed_upgrade());
    assert_eq!(
        ids(&c),
        strings(&[
            "Gateway/istio-egress/egress-by-egressgateway",
            "DestinationRule/istio-egress/egress-by-egressgateway-gateway",
            "ServiceEntry/istio-egress/egress-by-egressgateway-httpbin-service-http",
            "VirtualService/istio-egress/egress-by-egressgateway-httpbin-service-http-0",
            "VirtualService/istio-egress/egress-by-egressgateway-httpbin-service-http-1",
            "DestinationRule/istio-egress/egress-by-egressgateway-httpbin-service-http-tls-0",
            "DestinationRule/istio-egress/egress-by-egressgateway-httpbin-service-http-tls-1",
            "Sidecar/mytest/egress-by-egressgateway-mytest-0",
        ])
    );
    let se = body!(
        get(
            &c,
            Kind::ServiceEntry,
            "istio-egress",
            "egress-by-egressgateway-httpbin-service-http"
        ),
        ServiceEntry
    );
    let ports: Vec<_> = se
        .ports
        .iter()
        .map(|p| (p.number, p.name.as_str(), p.protocol))
        .collect();
    assert_eq!(
        ports,
        vec![
            (80, "http", Some(Protocol::Http)),
            (443, "https-443", Some(Protocol::Https))
        ]
    );
    for (k, host) in ["www.httpbin.org", "httpbin.org"].into_iter().enumerate() {
        let vs = body!(
            get(
                &c,
                Kind::VirtualService,
                "istio-egress",
                &format!("egress-by-egressgateway-httpbin-service-http-{k}")
            ),
            VirtualService
        );
        // Sidecar → 80 → gateway → 443 → host.
        assert_eq!(vs.http[0].matches[0].port, Some(80));
        assert_eq!(
            vs.http[0].route[0].destination,
            dest(GW_HOST, Some("httpbin-service-http"), 80)
        );
        assert_eq!(vs.http[1].route[0].destination, dest(host, None, 443));

        let dr = body!(
            get(
                &c,
                Kind::DestinationRule,
                "istio-egress",
                &format!("egress-by-egressgateway-httpbin-service-http-tls-{k}")
            ),
            DestinationRule
        );
        assert_eq!(dr.host, host);
        assert_eq!(dr.export_to, strings(&["."]));
        let tls = dr
            .traffic_policy
            .as_ref()
            .and_then(|p| p.tls_for_port(443))
            .unwrap();
        assert_eq!(tls.mode, Some(ClientTlsMode::Simple));
        assert_eq!(tls.sni.as_deref(), Some(host));
    }
}

#[test]
fn https_passthrough_routes_by_sni_through_port_444() {
    let c = compile(fixtures::V1, &fixtures::seed_passthrough());
    assert_eq!(
        ids(&c),
        strings(&[
            "Gateway/istio-egress/egress-by-egressgateway",
            "DestinationRule/istio-egress/egress-by-egressgateway-gateway",
            "ServiceEntry/istio-egress/egress-by-egressgateway-httpbin-service-https",
            "VirtualService/istio-egress/egress-by-egressgateway-httpbin-service-https",
            "Sidecar/mytest/egress-by-egressgateway-mytest-0",
        ])
    );
    let gw = body!(
        get(&c, Kind::Gateway, "istio-egress", "egress-by-egressgateway"),
        Gateway
    );
    assert_eq!(gw.servers[0].port.number, 444);
    assert_eq!(gw.servers[0].port.protocol, Some(Protocol::Tls));
    assert_eq!(gw.servers[0].port.name, "tls-httpbin-service-https");

    let dr = body!(
        get(
            &c,
            Kind::DestinationRule,
            "istio-egress",
            "egress-by-egressgateway-gateway"
        ),
        DestinationRule
    );
    let tls = dr.subsets[0]
        .traffic_policy
        .as_ref()
        .and_then(|p| p.tls_for_port(444))
        .unwrap();
    assert_eq!(tls.mode, Some(ClientTlsMode::IstioMutual));
    assert_eq!(tls.sni.as_deref(), Some("www.httpbin.org"));

    let vs = body!(
        get(
            &c,
            Kind::VirtualService,
            "istio-egress",
            "egress-by-egressgateway-httpbin-service-https"
        ),
        VirtualService
    );
    assert_eq!(vs.hosts, strings(&["www.httpbin.org", "httpbin.org"]));
    assert!(vs.http.is_empty());
    let sni: Vec<_> = vs
        .tls
        .iter()
        .map(|r| {
            let m = &r.matches[0];
            (
                m.sni_hosts.clone(),
                m.gateways.clone(),
                m.port,
                r.route[0].destination.clone(),
            )
        })
        .collect();
    let to_gateway = dest(GW_HOST, Some("httpbin-service-https"), 444);
    assert_eq!(
        sni,
        vec![
            (
                strings(&["www.httpbin.org"]),
                strings(&["mesh"]),
                Some(443),
                to_gateway.clone()
            ),
            (
                strings(&["httpbin.org"]),
                strings(&["mesh"]),
                Some(443),
                to_gateway
            ),
        ]
    );
    assert_eq!(vs.tcp.len(), 1);
    assert_eq!(vs.tcp[0].matches[0].gateways, strings(&[GW_REF]));
    assert_eq!(vs.tcp[0].matches[0].port, Some(444));
    assert_eq!(
        vs.tcp[0].route[0].destination,
        dest("www.httpbin.org", None, 443)
    );
}

#[test]
fn tcp_with_allocated_gateway_port() {
    let c = compile(fixtures::V1, &fixtures::seed_tcp());
    assert_eq!(
        ids(&c),
        strings(&[
            "Gateway/istio-egress/egress-by-egressgateway",
            "DestinationRule/istio-egress/egress-by-egressgateway-gateway",
            "ServiceEntry/istio-egress/egress-by-egressgateway-aliyun-service-tcp",
            "VirtualService/istio-egress/egress-by-egressgateway-aliyun-service-tcp",
            "Sidecar/mytest/egress-by-egressgateway-mytest-0",
        ])
    );
    assert_eq!(
        c.warnings[0],
        "ASMEgressTrafficPolicy/istio-egress/egress-by-egressgateway: allocated gateway port 80 \
         for egressRules[0].to[0]"
    );
    let gw = body!(
        get(&c, Kind::Gateway, "istio-egress", "egress-by-egressgateway"),
        Gateway
    );
    assert_eq!(
        (gw.servers[0].port.number, gw.servers[0].port.protocol),
        (80, Some(Protocol::Tls))
    );
    let vs = body!(
        get(
            &c,
            Kind::VirtualService,
            "istio-egress",
            "egress-by-egressgateway-aliyun-service-tcp"
        ),
        VirtualService
    );
    assert!(vs.http.is_empty() && vs.tls.is_empty());
    let tcp: Vec<_> = vs
        .tcp
        .iter()
        .map(|r| {
            (
                r.matches[0].gateways.clone(),
                r.matches[0].port,
                r.route[0].destination.clone(),
            )
        })
        .collect();
    assert_eq!(
        tcp,
        vec![
            (
                strings(&["mesh"]),
                Some(443),
                dest(GW_HOST, Some("aliyun-service-tcp"), 80)
            ),
            (
                strings(&[GW_REF]),
                Some(80),
                dest("www.alibabacloud.com", None, 443)
            ),
        ]
    );
    let se = body!(
        get(
            &c,
            Kind::ServiceEntry,
            "istio-egress",
            "egress-by-egressgateway-aliyun-service-tcp"
        ),
        ServiceEntry
    );
    assert_eq!(se.ports[0].protocol, Some(Protocol::Tcp));
}

#[test]
fn compilation_is_deterministic() {
    for spec in [
        fixtures::seed_http(),
        fixtures::seed_upgrade(),
        fixtures::seed_passthrough(),
        fixtures::seed_tcp(),
    ] {
        let a = compile(fixtures::V1, &spec);
        let b = compile(fixtures::V1, &spec);
        assert_eq!(a.resources, b.resources);
        assert_eq!(a.warnings, b.warnings);
        assert_eq!(render_yaml(&a), render_yaml(&b));
    }
}
