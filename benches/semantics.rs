//! Criterion benches of the semantic core at growing size: compiling ASM policies, building the
//! mesh (every proxy's config), and deciding one request.
//!
//! Sizes: 10, 100, 1 000 and 100 000 ServiceEntry hosts (and egress rules). The decision benches
//! show whether a decision is a lookup (flat as the mesh grows) or a scan.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use egressbench_compile::compile_policy;
use egressbench_model::decide::{decide, Call};
use egressbench_model::external::{App, ExternalHost, Internet};
use egressbench_model::mesh::Mesh;
use egressbench_model::request::{ClientRequest, Scheme, WorkloadRef};
use egressbench_resources::asm::{
    AsmEgressTrafficPolicy, EgressFrom, EgressPort, EgressRule, EgressTo, GatewayPort,
    PolicyGateway,
};
use egressbench_resources::istio::service_entry::{ServiceEntry, ServicePort};
use egressbench_resources::kube::{DeploymentSpec, KubeServicePort, PodTemplate, ServiceSpec};
use egressbench_resources::mesh_config::{MeshConfig, OutboundTrafficPolicy};
use egressbench_resources::{
    Body, ObjectMeta, OutboundMode, Protocol, Resolution, Resource, Store,
};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Duration;

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn deployment(ns: &str, name: &str, pod_labels: &[(&str, &str)]) -> Resource {
    let mut template = PodTemplate::default();
    template.metadata.labels = labels(pod_labels);
    template.spec.service_account_name = Some(name.into());
    Resource::new(
        "apps/v1",
        ObjectMeta::named(name, ns),
        Body::Deployment(Box::new(DeploymentSpec {
            replicas: None,
            selector: None,
            template,
            strategy: None,
            min_ready_seconds: None,
            revision_history_limit: None,
            progress_deadline_seconds: None,
            paused: None,
        })),
    )
}

fn service(ns: &str, name: &str, ports: &[(&str, u16)], selector: &[(&str, &str)]) -> Resource {
    Resource::new(
        "v1",
        ObjectMeta::named(name, ns),
        Body::Service(Box::new(ServiceSpec {
            ports: ports
                .iter()
                .map(|(n, p)| KubeServicePort {
                    name: n.to_string(),
                    port: *p,
                    ..KubeServicePort::default()
                })
                .collect(),
            selector: labels(selector),
            ..ServiceSpec::default()
        })),
    )
}

fn namespace(name: &str) -> Resource {
    let mut meta = ObjectMeta::named(name, "");
    meta.namespace = None;
    meta.labels = labels(&[("istio-injection", "enabled")]);
    Resource::new("v1", meta, Body::Namespace)
}

/// A cluster with one client (`mytest/sleep`), an egress gateway, REGISTRY_ONLY, and `n`
/// ServiceEntry hosts `h<i>.example.com` on port 80.
fn store_with_service_entries(n: usize) -> Store {
    let mut s = Store::new();
    s.apply(namespace("mytest"));
    s.apply(namespace("istio-egress"));
    s.apply(Resource::new(
        "v1",
        ObjectMeta::named("istio", "istio-system"),
        Body::MeshConfig(Box::new(MeshConfig {
            outbound_traffic_policy: Some(OutboundTrafficPolicy {
                mode: Some(OutboundMode::RegistryOnly),
                egress_proxy: None,
            }),
            ..MeshConfig::default()
        })),
    ));
    s.apply(deployment("mytest", "sleep", &[("app", "sleep")]));
    s.apply(service(
        "mytest",
        "sleep",
        &[("http", 80)],
        &[("app", "sleep")],
    ));
    s.apply(deployment(
        "istio-egress",
        "egressgateway",
        &[
            ("istio", "egressgateway"),
            ("app", "egressgateway"),
            ("security.istio.io/tlsMode", "istio"),
        ],
    ));
    s.apply(service(
        "istio-egress",
        "egressgateway",
        &[("http", 80), ("https", 443)],
        &[("istio", "egressgateway")],
    ));
    for i in 0..n {
        s.apply(Resource::new(
            "networking.istio.io/v1",
            ObjectMeta::named(format!("h{i}"), "mytest"),
            Body::ServiceEntry(Box::new(ServiceEntry {
                hosts: vec![format!("h{i}.example.com")],
                ports: vec![ServicePort {
                    number: 80,
                    protocol: Some(Protocol::Http),
                    name: "http".into(),
                    target_port: None,
                }],
                resolution: Some(Resolution::Dns),
                ..ServiceEntry::default()
            })),
        ));
    }
    s
}

