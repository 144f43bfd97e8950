//! Security negatives of the simulated mesh's egress gateway, over its real sockets and real TLS.
//!
//! The setup is seed 000's HTTP egress policy (`mytest/sleep-a` → mTLS → `egressgateway-a` port 80
//! → httpbin.org), its DENY-POST AuthorizationPolicy, and an ALLOW policy on the gateway for
//! sleep-a's principal only. The tests connect straight to the gateway's ISTIO_MUTUAL port, as an
//! attacker inside the cluster could, and check that:
//!
//! - plain text to the mTLS port gets no HTTP answer (the connection is reset);
//! - a client certificate from another CA, an expired one, or one without a SPIFFE URI SAN is
//!   refused in the TLS handshake, with the alert that names the reason, and nothing reaches
//!   httpbin.org;
//! - (control) a valid mesh certificate for the allowed identity gets httpbin.org's answer, and one
//!   for another identity gets the gateway's `403 RBAC: access denied`;
//! - identity headers (`x-forwarded-client-cert`, `x-spiffe-id`, …) claiming another identity change
//!   nothing: RBAC and the access log use the verified certificate's identity;
//! - a workload without a sidecar cannot get through the gateway (plain text is reset, TLS without
//!   a client certificate is refused).
//!
//! Every socket of a test runs inside `SimTarget`'s `block_on`: the simulated mesh's listeners live on
//! that (current-thread) runtime.

// Test helpers may panic: a failed setup is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use egressbench_manifest as manifest;
use egressbench_model::answer::Exchange;
use egressbench_model::outcome::{AccessLogEntry, ClientResult, ConnectionError};
use egressbench_model::request::{ClientRequest, Scheme, WorkloadRef};
use egressbench_model::xds::Terminal;
use egressbench_network::pki::{self, CertificateAuthority, LeafSpec, Validity};
use egressbench_network::{ClientKind, Clock};
use egressbench_scenario::target::Target;
use egressbench_sim::SimTarget;
use rustls::pki_types::ServerName;
use rustls::AlertDescription;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::TlsConnector;

/// The identity the gateway's ALLOW policy admits.
const SLEEP_A: &str = "spiffe://cluster.local/ns/mytest/sa/sleep-a";
/// A real mesh identity the gateway's ALLOW policy does not admit.
const NGINX: &str = "spiffe://cluster.local/ns/default/sa/nginx";
/// The gateway's own identity.
const GATEWAY_ID: &str = "spiffe://cluster.local/ns/istio-egress/sa/egressgateway-a";
/// The host the egress policy routes through the gateway.
const ROUTED_HOST: &str = "httpbin.org";
const RBAC_DENIED: &str = "RBAC: access denied";
/// The seed's DENY rule (POST from namespace mytest), as Envoy names it.
const DENY_POST_RULE: &str =
    "rbac_access_denied_matched_policy[ns[istio-system]-policy[sleep-a-egress-www-httpbin-org]-rule[0]]";

/// Seed 000's setup, HTTP egress policy and DENY-POST policy (as scenario
/// `000-authz-deny-post-at-gateway` uses them).
const FIXTURES: [&str; 6] = [
    "mesh/registry-only.yaml",
    "000/namespaces.yaml",
    "000/egressgateway.yaml",
    "000/test.yaml",
    "000/egress-http.yaml",
    "000/authz-deny-post.yaml",
];

/// Only sleep-a's principal may use the gateway (the restriction the compiler's warning about
/// namespace-wide visibility recommends).
const ALLOW_SLEEP_A: &str = r#"
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: egressgateway-a-allow-sleep-a
  namespace: istio-egress
spec:
  selector:
    matchLabels:
      istio: egressgateway-a
  action: ALLOW
  rules:
    - from:
        - source:
            principals: ["cluster.local/ns/mytest/sa/sleep-a"]
"#;

/// A namespace without `istio-injection: enabled`, and a curl pod in it: no sidecar.
const NO_SIDECAR: &str = r#"
apiVersion: v1
kind: Namespace
metadata:
  name: legacy
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: curl
  namespace: legacy
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: curl
  namespace: legacy
  labels:
    app: curl
