//! Running the rendered configs on real Envoy: one `envoy` process per proxy of a mesh, on
//! loopback, in front of the simulated mesh's external hosts.
//!
//! Owns: `EnvoyMesh` — the hosts (`sim::hosts`) on a `Fabric`, one Envoy child process per proxy
//! (started in parallel, reused while its bootstrap is unchanged, restarted when it changes,
//! always killed and reaped on drop), the per-run temp folder (configs, certificates, access logs,
//! Envoy's own output; removed on drop), placing every rendered config on loopback, making one
//! request through a sidecar, and reading the proxies' JSON access logs back.
//!
//! Placement: sidecars run with `Capture::Direct`; each sidecar gets one listener per original
//! destination a request has used or `prepare` announced (a copy of the listener
//! `decide::step::outbound_listener` picks, bound on `127.0.0.1:<port>`), with a
//! `set_filter_state` network filter that gives `PassthroughCluster` (ORIGINAL_DST) the
//! destination's real address, and an HTTP inspector where nothing else waits for the first
//! bytes (`wait_for_first_bytes` says why). Gateways' listeners and sidecars' inbound listeners
//! (`virtualInbound_<port>`) bind loopback ports registered in the fabric under the proxy's pod
//! address and port. The pods' applications (`Mesh::apps`) run as hosts of their own, restarted
//! when they change; an inbound cluster's endpoint is where its application really listens. Every
//! cluster binds its upstream connections to the fabric alias of the proxy's pod address (of
//! 127.0.0.6 for its own application, of the cluster's public address for external endpoints),
//! so hosts, applications and other proxies read the simulated source off the connection. Leaves out: rendering (`envoy::bootstrap`) and the scenario
//! bookkeeping (`target::EnvoyTarget`).

use super::{admin, binary, bootstrap, AccessLogSink, Capture, CertPaths, CertPems, Placement};
use egressbench_model::answer::Exchange;
use egressbench_model::decide::step::{self, AppConnection};
use egressbench_model::external::{Internet, DEFAULT_PEER};
use egressbench_model::mesh::Mesh;
use egressbench_model::outcome::counters::ProxyCounters;
use egressbench_model::outcome::reply::{ResponseFlag, ResponseFlags};
use egressbench_model::outcome::AccessLogEntry;
use egressbench_model::request::{ClientRequest, Origin, WorkloadRef};
use egressbench_model::xds::{EndpointTarget, ProxyConfig, ProxyKind};
use egressbench_network::client::{AppClient, ClientKind, Dial};
use egressbench_network::hosts::{Hosts, PodEgress};
use egressbench_network::owned::OwnedDir;
use egressbench_network::world::Certs;
use egressbench_network::{Clock, Fabric};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where connections go that the simulated world has no listener for: a loopback port nothing
/// listens on, so they are refused.
const NOWHERE: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 1);

/// How long an Envoy may take to become ready.
const READY_LIMIT: Duration = Duration::from_secs(20);

/// How long to wait, after the client has its answer, for the exchange's access-log entries.
const SETTLE_LIMIT: Duration = Duration::from_secs(3);

/// How often the access logs are read while waiting, and how many reads in a row must find
/// nothing new once the entries the exchange's connections lead to are in: 60 ms of quiet (six
/// of Envoy's flush intervals, `--file-flush-interval-msec 10`), for entries nothing leads to.
const SETTLE_POLL: Duration = Duration::from_millis(20);
const SETTLE_QUIET: u32 = 3;

/// The simulated addresses clients connect to sidecars from, one per exchange (the shared
/// address space of RFC 6598, which no pod, service or host of a scenario uses): the sidecar's
/// access-log entry for the exchange is the one whose downstream address is the exchange's.
const CLIENT_SOURCES: Ipv4Addr = Ipv4Addr::new(100, 64, 0, 0);

/// Why Envoy could not be run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("no envoy binary: run scripts/install-envoy.sh or set EGRESSBENCH_ENVOY")]
    NoEnvoy,
    #[error("{0}")]
    Setup(String),
    #[error("envoy for {proxy} failed: {message}")]
    Proxy { proxy: String, message: String },
    #[error("the real curl gave no answer egressbench can read: {0}")]
    Curl(#[from] egressbench_network::client::CurlError),
}

impl egressbench_text::Diagnostic for RunError {
    fn help(&self) -> Option<String> {
        match self {
            RunError::NoEnvoy => Some(
                "install Envoy with scripts/install-envoy.sh, or point EGRESSBENCH_ENVOY (or --envoy) at an envoy binary"
                    .into(),
            ),
            RunError::Proxy { .. } => Some(
                "the Envoy output in the run's folder says why; `egressbench envoy-config` prints the proxy's bootstrap"
                    .into(),
            ),
            RunError::Curl(_) => Some(
                "check the curl binary (`--curl=PATH` or EGRESSBENCH_CURL), or run without --curl"
                    .into(),
            ),
            RunError::Setup(_) => None,
        }
    }
}

/// One running Envoy.
#[derive(Debug)]
struct Running {
    bootstrap: Value,
    /// The config it was started with.
    proxy: ProxyConfig,
    /// What its endpoints' loopback addresses stand for, as they were placed when it started.
    translation: admin::Simulated,
    child: Child,
    admin: SocketAddr,
    /// Simulated original destination → the capture listener's real address (sidecars).
    captures: HashMap<SocketAddr, SocketAddr>,
}

