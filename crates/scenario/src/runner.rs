//! Running a loaded scenario on a target: apply its manifests, carry out every step, and check
//! each step's expectations; a step that leaves the cluster in a state the later steps do not
//! assume (a failed change, bad input, a failed precondition) stops the run, which the report
//! says. On a target that cannot explain itself, the model runs beside it to explain failures.
//!
//! Owns: `run_scenario`, `run_file`, the mesh-config bookkeeping of `mesh:` steps, and what the
//! steps that print without a request show (`istioctl proxy-config` from a proxy's compiled
//! config, `kubectl get pod -o jsonpath`). Leaves out: loading (`load`), the comparisons (`verify`)
//! and rendering (`egressbench::report`).

use super::command::{self, ConfigView, PodField, Program, Routing, Stage};
use super::load::load_scenario;
use super::plan::{Action, Scenario, SeenPod, Step};
use super::results::{BadInput, ScenarioReport, StepReport, Verdict};
use super::verify::{self, ExecObservation};
use crate::target::{ModelTarget, Target, TargetError, TargetNetwork};
use egressbench_model::external::Internet;
use egressbench_model::proxy_config;
use egressbench_model::request::{ClientRequest, Origin, WorkloadRef};
use egressbench_model::xds::ProxyConfig;
use egressbench_resources::mesh_config::{MeshConfig, OutboundTrafficPolicy};
use egressbench_resources::{Body, Kind, ObjectMeta, OutboundMode, Resource, ResourceId};
use std::path::Path;

/// Where `mesh:` steps write the mesh config: the `istio` ConfigMap in `istio-system`.
const MESH_NAMESPACE: &str = "istio-system";
const MESH_CONFIGMAP: &str = "istio";

/// Load the scenario at `file` and run it on a fresh target from `make`, which builds it for the
/// scenario (its outside world, `Scenario::internet`; how tightly it times its commands,
/// `Scenario::duration_tolerance_ms`). A file that does not load, or a target that cannot be
/// built, is reported as bad input for `target_name`.
pub fn run_file(
    file: &Path,
    target_name: &str,
    make: impl FnOnce(&Scenario) -> Result<Box<dyn Target>, BadInput>,
) -> ScenarioReport {
    let scenario = match load_scenario(file) {
        Ok(s) => s,
        Err(e) => return ScenarioReport::load_error(file, target_name, &e),
    };
    match make(&scenario) {
        Ok(mut target) => run_scenario(&scenario, target.as_mut()),
        Err(bad) => ScenarioReport::not_run(file, target_name, bad.message, bad.help),
    }
}

/// Run `scenario` on `target`, which must be fresh (built for this scenario, nothing applied).
pub fn run_scenario(scenario: &Scenario, target: &mut dyn Target) -> ScenarioReport {
    let mut report = ScenarioReport::start(scenario, target.name());
    let internet = scenario.internet();
    // Every request the scenario will make, announced up front (the Envoy target then starts
    // each proxy with all its capture listeners, instead of restarting it per destination). A
    // target that cannot prepare still runs each request when its step comes.
    let requests: Vec<_> = scenario
        .steps
        .iter()
        .filter_map(|step| match &step.action {
            // Only a pod's requests are captured by a sidecar, which is what a target prepares.
            Action::Exec {
                from: Origin::Pod(from),
                command,
            } => Some(
                command
                    .requests()
                    .into_iter()
                    .map(|r| (from.clone(), r.clone()))
                    .collect::<Vec<_>>(),
            ),
            _ => None,
        })
        .flatten()
        .collect();
    let _ = target.prepare(&requests);
    // A target that cannot explain itself gets the model beside it, fed the changes the target
    // accepted, so a failing request can be explained by the reference semantics in the same
    // mesh state.
    let mut shadow =
        (!target.name().starts_with("model")).then(|| ModelTarget::new(internet.clone()));
    let mut mesh = MeshConfig::default();
    // What every destination received so far in this run (a forward proxy's log reads it).
    let mut history: Vec<egressbench_model::outcome::Received> = Vec::new();
    if !scenario.setup.is_empty() {
        let mut setup = StepReport::setup(scenario.setup.len());
        let outcome = target
            .apply(scenario.setup.clone())
            .map_err(|e| e.to_string());
        if outcome.is_ok() {
            track_applied(&mut mesh, &scenario.setup);
            mirror(&mut shadow, |m| m.apply(scenario.setup.clone()));
        }
        setup.checks = verify::check_change(&Default::default(), &outcome);
        setup.observed = dns_findings(&scenario.setup, &internet);
        setup.conclude();
        if setup.verdict != Verdict::Passed {
            report.verdict = setup.verdict;
            report.steps.push(setup);
            return report;
        }
    }
    // Every step runs, so the report lists every failing expectation; a step that leaves the
    // mesh in a state later steps do not assume stops the run (`stops_the_run`).
    for step in &scenario.steps {
        let mut done = run_step(
            step,
            target,
            &mut shadow,
            &mut mesh,
            &mut history,
            &internet,
        );
        if let Action::Apply(resources) = &step.action {
            done.observed = dns_findings(resources, &internet);
        }
        let verdict = done.verdict;
        report.steps.push(done);
        report.verdict = report.verdict.worse(verdict);
        if stops_the_run(step, verdict) {
            break;
        }
    }
    report
}