spec:
  replicas: 1
  selector:
    matchLabels:
      app: curl
  template:
    metadata:
      labels:
        app: curl
    spec:
      serviceAccountName: curl
      containers:
        - name: curl
          image: curlimages/curl
          command: ["/bin/sleep", "infinity"]
"#;

/// How long a client waits for anything from the gateway (real time; every answer here takes
/// milliseconds).
const WAIT: Duration = Duration::from_secs(5);

/// A running simulated mesh with the gateway's mTLS port found in its config.
struct Bench {
    target: SimTarget,
    gateway: WorkloadRef,
    /// The gateway pod's simulated address and ISTIO_MUTUAL HTTP port.
    gateway_addr: SocketAddr,
    /// An SNI the gateway's mTLS chain matches (the egress policy's DestinationRule sets it).
    sni: String,
    sleep_a_ip: IpAddr,
    nginx_ip: IpAddr,
}

fn load(text: &str, name: &str) -> Vec<egressbench_resources::Resource> {
    manifest::load_str(text, name)
        .unwrap_or_else(|e| panic!("{name} loads: {e:?}"))
        .resources
}

fn bench() -> Bench {
    let root = env!("CARGO_MANIFEST_DIR");
    let paths: Vec<String> = FIXTURES
        .iter()
        .map(|f| format!("{root}/fixtures/{f}"))
        .collect();
    let mut resources = manifest::load_paths(&paths)
        .expect("fixtures load")
        .resources;
    resources.extend(load(ALLOW_SLEEP_A, "allow-sleep-a.yaml"));
    let mut target =
        egressbench_sim::target(Default::default(), ClientKind::BuiltIn, Clock::default())
            .expect("simulated mesh starts");
    target.apply(resources).expect("fixtures apply");

    let gateway = WorkloadRef::new("istio-egress", "egressgateway-a");
    let mesh = target.engine().expect("running").world().mesh();
    let ip = |w: &WorkloadRef| -> IpAddr {
        mesh.workload(w)
            .unwrap_or_else(|| panic!("workload {w}"))
            .address
            .parse()
            .expect("pod address")
    };
    let config = mesh.proxy(&gateway).expect("gateway proxy config");
    assert_eq!(&*config.identity, GATEWAY_ID);
    let (port, chain) = config
        .listeners
        .iter()
        .flat_map(|l| l.filter_chains.iter().map(move |c| (l.port, c)))
        .find(|(_, c)| {
            c.downstream_tls
                .as_ref()
                .is_some_and(|t| t.require_client_certificate)
                && matches!(c.terminal, Terminal::Http { rbac: Some(_), .. })
        })
        .expect("an ISTIO_MUTUAL HTTP chain with RBAC on the gateway");
    assert_eq!(port, 80, "byEgressGateway.port of the egress policy");
    let sni = chain
        .matcher
        .server_names
        .iter()
        .find(|n| *n == ROUTED_HOST)
        .or(chain.matcher.server_names.first())
        .cloned()
        .unwrap_or_else(|| ROUTED_HOST.to_string());
    Bench {
        gateway_addr: SocketAddr::new(ip(&gateway), port),
        sleep_a_ip: ip(&WorkloadRef::new("mytest", "sleep-a")),
        nginx_ip: ip(&WorkloadRef::new("default", "nginx")),
        sni,
        gateway,
        target,
    }
}

impl Bench {
    fn mesh_ca(&self) -> &CertificateAuthority {
        &self.target.engine().expect("running").world().certs.mesh_ca
    }

    /// A client that trusts the real mesh CA (and checks the gateway's SPIFFE identity, not its
    /// name, as Istio does) and presents a certificate for `spec` issued by `ca`.
    fn client(&self, ca: &CertificateAuthority, spec: &LeafSpec) -> Arc<rustls::ClientConfig> {
        let leaf = ca.issue(spec).expect("leaf issued");
        pki::mesh_client(self.mesh_ca(), &leaf, &[]).expect("client config")
    }