/// One mesh on real Envoy. Dropping it kills every Envoy and removes its folder.
#[derive(Debug)]
pub struct EnvoyMesh {
    envoy: PathBuf,
    /// Bootstraps, certificates and logs (removed when the mesh is dropped, or when a signal
    /// stops the run).
    dir: OwnedDir,
    fabric: Arc<Fabric>,
    internet: Arc<Internet>,
    certs: Arc<Certs>,
    hosts: Hosts,
    /// Where the pods' forward proxies connect, in the mesh being served.
    egress: Arc<PodEgress>,
    /// The pods' applications (`Mesh::apps`) being served, restarted when they change.
    apps: Option<(Arc<Internet>, Hosts)>,
    client: AppClient,
    mesh: Arc<Mesh>,
    running: BTreeMap<WorkloadRef, Running>,
    /// Sidecar → the original destinations it captures.
    destinations: BTreeMap<WorkloadRef, BTreeSet<SocketAddr>>,
    /// Requests announced by `prepare` (workload, host, port): their destinations are captured
    /// from the first configuration their names resolve in, so that no request restarts a proxy.
    expected: BTreeSet<(WorkloadRef, String, u16)>,
    /// Stable loopback ports by purpose (`admin/…`, `gw/…`, `cap/…`).
    ports: HashMap<String, u16>,
    /// Gateway listeners and sidecar inbound listeners registered in the fabric.
    routed: BTreeSet<SocketAddr>,
    /// Bytes of each proxy's log already read.
    read_upto: HashMap<String, u64>,
    /// Loopback addresses earlier exchanges' clients connected from (their late entries are
    /// theirs, not the current exchange's).
    earlier_clients: BTreeSet<Ipv4Addr>,
    /// Exchanges whose client dialed a sidecar so far (numbers the client addresses).
    exchanges: u32,
    /// What proxies counted before they were restarted or stopped (a restart starts Envoy's
    /// counters from zero; a live proxy keeps them over a config update).
    carried: BTreeMap<WorkloadRef, ProxyCounters>,
}

/// Which downstream connection an awaited access-log entry is for.
#[derive(Debug, Clone)]
enum AwaitedPeer {
    /// Any connection from the exchange's client address (the sidecar's entry).
    Client(Ipv4Addr),
    /// The connection from this `address:port` (a gateway's entry, for a sidecar's upstream).
    Connection(String),
}

impl AwaitedPeer {
    fn matches(&self, line: &Line) -> bool {
        match self {
            AwaitedPeer::Client(ip) => line.downstream_ip() == Some(*ip),
            AwaitedPeer::Connection(at) => line.field("downstream_remote_address") == at,
        }
    }
}

/// One access-log line read back and not yet handed to an exchange.
#[derive(Debug)]
struct Line {
    proxy: WorkloadRef,
    /// 0 for a sidecar, 1 for a gateway: the order of entries that start at the same time.
    rank: u8,
    value: Value,
}

impl Line {
    fn field(&self, name: &str) -> &str {
        self.value[name].as_str().unwrap_or_default()
    }

    /// The IP address of the connection's downstream peer.
    fn downstream_ip(&self) -> Option<Ipv4Addr> {
        self.field("downstream_remote_address")
            .parse::<SocketAddr>()
            .ok()
            .and_then(|a| match a.ip() {
                IpAddr::V4(v4) => Some(v4),
                IpAddr::V6(_) => None,
            })
    }
}

impl Drop for EnvoyMesh {
    fn drop(&mut self) {
        for r in self.running.values_mut() {
            stop(&mut r.child);
        }
    }
}

/// Each Envoy runs under a watch (a shell) that waits for it and exits with its status, while a
/// child of the watch holds the read end of a pipe from egressbench: when the pipe closes —
/// egressbench stopped the proxy, exited, or was killed by any signal — the Envoy is killed. So no
/// Envoy outlives the run, without a parent-death signal (which would need `unsafe`). `$0` is the
/// envoy binary, the rest its arguments.
const WATCH: &str = "exec 3<&0
\"$0\" \"$@\" </dev/null 3<&- &
envoy=$!
( read _ignored <&3; kill -9 $envoy 2>/dev/null ) &
watch=$!
exec 3<&-
trap 'kill -9 $envoy 2>/dev/null' INT TERM HUP
wait $envoy
status=$?
kill $watch 2>/dev/null
exit $status";

/// Stop an Envoy: close its watch's pipe and wait for the watch, which kills the Envoy first.
fn stop(child: &mut Child) {
    drop(child.stdin.take());
    let _ = child.wait();
}

/// Ports handed to Envoy listeners come from below Linux's ephemeral range (32768–60999), so a
/// port chosen here is not taken by a connection's or a host's ephemeral port before Envoy binds
/// it; a process-wide counter keeps parallel targets apart.
const PORT_RANGE: std::ops::Range<u16> = 20000..32000;

fn free_port() -> Result<u16, RunError> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let span = u32::from(PORT_RANGE.end - PORT_RANGE.start);
    let offset = std::process::id() % span;
    for _ in 0..span {
        let n = (NEXT.fetch_add(1, Ordering::Relaxed) + offset) % span;
        let port = PORT_RANGE.start + u16::try_from(n).unwrap_or(0);
        if std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
            return Ok(port);
        }
    }
    Err(RunError::Setup("no free loopback port below 32000".into()))
}

fn file_name(id: &WorkloadRef) -> String {
    id.to_string().replace('/', "_")
}

impl EnvoyMesh {
    /// Start the hosts of `internet` (no proxies until `configure`), with the envoy binary at
    /// `envoy` (else the one `binary::find_envoy` finds); requests are made by `client`. Must run
    /// inside a tokio runtime.
    pub async fn start(
        internet: Internet,
        envoy: Option<std::path::PathBuf>,
        client: ClientKind,
    ) -> Result<EnvoyMesh, RunError> {
        let envoy = envoy.or_else(binary::find_envoy).ok_or(RunError::NoEnvoy)?;
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "egressbench-envoy-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let dir = OwnedDir::create(path.clone())
            .map_err(|e| RunError::Setup(format!("creating {}: {e}", path.display())))?;
        let fabric = Fabric::new(Clock::new(1));
        let internet = Arc::new(internet);
        let certs = Arc::new(Certs::new().map_err(|e| RunError::Setup(e.to_string()))?);
        let hosts = Hosts::start(
            internet.clone(),
            fabric.clone(),
            &certs.public_ca,
            certs.materials.clone(),
        )
        .await
        .map_err(|e| RunError::Setup(e.to_string()))?;
        let client = AppClient::new(
            client,
            &certs.public_ca.root_pem(),
            certs.app_client.clone(),
        )
        .map(|c| c.with_materials(certs.materials.clone()))
        .map_err(|e| RunError::Setup(format!("writing the public CA for curl: {e}")))?;
        Ok(EnvoyMesh {
            envoy,
            dir,
            fabric,
            egress: PodEgress::new(Arc::new(Mesh::empty()), internet.clone()),
            internet,
            certs,
            hosts,
            apps: None,
            client,
            mesh: Arc::new(Mesh::empty()),
            running: BTreeMap::new(),
            destinations: BTreeMap::new(),
            expected: BTreeSet::new(),
            ports: HashMap::new(),
            routed: BTreeSet::new(),
            read_upto: HashMap::new(),
            earlier_clients: BTreeSet::new(),
            exchanges: 0,
            carried: BTreeMap::new(),
        })
    }

