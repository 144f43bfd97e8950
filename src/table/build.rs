//! Building a scenario's truth table: start every target for the scenario's outside world, replay
//! the scenario's changes on all of them, and in every state some `exec` step runs in, make every
//! probe on every target, then compare every proxy's upstream counters.
//!
//! Owns: `TargetFactory` (a named way to start a target, so the table runs over any number of
//! targets) and `build`. The rows (application workloads, declared ports) come from a private model
//! of the same state, so they do not depend on which targets are compared. Leaves out: the cell
//! comparison (`cell`), the requests (`probe`), the changes (`states`) and rendering (`render`).

use super::cell::{Cell, Observation};
use super::counters::CounterCheck;
use super::error::TableError;
use super::probe::{
    in_cluster_services, load_balancers, requests_for, requests_in_cluster, requests_via_proxy,
    Probe, Via,
};
use super::states::{step_title, Change, ChangeOutcome, ChangeRecord, SETUP_TITLE};
use super::{StateTable, Table};
use egressbench_model::external::Internet;
use egressbench_model::request::Origin;
use egressbench_model::xds::{ClusterKind, ProxyKind};
use egressbench_network::{ClientKind, Clock};
use egressbench_scenario::target::{ModelTarget, Target, TargetError};
use egressbench_scenario::{Action, Scenario};

type Make = dyn Fn(Internet) -> Result<Box<dyn Target>, TargetError> + Send + Sync;

/// A named way to start a fresh target for a scenario's outside world.
pub struct TargetFactory {
    name: &'static str,
    make: Box<Make>,
}

impl std::fmt::Debug for TargetFactory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TargetFactory({})", self.name)
    }
}

impl TargetFactory {
    /// A target called `name` (its column in the table), started by `make`.
    pub fn new(
        name: &'static str,
        make: impl Fn(Internet) -> Result<Box<dyn Target>, TargetError> + Send + Sync + 'static,
    ) -> Self {
        TargetFactory {
            name,
            make: Box::new(make),
        }
    }

    /// The reference model.
    pub fn model() -> Self {
        TargetFactory::new("model", |internet| {
            Ok(Box::new(ModelTarget::new(internet)) as Box<dyn Target>)
        })
    }

    /// The simulated mesh (built-in curl).
    pub fn sim() -> Self {
        TargetFactory::new("sim", |internet| {
            egressbench_sim::target(internet, ClientKind::BuiltIn, Clock::default())
                .map(|t| Box::new(t) as Box<dyn Target>)
        })
    }

    /// Real Envoy (the binary `envoy::find_envoy` finds; built-in curl).
    pub fn envoy() -> Self {
        TargetFactory::new("envoy", |internet| {
            egressbench_envoy::target(internet, None, ClientKind::BuiltIn)
                .map(|t| Box::new(t) as Box<dyn Target>)
        })
    }

    pub fn name(&self) -> &'static str {
        self.name
    }
}

/// The truth table of `scenario` over `targets` (their names head the columns, in order).
pub fn build(scenario: &Scenario, targets: &[TargetFactory]) -> Result<Table, TableError> {
    for (i, t) in targets.iter().enumerate() {
        if targets[..i].iter().any(|u| u.name == t.name) {
            return Err(TableError::DuplicateTarget(t.name));
        }
    }
    if targets.is_empty() {
        return Err(TableError::NoTargets);
    }
    let internet = scenario.internet();
    let mut started = Vec::with_capacity(targets.len());
    for factory in targets {
        let target = (factory.make)(internet.clone()).map_err(|e| TableError::Target {
            target: factory.name,
            scenario: scenario.slug.clone(),
            scenario_file: scenario.file.display().to_string(),
            message: e.to_string(),
        })?;
        started.push((factory.name, target));
    }
    let mut replay = Replay {
        hosts: internet
            .hosts()
            .flat_map(|h| h.names().iter().cloned())
            .collect(),
        rows: ModelTarget::new(internet),
        targets: started,
        states: Vec::new(),
    };
    let mut pending = Pending::after(if scenario.setup.is_empty() {
        "the empty cluster"
    } else {
        SETUP_TITLE
    });
    if !scenario.setup.is_empty() {
        let setup = Change::Apply(scenario.setup.clone());
        pending
            .changes
            .push(replay.change(0, SETUP_TITLE.to_string(), &setup));
    }
    for step in &scenario.steps {
        match Change::of_step(&step.action, replay.rows.store()) {
            Some(change) => {
                let title = step_title(step);
                if pending.execs.is_empty() {
                    pending.after.clone_from(&title);
                } else {
                    let done = std::mem::replace(&mut pending, Pending::after(&title));
                    replay.table(done)?;
                }
                pending
                    .changes
                    .push(replay.change(step.index, title, &change));
            }
            None => {
                if matches!(step.action, Action::Exec { .. }) {
                    pending.execs.push(step.index);
                }
            }
        }
    }
    if !pending.execs.is_empty() {
        replay.table(pending)?;
    }
    Ok(Table {
        scenario: scenario.slug.clone(),
        file: scenario.file.display().to_string(),
        targets: targets.iter().map(|t| t.name).collect(),
        states: replay.states,
    })
}

/// A state being reached: the changes that lead to it and the requests made in it so far.
struct Pending {
    after: String,
    changes: Vec<ChangeRecord>,
    execs: Vec<usize>,
}