    /// A client presenting a valid mesh certificate for `spiffe`.
    fn mesh_client(&self, spiffe: &str) -> Arc<rustls::ClientConfig> {
        self.client(self.mesh_ca(), &LeafSpec::workload(spiffe))
    }

    fn gateway_logs(&self) -> Vec<AccessLogEntry> {
        self.target.logs(&self.gateway)
    }

    fn fabric(&self) -> Arc<egressbench_network::Fabric> {
        self.target
            .engine()
            .expect("running")
            .world()
            .fabric
            .clone()
    }

    /// TLS to the gateway, then wait for the gateway without sending anything: `Ok(())` if the
    /// handshake is accepted (nothing comes back before a request), else the TLS error the
    /// connection failed with. Under TLS 1.3 the client finishes its half of the handshake before
    /// the server has checked the client certificate, so a refusal arrives as the server's alert
    /// on the first read.
    fn handshake(&self, from: IpAddr, client: Arc<rustls::ClientConfig>) -> Result<(), TlsFailure> {
        let fabric = self.fabric();
        let (to, sni) = (self.gateway_addr, self.sni.clone());
        self.target.block_on(async move {
            let tcp = fabric.connect(from, to).await.expect("TCP connect");
            let name = ServerName::try_from(sni).expect("server name");
            let mut tls = TlsConnector::from(client)
                .connect(name, tcp)
                .await
                .map_err(TlsFailure::from)?;
            let mut b = [0u8; 1];
            // A refusal's alert is on its way as soon as the server has read the certificate;
            // 3 s leaves room for a busy machine (only an accepted handshake waits them out).
            match tokio::time::timeout(Duration::from_secs(3), tls.read(&mut b)).await {
                Err(_) => Ok(()),
                Ok(Ok(n)) => Err(TlsFailure::Other(format!(
                    "the gateway closed the accepted connection ({n} bytes)"
                ))),
                Ok(Err(e)) => Err(TlsFailure::from(e)),
            }
        })
    }

    /// TLS to the gateway, send `request` straight away (as an attacker would), and read until the
    /// gateway closes.
    fn send_over_tls(
        &self,
        from: IpAddr,
        client: Arc<rustls::ClientConfig>,
        request: &str,
    ) -> Delivery {
        let fabric = self.fabric();
        let (to, sni, request) = (self.gateway_addr, self.sni.clone(), request.to_string());
        self.target.block_on(async move {
            let tcp = fabric.connect(from, to).await.expect("TCP connect");
            let name = ServerName::try_from(sni).expect("server name");
            let tls = TlsConnector::from(client).connect(name, tcp).await;
            let mut tls = match tls {
                Ok(tls) => tls,
                Err(e) => {
                    return Delivery {
                        handshake_done: false,
                        server_identity: None,
                        received: String::new(),
                        ended: Some(e),
                    }
                }
            };
            let server_identity = tls
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|c| c.first())
                .and_then(pki::peer_identity);
            let mut delivery = read_all(&mut tls, request.as_bytes()).await;
            delivery.handshake_done = true;
            delivery.server_identity = server_identity;
            delivery
        })
    }

    /// Plain TCP to the gateway from `from`: send `request`, read until the gateway closes.
    fn send_plain(&self, from: IpAddr, request: &str) -> Delivery {
        let fabric = self.fabric();
        let (to, request) = (self.gateway_addr, request.to_string());
        self.target.block_on(async move {
            let mut tcp = fabric.connect(from, to).await.expect("TCP connect");
            read_all(&mut tcp, request.as_bytes()).await
        })
    }

    /// What httpbin.org (and every other external host) has recorded since the last exchange. The
    /// simulated mesh hands host records out with each `exec`, so this makes one that touches no
    /// external host: nginx's plain HTTP to httpbin.org, which its own sidecar answers with
    /// `block_all`'s 502 under REGISTRY_ONLY.
    fn external_records(&mut self) -> Vec<String> {
        let probe = self.exec(
            "default/nginx",
            ClientRequest::get(Scheme::Http, ROUTED_HOST, 80, "/"),
        );
        assert_eq!(probe.result.status(), Some(502), "{probe:#?}");
        assert_eq!(
            probe.logs.len(),
            1,
            "only nginx's sidecar: {:#?}",
            probe.logs
        );
        assert_eq!(probe.logs[0].route_name, "block_all");
        probe.observed
    }

    fn exec(&mut self, from: &str, request: ClientRequest) -> Exchange {
        let from = WorkloadRef::parse(from).expect("workload ref");
        self.target.exec(&from.into(), &request).expect("exec")
    }
}