    pub fn mesh(&self) -> &Arc<Mesh> {
        &self.mesh
    }

    fn port(&mut self, key: String) -> Result<u16, RunError> {
        if let Some(p) = self.ports.get(&key) {
            return Ok(*p);
        }
        let p = free_port()?;
        self.ports.insert(key, p);
        Ok(p)
    }

    fn log_path(&self, id: &WorkloadRef) -> PathBuf {
        self.dir.join(format!("{}.log", file_name(id)))
    }

    /// Serve `mesh` from now on: restart every proxy whose bootstrap changed.
    pub async fn configure(&mut self, mesh: Arc<Mesh>) -> Result<(), RunError> {
        if let Some(w) = egressbench_model::pods::forward_proxy_behind_sidecar(&mesh.ctx.workloads)
        {
            return Err(RunError::Setup(
                egressbench_model::pods::forward_proxy_unreplayed(w),
            ));
        }
        self.egress.set_mesh(mesh.clone());
        self.fabric
            .set_present(egressbench_model::decide::step::cluster_addresses(&mesh));
        self.fabric
            .set_services(egressbench_model::decide::step::kube_proxy_table(&mesh));
        if self.apps.as_ref().map(|(apps, _)| apps) != Some(&mesh.apps) {
            // Stop the old applications before the new ones bind the same addresses; the
            // proxies placed below find the new ones' real addresses.
            self.apps = None;
            let hosts = Hosts::start_with(
                mesh.apps.clone(),
                self.fabric.clone(),
                &self.certs.public_ca,
                self.certs.materials.clone(),
                Some(self.egress.clone()),
            )
            .await
            .map_err(|e| RunError::Setup(e.to_string()))?;
            self.apps = Some((mesh.apps.clone(), hosts));
        }
        self.mesh = mesh;
        self.route_inbound()?;
        self.reconcile().await
    }

    /// Register the simulated address of every listener facing inbound (a gateway's, a
    /// sidecar's inbound ones) in the fabric (and drop stale ones).
    fn route_inbound(&mut self) -> Result<(), RunError> {
        let mesh = self.mesh.clone();
        let mut wanted = BTreeSet::new();
        for (id, at) in mesh.inbound_listeners() {
            let port = self.port(format!("gw/{id}/{}", at.port()))?;
            self.fabric
                .route_to(at, SocketAddr::new(Ipv4Addr::LOCALHOST.into(), port));
            wanted.insert(at);
        }
        for stale in self.routed.difference(&wanted) {
            self.fabric.unlisten(*stale);
        }
        self.routed = wanted;
        Ok(())
    }

    /// Announce requests about to be made: every sidecar gets the capture listeners they need in
    /// one (re)start now and in every later configuration, instead of a restart per new
    /// destination at request time.
    pub async fn prepare(
        &mut self,
        requests: &[(WorkloadRef, ClientRequest)],
    ) -> Result<(), RunError> {
        let before = self.expected.len();
        self.expected.extend(
            requests
                .iter()
                .map(|(from, r)| (from.clone(), r.dial_host().to_string(), r.dial_port())),
        );
        if self.expected.len() == before {
            return Ok(());
        }
        self.reconcile().await
    }

    /// The original destination of a connection from sidecar workload `from` to `host:port`, if
    /// the name resolves in the current mesh.
    fn original_destination(
        &self,
        from: &WorkloadRef,
        host: &str,
        port: u16,
    ) -> Option<SocketAddr> {
        let dest = step::resolve(&self.mesh, &self.internet, &from.namespace, host);
        dest.address.map(|address| SocketAddr::new(address, port))
    }

    /// The loopback address of the listener that captures connections from sidecar workload
    /// `from` to `host:port` (what the application's connection reaches after iptables), once a
    /// request to it was made or announced.
    pub fn capture(&self, from: &WorkloadRef, host: &str, port: u16) -> Option<SocketAddr> {
        let original = self.original_destination(from, host, port)?;
        self.running.get(from)?.captures.get(&original).copied()
    }

    /// Record the destinations of the announced requests that resolve now.
    fn capture_expected(&mut self) {
        let found: Vec<(WorkloadRef, SocketAddr)> = self
            .expected
            .iter()
            .filter(|(from, _, _)| self.mesh.proxies.contains_key(from))
            .filter_map(|(from, host, port)| {
                self.original_destination(from, host, *port)
                    .map(|d| (from.clone(), d))
            })
            .collect();
        for (from, d) in found {
            self.destinations.entry(from).or_default().insert(d);
        }
    }

    /// Start, restart or stop Envoys so that each proxy runs its current bootstrap.
    async fn reconcile(&mut self) -> Result<(), RunError> {
        self.capture_expected();
        let mesh = self.mesh.clone();
        let gone: Vec<WorkloadRef> = self
            .running
            .keys()
            .filter(|id| !mesh.proxies.contains_key(*id))
            .cloned()
            .collect();
        for id in gone {
            self.carry(&id).await;
            if let Some(mut r) = self.running.remove(&id) {
                stop(&mut r.child);
            }
        }
        let mut started = Vec::new();
        for (id, proxy) in &mesh.proxies {
            let (config, admin, captures) = self.placed(id, proxy)?;
            if self.running.get(id).is_some_and(|r| r.bootstrap == config) {
                continue;
            }
            self.carry(id).await;
            if let Some(mut old) = self.running.remove(id) {
                stop(&mut old.child);
            }
            let child = self.spawn(id, &config)?;
            self.running.insert(
                id.clone(),
                Running {
                    bootstrap: config,
                    proxy: proxy.clone(),
                    translation: admin::Simulated::default(),
                    child,
                    admin,
                    captures,
                },
            );
            started.push(id.clone());
        }
        for id in started {
            self.wait_ready(&id).await?;
            let translation = self.translation(&id);
            if let Some(r) = self.running.get_mut(&id) {
                r.translation = translation;
            }
        }
        Ok(())
    }