/// Whether the run stops when `step` ends with `verdict`: a step that could not run, a change
/// (apply, delete, mesh) that did not go as expected (the mesh is not in the state the later
/// steps assume), or a precondition that did not hold. A failed expectation of an exec or logs
/// step does not stop it.
fn stops_the_run(step: &Step, verdict: Verdict) -> bool {
    match verdict {
        Verdict::Passed => false,
        Verdict::BadInput => true,
        Verdict::Failed => step.precondition || step.action.is_change(),
    }
}

/// ASM's DNS rule (`compile::dns`) on the policies among `resources`, under the scenario's DNS.
fn dns_findings(resources: &[Resource], internet: &Internet) -> Vec<String> {
    resources
        .iter()
        .filter_map(|r| match &r.body {
            Body::AsmEgressTrafficPolicy(p) => Some((r.id(), p)),
            _ => None,
        })
        .flat_map(|(id, p)| {
            egressbench_compile::dns::check(p, internet)
                .into_iter()
                .map(move |f| format!("warning: {id} {f}"))
        })
        .collect()
}

/// Feed a change the target accepted to the model beside it. A model that refuses it no longer
/// stands for the target's mesh state, and is dropped (failures after it go unexplained).
fn mirror(
    shadow: &mut Option<ModelTarget>,
    change: impl FnOnce(&mut ModelTarget) -> Result<(), TargetError>,
) {
    if let Some(model) = shadow.as_mut() {
        if change(model).is_err() {
            *shadow = None;
        }
    }
}

fn run_step(
    step: &Step,
    target: &mut dyn Target,
    shadow: &mut Option<ModelTarget>,
    mesh: &mut MeshConfig,
    history: &mut Vec<egressbench_model::outcome::Received>,
    internet: &Internet,
) -> StepReport {
    let mut report = StepReport::for_step(step);
    // The request an exec step made last (the one its status and explanation are about).
    let mut last_request: Option<ClientRequest> = None;
    match &step.action {
        Action::Apply(resources) => {
            let outcome = target.apply(resources.clone()).map_err(|e| e.to_string());
            if outcome.is_ok() {
                track_applied(mesh, resources);
                mirror(shadow, |m| m.apply(resources.clone()));
            }
            report.checks = verify::check_change(&step.expect, &outcome);
        }
        Action::Delete(ids) => {
            let outcome = target.delete(ids).map_err(|e| e.to_string());
            if outcome.is_ok() {
                mirror(shadow, |m| m.delete(ids));
                if ids.contains(&mesh_id()) {
                    *mesh = MeshConfig::default();
                }
            }
            report.checks = verify::check_change(&step.expect, &outcome);
        }
        Action::Exec { from, command: cmd } => {
            let mut net = TargetNetwork::new(&mut *target, from);
            let output = command::run(cmd, &mut net);
            let (made, refused) = (net.made, net.refused);
            match (output, refused, made.last()) {
                (_, Some(e), _) => {
                    report.bad_input = Some(not_carried_out(target.name(), step, &e));
                }
                (Ok(output), None, Some((_, last))) => {
                    let logs: Vec<_> = made.iter().flat_map(|(_, x)| x.logs.clone()).collect();
                    let received: Vec<_> =
                        made.iter().flat_map(|(_, x)| x.received.clone()).collect();
                    history.extend(received.iter().cloned());
                    let seen = ExecObservation {
                        from,
                        output: &output,
                        result: &last.result,
                        logs: &logs,
                        received: &received,
                    };
                    report.checks = verify::check_exec(&step.expect, &seen);
                    report.output = Some(output);
                    report.result = Some(last.result.clone());
                    report.observed = made.iter().flat_map(|(_, x)| x.observed.clone()).collect();
                    last_request = made.last().map(|(r, _)| r.clone());
                    report.exchange = made.into_iter().last().map(|(_, x)| x);
                }
                // A command runs at least one curl, and a refusal is the only abort.
                (_, None, _) => {
                    report.bad_input = Some(BadInput {
                        message: format!("`{}` made no request", step.command),
                        help: Some(
                            "its `&&`/`||` skipped every curl; an exec step's expectations are \
                             about a request, so the command must make one"
                                .into(),
                        ),
                    });
                }
            }
        }
        Action::Logs { from, tail } => {
            let all = target.logs(from);
            let shown = &all[tail.map_or(0, |t| all.len().saturating_sub(t))..];
            report.checks = verify::check_logs(&step.expect, shown);
            let lines: Vec<String> = shown.iter().map(|e| e.to_json_line() + "\n").collect();
            report.output = Some(command::ProcessOutput {
                stdout: lines.concat(),
                ..Default::default()
            });
        }
        Action::Export { .. } | Action::Workstation { .. } => {}
        Action::ProxyLog {
            proxy,
            read,
            runs_proxy,
        } => {
            let output = proxy_log_output(proxy, read, *runs_proxy, history);
            report.checks = verify::check_printed(&step.expect, &output);
            report.output = Some(output);
        }
        Action::ProxyAdmin {
            proxy,
            container,
            read,
        } => {
            let config = config_of(target, shadow, proxy);
            let output = admin_output(
                target,
                shadow,
                proxy,
                container.as_deref(),
                read,
                config.as_ref(),
                internet,
            );
            report.checks = verify::check_printed(&step.expect, &output);
            report.output = Some(output);
        }
        Action::GetPods { pods, field } => {
            let output = pods_output(pods, *field, |w| {
                config_of(target, shadow, w).map(|c| c.kind)
            });
            report.checks = verify::check_printed(&step.expect, &output);
            report.output = Some(output);
        }
        Action::ProxyConfig {
            proxy,
            view,
            filters,
        } => {
            let config = config_of(target, shadow, proxy);
            let output = istioctl_output(proxy, view, filters, config.as_ref());
            report.checks = verify::check_printed(&step.expect, &output);
            report.output = Some(output);
        }
        Action::Mesh { outbound } => {
            let (next, configmap) = mesh_step(mesh, *outbound);
            let outcome = target
                .apply(vec![configmap.clone()])
                .map_err(|e| e.to_string());
            if outcome.is_ok() {
                *mesh = next;
                mirror(shadow, |m| m.apply(vec![configmap]));
            }
            report.checks = verify::check_change(&step.expect, &outcome);
        }
    }
    if !step.expect.metrics.is_empty() && report.bad_input.is_none() {
        let metrics = verify::check_metrics(&step.expect, |proxy| {
            metric_series(&*target, shadow.as_ref(), proxy)
        });
        report.checks.extend(metrics);
    }
    report.conclude();
    if report.verdict == Verdict::Passed {
        report.exchange = None;
    } else if let (Action::Exec { from, .. }, Some(model), Some(request)) =
        (&step.action, shadow.as_mut(), last_request.as_ref())
    {
        if report.exchange.as_ref().is_some_and(|x| x.trace.is_none()) {
            report.model_exchange = model.exec(from, request).ok();
        }
    }
    report
}

