//! One simulated mesh, running: the external hosts, each gateway's listeners, each sidecar's
//! capture listeners, and the requests workloads make.
//!
//! Owns: `SimMesh` — starting the world, taking a new config snapshot (binding and closing gateway
//! and sidecar inbound listeners to match it, restarting the pods' applications when they change), capturing a workload's outbound connection to a destination (what
//! iptables does: a listener of the workload's sidecar that knows the original destination), making
//! one request with the built-in or the real curl, and collecting what the proxies logged and the
//! hosts recorded. Every listener and connection task is aborted when the `SimMesh` is dropped.
//! Leaves out: scenario bookkeeping (`target::SimTarget`).

use super::proxy::pool::Upstreams;
use super::proxy::{self, Direction};
use egressbench_model::answer::Exchange;
use egressbench_model::decide::step::{self, AppConnection};
use egressbench_model::external::Internet;
use egressbench_model::mesh::Mesh;
use egressbench_model::outcome::counters::ProxyCounters;
use egressbench_model::outcome::AccessLogEntry;
use egressbench_model::request::{ClientRequest, Origin, WorkloadRef};
use egressbench_network::client::{AppClient, ClientKind, Dial};
use egressbench_network::fabric::{Clock, Fabric};
use egressbench_network::hosts::{Hosts, PodEgress};
use egressbench_network::world::{Certs, World};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::{AbortHandle, JoinSet};