    /// What the loopback addresses of the running Envoy of `id` stand for now (taken when it
    /// starts: a later change may move or remove what they stood for).
    fn translation(&self, id: &WorkloadRef) -> admin::Simulated {
        let unplaced = self
            .running
            .get(id)
            .map(|r| self.unplaced(&r.proxy))
            .unwrap_or_default();
        let mut addresses = self.simulated_addresses();
        addresses.remove(&NOWHERE.to_string());
        admin::Simulated {
            addresses,
            nowhere: NOWHERE.to_string(),
            unplaced,
        }
    }

    /// Keep what the running Envoy of `id` counted, before it is stopped.
    async fn carry(&mut self, id: &WorkloadRef) {
        if let Ok(counted) = self.read_counters(id).await {
            self.carried.entry(id.clone()).or_default().carry(&counted);
        }
    }

    /// What the running Envoy of `id` has counted (nothing when none runs).
    async fn read_counters(&self, id: &WorkloadRef) -> Result<ProxyCounters, RunError> {
        let Some(r) = self.running.get(id) else {
            return Ok(ProxyCounters::default());
        };
        let failed = |e: std::io::Error| RunError::Proxy {
            proxy: id.to_string(),
            message: e.to_string(),
        };
        let page = |path: &'static str| async move {
            let body = admin::get(r.admin, path).await.map_err(failed)?;
            serde_json::from_str::<Value>(&body).map_err(|e| RunError::Proxy {
                proxy: id.to_string(),
                message: format!("admin {path}: {e}"),
            })
        };
        let stats = page("/stats?format=json&filter=%5Ecluster%5C.").await?;
        let clusters = page("/clusters?format=json").await?;
        Ok(admin::counters(&r.proxy, &stats, &clusters, &r.translation))
    }

    /// `proxy`'s upstream counters: what its Envoy counted, and what its earlier Envoys did
    /// (their connections are closed: what is open is the running Envoy's alone).
    pub async fn counters(&mut self, proxy: &WorkloadRef) -> Result<ProxyCounters, RunError> {
        let mut total = self.read_counters(proxy).await?;
        if let Some(earlier) = self.carried.get(proxy) {
            total.carry(earlier);
        }
        Ok(total)
    }

    fn spawn(&self, id: &WorkloadRef, config: &Value) -> Result<Child, RunError> {
        let name = file_name(id);
        let path = self.dir.join(format!("{name}.json"));
        let failed = |e: std::io::Error| RunError::Proxy {
            proxy: id.to_string(),
            message: e.to_string(),
        };
        std::fs::write(&path, config.to_string()).map_err(failed)?;
        let out = std::fs::File::create(self.dir.join(format!("{name}.out"))).map_err(failed)?;
        let err = out.try_clone().map_err(failed)?;
        Command::new("sh")
            .arg("-c")
            .arg(WATCH)
            .arg(&self.envoy)
            .arg("-c")
            .arg(&path)
            .args([
                "--concurrency",
                "1",
                "--disable-hot-restart",
                "--use-dynamic-base-id",
                "--log-level",
                "warn",
                "--file-flush-interval-msec",
                "10",
            ])
            .stdin(Stdio::piped())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(failed)
    }

    async fn wait_ready(&mut self, id: &WorkloadRef) -> Result<(), RunError> {
        let started = Instant::now();
        let out = self.dir.join(format!("{}.out", file_name(id)));
        loop {
            let Some(r) = self.running.get_mut(id) else {
                return Ok(());
            };
            if let Ok(Some(status)) = r.child.try_wait() {
                let text = std::fs::read_to_string(&out).unwrap_or_default();
                let tail: Vec<&str> = text.lines().rev().take(3).collect();
                return Err(RunError::Proxy {
                    proxy: id.to_string(),
                    message: format!("exited ({status}): {}", tail.join(" | ")),
                });
            }
            if ready(r.admin).await {
                return Ok(());
            }
            if started.elapsed() > READY_LIMIT {
                return Err(RunError::Proxy {
                    proxy: id.to_string(),
                    message: "not ready in time".into(),
                });
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The bootstrap of `proxy` placed on loopback, its admin address and capture listeners.
    #[allow(clippy::type_complexity)]
    fn placed(
        &mut self,
        id: &WorkloadRef,
        proxy: &ProxyConfig,
    ) -> Result<(Value, SocketAddr, HashMap<SocketAddr, SocketAddr>), RunError> {
        let local = |p: u16| SocketAddr::new(Ipv4Addr::LOCALHOST.into(), p);
        let admin = local(self.port(format!("admin/{id}"))?);
        let cert_dir = self.dir.join(format!("{}-certs", file_name(id)));
        let cert_paths = if cert_dir.exists() {
            cert_paths_in(&cert_dir)
        } else {
            CertPems::from_authorities(&self.certs.mesh_ca, &self.certs.public_ca, &proxy.identity)
                .and_then(|pems| pems.write(&cert_dir))
                .map_err(|e| RunError::Setup(e.to_string()))?
        };
        super::certs::write_credentials(proxy, &cert_paths, &self.certs.materials)
            .map_err(|e| RunError::Setup(e.to_string()))?;
        let mut listeners = BTreeMap::new();
        for l in proxy.inbound_listeners() {
            let name = match proxy.kind {
                ProxyKind::Gateway => l.name.to_string(),
                ProxyKind::Sidecar => super::inbound_listener_name(l.port),
            };
            listeners.insert(name, local(self.port(format!("gw/{id}/{}", l.port))?));
        }
        let mut endpoints = BTreeMap::new();
        for c in proxy.clusters.values() {
            for e in &c.endpoints {
                if e.target == EndpointTarget::OriginalDestination {
                    continue;
                }
                let real = self
                    .endpoint_ip(e)
                    .and_then(|ip| self.fabric.real_addr(SocketAddr::new(ip, e.port)))
                    .unwrap_or(NOWHERE);
                endpoints.insert(Placement::endpoint_key(e), real);
            }
        }
        let placement = Placement {
            capture: Capture::Direct,
            listeners,
            endpoints,
            certs: cert_paths,
            access_log: AccessLogSink::File(self.log_path(id)),
            admin,
        };
        let mut config = bootstrap(proxy, &self.mesh, &placement);
        self.bind_sources(proxy, &mut config);
        let mut captures = HashMap::new();
        if proxy.kind == ProxyKind::Sidecar {
            let dests: Vec<SocketAddr> = self
                .destinations
                .get(id)
                .map(|d| d.iter().copied().collect())
                .unwrap_or_default();
            let rendered = config["static_resources"]["listeners"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            // The inbound listeners stay as rendered; the outbound ones become capture copies.
            let mut copies: Vec<Value> = rendered
                .iter()
                .filter(|v| v["traffic_direction"] == json!("INBOUND"))
                .cloned()
                .collect();
            for d in dests {
                let Some(l) = step::outbound_listener(proxy, Some(d.ip()), d.port()) else {
                    continue;
                };
                let Some(original) = rendered.iter().find(|v| v["name"] == json!(*l.name)) else {
                    continue;
                };
                let at = local(self.port(format!("cap/{id}/{d}"))?);
                let real = self.fabric.real_addr(d).unwrap_or(NOWHERE);
                copies.push(capture_copy(original, d, at, real));
                captures.insert(d, at);
            }
            config["static_resources"]["listeners"] = Value::Array(copies);
        }
        Ok((config, admin, captures))
    }

    /// The simulated address endpoint `e` is dialed at (a sidecar's own application listens
    /// behind it, at its `app_address`).
    fn endpoint_ip(&self, e: &egressbench_model::xds::Endpoint) -> Option<IpAddr> {
        match &e.target {
            EndpointTarget::App(w) => self
                .mesh
                .workload(w)
                .and_then(egressbench_model::pods::app_address)
                .map(IpAddr::V4),
            _ => e
                .address
                .parse::<IpAddr>()
                .ok()
                .or_else(|| self.internet.resolve(&e.address).map(IpAddr::V4)),
        }
    }

    /// For each cluster of `proxy` with exactly one endpoint that nothing listens at (placed at
    /// `NOWHERE`), that endpoint's simulated address: what Envoy's `NOWHERE` host stands for.
    fn unplaced(&self, proxy: &ProxyConfig) -> HashMap<String, String> {
        proxy
            .clusters
            .iter()
            .filter_map(|(name, c)| {
                let unplaced: Vec<SocketAddr> = c
                    .endpoints
                    .iter()
                    .filter(|e| e.target != EndpointTarget::OriginalDestination)
                    .filter_map(|e| {
                        let ip = self.endpoint_ip(e)?;
                        if self.fabric.real_addr(SocketAddr::new(ip, e.port)).is_some() {
                            return None;
                        }
                        // An application behind a sidecar is named by its pod's address.
                        let shown = match &e.target {
                            EndpointTarget::App(w) => {
                                self.mesh.workload(w)?.address.parse().ok()?
                            }
                            _ => ip,
                        };
                        Some(SocketAddr::new(shown, e.port))
                    })
                    .collect();
                match unplaced.as_slice() {
                    [one] => Some((name.clone(), one.to_string())),
                    _ => None,
                }
            })
            .collect()
    }

    /// Give every cluster the loopback alias of its simulated source address.
    fn bind_sources(&self, proxy: &ProxyConfig, config: &mut Value) {
        let pod = proxy.address.parse::<IpAddr>().ok();
        let Some(clusters) = config["static_resources"]["clusters"].as_array_mut() else {
            return;
        };
        for c in clusters {
            let name = c["name"].as_str().unwrap_or_default().to_string();
            let target = |f: fn(&EndpointTarget) -> bool| {
                proxy
                    .clusters
                    .get(&name)
                    .is_some_and(|c| c.endpoints.iter().any(|e| f(&e.target)))
            };
            // A pod's connections come from its own address (hosts outside the cluster see
            // them from the public one: `Hosts`' source NAT); a sidecar's to its own application
            // from 127.0.0.6.
            let own_app = target(|t| matches!(t, EndpointTarget::App(_)));
            let source = match (own_app, pod) {
                (true, _) => IpAddr::V4(egressbench_model::pods::INBOUND_SOURCE),
                (false, Some(pod)) => pod,
                (false, None) => IpAddr::V4(DEFAULT_PEER),
            };
            let alias = self.fabric.alias(source);
            c["upstream_bind_config"] = json!({"source_address": {
                "address": alias.to_string(), "port_value": 0,
            }});
        }
    }

    /// Make `request` from `from` and collect what the proxies logged for it.
    pub async fn exec(
        &mut self,
        from: &Origin,
        request: &ClientRequest,
    ) -> Result<Exchange, RunError> {
        let mesh = self.mesh.clone();
        let connection = step::app_connection(&mesh, &self.internet, from, request);
        // curl reads its TLS files first (in the pod, or on the workstation): one it cannot use
        // stops it.
        let credentials = match step::client_credentials(&mesh, from, request) {
            Ok(c) => c,
            Err(problem) => {
                let sent = egressbench_network::client::Sent::unusable_tls_file(problem);
                return Ok(self.hosts.exchange(sent, None, Vec::new()));
            }
        };
        let (dial, source) = self.dial(from, connection).await?;
        // A connection to a sidecar comes from an address of the exchange's own (the sidecar
        // reads no source from it; its upstream connections carry the pod's address).
        let (source, client) = match dial {
            Dial::Real(_) => {
                self.exchanges += 1;
                let simulated =
                    IpAddr::V4(Ipv4Addr::from(u32::from(CLIENT_SOURCES) + self.exchanges));
                (simulated, Some(self.fabric.alias(simulated)))
            }
            _ => (source, None),
        };
        // Known before the request is sent: if the client fails, a late entry of its
        // connection is still recognised as not the next exchange's.
        let earlier = self.earlier_clients.clone();
        if let Some(c) = client {
            self.earlier_clients.insert(c);
        }
        let sent = self
            .client
            .send(&self.fabric, source, dial, request, &credentials)
            .await?;
        let logs = self.collect(from.pod(), client, &earlier).await;
        let mut exchange = self.hosts.exchange(sent, connection.remote(), logs);
        if let Some((_, apps)) = &self.apps {
            apps.add_records(&mut exchange);
        }
        Ok(exchange)
    }

    /// Where `from`'s application connection is dialed, and from which source address; a
    /// captured one goes to the sidecar's capture listener for its original destination.
    async fn dial(
        &mut self,
        from: &Origin,
        connection: AppConnection,
    ) -> Result<(Dial, IpAddr), RunError> {
        Ok(match (connection, from) {
            (AppConnection::Unresolved { source }, _) => (Dial::Unresolved, source),
            (AppConnection::Direct { to, source, .. }, _) => (Dial::Simulated(to), source),
            (AppConnection::Unroutable { original, source }, _) => {
                (Dial::Unroutable(original), source)
            }
            // Only a pod's sidecar captures.
            (AppConnection::Captured { original, source }, Origin::Workstation(_)) => {
                (Dial::Simulated(original), source)
            }
            (AppConnection::Captured { original, source }, Origin::Pod(from)) => {
                if self
                    .destinations
                    .entry(from.clone())
                    .or_default()
                    .insert(original)
                {
                    self.reconcile().await?;
                }
                match self
                    .running
                    .get(from)
                    .and_then(|r| r.captures.get(&original))
                {
                    Some(at) => (Dial::Real(*at), source),
                    None => (Dial::Unresolved, source),
                }
            }
        })
    }

    /// Real loopback address → the simulated address it stands for (hosts, gateways and inbound
    /// listeners; a sidecar's capture listener stands for the original destination it captures).
    /// An application behind a sidecar stands for its pod's address, as Envoy logs it in a pod.
    fn simulated_addresses(&self) -> HashMap<String, String> {
        let behind: HashMap<IpAddr, IpAddr> = self
            .mesh
            .ctx
            .workloads
            .values()
            .filter_map(|w| {
                let app = egressbench_model::pods::app_address(w)?;
                Some((IpAddr::V4(app), w.address.parse().ok()?))
            })
            .collect();
        self.hosts
            .listening()
            .chain(self.apps.iter().flat_map(|(_, h)| h.listening()))
            .chain(self.routed.iter().copied())
            .filter_map(|sim| {
                let shown = behind
                    .get(&sim.ip())
                    .map_or(sim, |pod| SocketAddr::new(*pod, sim.port()));
                self.fabric
                    .real_addr(sim)
                    .map(|real| (real.to_string(), shown.to_string()))
            })
            .chain(self.running.values().flat_map(|r| {
                r.captures
                    .iter()
                    .map(|(original, at)| (at.to_string(), original.to_string()))
            }))
            .collect()
    }

    /// The access-log entries of the exchange whose client connected from `client` to the
    /// sidecar of pod `from` (`None`: no sidecar was dialed), in start-time order.
    ///
    /// They are found by following the connections, as one follows them through a mesh: the
    /// sidecar's entry is the one whose downstream address is the client's; if that entry's
    /// upstream host is a gateway, the gateway's entry is the one whose downstream address is the
    /// sidecar's upstream local address. Once those are in (or `SETTLE_LIMIT` has passed), a
    /// short quiet period collects entries nothing leads to. Late sidecar entries of earlier
    /// exchanges (their client addresses are known) are left out; a late gateway entry of an
    /// earlier exchange is not told apart (its gateway entry was awaited when it ran).
    async fn collect(
        &mut self,
        from: Option<&WorkloadRef>,
        client: Option<Ipv4Addr>,
        earlier: &BTreeSet<Ipv4Addr>,
    ) -> Vec<AccessLogEntry> {
        let started = Instant::now();
        let inbound = self.inbound_addresses();
        let mut lines: Vec<Line> = Vec::new();
        let mut wanted = client
            .zip(from)
            .map(|(c, from)| (from.clone(), AwaitedPeer::Client(c)));
        // A sidecar's entry leads to a gateway's or another sidecar's inbound one, and a
        // gateway's to a sidecar's inbound one: three steps at most. Entries found this way are
        // ordered as found where their start times tie.
        for step in 0..3u8 {
            let Some((proxy, downstream)) = wanted.take() else {
                break;
            };
            loop {
                lines.extend(self.read_lines());
                let found = lines
                    .iter_mut()
                    .find(|l| l.proxy == proxy && downstream.matches(l));
                if let Some(l) = found {
                    l.rank = step;
                    // A connection that failed upstream (no endpoint, refused, a failed
                    // handshake) may leave the gateway nothing to log: it is not followed.
                    let flags = ResponseFlags::parse(l.field("response_flags"));
                    let failed =
                        flags.is_none_or(|f| {
                            f.iter().any(|f| {
                                f.code().starts_with('U') || f == ResponseFlag::NoClusterFound
                            })
                        }) || !matches!(l.field("upstream_transport_failure_reason"), "" | "-");
                    wanted = inbound
                        .get(l.field("upstream_host"))
                        .filter(|_| !failed)
                        .map(|gw| {
                            let upstream = l.field("upstream_local_address").to_string();
                            (gw.clone(), AwaitedPeer::Connection(upstream))
                        });
                    break;
                }
                if started.elapsed() > SETTLE_LIMIT {
                    break;
                }
                tokio::time::sleep(SETTLE_POLL).await;
            }
        }
        let mut quiet = 0;
        while quiet < SETTLE_QUIET && started.elapsed() < SETTLE_LIMIT {
            tokio::time::sleep(SETTLE_POLL).await;
            let more = self.read_lines();
            quiet = if more.is_empty() { quiet + 1 } else { 0 };
            lines.extend(more);
        }
        lines.retain(|l| {
            l.downstream_ip()
                .is_none_or(|ip| Some(ip) == client || !earlier.contains(&ip))
        });
        let simulated = self.simulated_addresses();
        lines.sort_by(|a, b| (a.field("start_time"), a.rank).cmp(&(b.field("start_time"), b.rank)));
        lines.iter().map(|l| entry(&l.value, &simulated)).collect()
    }

    /// Real address of every listener facing inbound → its proxy.
    fn inbound_addresses(&self) -> HashMap<String, WorkloadRef> {
        self.mesh
            .inbound_listeners()
            .filter_map(|(id, at)| {
                self.fabric
                    .real_addr(at)
                    .map(|real| (real.to_string(), id.clone()))
            })
            .collect()
    }

    /// The whole lines every proxy has written since the last read.
    fn read_lines(&mut self) -> Vec<Line> {
        let mut out = Vec::new();
        let ids: Vec<(WorkloadRef, u8)> = self
            .mesh
            .proxies
            .iter()
            .map(|(id, p)| (id.clone(), u8::from(p.kind == ProxyKind::Gateway)))
            .chain(self.running.keys().map(|id| (id.clone(), 0)))
            .collect();
        let mut seen = BTreeSet::new();
        for (id, rank) in ids {
            if !seen.insert(id.to_string()) {
                continue;
            }
            let from = self.read_upto.get(&id.to_string()).copied().unwrap_or(0);
            let text = read_from(&self.log_path(&id), from);
            // Only whole lines; a line Envoy is still writing is read next time.
            let Some(end) = text.iter().rposition(|b| *b == b'\n').map(|i| i + 1) else {
                continue;
            };
            for line in String::from_utf8_lossy(&text[..end]).lines() {
                if let Ok(value) = serde_json::from_str::<Value>(line) {
                    out.push(Line {
                        proxy: id.clone(),
                        rank,
                        value,
                    });
                }
            }
            let end = u64::try_from(end).unwrap_or(0);
            self.read_upto.insert(id.to_string(), from + end);
        }
        out
    }

    /// Every entry `proxy` has written so far, oldest first.
    pub fn logs(&self, proxy: &WorkloadRef) -> Vec<AccessLogEntry> {
        let text = std::fs::read_to_string(self.log_path(proxy)).unwrap_or_default();
        let simulated = self.simulated_addresses();
        text.lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .map(|v| entry(&v, &simulated))
            .collect()
    }
}

/// The bytes of the file at `path` from byte `offset` on (none when it cannot be read).
fn read_from(path: &Path, offset: u64) -> Vec<u8> {
    use std::io::{Read, Seek, SeekFrom};
    let mut out = Vec::new();
    if let Ok(mut file) = std::fs::File::open(path) {
        if file.seek(SeekFrom::Start(offset)).is_ok() {
            let _ = file.read_to_end(&mut out);
        }
    }
    out
}

/// The paths `CertPems::write` wrote into `dir`.
fn cert_paths_in(dir: &Path) -> CertPaths {
    let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    CertPaths {
        cert_chain: dir.join("cert-chain.pem"),
        private_key: dir.join("key.pem"),
        mesh_root: dir.join("root-cert.pem"),
        public_ca: dir.join("ca-certificates.crt"),
        credentials: dir.join("credentials"),
    }
}

/// A copy of listener `original` for connections to simulated destination `dest`, bound on `at`,
/// whose ORIGINAL_DST upstream is `real`.
fn capture_copy(original: &Value, dest: SocketAddr, at: SocketAddr, real: SocketAddr) -> Value {
    let mut l = original.clone();
    let name = format!("{}~{dest}", l["name"].as_str().unwrap_or_default());
    l["name"] = json!(name);
    l["address"] = json!({"socket_address": {
        "address": at.ip().to_string(), "port_value": at.port(),
    }});
    if let Some(obj) = l.as_object_mut() {
        obj.remove("bind_to_port");
        obj.remove("use_original_dst");
    }
    let state = json!({
        "name": "envoy.filters.network.set_filter_state",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.network.set_filter_state.v3.Config",
            "on_new_connection": [{
                "object_key": "envoy.network.transport_socket.original_dst_address",
                "format_string": {"text_format_source": {"inline_string": real.to_string()}},
            }],
        },
    });
    let prepend = |chain: &mut Value| {
        if let Some(filters) = chain["filters"].as_array_mut() {
            filters.insert(0, state.clone());
        }
    };
    if let Some(chains) = l["filter_chains"].as_array_mut() {
        chains.iter_mut().for_each(prepend);
    }
    if l.get("default_filter_chain").is_some() {
        prepend(&mut l["default_filter_chain"]);
    }
    wait_for_first_bytes(&mut l);
    l
}

/// Listener filters that read the connection's first bytes before a filter chain is chosen.
const INSPECTORS: [&str; 2] = [
    "envoy.filters.listener.tls_inspector",
    "envoy.filters.listener.http_inspector",
];

/// Give listener `l` an HTTP inspector when nothing on it waits for the connection's first bytes,
/// and no filter chain matches on what the inspector finds (so the chain chosen is the same).
///
/// In a pod, iptables hands Envoy connections whose first bytes (a ClientHello, a request line)
/// have nearly always arrived by the time Envoy accepts them. On a busy loopback the accept can
/// come first; a chain that closes at once (`BlackHoleCluster`) then sends FIN where a pod's
/// Envoy sends RST (the bytes unread). Waiting for the first bytes restores the pod's order.
fn wait_for_first_bytes(l: &mut Value) {
    let filters = l["listener_filters"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let inspects = filters
        .iter()
        .any(|f| INSPECTORS.contains(&f["name"].as_str().unwrap_or_default()));
    let by_protocol = l["filter_chains"].as_array().is_some_and(|chains| {
        chains.iter().any(|c| {
            c["filter_chain_match"]
                .get("application_protocols")
                .is_some()
        })
    });
    if inspects || by_protocol {
        return;
    }
    let mut filters = filters;
    filters.push(json!({
        "name": "envoy.filters.listener.http_inspector",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.listener.http_inspector.v3.HttpInspector",
        },
    }));
    l["listener_filters"] = Value::Array(filters);
}

/// Whether Envoy's admin answers `/ready` with 200.
async fn ready(admin: SocketAddr) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(mut s) = tokio::net::TcpStream::connect(admin).await else {
        return false;
    };
    if s.write_all(b"GET /ready HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n")
        .await
        .is_err()
    {
        return false;
    }
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(1), s.read_to_end(&mut buf)).await;
    buf.starts_with(b"HTTP/1.0 200") || buf.starts_with(b"HTTP/1.1 200")
}