/// How a TLS connection to the gateway failed.
#[derive(Debug)]
enum TlsFailure {
    /// With this rustls error (an alert the gateway sent, or one the client raised).
    Tls(rustls::Error),
    /// Some other way (a reset, an EOF, …).
    Other(String),
}

impl From<io::Error> for TlsFailure {
    fn from(e: io::Error) -> Self {
        match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
            Some(tls) => TlsFailure::Tls(tls.clone()),
            None => TlsFailure::Other(format!("{:?}: {e}", e.kind())),
        }
    }
}

/// The alert the gateway refused a handshake with.
fn alert(result: Result<(), TlsFailure>) -> AlertDescription {
    match result {
        Ok(()) => panic!("the gateway accepted the handshake"),
        Err(TlsFailure::Tls(rustls::Error::AlertReceived(a))) => a,
        Err(TlsFailure::Tls(other)) => {
            panic!("expected a TLS alert from the gateway, got {other:?}")
        }
        Err(TlsFailure::Other(why)) => panic!("expected a TLS alert from the gateway: {why}"),
    }
}

/// What a client that sent a request got back.
#[derive(Debug)]
struct Delivery {
    handshake_done: bool,
    /// The SPIFFE identity in the gateway's certificate (TLS only).
    server_identity: Option<String>,
    /// Every byte received (lossy UTF-8).
    received: String,
    /// How the connection ended, if not with a clean close after the response.
    ended: Option<io::Error>,
}

impl Delivery {
    fn status_line(&self) -> Option<&str> {
        self.received
            .lines()
            .next()
            .filter(|l| l.starts_with("HTTP/"))
    }

    fn body(&self) -> &str {
        self.received
            .split_once("\r\n\r\n")
            .map_or("", |(_, body)| body)
    }

    /// The rustls error the connection ended with, if it was one.
    fn tls_error(&self) -> Option<&rustls::Error> {
        self.ended
            .as_ref()
            .and_then(|e| e.get_ref())
            .and_then(|i| i.downcast_ref::<rustls::Error>())
    }
}

/// Write `request`, then read until EOF, an error, or `WAIT`.
async fn read_all<S>(stream: &mut S, request: &[u8]) -> Delivery
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut delivery = Delivery {
        handshake_done: false,
        server_identity: None,
        received: String::new(),
        ended: None,
    };
    let mut bytes = Vec::new();
    let exchange = async {
        stream.write_all(request).await?;
        stream.flush().await?;
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await? {
                0 => return Ok(()),
                n => bytes.extend_from_slice(&buf[..n]),
            }
        }
    };
    match tokio::time::timeout(WAIT, exchange).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => delivery.ended = Some(e),
        Err(_) => delivery.ended = Some(io::Error::new(io::ErrorKind::TimedOut, "no end")),
    }
    delivery.received = String::from_utf8_lossy(&bytes).into_owned();
    delivery
}

/// `GET /get` for the routed host, the connection closed after the answer.
fn get_request(extra_headers: &[(&str, &str)]) -> String {
    let mut r = format!("GET /get HTTP/1.1\r\nHost: {ROUTED_HOST}\r\nConnection: close\r\n");
    for (k, v) in extra_headers {
        r.push_str(&format!("{k}: {v}\r\n"));
    }
    r.push_str("\r\n");
    r
}

