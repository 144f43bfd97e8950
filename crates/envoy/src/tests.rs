//! The rendering checked against what istiod gives the seed's proxies: the sidecar's catch-all,
//! its clusters and mTLS to the gateway, the gateway's client-certificate requirement and RBAC,
//! and the translation rules (TCP, dry run, matchers, placement) on small configs.

use super::placement::{Capture, Placement};
use super::{bootstrap, rbac, routes};
use egressbench_manifest::load_paths;
use egressbench_model::mesh::Mesh;
use egressbench_model::request::WorkloadRef;
use egressbench_model::xds::{
    HeaderMatcher, Provenance, RbacAction, RbacFilter, RbacPolicy, Route, RouteAction,
    RouteConfiguration, RouteMatch, StringMatcher, VirtualHost,
};
use egressbench_resources::istio::authorization_policy::{
    Operation, Rule, RuleFrom, RuleTo, Source,
};
use egressbench_resources::{Kind, ResourceId, Store};
use serde_json::Value;
use std::net::SocketAddr;
use std::path::PathBuf;

/// The mesh of the 000 fixtures with `extra` applied (e.g. `egress-http.yaml`).
pub(crate) fn mesh_000(extra: &[&str]) -> Mesh {
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let mut files: Vec<PathBuf> = [
        "fixtures/mesh/registry-only.yaml",
        "fixtures/000/namespaces.yaml",
        "fixtures/000/egressgateway.yaml",
        "fixtures/000/test.yaml",
    ]
    .iter()
    .map(|f| root.join(f))
    .collect();
    files.extend(extra.iter().map(|f| root.join("fixtures/000").join(f)));
    let loaded = load_paths(&files).expect("the 000 fixtures load");
    Mesh::build(&Store::from_resources(loaded.resources)).expect("the 000 fixtures build")
}

fn render(mesh: &Mesh, ns: &str, name: &str) -> Value {
    let proxy = mesh
        .proxy(&WorkloadRef::new(ns, name))
        .expect("the proxy exists");
    bootstrap(proxy, mesh, &Placement::in_pod())
}

fn listener<'v>(boot: &'v Value, name: &str) -> &'v Value {
    boot["static_resources"]["listeners"]
        .as_array()
        .and_then(|ls| ls.iter().find(|l| l["name"] == name))
        .unwrap_or_else(|| panic!("no listener {name}: {boot:#}"))
}

fn cluster<'v>(boot: &'v Value, name: &str) -> &'v Value {
    boot["static_resources"]["clusters"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no cluster {name}"))
}

/// The typed config of the first filter named `name` in `chain`.
fn filter<'v>(chain: &'v Value, name: &str) -> &'v Value {
    chain["filters"]
        .as_array()
        .and_then(|fs| fs.iter().find(|f| f["name"] == name))
        .map(|f| &f["typed_config"])
        .unwrap_or_else(|| panic!("no filter {name} in {chain:#}"))
}