/// `proxy`'s Istio metrics so far, counted from the access log `target` kept (`Err`: why there
/// are none to read).
fn metric_series(
    target: &dyn Target,
    shadow: Option<&ModelTarget>,
    proxy: &WorkloadRef,
) -> Result<Vec<egressbench_model::admin::MetricSeries>, String> {
    let mesh = target
        .mesh()
        .or_else(|| shadow.and_then(|m| Target::mesh(m)))
        .ok_or("the mesh is not known")?;
    let config = target
        .proxy_config(proxy)
        .or_else(|| shadow.and_then(|m| m.proxy_config(proxy)))
        .ok_or_else(|| format!("{proxy} has no proxy, so no Istio metrics"))?;
    Ok(egressbench_model::admin::istio_series(
        mesh,
        &config,
        &target.logs(proxy),
    ))
}

/// What `istioctl proxy-config` prints for `proxy` (`config`: its compiled config, if it has a
/// proxy), through `filters`.
fn istioctl_output(
    proxy: &WorkloadRef,
    view: &ConfigView,
    filters: &[Stage],
    config: Option<&ProxyConfig>,
) -> command::ProcessOutput {
    let Some(config) = config else {
        return command::ProcessOutput {
            stderr: format!(
                "Error: failed to execute command on sidecar: container \"istio-proxy\" not found \
                 in the pod of {proxy}\n"
            ),
            exit_code: 1,
            ..Default::default()
        };
    };
    let table = match view {
        ConfigView::Clusters(filter) => proxy_config::clusters_table(config, filter),
        ConfigView::Routes { name } => proxy_config::routes_table(config, name.as_deref()),
    };
    printed_through(table, filters)
}

/// `proxy`'s compiled config: the target's, or the model's beside a target that holds none
/// (`None`: the pod has no proxy).
fn config_of(
    target: &dyn Target,
    shadow: &Option<ModelTarget>,
    proxy: &WorkloadRef,
) -> Option<ProxyConfig> {
    target
        .proxy_config(proxy)
        .or_else(|| shadow.as_ref().and_then(|m| m.proxy_config(proxy)))
}