/// Headers an attacker might add to claim sleep-a's identity.
fn forged_identity_headers(ip: IpAddr) -> Vec<(&'static str, String)> {
    vec![
        (
            "x-forwarded-client-cert",
            format!("By={GATEWAY_ID};Hash=0000000000000000000000000000000000000000000000000000000000000000;Subject=\"\";URI={SLEEP_A}"),
        ),
        ("x-spiffe-id", SLEEP_A.to_string()),
        ("x-istio-peer-identity", SLEEP_A.to_string()),
        ("x-peer-principal", "cluster.local/ns/mytest/sa/sleep-a".to_string()),
        ("x-envoy-peer-metadata-id", format!("sidecar~{ip}~sleep-a-0.mytest~mytest.svc.cluster.local")),
        ("x-forwarded-for", ip.to_string()),
        ("x-envoy-external-address", ip.to_string()),
    ]
}

/// The gateway wrote nothing for a refused handshake, and nothing reached any external host.
fn assert_nothing_got_through(b: &mut Bench, logs_before: usize) {
    let logs = b.gateway_logs();
    assert_eq!(
        logs.len(),
        logs_before,
        "the gateway served a request: {:#?}",
        &logs[logs_before..]
    );
    let seen = b.external_records();
    assert!(seen.is_empty(), "an external host was reached: {seen:#?}");
}

/// A refused certificate: the specific alert on a patient client, and no HTTP answer and nothing
/// upstream for an eager one that sends its request right after its half of the handshake.
fn assert_refused(b: &mut Bench, client: Arc<rustls::ClientConfig>, expected: AlertDescription) {
    let before = b.gateway_logs().len();
    assert_eq!(alert(b.handshake(b.sleep_a_ip, client.clone())), expected);
    let eager = b.send_over_tls(b.sleep_a_ip, client, &get_request(&[]));
    assert_eq!(eager.status_line(), None, "{eager:#?}");
    assert!(eager.received.is_empty(), "{eager:#?}");
    assert!(
        matches!(
            eager.tls_error(),
            Some(rustls::Error::AlertReceived(a)) if *a == expected
        ) || eager
            .ended
            .as_ref()
            .is_some_and(|e| e.kind() == io::ErrorKind::ConnectionReset),
        "the eager client's connection should end with {expected:?} (or a reset): {eager:#?}"
    );
    assert_nothing_got_through(b, before);
}

#[test]
fn plaintext_to_the_mtls_port_is_reset_without_an_answer() {
    let mut b = bench();
    let before = b.gateway_logs().len();
    let got = b.send_plain(
        b.sleep_a_ip,
        &format!("GET / HTTP/1.1\r\nHost: {ROUTED_HOST}\r\n\r\n"),
    );
    assert_eq!(got.received, "", "no bytes at all come back: {got:#?}");
    assert_eq!(
        got.ended.as_ref().map(io::Error::kind),
        Some(io::ErrorKind::ConnectionReset),
        "{got:#?}"
    );
    // Envoy finds no filter chain for a plain-text connection on a TLS-only listener.
    let logs = b.gateway_logs();
    assert_eq!(logs.len(), before + 1, "{logs:#?}");
    let entry = &logs[before];
    assert_eq!(entry.response_code_details, "filter_chain_not_found");
    assert_eq!(entry.response_flags, "NR");
    assert_eq!(entry.downstream_peer_principal, "-");
    let seen = b.external_records();
    assert!(seen.is_empty(), "{seen:#?}");
}

#[test]
fn a_client_certificate_from_another_ca_is_refused() {
    let mut b = bench();
    let other = CertificateAuthority::new("attacker root CA").expect("other CA");
    // The identity the gateway allows, signed by the wrong CA.
    let client = b.client(&other, &LeafSpec::workload(SLEEP_A));
    assert_refused(&mut b, client, AlertDescription::UnknownCA);
}

#[test]
fn an_expired_client_certificate_is_refused() {
    let mut b = bench();
    let spec = LeafSpec {
        validity: Validity::Expired,
        ..LeafSpec::workload(SLEEP_A)
    };
    let client = b.client(b.mesh_ca(), &spec);
    assert_refused(&mut b, client, AlertDescription::CertificateExpired);
}