/// An Envoy JSON access-log line as the model's entry: nulls and empty strings become `-`,
/// numbers their text; `URX,UF` is written in the model's order `UF,URX`; an upstream host on
/// loopback is written as the simulated address it stands for (`simulated`: real → simulated).
pub fn entry(v: &Value, simulated: &HashMap<String, String>) -> AccessLogEntry {
    let s = |k: &str| match v.get(k) {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => "-".to_string(),
    };
    let response_code = match v.get("response_code") {
        Some(Value::Number(n)) => n.as_u64().and_then(|n| u16::try_from(n).ok()).unwrap_or(0),
        Some(Value::String(t)) => t.parse().unwrap_or(0),
        _ => 0,
    };
    // Written in the catalogue's order (Envoy writes `URX,UF` where the model writes `UF,URX`);
    // a flag the catalogue does not know is kept as Envoy wrote it.
    let flags = s("response_flags");
    let response_flags = ResponseFlags::parse(&flags).map_or(flags, |f| f.to_string());
    AccessLogEntry {
        proxy: s("proxy"),
        method: s("method"),
        path: s("path"),
        protocol: s("protocol"),
        response_code,
        response_flags,
        response_code_details: s("response_code_details"),
        connection_termination_details: s("connection_termination_details"),
        upstream_transport_failure_reason: s("upstream_transport_failure_reason"),
        authority: s("authority"),
        upstream_host: {
            let host = s("upstream_host");
            simulated.get(&host).cloned().unwrap_or(host)
        },
        upstream_cluster: s("upstream_cluster"),
        requested_server_name: s("requested_server_name"),
        route_name: s("route_name"),
        downstream_peer_principal: s("downstream_peer_principal"),
        downstream_local_address: {
            let local = s("downstream_local_address");
            simulated.get(&local).cloned().unwrap_or(local)
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envoy_log_lines_read_as_the_models_entries() {
        let line = json!({
            "proxy": "mytest/sleep-a",
            "method": null,
            "response_code": 0,
            "response_flags": "URX,UF",
            "upstream_host": "127.0.0.1:20001",
            "upstream_cluster": "PassthroughCluster",
            "requested_server_name": "",
            "bytes_received": 12,
        });
        let simulated =
            HashMap::from([("127.0.0.1:20001".to_string(), "203.0.113.10:80".to_string())]);
        let e = entry(&line, &simulated);
        assert_eq!(e.proxy, "mytest/sleep-a");
        assert_eq!(e.method, "-");
        assert_eq!(e.response_code, 0);
        assert_eq!(e.response_flags, "UF,URX");
        assert_eq!(e.upstream_host, "203.0.113.10:80");
        assert_eq!(e.requested_server_name, "-");
        let coded = entry(&json!({"response_code": 502}), &HashMap::new());
        assert_eq!(coded.response_code, 502);
    }

    #[test]
    fn a_capture_copy_binds_its_own_port_and_names_the_original_destination() {
        let original = json!({
            "name": "0.0.0.0_80",
            "address": {"socket_address": {"address": "0.0.0.0", "port_value": 80}},
            "bind_to_port": false,
            "filter_chains": [{"filters": [{"name": "envoy.filters.network.http_connection_manager"}]}],
            "default_filter_chain": {"filters": [{"name": "envoy.filters.network.tcp_proxy"}]},
        });
        let dest: SocketAddr = "203.0.113.10:80".parse().expect("addr");
        let at: SocketAddr = "127.0.0.1:20002".parse().expect("addr");
        let real: SocketAddr = "127.0.0.1:40000".parse().expect("addr");
        let copy = capture_copy(&original, dest, at, real);
        assert_eq!(copy["name"], json!("0.0.0.0_80~203.0.113.10:80"));
        assert_eq!(
            copy["address"]["socket_address"]["port_value"],
            json!(20002)
        );
        assert!(copy.get("bind_to_port").is_none());
        for chain in [&copy["filter_chains"][0], &copy["default_filter_chain"]] {
            assert_eq!(
                chain["filters"][0]["name"],
                json!("envoy.filters.network.set_filter_state")
            );
            assert_eq!(
                chain["filters"][0]["typed_config"]["on_new_connection"][0]["format_string"]
                    ["text_format_source"]["inline_string"],
                json!("127.0.0.1:40000")
            );
        }
        // Nothing on the original waits for the first bytes: the copy gets an HTTP inspector.
        assert_eq!(
            copy["listener_filters"][0]["name"],
            json!("envoy.filters.listener.http_inspector")
        );
    }

    #[test]
    fn a_capture_copy_keeps_listener_filters_that_already_wait_for_the_first_bytes() {
        let with_tls = json!({
            "name": "0.0.0.0_443",
            "listener_filters": [{"name": "envoy.filters.listener.tls_inspector"}],
            "filter_chains": [{"filters": []}],
        });
        let by_protocol = json!({
            "name": "0.0.0.0_8080",
            "filter_chains": [{"filter_chain_match": {"application_protocols": ["http/1.1"]}, "filters": []}],
        });
        let (d, a, r): (SocketAddr, SocketAddr, SocketAddr) = (
            "203.0.113.10:443".parse().expect("addr"),
            "127.0.0.1:20003".parse().expect("addr"),
            "127.0.0.1:40001".parse().expect("addr"),
        );
        let copy = capture_copy(&with_tls, d, a, r);
        assert_eq!(copy["listener_filters"], with_tls["listener_filters"]);
        let copy = capture_copy(&by_protocol, d, a, r);
        assert!(copy.get("listener_filters").is_none());
    }
}