/// What reading a page of `proxy`'s admin interface prints, as a command in container
/// `container` (`-c`; the pod's first when absent) of its pod: the page of its config (`config`,
/// `None` when the pod has no proxy) and the counters `target` kept, through the read's filters.
fn admin_output(
    target: &mut dyn Target,
    shadow: &Option<ModelTarget>,
    proxy: &WorkloadRef,
    container: Option<&str>,
    read: &command::AdminRead,
    config: Option<&ProxyConfig>,
    internet: &Internet,
) -> command::ProcessOutput {
    let failed = |stderr: String, exit_code: i32| command::ProcessOutput {
        stderr,
        exit_code,
        ..Default::default()
    };
    // Without -c, kubectl runs the command in the pod's first container: a gateway's only one
    // is the proxy; a sidecar's pod starts with the application's.
    let in_proxy = match container {
        Some(c) => c == "istio-proxy",
        None => config.is_some_and(|c| c.kind == egressbench_model::xds::ProxyKind::Gateway),
    };
    let Some(config) = config else {
        return match (read.client, container) {
            (_, Some("istio-proxy")) => failed(
                format!(
                    "error: unable to upgrade connection: container not found (\"istio-proxy\") \
                     in the pod of {proxy}\n"
                ),
                1,
            ),
            (command::AdminClient::Curl, _) => failed(
                format!(
                    "curl: (7) Failed to connect to localhost port {} after 0 ms: Couldn't \
                     connect to server\n",
                    read.port
                ),
                7,
            ),
            (command::AdminClient::PilotAgent, _) => failed(not_found("pilot-agent"), 126),
        };
    };
    if read.client == command::AdminClient::PilotAgent && !in_proxy {
        return failed(not_found("pilot-agent"), 126);
    }
    // Only Istio's metrics are counted from the access log.
    let log = match read.page {
        egressbench_model::admin::AdminPage::Prometheus => target.logs(proxy),
        _ => Vec::new(),
    };
    let counters = target.counters(proxy);
    let mesh = target
        .mesh()
        .or_else(|| shadow.as_ref().and_then(|m| Target::mesh(m)));
    match (counters, mesh) {
        (Ok(counters), Some(mesh)) => {
            let inputs = egressbench_model::admin::PageInputs {
                config,
                counters: &counters,
                log: &log,
                mesh,
                internet,
            };
            printed_through(
                egressbench_model::admin::page(&read.page, &inputs),
                &read.filters,
            )
        }
        (Ok(_), None) => failed(
            format!("error: reading the admin interface of {proxy}: the mesh is not known\n"),
            1,
        ),
        (Err(e), _) => failed(
            format!("error: reading the admin interface of {proxy}: {e}\n"),
            1,
        ),
    }
}

/// What kubectl prints when the container has no `program`.
fn not_found(program: &str) -> String {
    format!(
        "OCI runtime exec failed: exec failed: unable to start container process: exec: \
         \"{program}\": executable file not found in $PATH: unknown\ncommand terminated with exit \
         code 126\n"
    )
}

/// What `kubectl exec PROXY_POD -- tail /var/log/squid/access.log` prints: one line in Squid's
/// format for each request the pod's forward proxy received in this run (`history`), the last
/// `read.tail`, through `read.filters`.
fn proxy_log_output(
    proxy: &SeenPod,
    read: &command::ProxyLogRead,
    runs_proxy: bool,
    history: &[egressbench_model::outcome::Received],
) -> command::ProcessOutput {
    if proxy.containers.is_some() && !runs_proxy {
        // A pod that runs no Squid has no such file (GNU tail's words, as Squid's image has).
        return command::ProcessOutput {
            stderr: "tail: cannot open '/var/log/squid/access.log' for reading: No such file or \
                     directory\n"
                .into(),
            exit_code: 1,
            ..Default::default()
        };
    }
    let address = proxy.address.map(|a| a.to_string());
    let lines: Vec<String> = history
        .iter()
        .filter(|r| Some(&r.host) == address.as_ref())
        .enumerate()
        .map(|(i, r)| egressbench_model::external::forward::access_log_line(r, i) + "\n")
        .collect();
    if proxy.containers.is_none() {
        return command::ProcessOutput {
            stderr: format!(
                "Error from server (NotFound): pods \"{}\" not found\n",
                proxy.workload.name
            ),
            exit_code: 1,
            ..Default::default()
        };
    }
    let shown = &lines[read.tail.map_or(0, |t| lines.len().saturating_sub(t))..];
    printed_through(shown.concat(), &read.filters)
}

/// What a command that prints `text` shows through `filters` (`| grep …`).
fn printed_through(text: String, filters: &[Stage]) -> command::ProcessOutput {
    let mut stages = vec![Stage {
        program: Program::Printed(text),
        routing: Routing::default(),
    }];
    stages.extend(filters.iter().cloned());
    let script = command::Script::single(command::Pipeline {
        stages,
        timed: false,
    });
    let cmd = command::ExecCommand {
        text: String::new(),
        script,
    };
    command::run(&cmd, &mut NoNetwork).unwrap_or_default()
}

/// What `kubectl get pod -o jsonpath=…` prints: names, addresses or containers (a sidecar's
/// `istio-proxy` appended to the Deployment's own; `proxy` tells which kind of proxy a pod has),
/// space-separated and without a newline, as kubectl's jsonpath prints them.
fn pods_output(
    pods: &[SeenPod],
    field: PodField,
    proxy: impl Fn(&WorkloadRef) -> Option<egressbench_model::xds::ProxyKind>,
) -> command::ProcessOutput {
    if let Some(p) = pods.iter().find(|p| p.containers.is_none()) {
        return command::ProcessOutput {
            stderr: format!(
                "Error from server (NotFound): pods \"{}\" not found\n",
                p.workload.name
            ),
            exit_code: 1,
            ..Default::default()
        };
    }
    let first = |first_only: bool| pods.len().min(if first_only { 1 } else { usize::MAX });
    let stdout = match field {
        PodField::Names { first_only } => pods[..first(first_only)]
            .iter()
            .map(|p| egressbench_resources::kube::pod_name(&p.workload.namespace, &p.workload.name))
            .collect::<Vec<_>>()
            .join(" "),
        PodField::Addresses { first_only } => pods[..first(first_only)]
            .iter()
            .filter_map(|p| p.address.map(|a| a.to_string()))
            .collect::<Vec<_>>()
            .join(" "),
        PodField::Containers => match pods.first() {
            None => String::new(),
            Some(p) => {
                let mut names = p.containers.clone().unwrap_or_default();
                if proxy(&p.workload) == Some(egressbench_model::xds::ProxyKind::Sidecar) {
                    names.push("istio-proxy".into());
                }
                names.join(" ")
            }
        },
    };
    command::ProcessOutput {
        stdout,
        ..Default::default()
    }
}