#[test]
fn a_client_certificate_without_a_spiffe_san_is_refused() {
    let mut b = bench();
    // From the real mesh CA, currently valid, but only a DNS SAN.
    let dns_only = LeafSpec::server(&["sleep-a.mytest.svc.cluster.local".to_string()]);
    let client = b.client(b.mesh_ca(), &dns_only);
    assert_refused(&mut b, client, AlertDescription::AccessDenied);
    // A URI SAN that spells the identity without the spiffe:// scheme is no SPIFFE identity either.
    let not_spiffe = LeafSpec::workload("https://cluster.local/ns/mytest/sa/sleep-a");
    let client = b.client(b.mesh_ca(), &not_spiffe);
    assert_refused(&mut b, client, AlertDescription::AccessDenied);
}

/// The control for the refusals above: the same client, with a valid mesh certificate, gets
/// through; RBAC then decides on the certificate's identity.
#[test]
fn a_valid_mesh_certificate_is_accepted_and_rbac_uses_its_identity() {
    let mut b = bench();
    let before = b.gateway_logs().len();
    assert!(b.handshake(b.sleep_a_ip, b.mesh_client(SLEEP_A)).is_ok());

    let allowed = b.send_over_tls(b.sleep_a_ip, b.mesh_client(SLEEP_A), &get_request(&[]));
    assert!(allowed.handshake_done, "{allowed:#?}");
    assert_eq!(allowed.server_identity.as_deref(), Some(GATEWAY_ID));
    assert_eq!(
        allowed.status_line(),
        Some("HTTP/1.1 200 OK"),
        "{allowed:#?}"
    );
    assert!(
        allowed
            .body()
            .contains(&format!("\"url\": \"http://{ROUTED_HOST}/get\"")),
        "httpbin's answer: {allowed:#?}"
    );
    let logs = b.gateway_logs();
    assert_eq!(logs.len(), before + 1, "{logs:#?}");
    let entry = &logs[before];
    assert_eq!(entry.response_code, 200);
    assert_eq!(entry.downstream_peer_principal, SLEEP_A);
    assert_eq!(entry.requested_server_name, b.sni);
    assert_eq!(
        entry.upstream_cluster,
        format!("outbound|80||{ROUTED_HOST}")
    );
    // The way the refusal tests look for traffic upstream does see it.
    let seen = b.external_records();
    assert_eq!(seen.len(), 1, "{seen:#?}");
    assert!(
        seen[0].contains(&format!("received GET http://{ROUTED_HOST}/get")),
        "{seen:#?}"
    );

    // Another real mesh identity: the handshake succeeds, RBAC refuses.
    let denied = b.send_over_tls(b.nginx_ip, b.mesh_client(NGINX), &get_request(&[]));
    assert!(denied.handshake_done, "{denied:#?}");
    assert_eq!(
        denied.status_line(),
        Some("HTTP/1.1 403 Forbidden"),
        "{denied:#?}"
    );
    assert_eq!(denied.body(), RBAC_DENIED);
    let logs = b.gateway_logs();
    let entry = logs.last().expect("an entry for the denial");
    assert_eq!(entry.response_code, 403);
    assert_eq!(
        entry.response_code_details,
        "rbac_access_denied_matched_policy[none]"
    );
    assert_eq!(entry.downstream_peer_principal, NGINX);
    let seen = b.external_records();
    assert!(seen.is_empty(), "{seen:#?}");
}