impl Pending {
    fn after(title: &str) -> Pending {
        Pending {
            after: title.to_string(),
            changes: Vec::new(),
            execs: Vec::new(),
        }
    }
}

/// The targets in their current state, the model the rows are read from, and the states tabled.
struct Replay {
    rows: ModelTarget,
    targets: Vec<(&'static str, Box<dyn Target>)>,
    hosts: Vec<String>,
    states: Vec<StateTable>,
}

impl Replay {
    /// Carry `change` out on every target (and on the rows' model), recording each answer.
    fn change(&mut self, step: usize, title: String, change: &Change) -> ChangeRecord {
        let _ = change.carry_out(&mut self.rows);
        let outcomes = self
            .targets
            .iter_mut()
            .map(|(name, target)| ChangeOutcome {
                target: name,
                rejected: change.carry_out(target.as_mut()),
            })
            .collect();
        ChangeRecord {
            step,
            title,
            outcomes,
        }
    }

    /// Make every probe of the current state on every target.
    fn table(&mut self, pending: Pending) -> Result<(), TableError> {
        let mesh = self.rows.mesh();
        let workloads: Vec<_> = mesh
            .ctx
            .workloads
            .values()
            .filter(|w| w.proxy != Some(ProxyKind::Gateway))
            .map(|w| w.id.clone())
            .collect();
        let mut probes = Vec::new();
        let services = in_cluster_services(mesh);
        let in_cluster = services.iter().flat_map(|(host, ports)| {
            requests_in_cluster(ports)
                .into_iter()
                .map(move |r| (host, r))
        });
        let outside = self
            .hosts
            .iter()
            .flat_map(|host| requests_for(mesh, host).into_iter().map(move |r| (host, r)));
        let proxies = egressbench_model::pods::forward_proxies(&mesh.ctx.workloads);
        let via_proxy = proxies.iter().flat_map(|proxy| {
            self.hosts.iter().flat_map(move |host| {
                requests_via_proxy().into_iter().map(move |(r, tunnel)| {
                    let via = Via {
                        proxy: *proxy,
                        tunnel,
                    };
                    (host, r, Some(via))
                })
            })
        });
        let direct = outside.chain(in_cluster).map(|(host, r)| (host, r, None));
        for (host, ask, via) in direct.chain(via_proxy) {
            for workload in &workloads {
                probes.push(Probe {
                    from: Origin::Pod(workload.clone()),
                    host: host.clone(),
                    scheme: ask.scheme,
                    method: ask.method.to_string(),
                    port: ask.port,
                    via,
                    http: ask.http,
                    resolve: None,
                });
            }
        }
        // From the workstation, the cluster: each load-balancer address on its Service's ports, and there each
        // name the gateway behind it serves (`--resolve NAME:PORT:ADDRESS`).
        for balanced in load_balancers(mesh) {
            for (port, names) in &balanced.ports {
                let by_address = std::iter::once((balanced.address.to_string(), None));
                let by_name = names.iter().map(|n| (n.clone(), Some(balanced.address)));
                for (host, resolve) in by_address.chain(by_name) {
                    for ask in requests_in_cluster(&[*port]) {
                        probes.push(Probe {
                            from: Origin::workstation(),
                            host: host.clone(),
                            scheme: ask.scheme,
                            method: ask.method.to_string(),
                            port: ask.port,
                            via: None,
                            http: ask.http,
                            resolve,
                        });
                    }
                }
            }
        }
        probes.sort_by(|a, b| a.from.cmp(&b.from));
        let requests = probes
            .iter()
            .map(|p| p.request().map(|r| (p.from.clone(), r)))
            .collect::<Result<Vec<_>, _>>()?;
        // Only a pod's requests are captured by its sidecar, which is what targets prepare.
        let captured: Vec<_> = requests
            .iter()
            .filter_map(|(from, r)| Some((from.pod()?.clone(), r.clone())))
            .collect();
        for (_, target) in &mut self.targets {
            // A target that cannot prepare still answers each request; its cells say why not.
            let _ = target.prepare(&captured);
        }
        let mut cells = Vec::with_capacity(probes.len());
        for (probe, (_, request)) in probes.into_iter().zip(requests) {
            let observations = self
                .targets
                .iter_mut()
                .map(|(name, target)| match target.exec(&probe.from, &request) {
                    Ok(exchange) => Observation::of_exchange(name, &exchange),
                    Err(e) => Observation::not_run(name, e.to_string()),
                })
                .collect();
            cells.push(Cell::new(probe, observations));
        }
        let counters = mesh
            .proxies
            .iter()
            .map(|(proxy, config)| {
                let transient: Vec<String> = config
                    .clusters
                    .values()
                    .filter(|c| c.kind == ClusterKind::OriginalDst)
                    .map(|c| c.name.to_string())
                    .collect();
                let by_target = self
                    .targets
                    .iter_mut()
                    .map(|(name, target)| {
                        (*name, target.counters(proxy).map_err(|e| e.to_string()))
                    })
                    .collect();
                CounterCheck::new(proxy.to_string(), &transient, by_target)
            })
            .collect();
        self.states.push(StateTable {
            index: self.states.len() + 1,
            after: pending.after,
            changes: pending.changes,
            exec_steps: pending.execs,
            cells,
            counters,
        });
        Ok(())
    }
}