/// Why the simulated mesh could not be started or reconfigured.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("issuing the mesh's certificates failed: {0}")]
    Certificates(#[from] egressbench_network::pki::PkiError),
    #[error("starting the external hosts failed: {0}")]
    Hosts(#[from] egressbench_network::hosts::HostsError),
    #[error("listening for {what} failed: {source}")]
    Listen {
        what: String,
        source: std::io::Error,
    },
    #[error("writing the public CA for curl failed: {0}")]
    CaFile(std::io::Error),
    #[error("the real curl gave no answer egressbench can read: {0}")]
    Curl(#[from] egressbench_network::client::CurlError),
    #[error("{0}")]
    Unreplayed(String),
}

impl egressbench_text::Diagnostic for SimError {
    fn help(&self) -> Option<String> {
        Some(match self {
            SimError::Listen { .. } => {
                "another process may hold the loopback ports: stop it, or run fewer targets at once (-j)"
                    .into()
            }
            SimError::Curl(_) => {
                "check the curl binary (`--curl=PATH` or EGRESSBENCH_CURL), or run without --curl".into()
            }
            SimError::CaFile(_) => "make the temporary folder writable (TMPDIR)".into(),
            SimError::Unreplayed(_) => "or run this scenario on the model target only".into(),
            SimError::Certificates(_) | SimError::Hosts(_) => {
                "this is a bug in egressbench: please report it with the scenario".into()
            }
        })
    }
}

/// How long to wait, after the client has its answer, for every proxy to finish its log entry.
const SETTLE: Duration = Duration::from_secs(3);

/// A running simulated mesh.
#[derive(Debug)]
pub struct SimMesh {
    world: Arc<World>,
    /// The proxies' idle upstream connections and counters.
    upstreams: Arc<Upstreams>,
    hosts: Hosts,
    /// Where the pods' forward proxies connect, in the mesh being served.
    egress: Arc<PodEgress>,
    /// The pods' applications (`Mesh::apps`) being served, restarted when they change.
    apps: Option<(Arc<Internet>, Hosts)>,
    /// `(proxy, port)` → the accept loop of a gateway's listener or a sidecar's inbound one.
    inbound_listeners: HashMap<(WorkloadRef, u16), Listening>,
    /// `(workload, original destination)` → the capture listener's real address.
    captures: Mutex<HashMap<(WorkloadRef, SocketAddr), Listening>>,
    client: AppClient,
}

#[derive(Debug)]
struct Listening {
    real: SocketAddr,
    simulated: Option<SocketAddr>,
    task: AbortHandle,
}

impl Drop for SimMesh {
    fn drop(&mut self) {
        for l in self.inbound_listeners.values() {
            l.task.abort();
        }
        for l in self
            .captures
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
        {
            l.task.abort();
        }
    }
}

/// Accept connections on `listener` and serve each on `proxy` until aborted; aborting the loop
/// aborts its connections too.
fn accept_loop(
    world: Arc<World>,
    upstreams: Arc<Upstreams>,
    listener: TcpListener,
    proxy: WorkloadRef,
    direction: Direction,
) -> AbortHandle {
    tokio::spawn(async move {
        let mut connections = JoinSet::new();
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let Ok((stream, peer)) = accepted else { continue };
                    let _ = stream.set_nodelay(true);
                    connections.spawn(proxy::serve(world.clone(), upstreams.clone(), proxy.clone(), direction, stream, peer));
                }
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
    })
    .abort_handle()
}

impl SimMesh {
    /// Start a mesh with no config yet, its hosts listening. Must run inside a tokio runtime.
    pub async fn start(
        internet: Internet,
        clock: Clock,
        client: ClientKind,
    ) -> Result<SimMesh, SimError> {
        let fabric = Fabric::new(clock);
        let internet = Arc::new(internet);
        let certs = Arc::new(Certs::new()?);
        let hosts = Hosts::start(
            internet.clone(),
            fabric.clone(),
            &certs.public_ca,
            certs.materials.clone(),
        )
        .await?;
        let client = AppClient::new(
            client,
            &certs.public_ca.root_pem(),
            certs.app_client.clone(),
        )
        .map(|c| c.with_materials(certs.materials.clone()))
        .map_err(SimError::CaFile)?;
        Ok(SimMesh {
            egress: PodEgress::new(Arc::new(Mesh::empty()), internet.clone()),
            world: Arc::new(World::new(fabric, internet, certs)),
            upstreams: Arc::default(),
            hosts,
            apps: None,
            inbound_listeners: HashMap::new(),
            captures: Mutex::new(HashMap::new()),
            client,
        })
    }

    pub fn world(&self) -> &Arc<World> {
        &self.world
    }

    /// Serve `mesh` from now on: gateways and sidecars listen on exactly their inbound
    /// listeners' ports, and the pods' applications run as the mesh says.
    pub async fn configure(&mut self, mesh: Arc<Mesh>) -> Result<(), SimError> {
        if let Some(w) = egressbench_model::pods::forward_proxy_behind_sidecar(&mesh.ctx.workloads)
        {
            return Err(SimError::Unreplayed(
                egressbench_model::pods::forward_proxy_unreplayed(w),
            ));
        }
        self.egress.set_mesh(mesh.clone());
        self.upstreams.reconfigured(&self.world.mesh(), &mesh);
        self.world.set_mesh(mesh.clone());
        self.world
            .fabric
            .set_present(egressbench_model::decide::step::cluster_addresses(&mesh));
        self.world
            .fabric
            .set_services(egressbench_model::decide::step::kube_proxy_table(&mesh));
        // The certificates gateways present (`credentialName`) exist before any client checks
        // one: a client tells the scenario's own certificates from the public CA's by them.
        let materials = &self.world.certs.materials;
        for credential in mesh.proxies.values().flat_map(|p| p.credentials()) {
            for certificate in credential.certificate.iter().chain(&credential.ca) {
                materials.certificate(certificate)?;
            }
        }
        if self.apps.as_ref().map(|(apps, _)| apps) != Some(&mesh.apps) {
            // Stop the old applications before the new ones bind the same addresses.
            self.apps = None;
            let hosts = Hosts::start_with(
                mesh.apps.clone(),
                self.world.fabric.clone(),
                &self.world.certs.public_ca,
                self.world.certs.materials.clone(),
                Some(self.egress.clone()),
            )
            .await?;
            self.apps = Some((mesh.apps.clone(), hosts));
        }
        let wanted: HashMap<(WorkloadRef, u16), SocketAddr> = mesh
            .inbound_listeners()
            .map(|(id, at)| ((id.clone(), at.port()), at))
            .collect();
        let stale: Vec<(WorkloadRef, u16)> = self
            .inbound_listeners
            .iter()
            .filter(|(k, l)| wanted.get(*k) != l.simulated.as_ref())
            .map(|(k, _)| k.clone())
            .collect();
        for k in stale {
            if let Some(l) = self.inbound_listeners.remove(&k) {
                l.task.abort();
                if let Some(at) = l.simulated {
                    self.world.fabric.unlisten(at);
                }
            }
        }
        for (key, at) in wanted {
            if self.inbound_listeners.contains_key(&key) {
                continue;
            }
            let listener =
                self.world
                    .fabric
                    .listen(at)
                    .await
                    .map_err(|source| SimError::Listen {
                        what: format!("the proxy of {} on {at}", key.0),
                        source,
                    })?;
            let real = listener.local_addr().map_err(|source| SimError::Listen {
                what: format!("gateway {} on {at}", key.0),
                source,
            })?;
            let task = accept_loop(
                self.world.clone(),
                self.upstreams.clone(),
                listener,
                key.0.clone(),
                Direction::Inbound { port: key.1 },
            );
            self.inbound_listeners.insert(
                key,
                Listening {
                    real,
                    simulated: Some(at),
                    task,
                },
            );
        }
        Ok(())
    }

    /// The real address of `workload`'s sidecar listener for connections headed to `original`
    /// (bound on first use): where iptables would redirect them.
    pub async fn capture(
        &self,
        workload: &WorkloadRef,
        original: SocketAddr,
    ) -> Result<SocketAddr, SimError> {
        let key = (workload.clone(), original);
        if let Some(l) = self
            .captures
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
        {
            return Ok(l.real);
        }
        let listener = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0))
            .await
            .map_err(|source| SimError::Listen {
                what: format!("{workload}'s sidecar capture of {original}"),
                source,
            })?;
        let real = listener.local_addr().map_err(|source| SimError::Listen {
            what: format!("{workload}'s sidecar capture of {original}"),
            source,
        })?;
        let task = accept_loop(
            self.world.clone(),
            self.upstreams.clone(),
            listener,
            workload.clone(),
            Direction::Outbound { original },
        );
        self.captures
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(
                key,
                Listening {
                    real,
                    simulated: None,
                    task,
                },
            );
        Ok(real)
    }

    /// Where `from`'s application connection (`step::app_connection`) is dialed, and from which
    /// source address; a captured one goes to the sidecar's capture listener.
    async fn dial(
        &self,
        from: &Origin,
        connection: AppConnection,
    ) -> Result<(Dial, IpAddr), SimError> {
        Ok(match (connection, from) {
            (AppConnection::Unresolved { source }, _) => (Dial::Unresolved, source),
            (AppConnection::Captured { original, source }, Origin::Pod(pod)) => {
                (Dial::Real(self.capture(pod, original).await?), source)
            }
            // Only a pod's sidecar captures.
            (AppConnection::Captured { original, source }, Origin::Workstation(_)) => {
                (Dial::Simulated(original), source)
            }
            (AppConnection::Direct { to, source, .. }, _) => (Dial::Simulated(to), source),
            (AppConnection::Unroutable { original, source }, _) => {
                (Dial::Unroutable(original), source)
            }
        })
    }

    /// Make `request` from `from`, as its application would, and collect what every proxy logged
    /// for it (in hop order) once they are done.
    pub async fn exec(&self, from: &Origin, request: &ClientRequest) -> Result<Exchange, SimError> {
        let mesh = self.world.mesh();
        let mark = self.world.logs.mark();
        let connection = step::app_connection(&mesh, &self.world.internet, from, request);
        // curl reads its TLS files first (in the pod, or on the workstation): one it cannot use
        // stops it.
        let credentials =
            match egressbench_model::decide::step::client_credentials(&mesh, from, request) {
                Ok(c) => c,
                Err(problem) => {
                    let sent = egressbench_network::client::Sent::unusable_tls_file(problem);
                    return Ok(self.hosts.exchange(sent, None, Vec::new()));
                }
            };
        let (dial, source) = self.dial(from, connection).await?;
        let sent = self
            .client
            .send(&self.world.fabric, source, dial, request, &credentials)
            .await?;
        self.world.logs.settle(SETTLE).await;
        let mut exchange =
            self.hosts
                .exchange(sent, connection.remote(), self.world.logs.since(&mark));
        if let Some((_, apps)) = &self.apps {
            apps.add_records(&mut exchange);
        }
        Ok(exchange)
    }

    /// Every entry `proxy` has written so far, oldest first.
    pub fn logs(&self, proxy: &WorkloadRef) -> Vec<AccessLogEntry> {
        self.world.logs.of(&proxy.to_string())
    }

    /// `proxy`'s upstream counters so far.
    pub fn counters(&self, proxy: &WorkloadRef) -> ProxyCounters {
        self.upstreams.counters(proxy)
    }
}