/// The network of a command that makes no request.
struct NoNetwork;

impl command::Network for NoNetwork {
    fn send(&mut self, _: &ClientRequest) -> Result<command::Received, command::Aborted> {
        Err(command::Aborted)
    }
}

/// A target that cannot carry a step out: the scenario names something that is not there.
fn not_carried_out(target: &str, step: &Step, err: &TargetError) -> BadInput {
    let help = match err {
        TargetError::UnknownWorkload { .. } => {
            "add the workload's Deployment to the scenario's manifests, or fix the workload's name"
                .to_string()
        }
        _ => format!("check that `{}` suits the {target} target", step.command),
    };
    BadInput {
        message: format!(
            "the {target} target could not run `{}`: {err}",
            step.command
        ),
        help: Some(help),
    }
}

/// The object that holds the mesh config: the `istio` ConfigMap in `istio-system`.
pub fn mesh_id() -> ResourceId {
    ResourceId::new(Kind::ConfigMap, MESH_NAMESPACE, MESH_CONFIGMAP)
}

/// What a `mesh:` step applies: `current` with `outbound` as its outbound traffic policy (the rest
/// kept), and the ConfigMap carrying it.
pub fn mesh_step(current: &MeshConfig, outbound: OutboundMode) -> (MeshConfig, Resource) {
    let mut next = current.clone();
    next.outbound_traffic_policy
        .get_or_insert_with(OutboundTrafficPolicy::default)
        .mode = Some(outbound);
    let configmap = Resource::new(
        "v1",
        ObjectMeta::named(MESH_CONFIGMAP, MESH_NAMESPACE),
        Body::MeshConfig(Box::new(next.clone())),
    );
    (next, configmap)
}