#[test]
fn the_sidecar_answers_unknown_hosts_502_from_block_all() {
    let boot = render(&mesh_000(&["egress-http.yaml"]), "mytest", "sleep-a");
    let l80 = listener(&boot, "0.0.0.0_80");
    let http = l80["filter_chains"]
        .as_array()
        .and_then(|cs| {
            cs.iter()
                .find(|c| c["filter_chain_match"]["transport_protocol"] == "raw_buffer")
        })
        .expect("an HTTP chain for plain text");
    let hcm = filter(http, "envoy.filters.network.http_connection_manager");
    assert_eq!(hcm["use_remote_address"], false);
    assert_eq!(hcm["forward_client_cert_details"], "SANITIZE");
    let vhosts = hcm["route_config"]["virtual_hosts"]
        .as_array()
        .expect("virtual hosts");
    let last = vhosts.last().expect("a catch-all");
    assert_eq!(last["name"], "block_all");
    assert_eq!(last["domains"], serde_json::json!(["*"]));
    assert_eq!(last["routes"][0]["name"], "block_all");
    assert_eq!(last["routes"][0]["direct_response"]["status"], 502);
    assert!(last["routes"][0].get("route").is_none());
    // The policy's host goes to the gateway subset, with istiod's default timeout (none).
    let httpbin = vhosts
        .iter()
        .find(|v| v["name"] == "www.httpbin.org:80")
        .expect("www.httpbin.org");
    let route = &httpbin["routes"][0]["route"];
    assert_eq!(
        route["cluster"],
        "outbound|80|httpbin-service-http|egressgateway-a.istio-egress.svc.cluster.local"
    );
    assert_eq!(route["timeout"], "0s");
    // The fallthrough of the port and of virtualOutbound: BlackHoleCluster.
    let fallthrough = &l80["default_filter_chain"];
    assert_eq!(fallthrough["name"], "PassthroughFilterChain");
    let tcp = filter(fallthrough, "envoy.filters.network.tcp_proxy");
    assert_eq!(tcp["cluster"], "BlackHoleCluster");
    let vo = listener(&boot, "virtualOutbound");
    assert_eq!(vo["use_original_dst"], true);
    assert_eq!(vo["address"]["socket_address"]["port_value"], 15001);
    assert_eq!(l80["bind_to_port"], false);
}

#[test]
fn blackhole_has_no_endpoints_and_passthrough_is_original_dst() {
    let boot = render(&mesh_000(&[]), "default", "nginx");
    let bh = cluster(&boot, "BlackHoleCluster");
    assert_eq!(bh["type"], "STATIC");
    assert!(bh["load_assignment"].get("endpoints").is_none(), "{bh:#}");
    let pt = cluster(&boot, "PassthroughCluster");
    assert_eq!(pt["type"], "ORIGINAL_DST");
    assert_eq!(pt["lb_policy"], "CLUSTER_PROVIDED");
    assert!(pt.get("load_assignment").is_none());
    assert_eq!(bh["connect_timeout"], "10s");
}

#[test]
fn the_sidecar_reaches_the_gateway_over_istio_mutual_with_the_rules_sni() {
    let boot = render(&mesh_000(&["egress-http.yaml"]), "mytest", "sleep-a");
    let c = cluster(
        &boot,
        "outbound|80|httpbin-service-http|egressgateway-a.istio-egress.svc.cluster.local",
    );
    assert_eq!(c["type"], "STATIC");
    let ep = &c["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"];
    assert_eq!(ep["socket_address"]["port_value"], 80);
    let tls = &c["transport_socket"]["typed_config"];
    assert_eq!(
        tls["@type"],
        "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext"
    );
    // The DestinationRule's subset sets the SNI the gateway's server matches on.
    assert_eq!(tls["sni"], "www.httpbin.org");
    let common = &tls["common_tls_context"];
    assert_eq!(
        common["tls_certificates"][0]["certificate_chain"]["filename"],
        "/etc/certs/cert-chain.pem"
    );
    assert_eq!(
        common["validation_context"]["trusted_ca"]["filename"],
        "/etc/certs/root-cert.pem"
    );
    assert_eq!(
        common["validation_context"]["match_typed_subject_alt_names"][0]["matcher"]["exact"],
        "spiffe://cluster.local/ns/istio-egress/sa/egressgateway-a"
    );
    // Auto mTLS to the gateway's plain port: istiod's SNI for the cluster.
    let auto = cluster(
        &boot,
        "outbound|443||egressgateway-a.istio-egress.svc.cluster.local",
    );
    assert_eq!(
        auto["transport_socket"]["typed_config"]["sni"],
        "outbound_.443_._.egressgateway-a.istio-egress.svc.cluster.local"
    );
    // The external host is resolved by DNS in the pod.
    let ext = cluster(&boot, "outbound|80||www.httpbin.org");
    assert_eq!(ext["type"], "STRICT_DNS");
}