#[test]
fn forged_identity_headers_change_nothing() {
    let mut b = bench();

    // Straight to the gateway: nginx's real certificate, headers claiming sleep-a.
    let forged = forged_identity_headers(b.sleep_a_ip);
    let headers: Vec<(&str, &str)> = forged.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let got = b.send_over_tls(b.nginx_ip, b.mesh_client(NGINX), &get_request(&headers));
    assert_eq!(
        got.status_line(),
        Some("HTTP/1.1 403 Forbidden"),
        "{got:#?}"
    );
    assert_eq!(got.body(), RBAC_DENIED);
    let entry = b.gateway_logs().pop().expect("gateway entry");
    assert_eq!(entry.response_code, 403);
    assert_eq!(
        entry.response_code_details,
        "rbac_access_denied_matched_policy[none]"
    );
    assert_eq!(entry.downstream_peer_principal, NGINX);
    let seen = b.external_records();
    assert!(seen.is_empty(), "{seen:#?}");

    // The other way round: sleep-a's POST, denied by the seed's DENY rule for namespace mytest,
    // with headers claiming nginx (namespace default). Directly ...
    let claims_nginx = format!("By={GATEWAY_ID};URI={NGINX}");
    let post = format!(
        "POST /post HTTP/1.1\r\nHost: {ROUTED_HOST}\r\nConnection: close\r\nContent-Length: 0\r\n\
         x-forwarded-client-cert: {claims_nginx}\r\nx-spiffe-id: {NGINX}\r\n\r\n"
    );
    let got = b.send_over_tls(b.sleep_a_ip, b.mesh_client(SLEEP_A), &post);
    assert_eq!(
        got.status_line(),
        Some("HTTP/1.1 403 Forbidden"),
        "{got:#?}"
    );
    let entry = b.gateway_logs().pop().expect("gateway entry");
    assert_eq!(entry.response_code_details, DENY_POST_RULE);
    assert_eq!(entry.downstream_peer_principal, SLEEP_A);

    // ... and through the normal path: sleep-a's application sends them, its sidecar carries them
    // over mTLS with sleep-a's certificate.
    let mut request = ClientRequest::get(Scheme::Http, ROUTED_HOST, 80, "/post");
    request.method = "POST".into();
    request.body = Some(String::new());
    request.headers = vec![
        ("x-forwarded-client-cert".into(), claims_nginx.clone()),
        ("x-spiffe-id".into(), NGINX.into()),
        ("x-istio-peer-identity".into(), NGINX.into()),
    ];
    let x = b.exec("mytest/sleep-a", request);
    assert_eq!(x.result.status(), Some(403), "{x:#?}");
    let at_gateway = x
        .logs
        .iter()
        .find(|e| e.proxy == b.gateway.to_string())
        .unwrap_or_else(|| panic!("the gateway's entry: {:#?}", x.logs));
    assert_eq!(at_gateway.response_code_details, DENY_POST_RULE);
    assert_eq!(at_gateway.downstream_peer_principal, SLEEP_A);
    assert!(x.observed.is_empty(), "{:#?}", x.observed);

    // nginx's application claiming sleep-a through its own sidecar does not even reach the
    // gateway: the egress policy routes only sleep-a there, nginx's sidecar answers block_all.
    let gateway_entries = b.gateway_logs().len();
    let mut request = ClientRequest::get(Scheme::Http, ROUTED_HOST, 80, "/get");
    request.headers = forged
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let x = b.exec("default/nginx", request);
    assert_eq!(x.result.status(), Some(502), "{x:#?}");
    assert_eq!(x.logs.len(), 1, "{:#?}", x.logs);
    assert_eq!(x.logs[0].route_name, "block_all");
    assert_eq!(b.gateway_logs().len(), gateway_entries);
    assert!(x.observed.is_empty(), "{:#?}", x.observed);
}

#[test]
fn the_host_sees_the_client_certificate_header_the_gateway_set_not_the_forged_one() {
    let mut b = bench();
    let claims_nginx = format!("By={GATEWAY_ID};URI={NGINX}");
    let mut request = ClientRequest::get(Scheme::Http, ROUTED_HOST, 80, "/headers");
    request.headers = vec![("X-Forwarded-Client-Cert".into(), claims_nginx.clone())];
    let x = b.exec("mytest/sleep-a", request);
    let ClientResult::Response(r) = &x.result else {
        panic!("{x:#?}")
    };
    assert_eq!(r.status, 200, "{x:#?}");
    // Sidecar: SANITIZE drops the forged value; gateway: SANITIZE_SET writes the verified peer.
    let expected = format!("\"X-Forwarded-Client-Cert\": \"By={GATEWAY_ID};URI={SLEEP_A}\"");
    assert!(r.body.contains(&expected), "{}", r.body);
    assert!(!r.body.contains(NGINX), "{}", r.body);
}