/// Remember the mesh config the scenario applied, so `mesh:` steps change only the outbound policy.
fn track_applied(mesh: &mut MeshConfig, applied: &[Resource]) {
    for r in applied {
        if let Body::MeshConfig(m) = &r.body {
            if r.id() == mesh_id() {
                *mesh = (**m).clone();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::parse_exec;
    use crate::format::Source;
    use egressbench_model::answer::Exchange;
    use egressbench_model::outcome::{AccessLogEntry, ClientResult, ConnectionError, HttpResponse};
    use egressbench_model::request::{ClientRequest, WorkloadRef};
    use egressbench_resources::OutboundMode;
    use egressbench_text::Plain;
    use std::collections::{BTreeMap, VecDeque};
    use std::path::PathBuf;

    /// A target that answers from a script and records what it was asked.
    #[derive(Debug, Default)]
    struct Scripted {
        /// Objects with these names are refused with this message.
        refuse: BTreeMap<String, String>,
        exchanges: VecDeque<Result<Exchange, TargetError>>,
        logs: BTreeMap<String, Vec<AccessLogEntry>>,
        /// Every call, in order: `apply X`, `delete X`, `exec W URL`, `logs W`.
        calls: Vec<String>,
        /// The mesh configs applied, in order.
        meshes: Vec<MeshConfig>,
        objects: Vec<ResourceId>,
    }

    impl Target for Scripted {
        fn name(&self) -> &'static str {
            "scripted"
        }
        fn apply(&mut self, resources: Vec<Resource>) -> Result<(), TargetError> {
            for r in &resources {
                self.calls.push(format!("apply {}", r.id()));
                if let Some(msg) = self.refuse.get(r.name()) {
                    return Err(TargetError::Engine(Box::new(Plain {
                        message: msg.clone(),
                        help: None,
                    })));
                }
            }
            for r in resources {
                if let Body::MeshConfig(m) = &r.body {
                    self.meshes.push((**m).clone());
                }
                self.objects.push(r.id());
            }
            Ok(())
        }
        fn delete(&mut self, ids: &[ResourceId]) -> Result<(), TargetError> {
            for id in ids {
                self.calls.push(format!("delete {id}"));
                let Some(at) = self.objects.iter().position(|o| o == id) else {
                    return Err(TargetError::NotFound {
                        what: "object",
                        id: id.to_string(),
                    });
                };
                self.objects.remove(at);
            }
            Ok(())
        }
        fn exec(
            &mut self,
            from: &Origin,
            request: &ClientRequest,
        ) -> Result<Exchange, TargetError> {
            self.calls.push(format!("exec {from} {}", request.url()));
            let next = self
                .exchanges
                .pop_front()
                .unwrap_or(Err(TargetError::Engine(Box::new(Plain {
                    message: "script ran out".into(),
                    help: None,
                }))));
            if let Ok(x) = &next {
                for e in &x.logs {
                    self.logs
                        .entry(e.proxy.clone())
                        .or_default()
                        .push(e.clone());
                }
            }
            next
        }
        fn logs(&self, proxy: &WorkloadRef) -> Vec<AccessLogEntry> {
            self.logs
                .get(&proxy.to_string())
                .cloned()
                .unwrap_or_default()
        }
        fn counters(
            &mut self,
            proxy: &WorkloadRef,
        ) -> Result<egressbench_model::outcome::counters::ProxyCounters, TargetError> {
            self.calls.push(format!("counters {proxy}"));
            Ok(Default::default())
        }
    }

    fn object(name: &str) -> Resource {
        Resource::new(
            "v1",
            ObjectMeta::named(name, "mytest"),
            Body::ServiceAccount,
        )
    }

    fn id(name: &str) -> ResourceId {
        object(name).id()
    }

    fn step(index: usize, action: Action, expect: &str) -> Step {
        Step {
            index,
            name: Some(format!("step number {index}")),
            command: format!("{} #{index}", action.key()),
            action,
            expect: serde_yaml::from_str(expect).unwrap_or_default(),
            discrepancy: None,
            precondition: false,
        }
    }

    fn scenario(setup: Vec<Resource>, actions: Vec<(Action, &str)>) -> Scenario {
        Scenario {
            file: PathBuf::from("scenarios/test.yaml"),
            slug: "test".into(),
            name: "a test scenario".into(),
            source: Source {
                document: "tests".into(),
                section: None,
                url: None,
            },
            hosts: Vec::new(),
            setup,
            steps: actions
                .into_iter()
                .enumerate()
                .map(|(i, (a, e))| step(i + 1, a, e))
                .collect(),
        }
    }

    fn entry(proxy: &str, cluster: &str) -> AccessLogEntry {
        let mut e = AccessLogEntry::blank(proxy);
        e.upstream_cluster = cluster.into();
        e
    }

    fn exec_of(url: &str) -> Action {
        let command = parse_exec(&format!("curl -s {url}"), &Default::default())
            .expect("a plain curl command line parses");
        Action::Exec {
            from: Origin::Pod(WorkloadRef::new("mytest", "sleep-a")),
            command,
        }
    }

    fn answered(status: u16, logs: Vec<AccessLogEntry>) -> Result<Exchange, TargetError> {
        Ok(Exchange {
            result: ClientResult::Response(HttpResponse::new(status, "text/plain", "hello")),
            logs,
            trace: None,
            observed: Vec::new(),
            elapsed_ms: 0,
            remote: None,
            received: Vec::new(),
        })
    }

    #[test]
    fn setup_comes_first_then_every_step_in_order() {
        let s = scenario(
            vec![object("setup")],
            vec![
                (Action::Apply(vec![object("a")]), ""),
                (Action::Delete(vec![id("a")]), ""),
                (
                    Action::Delete(vec![id("a")]),
                    "error_contains: does not exist",
                ),
            ],
        );
        let mut t = Scripted::default();
        let report = run_scenario(&s, &mut t);
        assert_eq!(report.verdict, Verdict::Passed, "{report:#?}");
        assert_eq!(report.target, "scripted");
        assert_eq!(
            t.calls,
            [
                "apply ServiceAccount/mytest/setup",
                "apply ServiceAccount/mytest/a",
                "delete ServiceAccount/mytest/a",
                "delete ServiceAccount/mytest/a"
            ]
        );
        assert_eq!(
            report.steps.len(),
            3,
            "setup that passed is not listed as a step"
        );
        assert!(report
            .steps
            .iter()
            .all(|s| s.checks.len() == 1 && s.checks[0].ok));
        assert_eq!(report.steps_not_run(), 0);
        assert_eq!(report.reason(), None);
    }

    #[test]
    fn a_failed_step_stops_the_scenario_and_says_where() {
        let mut t = Scripted::default();
        t.refuse
            .insert("b".into(), "no egress gateway `gw` in istio-egress".into());
        let s = scenario(
            Vec::new(),
            vec![
                (Action::Apply(vec![object("a")]), ""),
                (Action::Apply(vec![object("b")]), ""),
                (Action::Delete(vec![id("a")]), ""),
                (Action::Delete(vec![id("a")]), ""),
            ],
        );
        let report = run_scenario(&s, &mut t);
        assert_eq!(report.verdict, Verdict::Failed);
        assert_eq!(report.steps.len(), 2);
        assert_eq!(report.steps_not_run(), 2);
        assert!(
            !t.calls.iter().any(|c| c.starts_with("delete")),
            "{:?}",
            t.calls
        );
        let stopped = report.stopped_at().expect("the failed step is reported");
        assert_eq!(stopped.index, 2);
        assert_eq!(
            report.reason().as_deref(),
            Some("step 2 (step number 2): succeeds: expected success, got error: no egress gateway `gw` in istio-egress")
        );
    }

    #[test]
    fn an_expected_error_passes_and_a_different_one_fails() {
        let mut t = Scripted::default();
        t.refuse.insert("b".into(), "no egress gateway `gw`".into());
        let s = scenario(
            Vec::new(),
            vec![(
                Action::Apply(vec![object("b")]),
                "error_contains: no egress gateway",
            )],
        );
        assert_eq!(run_scenario(&s, &mut t).verdict, Verdict::Passed);
        let s = scenario(
            Vec::new(),
            vec![(
                Action::Apply(vec![object("b")]),
                "error_contains: port conflict",
            )],
        );
        let report = run_scenario(&s, &mut t);
        assert_eq!(report.verdict, Verdict::Failed);
        assert_eq!(
            report.steps[0].checks[0].actual,
            "error: no egress gateway `gw`"
        );
        let s = scenario(
            Vec::new(),
            vec![(Action::Apply(vec![object("a")]), "error_contains: anything")],
        );
        assert_eq!(run_scenario(&s, &mut t).verdict, Verdict::Failed);
    }

    #[test]
    fn a_refused_setup_fails_before_step_one() {
        let mut t = Scripted::default();
        t.refuse.insert("bad".into(), "invalid".into());
        let s = scenario(
            vec![object("bad")],
            vec![(Action::Delete(vec![id("bad")]), "")],
        );
        let report = run_scenario(&s, &mut t);
        assert_eq!(report.verdict, Verdict::Failed);
        assert_eq!(report.steps.len(), 1);
        assert_eq!(report.steps[0].index, 0);
        assert_eq!(report.steps[0].title(), "setup (manifests)");
        assert_eq!(report.steps_not_run(), 1);
        assert_eq!(t.calls, ["apply ServiceAccount/mytest/bad"]);
    }

    #[test]
    fn mesh_steps_change_only_the_outbound_policy_of_the_applied_mesh_config() {
        let setup_mesh = MeshConfig {
            trust_domain: Some("example.org".into()),
            ..MeshConfig::default()
        };
        let setup = Resource::new(
            "v1",
            ObjectMeta::named("istio", "istio-system"),
            Body::MeshConfig(Box::new(setup_mesh)),
        );
        let s = scenario(
            vec![setup],
            vec![
                (
                    Action::Mesh {
                        outbound: OutboundMode::RegistryOnly,
                    },
                    "",
                ),
                (Action::Delete(vec![mesh_id()]), ""),
                (
                    Action::Mesh {
                        outbound: OutboundMode::AllowAny,
                    },
                    "",
                ),
            ],
        );
        let mut t = Scripted::default();
        let report = run_scenario(&s, &mut t);
        assert_eq!(report.verdict, Verdict::Passed, "{report:#?}");
        assert_eq!(t.meshes.len(), 3);
        assert_eq!(t.meshes[1].trust_domain.as_deref(), Some("example.org"));
        assert_eq!(t.meshes[1].outbound_mode(), OutboundMode::RegistryOnly);
        assert_eq!(
            t.meshes[2].trust_domain, None,
            "deleting the ConfigMap forgets its settings"
        );
        assert_eq!(t.meshes[2].outbound_mode(), OutboundMode::AllowAny);
        assert!(t.objects.contains(&mesh_id()));
    }

    #[test]
    fn logs_steps_check_the_last_entry_of_the_tail() {
        let mut t = Scripted::default();
        t.logs.insert(
            "default/nginx".into(),
            vec![
                entry("default/nginx", "BlackHoleCluster"),
                entry("default/nginx", "PassthroughCluster"),
            ],
        );
        let nginx = WorkloadRef::new("default", "nginx");
        let s = scenario(
            Vec::new(),
            vec![(
                Action::Logs {
                    from: nginx.clone(),
                    tail: Some(1),
                },
                "access_log: {upstream_cluster: PassthroughCluster}",
            )],
        );
        let report = run_scenario(&s, &mut t);
        assert_eq!(report.verdict, Verdict::Passed);
        let shown = report.steps[0]
            .output
            .as_ref()
            .map(|o| o.stdout.lines().count());
        assert_eq!(shown, Some(1), "--tail=1 shows one line");
        let s = scenario(
            Vec::new(),
            vec![(
                Action::Logs {
                    from: nginx,
                    tail: None,
                },
                "access_log: {upstream_cluster: BlackHoleCluster}",
            )],
        );
        let report = run_scenario(&s, &mut t);
        assert_eq!(report.verdict, Verdict::Failed);
        assert_eq!(report.steps[0].checks[0].actual, "\"PassthroughCluster\"");
    }

    #[test]
    fn exec_steps_check_the_exchange_and_keep_it_only_when_failing() {
        let mut t = Scripted::default();
        t.exchanges.push_back(answered(
            200,
            vec![
                entry("mytest/sleep-a", "outbound|80||egressgateway"),
                entry("istio-egress/gw", "outbound|80||httpbin.org"),
            ],
        ));
        t.exchanges.push_back(Ok(Exchange {
            result: ClientResult::ConnectionFailed {
                error: ConnectionError::Reset,
                during_tls: true,
            },
            logs: vec![entry("mytest/sleep-a", "BlackHoleCluster")],
            trace: None,
            observed: Vec::new(),
            elapsed_ms: 0,
            remote: None,
            received: Vec::new(),
        }));
        let s = scenario(
            Vec::new(),
            vec![
                (
                    exec_of("http://httpbin.org/get"),
                    "{status: 200, body_contains: hello, access_log: [{fields: {upstream_cluster: \"outbound|80||egressgateway\"}}, {proxy: istio-egress/gw, fields: {upstream_cluster: \"outbound|80||httpbin.org\"}}]}",
                ),
                (exec_of("https://httpbin.org/get"), "{status: 200}"),
                (exec_of("http://third.example"), "{status: 200}"),
            ],
        );
        t.exchanges.push_back(answered(200, Vec::new()));
        let report = run_scenario(&s, &mut t);
        assert_eq!(report.verdict, Verdict::Failed, "{report:#?}");
        assert_eq!(
            report.steps.len(),
            3,
            "a failed expectation does not stop the run"
        );
        assert_eq!(report.steps[2].verdict, Verdict::Passed);
        assert_eq!(report.steps_not_run(), 0);
        assert!(report.stopped_at().is_none());
        assert_eq!(
            report.reason().as_deref(),
            Some(
                "step 2 (step number 2): status: expected 200, got no response (connection reset)"
            )
        );
        let (first, second) = (&report.steps[0], &report.steps[1]);
        assert_eq!(first.verdict, Verdict::Passed);
        assert_eq!(first.checks.len(), 4);
        assert!(first.exchange.is_none(), "a passed step drops its exchange");
        assert_eq!(
            first.result.as_ref().and_then(ClientResult::status),
            Some(200)
        );
        assert!(first.output.is_some());
        assert_eq!(second.verdict, Verdict::Failed);
        assert!(
            second.exchange.is_some(),
            "a failed step keeps its exchange for the explanation"
        );
        assert_eq!(second.checks[0].actual, "no response (connection reset)");
        assert_eq!(t.calls.len(), 3, "{:?}", t.calls);
    }

    #[test]
    fn bad_input_after_a_failure_is_what_the_reason_says() {
        let mut t = Scripted::default();
        t.exchanges.push_back(answered(502, Vec::new()));
        t.exchanges.push_back(Err(TargetError::UnknownWorkload {
            workload: "mytest/nobody".into(),
            known: "default/nginx".into(),
        }));
        let s = scenario(
            Vec::new(),
            vec![
                (exec_of("http://a.example"), "{status: 200}"),
                (exec_of("http://b.example"), "{status: 200}"),
            ],
        );
        let report = run_scenario(&s, &mut t);
        assert_eq!(report.verdict, Verdict::BadInput);
        let reason = report.reason().unwrap_or_default();
        assert!(reason.starts_with("step 2 "), "{reason}");
        assert!(reason.contains("no workload `mytest/nobody`"), "{reason}");
        assert!(report.help().is_some_and(|h| h.contains("Deployment")));
    }

    #[test]
    fn a_failed_precondition_stops_the_run_and_every_failure_is_reported() {
        let mut t = Scripted::default();
        for status in [502, 503, 200] {
            t.exchanges.push_back(answered(status, Vec::new()));
        }
        let mut s = scenario(
            Vec::new(),
            vec![
                (exec_of("http://a.example"), "{status: 200}"),
                (exec_of("http://b.example"), "{status: 200}"),
                (exec_of("http://c.example"), "{status: 200}"),
            ],
        );
        s.steps[1].precondition = true;
        let report = run_scenario(&s, &mut t);
        assert_eq!(report.verdict, Verdict::Failed);
        assert_eq!(report.failed_steps().count(), 2, "both failures are listed");
        assert_eq!(report.steps_not_run(), 1);
        assert_eq!(report.stopped_at().map(|s| s.index), Some(2));
        assert_eq!(t.calls.len(), 2, "{:?}", t.calls);
        assert!(report
            .reason()
            .unwrap_or_default()
            .ends_with("(and 1 more failing step)"));
    }

    #[test]
    fn a_target_that_cannot_run_the_command_is_bad_input() {
        let mut t = Scripted::default();
        t.exchanges.push_back(Err(TargetError::UnknownWorkload {
            workload: "mytest/sleep-a".into(),
            known: "default/nginx".into(),
        }));
        let s = scenario(
            Vec::new(),
            vec![(exec_of("http://httpbin.org"), "status: 200")],
        );
        let report = run_scenario(&s, &mut t);
        assert_eq!(report.verdict, Verdict::BadInput);
        let bad = report.steps[0]
            .bad_input
            .as_ref()
            .expect("the reason is kept");
        assert!(
            bad.message.contains("no workload `mytest/sleep-a`"),
            "{}",
            bad.message
        );
        assert!(bad
            .help
            .as_deref()
            .unwrap_or_default()
            .contains("Deployment"));
        assert!(report.steps[0].checks.is_empty());
    }
}