/// One ASM policy with `n` egress rules, each for its own host.
fn policy_with_rules(n: usize) -> Resource {
    let rules = (0..n)
        .map(|i| EgressRule {
            name: Some(format!("rule-{i}")),
            from: vec![EgressFrom {
                namespace: "mytest".into(),
                workload_selector: labels(&[("app", "sleep")]),
            }],
            to: vec![EgressTo {
                name: format!("to-{i}"),
                hosts: vec![format!("r{i}.example.com")],
                port: EgressPort {
                    number: 80,
                    name: "http".into(),
                    protocol: Protocol::Http,
                    target_port: None,
                },
                by_egress_gateway: Some(GatewayPort { port: Some(80) }),
                https_upgrade: None,
            }],
        })
        .collect();
    Resource::new(
        "istio.alibabacloud.com/v1",
        ObjectMeta::named("egress-by-egressgateway", "istio-egress"),
        Body::AsmEgressTrafficPolicy(Box::new(AsmEgressTrafficPolicy {
            by_egress_gateway: PolicyGateway {
                name: "egressgateway".into(),
                port: None,
            },
            egress_rules: rules,
        })),
    )
}

fn internet_for(host: &str) -> Internet {
    let mut net = Internet::builtin();
    net.add(ExternalHost::new(host, App::html_page("ok")).listen(80, false));
    net
}

const SIZES: [usize; 4] = [10, 100, 1_000, 100_000];

fn bench_decide(c: &mut Criterion) {
    let mut g = c.benchmark_group("decide");
    g.measurement_time(Duration::from_secs(3));
    g.warm_up_time(Duration::from_secs(1));
    let from = WorkloadRef::new("mytest", "sleep");
    for n in SIZES {
        let store = store_with_service_entries(n);
        let mesh = match Mesh::build(&store) {
            Ok(m) => m,
            Err(e) => panic!("bench mesh does not build: {e}"),
        };
        let target = format!("h{}.example.com", n / 2);
        let net = internet_for(&target);
        let allowed = Call::new(
            from.clone(),
            ClientRequest::get(Scheme::Http, &target, 80, "/"),
        );
        g.bench_with_input(BenchmarkId::new("registered_host_200", n), &n, |b, _| {
            b.iter(|| decide(black_box(&mesh), &net, black_box(&allowed)))
        });
        let blocked = Call::new(
            from.clone(),
            ClientRequest::get(Scheme::Http, "www.httpbin.org", 80, "/"),
        );
        g.bench_with_input(BenchmarkId::new("unknown_host_502", n), &n, |b, _| {
            b.iter(|| decide(black_box(&mesh), &net, black_box(&blocked)))
        });
        let tls = Call::new(
            from.clone(),
            ClientRequest::get(Scheme::Https, "www.httpbin.org", 443, "/"),
        );
        g.bench_with_input(BenchmarkId::new("unknown_tls_blackhole", n), &n, |b, _| {
            b.iter(|| decide(black_box(&mesh), &net, black_box(&tls)))
        });
    }
    g.finish();
}

fn bench_build(c: &mut Criterion) {
    let mut g = c.benchmark_group("build_mesh");
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    for n in [10, 1_000, 10_000] {
        let store = store_with_service_entries(n);
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter_with_large_drop(|| Mesh::build(black_box(&store)))
        });
    }
    g.finish();
}

fn bench_compile(c: &mut Criterion) {
    let mut g = c.benchmark_group("compile_asm");
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    let store = store_with_service_entries(0);
    for n in [10, 1_000, 10_000] {
        let policy = policy_with_rules(n);
        g.bench_with_input(BenchmarkId::new("egress_rules", n), &n, |b, _| {
            // The compiled objects are dropped outside the timing: freeing them is the caller's cost.
            b.iter_with_large_drop(|| compile_policy(black_box(&store), black_box(&policy)))
        });
    }
    g.finish();
}

criterion_group!(benches, bench_decide, bench_build, bench_compile);
criterion_main!(benches);