#[test]
fn the_gateway_requires_client_certificates_and_renders_the_deny_policy() {
    let mesh = mesh_000(&["egress-http.yaml", "authz-deny-post.yaml"]);
    let boot = render(&mesh, "istio-egress", "egressgateway-a");
    let l80 = listener(&boot, "0.0.0.0_80");
    assert!(l80.get("bind_to_port").is_none(), "gateways bind: {l80:#}");
    let chain = &l80["filter_chains"][0];
    assert_eq!(chain["filter_chain_match"]["transport_protocol"], "tls");
    let names = &chain["filter_chain_match"]["server_names"];
    assert!(
        names
            .as_array()
            .is_some_and(|n| n.contains(&Value::from("www.httpbin.org"))),
        "{names}"
    );
    let tls = &chain["transport_socket"]["typed_config"];
    assert_eq!(tls["require_client_certificate"], true);
    assert_eq!(
        tls["common_tls_context"]["validation_context"]["trusted_ca"]["filename"],
        "/etc/certs/root-cert.pem"
    );
    let hcm = filter(chain, "envoy.filters.network.http_connection_manager");
    assert_eq!(hcm["use_remote_address"], true);
    assert_eq!(hcm["forward_client_cert_details"], "SANITIZE_SET");
    assert_eq!(hcm["set_current_client_cert_details"]["uri"], true);
    let filters: Vec<&str> = hcm["http_filters"]
        .as_array()
        .map(|fs| fs.iter().filter_map(|f| f["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        filters,
        ["envoy.filters.http.rbac", "envoy.filters.http.router"]
    );
    let rules = &hcm["http_filters"][0]["typed_config"]["rules"];
    assert_eq!(rules["action"], "DENY");
    let policy =
        &rules["policies"]["ns[istio-system]-policy[sleep-a-egress-www-httpbin-org]-rule[0]"];
    assert!(policy.is_object(), "istiod's name: {rules:#}");
    let principal = &policy["principals"][0]["and_ids"]["ids"][0]["or_ids"]["ids"][0];
    assert_eq!(
        principal["authenticated"]["principal_name"]["safe_regex"]["regex"],
        ".*/ns/mytest/.*"
    );
    let permission = &policy["permissions"][0]["and_rules"]["rules"];
    let hosts = &permission[0]["or_rules"]["rules"];
    assert_eq!(hosts[0]["header"]["name"], ":authority");
    assert_eq!(
        hosts[0]["header"]["string_match"]["exact"],
        "www.httpbin.org"
    );
    assert_eq!(hosts[0]["header"]["string_match"]["ignore_case"], true);
    let methods = &permission[1]["or_rules"]["rules"];
    assert_eq!(methods[0]["header"]["name"], ":method");
    assert_eq!(methods[0]["header"]["string_match"]["exact"], "POST");
}

fn policy(action: RbacAction, dry_run: bool, rules: Option<Vec<Rule>>) -> RbacPolicy {
    let id = ResourceId::new(Kind::AuthorizationPolicy, "istio-system", "p");
    RbacPolicy {
        policy: id.clone(),
        action,
        dry_run,
        rules,
        provenance: Provenance::new(id, ""),
    }
}

fn post_from_mytest() -> Rule {
    Rule {
        from: vec![RuleFrom {
            source: Source {
                principals: vec!["cluster.local/ns/mytest/sa/sleep-a".into()],
                ..Source::default()
            },
        }],
        to: vec![RuleTo {
            operation: Operation {
                methods: vec!["POST".into()],
                ports: vec!["443".into()],
                ..Operation::default()
            },
        }],
        when: Vec::new(),
    }
}

#[test]
fn on_tcp_an_allow_rule_needing_http_goes_and_a_deny_rule_drops_the_field() {
    let filter = RbacFilter {
        policies: vec![
            policy(RbacAction::Allow, false, Some(vec![post_from_mytest()])),
            policy(RbacAction::Deny, false, Some(vec![post_from_mytest()])),
        ],
    };
    let tcp = rbac::filters(Some(&filter), rbac::Layer::Tcp);
    assert_eq!(tcp.len(), 2);
    // DENY first, then ALLOW, as istiod orders them.
    let deny = &tcp[0]["typed_config"];
    assert_eq!(tcp[0]["name"], "envoy.filters.network.rbac");
    assert_eq!(deny["stat_prefix"], "tcp.");
    assert_eq!(deny["rules"]["action"], "DENY");
    let rule = &deny["rules"]["policies"]["ns[istio-system]-policy[p]-rule[0]"];
    let permission = rule["permissions"][0]["and_rules"]["rules"].to_string();
    assert!(!permission.contains(":method"), "{permission}");
    assert!(
        permission.contains("\"destination_port\":443"),
        "{permission}"
    );
    let principal = rule["principals"][0].to_string();
    assert!(
        principal.contains("\"exact\":\"spiffe://cluster.local/ns/mytest/sa/sleep-a\""),
        "{principal}"
    );
    // The ALLOW rule is gone: an ALLOW filter without policies, which allows nothing.
    let allow = &tcp[1]["typed_config"]["rules"];
    assert_eq!(allow["action"], "ALLOW");
    assert_eq!(allow["policies"], serde_json::json!({}));
    // On HTTP both keep the method.
    let http = rbac::filters(Some(&filter), rbac::Layer::Http);
    assert!(http[1].to_string().contains(":method"));
    assert_eq!(http[0]["name"], "envoy.filters.http.rbac");
}

#[test]
fn policies_without_rules_never_match_and_dry_runs_are_shadow_rules() {
    let filter = RbacFilter {
        policies: vec![
            policy(RbacAction::Allow, false, None),
            policy(RbacAction::Deny, true, Some(vec![Rule::default()])),
        ],
    };
    let http = rbac::filters(Some(&filter), rbac::Layer::Http);
    let deny = &http[0]["typed_config"];
    assert!(deny.get("rules").is_none(), "a dry run enforces nothing");
    assert_eq!(deny["shadow_rules"]["action"], "DENY");
    assert_eq!(deny["shadow_rules_stat_prefix"], "istio_dry_run_deny_");
    let any = &deny["shadow_rules"]["policies"]["ns[istio-system]-policy[p]-rule[0]"];
    assert_eq!(any["permissions"][0]["and_rules"]["rules"][0]["any"], true);
    assert_eq!(any["principals"][0]["and_ids"]["ids"][0]["any"], true);
    let never = &http[1]["typed_config"]["rules"]["policies"]["ns[istio-system]-policy[p]-rule[0]"];
    assert_eq!(never["permissions"][0]["not_rule"]["any"], true);
    assert_eq!(never["principals"][0]["not_id"]["any"], true);
}

#[test]
fn route_matches_and_actions_render_as_istiod_writes_them() {
    let matcher = RouteMatch {
        path: Some(StringMatcher::Regex("/status/4.*".into())),
        ignore_case: true,
        method: Some(StringMatcher::Exact("GET".into())),
        headers: vec![
            HeaderMatcher {
                name: "x-debug".into(),
                matcher: StringMatcher::Any,
                invert: false,
            },
            HeaderMatcher {
                name: "x-skip".into(),
                matcher: StringMatcher::Exact("1".into()),
                invert: true,
            },
        ],
        query: vec![("q".into(), StringMatcher::Prefix("a".into()))],
        ..RouteMatch::default()
    };
    let rc = RouteConfiguration::new(
        "80",
        vec![VirtualHost {
            name: "httpbin.org:80".into(),
            domains: vec!["httpbin.org".into()],
            routes: vec![Route {
                name: "r".into(),
                matcher,
                action: RouteAction::Cluster {
                    clusters: vec![("a".into(), 80), ("b".into(), 20)],
                    timeout_ms: Some(3500),
                    host_rewrite: Some("example.org".into()),
                    prefix_rewrite: None,
                    request_headers_to_add: vec![("x-added".into(), "yes".into())],
                    abort: Some(418),
                },
                provenance: None,
            }],
            provenance: Vec::new(),
        }],
    );
    assert!(routes::uses_fault(Some(&rc)));
    let rendered = routes::route_config("80", Some(&rc));
    let route = &rendered["virtual_hosts"][0]["routes"][0];
    let m = &route["match"];
    assert_eq!(m["safe_regex"]["regex"], "/status/4.*");
    assert_eq!(m["case_sensitive"], false);
    assert_eq!(m["headers"][0]["present_match"], true);
    assert_eq!(m["headers"][1]["invert_match"], true);
    assert_eq!(m["headers"][1]["treat_missing_header_as_empty"], true);
    assert_eq!(m["headers"][2]["name"], ":method");
    assert_eq!(m["query_parameters"][0]["string_match"]["prefix"], "a");
    let action = &route["route"];
    assert_eq!(action["weighted_clusters"]["clusters"][1]["weight"], 20);
    assert_eq!(action["timeout"], "3.500s");
    assert_eq!(action["host_rewrite_literal"], "example.org");
    assert_eq!(
        route["request_headers_to_add"][0]["append_action"],
        "OVERWRITE_IF_EXISTS_OR_ADD"
    );
    assert_eq!(
        route["typed_per_filter_config"]["envoy.filters.http.fault"]["abort"]["http_status"],
        418
    );
    assert_eq!(rendered["validate_clusters"], false);
}

#[test]
fn placed_dns_clusters_become_static_and_listeners_bind_where_placed() {
    let mesh = mesh_000(&["egress-http.yaml"]);
    let id = WorkloadRef::new("istio-egress", "egressgateway-a");
    let lo = |port: u16| SocketAddr::from(([127, 0, 0, 1], port));
    let mut placement = Placement {
        capture: Capture::Direct,
        ..Placement::in_pod()
    };
    placement
        .endpoints
        .insert("www.httpbin.org:80".into(), lo(31080));
    placement.listeners.insert("0.0.0.0_80".into(), lo(21080));
    let boot = super::render(&mesh, &id, &placement).expect("renders");
    let c = cluster(&boot, "outbound|80||www.httpbin.org");
    assert_eq!(c["type"], "STATIC");
    let addr = &c["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"];
    assert_eq!(addr["socket_address"]["address"], "127.0.0.1");
    assert_eq!(addr["socket_address"]["port_value"], 31080);
    // Not placed: still resolved by DNS.
    assert_eq!(
        cluster(&boot, "outbound|80||httpbin.org")["type"],
        "STRICT_DNS"
    );
    let l = listener(&boot, "0.0.0.0_80");
    assert_eq!(l["address"]["socket_address"]["port_value"], 21080);
    // Under PROXY protocol capture, virtualOutbound restores the destination from the header.
    let sidecar = WorkloadRef::new("mytest", "sleep-a");
    let placement = Placement {
        capture: Capture::ProxyProtocol,
        ..Placement::in_pod()
    };
    let boot = super::render(&mesh, &sidecar, &placement).expect("renders");
    let vo = listener(&boot, "virtualOutbound");
    assert_eq!(
        vo["listener_filters"][0]["name"],
        "envoy.filters.listener.proxy_protocol"
    );
    assert_eq!(listener(&boot, "0.0.0.0_80")["bind_to_port"], false);
}

#[test]
fn every_access_log_field_the_model_writes_is_in_the_format() {
    let format = super::access_log::json_format("mytest/sleep-a");
    for field in egressbench_model::outcome::AccessLogEntry::FIELDS {
        assert!(
            format.get(*field).is_some(),
            "{field} missing from {format:#}"
        );
    }
    assert_eq!(format["proxy"], "mytest/sleep-a");
    assert_eq!(
        format["downstream_peer_principal"],
        "%DOWNSTREAM_PEER_URI_SAN%"
    );
    assert_eq!(format["upstream_cluster"], "%UPSTREAM_CLUSTER_RAW%");
}

#[test]
fn overlapping_chains_keep_the_first_claim_as_the_model_does() {
    let mesh = mesh_000(&["egress-https-passthrough.yaml"]);
    let mut proxy = mesh
        .proxy(&WorkloadRef::new("istio-egress", "egressgateway-a"))
        .expect("gateway")
        .clone();
    let l = proxy
        .listeners
        .iter_mut()
        .find(|l| !l.filter_chains.is_empty())
        .expect("a listener with chains");
    let mut copy = l.filter_chains[0].clone();
    copy.name = "second".into();
    let mut chains = l.filter_chains.clone();
    chains.push(copy);
    *l = egressbench_model::xds::Listener::new(
        l.name.clone(),
        l.address.clone(),
        l.port,
        chains,
        None,
    );
    let name = l.name.to_string();
    let boot = bootstrap(&proxy, &mesh, &Placement::in_pod());
    let rendered = listener(&boot, &name)["filter_chains"]
        .as_array()
        .expect("chains");
    assert!(
        rendered.iter().all(|c| c["name"] != "second"),
        "{rendered:#?}"
    );
}

#[test]
fn yaml_and_json_print_names_first_and_read_back_the_same() {
    let boot = render(&mesh_000(&[]), "mytest", "sleep-a");
    let yaml = super::to_yaml(&boot).expect("yaml");
    let back: Value = serde_yaml::from_str(&yaml).expect("parses");
    assert_eq!(back, boot);
    let json = super::to_json(&boot).expect("json");
    let back: Value = serde_json::from_str(&json).expect("parses");
    assert_eq!(back, boot);
    let first_cluster = yaml
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("clusters:"))
        .nth(1)
        .unwrap_or_default();
    assert_eq!(first_cluster.trim(), "- name: BlackHoleCluster");
}

#[test]
fn a_domain_claimed_twice_stays_with_the_first_virtual_host() {
    let vh = |name: &str, domains: &[&str]| VirtualHost {
        name: name.into(),
        domains: domains.iter().map(|d| d.to_string()).collect(),
        routes: Vec::new(),
        provenance: Vec::new(),
    };
    let rc = RouteConfiguration::new(
        "80",
        vec![
            vh("a", &["httpbin.org", "httpbin.org:80"]),
            vh("b", &["HTTPBIN.org", "www.httpbin.org"]),
            vh("c", &["httpbin.org:80"]),
        ],
    );
    let rendered = routes::route_config("80", Some(&rc));
    let vhosts = rendered["virtual_hosts"].as_array().expect("virtual hosts");
    assert_eq!(vhosts.len(), 2, "{rendered:#}");
    assert_eq!(vhosts[1]["domains"], serde_json::json!(["www.httpbin.org"]));
}

#[test]
fn what_envoy_would_refuse_is_rendered_as_the_model_reads_it() {
    let route = |matcher: RouteMatch, clusters: Vec<(&str, u32)>| Route {
        name: "r".into(),
        matcher,
        action: RouteAction::Cluster {
            clusters: clusters.into_iter().map(|(c, w)| (c.into(), w)).collect(),
            timeout_ms: None,
            host_rewrite: None,
            prefix_rewrite: None,
            request_headers_to_add: Vec::new(),
            abort: None,
        },
        provenance: None,
    };
    let bad_regex = RouteMatch {
        path: Some(StringMatcher::Regex("/(unclosed".into())),
        ..RouteMatch::default()
    };
    let rc = RouteConfiguration::new(
        "80",
        vec![VirtualHost {
            name: "h".into(),
            domains: vec!["h".into()],
            routes: vec![
                route(bad_regex, vec![("never", 100)]),
                route(RouteMatch::default(), vec![("a", 0), ("b", 0)]),
            ],
            provenance: Vec::new(),
        }],
    );
    let rendered = routes::route_config("80", Some(&rc));
    let routes = rendered["virtual_hosts"][0]["routes"]
        .as_array()
        .expect("routes");
    // A regex that does not compile never matches: the route is left out.
    assert_eq!(routes.len(), 1, "{rendered:#}");
    // Weights summing to 0: the first cluster, as the model picks it.
    assert_eq!(routes[0]["route"]["cluster"], "a");
}