#[test]
fn a_workload_without_a_sidecar_cannot_get_through_the_gateway() {
    let mut b = bench();
    b.target
        .apply(load(NO_SIDECAR, "no-sidecar.yaml"))
        .expect("apply");
    let legacy = WorkloadRef::new("legacy", "curl");
    let mesh = b.target.engine().expect("running").world().mesh();
    let pod = mesh.workload(&legacy).expect("legacy/curl");
    assert_eq!(pod.proxy, None, "{}", pod.proxy_reason);
    assert!(mesh.proxy(&legacy).is_none());
    let legacy_ip: IpAddr = pod.address.parse().expect("pod address");

    // curl http://egressgateway-a.istio-egress.svc.cluster.local/: kube-proxy takes it to the
    // gateway pod's port 80, which speaks only mTLS. (The built-in client's Host is the URL's
    // host; the gateway resets before reading any HTTP, so a `-H 'Host: httpbin.org'` would change
    // nothing, as the raw plain-text test shows.)
    let before = b.gateway_logs().len();
    let x = b.exec(
        "legacy/curl",
        ClientRequest::get(
            Scheme::Http,
            "egressgateway-a.istio-egress.svc.cluster.local",
            80,
            "/get",
        ),
    );
    assert_eq!(
        x.result,
        ClientResult::ConnectionFailed {
            error: ConnectionError::Reset,
            during_tls: false
        },
        "{x:#?}"
    );
    assert!(x.observed.is_empty(), "{:#?}", x.observed);
    let logs = b.gateway_logs();
    assert_eq!(logs.len(), before + 1, "{logs:#?}");
    assert_eq!(logs[before].response_code_details, "filter_chain_not_found");

    // From the pod's address, the most it can do without a mesh identity: TLS with the routed SNI
    // and no client certificate. Refused with TLS 1.3's certificate_required alert. (The client is
    // the mesh client with its certificate taken away: it still verifies the gateway's SPIFFE
    // certificate against the mesh CA, which names no DNS host a webpki check could match.)
    let mut anonymous = (*b.mesh_client(SLEEP_A)).clone();
    anonymous.client_auth_cert_resolver = Arc::new(NoClientCert);
    let anonymous = Arc::new(anonymous);
    let before = b.gateway_logs().len();
    assert_eq!(
        alert(b.handshake(legacy_ip, anonymous.clone())),
        AlertDescription::CertificateRequired
    );
    let eager = b.send_over_tls(legacy_ip, anonymous, &get_request(&[]));
    assert_eq!(eager.status_line(), None, "{eager:#?}");
    assert_nothing_got_through(&mut b, before);

    // Not the gateway path, for the record: without a sidecar nothing enforces REGISTRY_ONLY, so
    // the pod reaches httpbin.org directly (seen from the cluster's public address), and no proxy
    // logs it. In a real cluster only a NetworkPolicy or a firewall stops this.
    let x = b.exec(
        "legacy/curl",
        ClientRequest::get(Scheme::Http, ROUTED_HOST, 80, "/get"),
    );
    assert_eq!(x.result.status(), Some(200), "{x:#?}");
    assert!(x.logs.is_empty(), "{:#?}", x.logs);
    assert_eq!(x.observed.len(), 1, "{:#?}", x.observed);
    assert!(
        x.observed[0].contains("received GET http://httpbin.org/get"),
        "{:#?}",
        x.observed
    );
}

/// A client certificate resolver that never has a certificate: the client answers the gateway's
/// CertificateRequest with an empty Certificate message.
#[derive(Debug)]
struct NoClientCert;

impl rustls::client::ResolvesClientCert for NoClientCert {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _sigschemes: &[rustls::SignatureScheme],
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        None
    }

    fn has_certs(&self) -> bool {
        false
    }
}
