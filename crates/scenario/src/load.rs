//! Loading a scenario: read the file, parse it strictly, resolve its paths against the scenario's
//! folder, load the manifests it names, and turn every step into an `Action`.
//!
//! Everything a scenario refers to is read here, before anything runs, so a broken fixture or an
//! unsupported command is bad input reported up front, never a failure halfway through a run.
//!
//! Command lines are read in step order, as a user's shell reads them: `vars:` are set first, each
//! `export NAME=…` step sets one more (a pod lookup answered from the Deployments applied so far,
//! with the pod names the bench gives them), and a pod named in `kubectl exec`/`logs` is read as
//! its Deployment.
//!
//! Owns: `load_scenario`, `parse_scenario`. Leaves out: the file's shape (`format`), YAML manifests
//! (`manifest`), running (`runner`).

use super::command::{self, CreateCommand, Entry, Env, KubectlCommand, PodTarget, SecretSource};
use super::error::{from_yaml, At, ScenarioError};
use super::format::{ActionSpec, DeleteSpec, ManifestSpec, ScenarioFile, StepSpec};
use super::plan::{Action, Scenario, SeenPod, Step};
use egressbench_manifest as manifest;
use egressbench_model::request::{Origin, WorkloadRef};
use egressbench_model::topology::workload::POD_GENERATION;
use egressbench_resources::{Body, Resource, ResourceId};
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

/// Read and load the scenario at `path`.
pub fn load_scenario(path: &Path) -> Result<Scenario, ScenarioError> {
    let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
        file: path.display().to_string(),
        source,
    })?;
    parse_scenario(&text, path)
}

/// A YAML syntax error, with the fix for the usual cause in scenarios (a command line holding
/// `: `, as in `-H "Host: …"`, written as a plain scalar).
fn syntax_error(file: &str, err: &serde_yaml::Error) -> ScenarioError {
    let mut e = from_yaml(file, err);
    if let ScenarioError::Invalid { message, help, .. } = &mut e {
        if message.contains("mapping values are not allowed") {
            *help = Some(
                "a value holding `: ` (such as a command with -H \"Host: x\") must be quoted in \
                 YAML: wrap the whole line in single quotes, or write it as a block (`kubectl: >-` \
                 and the command on the next line, indented)"
                    .into(),
            );
        }
    }
    e
}

/// Load a scenario from its text; `path` names it in errors and anchors its relative paths.
pub fn parse_scenario(text: &str, path: &Path) -> Result<Scenario, ScenarioError> {
    let name = path.display().to_string();
    // YAML syntax first: a command line with an unquoted `: ` in it is cut there by the reader,
    // and the cut command would otherwise be reported before the real fault.
    serde_yaml::from_str::<serde_yaml::Value>(text).map_err(|e| syntax_error(&name, &e))?;
    let file: ScenarioFile = serde_yaml::from_str(text).map_err(|e| from_yaml(&name, &e))?;
    let ctx = Resolver {
        text,
        file: path.display().to_string(),
        base: path.parent().map(Path::to_path_buf).unwrap_or_default(),
    };
    let mut setup = Vec::new();
    for (i, m) in file.manifests.iter().enumerate() {
        setup.extend(ctx.load_files(&format!("manifests[{i}]"), std::slice::from_ref(m))?);
    }
    let mut env = Env::default();
    for (name, value) in &file.vars {
        env.set(name, value);
    }
    saw(&mut env, &setup);
    let steps = file
        .steps
        .into_iter()
        .enumerate()
        .map(|(i, spec)| ctx.step(i, spec, &mut env))
        .collect::<Result<Vec<_>, _>>()?;
    let slug = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| ctx.file.clone());
    Ok(Scenario {
        file: path.to_path_buf(),
        slug,
        name: file.name,
        source: file.source,
        hosts: file.hosts,
        setup,
        steps,
    })
}

/// `text` with `$NAME` and `${NAME}` replaced by the values `env` sets, as the shell expands an
/// unquoted heredoc (`kubectl apply -f - <<EOF … $PROXY_IP/32 … EOF`); names not set are left as
/// written, so that a `$` the YAML means literally stays. Every `apply: {inline: …}` manifest is
/// read so, and a `kubectl apply -f - <<EOF` one after an unquoted end word (`\$` is not an
/// escape here).
fn expand_set_variables(text: &str, env: &Env) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (name, used) = match after.strip_prefix('{') {
            Some(inner) => match inner.find('}') {
                Some(end) => (&inner[..end], end + 2),
                None => ("", 0),
            },
            None => {
                let end = after
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(after.len());
                (&after[..end], end)
            }
        };
        match env.get(name).filter(|_| command::is_name(name)) {
            Some(value) => {
                out.push_str(value);
                rest = &after[used..];
            }
            None => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A namespace every cluster has, as a cluster holds it before anything labels it.
fn builtin_namespace(name: &str) -> Resource {
    Resource {
        api_version: "v1".into(),
        meta: egressbench_resources::ObjectMeta {
            name: name.to_string(),
            ..Default::default()
        },
        body: Body::Namespace,
        origin: None,
    }
}

/// Note the Deployments among `applied` in `env`, for pod lookups and pod names.
fn saw(env: &mut Env, applied: &[Resource]) {
    for r in applied {
        env.note_applied(r);
        if let Body::Deployment(spec) = &r.body {
            let ns = r.meta.namespace.clone().unwrap_or_else(|| "default".into());
            let labels = spec
                .template
                .metadata
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let containers = spec
                .template
                .spec
                .containers
                .iter()
                .map(|c| c.name.clone())
                .collect();
            env.add_pod(
                WorkloadRef::new(ns, r.meta.name.clone()),
                labels,
                containers,
            );
        }
    }
}

/// What resolving needs: the scenario's text (to locate what it names), its name and its folder.
struct Resolver<'a> {
    text: &'a str,
    file: String,
    base: PathBuf,
}

impl Resolver<'_> {
    fn step(&self, i: usize, spec: StepSpec, env: &mut Env) -> Result<Step, ScenarioError> {
        let field = format!("steps[{i}]");
        let (command, action) = match spec.action {
            ActionSpec::Kubectl { line, .. } => {
                let field = format!("{field}.kubectl");
                let command = command::parse_kubectl(&line, env)
                    .map_err(|e| self.bad_line(&field, &line, &e))?;
                let action = self.kubectl(&field, &line, command, env)?;
                (line, action)
            }
            ActionSpec::Apply(ManifestSpec::Paths(paths)) => (
                format!("apply: {}", paths.join(", ")),
                Action::Apply(self.load_files(&format!("{field}.apply"), &paths)?),
            ),
            ActionSpec::Apply(ManifestSpec::Inline(yaml)) => {
                let yaml = expand_set_variables(&yaml, env);
                let name = format!("{} ({field}.apply.inline)", self.file);
                let loaded =
                    manifest::load_str(&yaml, &name).map_err(|source| ScenarioError::Manifest {
                        file: self.file.clone(),
                        field: format!("{field}.apply.inline"),
                        source: Box::new(source),
                    })?;
                let resources =
                    self.non_empty(&format!("{field}.apply.inline"), &yaml, loaded.resources)?;
                (
                    format!("apply: inline YAML, {} objects", resources.len()),
                    Action::Apply(resources),
                )
            }
            ActionSpec::Delete(DeleteSpec::Object {
                kind,
                namespace,
                name,
            }) => {
                let id = ResourceId::new(kind, namespace, name);
                (format!("delete: {id}"), Action::Delete(vec![id]))
            }
            ActionSpec::Delete(DeleteSpec::Paths(paths)) => {
                let resources = self.load_files(&format!("{field}.delete"), &paths)?;
                (
                    format!("delete: {}", paths.join(", ")),
                    Action::Delete(resources.iter().map(Resource::id).collect()),
                )
            }
            ActionSpec::Exec { from, line } => {
                let command = command::parse_exec(&line, env)
                    .map_err(|e| self.bad_line(&format!("{field}.exec.command"), &line, &e))?;
                (
                    format!("exec in {from}: {}", command.text),
                    Action::Exec {
                        from: Origin::Pod(from),
                        command,
                    },
                )
            }
            ActionSpec::Logs { from, tail } => {
                let tail_text = tail.map(|t| format!(" --tail={t}")).unwrap_or_default();
                (
                    format!("logs of {from}{tail_text}"),
                    Action::Logs { from, tail },
                )
            }
            ActionSpec::Mesh {
                outbound_traffic_policy,
            } => (
                format!("mesh: outboundTrafficPolicy {outbound_traffic_policy}"),
                Action::Mesh {
                    outbound: outbound_traffic_policy,
                },
            ),
        };
        match &action {
            Action::Apply(applied) => saw(env, applied),
            Action::Delete(ids) => {
                for id in ids {
                    env.note_deleted(id);
                }
                for id in ids
                    .iter()
                    .filter(|id| id.kind == egressbench_resources::Kind::Deployment)
                {
                    env.remove_pod(&WorkloadRef::new(id.namespace.clone(), id.name.clone()));
                }
            }
            _ => {}
        }
        Ok(Step {
            index: i + 1,
            name: spec.name,
            command,
            action,
            expect: spec.expect,
            discrepancy: spec.discrepancy,
            precondition: spec.precondition,
        })
    }

    /// A command line that does not read, located at the line in the file.
    fn bad_line(&self, field: &str, line: &str, e: &command::CommandError) -> ScenarioError {
        self.invalid(
            line,
            format!("{field}: {e}"),
            "write the command line as the document prints it, within what the bench replays \
             (the message says what that is)",
        )
    }

    fn kubectl(
        &self,
        field: &str,
        line: &str,
        command: KubectlCommand,
        env: &mut Env,
    ) -> Result<Action, ScenarioError> {
        Ok(match command {
            KubectlCommand::Label {
                namespace,
                labels,
                overwrite,
            } => {
                let id = ResourceId::new(egressbench_resources::Kind::Namespace, "", &namespace);
                let mut ns = match env.object(&id) {
                    Some(ns) => ns.clone(),
                    // The namespaces every cluster has; any other must have been applied.
                    None if matches!(
                        namespace.as_str(),
                        "default" | "kube-system" | "istio-system"
                    ) =>
                    {
                        builtin_namespace(&namespace)
                    }
                    None => {
                        return Err(self.invalid(
                            line,
                            format!(
                                "{field}: namespace `{namespace}` was not applied by this \
                                 scenario (kubectl would answer NotFound)"
                            ),
                            "apply the Namespace first, in `manifests:` or an earlier step",
                        ))
                    }
                };
                for (key, value) in labels {
                    match value {
                        Some(v) => {
                            let old = ns.meta.labels.get(&key).filter(|old| **old != v);
                            if let (Some(old), false) = (old, overwrite) {
                                return Err(self.invalid(
                                    line,
                                    format!(
                                        "{field}: namespace `{namespace}` already has {key}={old}; \
                                         kubectl refuses to change it without --overwrite"
                                    ),
                                    "add --overwrite, as the documents do",
                                ));
                            }
                            ns.meta.labels.insert(key, v);
                        }
                        None => {
                            ns.meta.labels.remove(&key);
                        }
                    }
                }
                Action::Apply(vec![ns])
            }
            KubectlCommand::RecreatePods { target } => {
                let workloads = match target {
                    PodTarget::Workload(w) => vec![env.workload(w)],
                    PodTarget::Selector { namespace, labels } => env
                        .matching(&namespace, &labels)
                        .map_err(|why| self.invalid(line, format!("{field}: {why}"), "check the selector"))?,
                };
                let mut recreated = Vec::new();
                for w in workloads {
                    let id = ResourceId::new(
                        egressbench_resources::Kind::Deployment,
                        &w.namespace,
                        &w.name,
                    );
                    let Some(d) = env.object(&id) else {
                        return Err(self.invalid(
                            line,
                            format!("{field}: no Deployment {w} was applied by this scenario"),
                            "name a pod or Deployment the scenario applied",
                        ));
                    };
                    let mut d = d.clone();
                    d.meta
                        .annotations
                        .insert(POD_GENERATION.to_string(), field.to_string());
                    recreated.push(d);
                }
                Action::Apply(recreated)
            }
            KubectlCommand::GetPods { target, field } => {
                let workloads = match target {
                    PodTarget::Workload(w) => vec![env.workload(w)],
                    PodTarget::Selector { namespace, labels } => {
                        env.matching(&namespace, &labels).unwrap_or_default()
                    }
                };
                Action::GetPods {
                    pods: workloads
                        .into_iter()
                        .map(|w| SeenPod {
                            containers: env.containers(&w).map(<[String]>::to_vec),
                            address: env.address(&w),
                            workload: w,
                        })
                        .collect(),
                    field,
                }
            }
            KubectlCommand::ProxyLog { workload, read } => {
                let w = env.workload(workload);
                let id = ResourceId::new(
                    egressbench_resources::Kind::Deployment,
                    &w.namespace,
                    &w.name,
                );
                let runs_proxy = env.object(&id).is_some_and(|d| match &d.body {
                    Body::Deployment(spec) => spec.template.spec.containers.iter().any(|c| {
                        egressbench_model::pods::PodServer::of_image(
                            c.image.as_deref().unwrap_or_default(),
                        ) == egressbench_model::pods::PodServer::ForwardProxy
                    }),
                    _ => false,
                });
                Action::ProxyLog {
                    runs_proxy,
                    proxy: SeenPod {
                        containers: env.containers(&w).map(<[String]>::to_vec),
                        address: env.address(&w),
                        workload: w,
                    },
                    read,
                }
            }
            KubectlCommand::Admin {
                workload,
                container,
                read,
            } => {
                let proxy = env.workload(workload);
                if let (Some(name), Some(have)) = (container.as_deref(), env.containers(&proxy)) {
                    // kubectl refuses a container the pod does not have (whether it has the
                    // sidecar's is known when the pod is created).
                    if name != PROXY_CONTAINER && !have.iter().any(|c| c == name) {
                        return Err(self.invalid(
                            line,
                            format!(
                                "{field}: the pod of {proxy} has no container `{name}`; its containers are {}",
                                have.join(", ")
                            ),
                            "read the proxy's admin pages with -c istio-proxy",
                        ));
                    }
                }
                Action::ProxyAdmin {
                    proxy,
                    container,
                    read,
                }
            }
            KubectlCommand::Istioctl(c) => Action::ProxyConfig {
                proxy: env.workload(c.workload),
                view: c.view,
                filters: c.filters,
            },
            KubectlCommand::Workstation(command) => {
                env.workstation.run(&command).map_err(|e| {
                    self.invalid(
                        line,
                        format!("{field}: {e}"),
                        "make the file with an earlier openssl or cat step, as the document does",
                    )
                })?;
                Action::Workstation {
                    made: command.made().into_iter().map(str::to_string).collect(),
                }
            }
            KubectlCommand::Create(create) => Action::Apply(vec![self.created(field, line, create, env)?]),
            KubectlCommand::Local(command) => Action::Exec {
                from: Origin::Workstation(env.workstation.snapshot()),
                command,
            },
            KubectlCommand::Export(export) => {
                env.set(&export.name, &export.value);
                Action::Export {
                    name: export.name,
                    value: export.value,
                }
            }
            KubectlCommand::ApplyText {
                text,
                namespace,
                expands,
            } => {
                let yaml = if expands {
                    expand_set_variables(&text, env)
                } else {
                    text
                };
                let name = format!("{} ({field}, the manifest after <<EOF)", self.file);
                let loaded =
                    manifest::load_str(&yaml, &name).map_err(|source| ScenarioError::Manifest {
                        file: self.file.clone(),
                        field: field.to_string(),
                        source: Box::new(source),
                    })?;
                let resources = self.non_empty(field, &yaml, loaded.resources)?;
                Action::Apply(in_namespace(resources, namespace.as_deref()))
            }
            KubectlCommand::Apply { files, namespace } => {
                Action::Apply(in_namespace(self.load_files(field, &files)?, namespace.as_deref()))
            }
            KubectlCommand::DeleteFiles { files, namespace } => Action::Delete(
                in_namespace(self.load_files(field, &files)?, namespace.as_deref())
                    .iter()
                    .map(Resource::id)
                    .collect(),
            ),
            KubectlCommand::Delete { kind, namespace, names } => Action::Delete(
                names
                    .into_iter()
                    .map(|n| ResourceId::new(kind, if kind.namespaced() { namespace.as_str() } else { "" }, n))
                    .collect(),
            ),
            KubectlCommand::Exec {
                workload,
                container,
                mut command,
            } => {
                let from = env.workload(workload);
                match container.as_deref() {
                    Some(PROXY_CONTAINER) => command.run_in_proxy_container(),
                    Some(name) => {
                        // kubectl refuses a container the pod does not have.
                        if let Some(have) = env.containers(&from) {
                            if !have.iter().any(|c| c == name) {
                                return Err(self.invalid(
                                    line,
                                    format!(
                                        "{field}: the pod of {from} has no container `{name}`; its containers are {}",
                                        have.join(", ")
                                    ),
                                    "name one of them with -c, or leave -c out for the first",
                                ));
                            }
                        }
                    }
                    None => {}
                }
                Action::Exec {
                    from: Origin::Pod(from),
                    command,
                }
            }
            KubectlCommand::Logs {
                target,
                container,
                tail,
            } => match container.as_deref() {
                None | Some(PROXY_CONTAINER) => {
                    let from = match target {
                        PodTarget::Workload(workload) => env.workload(workload),
                        PodTarget::Selector { namespace, labels } => env
                            .matching(&namespace, &labels)
                            .and_then(one_workload)
                            .map_err(|why| {
                                self.invalid(
                                    line,
                                    format!("{field}: {why}"),
                                    "apply the Deployment before this step, or fix the selector \
                                     or namespace",
                                )
                            })?,
                    };
                    // Without -c, kubectl reads the pod's default container, which Istio makes
                    // the application's: only a gateway's one container is the proxy itself.
                    if container.is_none() {
                        if let Some(app) = env
                            .containers(&from)
                            .filter(|c| !c.iter().any(|c| c == PROXY_CONTAINER))
                            .and_then(|c| c.first())
                        {
                            return Err(self.invalid(
                                line,
                                format!(
                                    "{field}: without -c, kubectl logs reads the pod's default container `{app}` (Istio makes the application's the default), not the sidecar's access log"
                                ),
                                "add `-c istio-proxy` to read the sidecar's access log",
                            ));
                        }
                    }
                    Action::Logs { from, tail }
                }
                Some(other) => {
                    return Err(self.invalid(
                        line,
                        format!("{field}: the logs of container `{other}` are not modelled, only the proxy's access log"),
                        "read the sidecar's log with `-c istio-proxy` (a gateway's only container needs no `-c`)",
                    ))
                }
            },
        })
    }

    /// The object a `kubectl create` line makes, its files taken from the workstation (what
    /// earlier `openssl`/`cat` steps made) or else from the scenario's folder (as text).
    fn created(
        &self,
        field: &str,
        line: &str,
        create: CreateCommand,
        env: &Env,
    ) -> Result<Resource, ScenarioError> {
        use egressbench_resources::files::FileContent;
        use egressbench_resources::kube::FileSet;
        let file = |path: &str| -> Result<FileContent, ScenarioError> {
            if let Some(made) = env.workstation.file(path) {
                return Ok(made.clone());
            }
            std::fs::read_to_string(resolve(&self.base, path))
                .map(FileContent::Text)
                .map_err(|e| {
                    self.invalid(
                        line,
                        format!("{field}: error reading {path}: {e} (kubectl would stop here)"),
                        "make the file with an earlier openssl or cat step, or put it in the scenario's folder",
                    )
                })
        };
        let entries = |list: Vec<Entry>| -> Result<BTreeMap<String, FileContent>, ScenarioError> {
            list.into_iter()
                .map(|e| match e {
                    Entry::File { key, path } => Ok((key, file(&path)?)),
                    Entry::Literal { key, value } => Ok((key, FileContent::Text(value))),
                })
                .collect()
        };
        let (kind_meta, body) = match create {
            CreateCommand::Namespace { name } => {
                let ns = builtin_namespace(&name);
                let builtin = matches!(name.as_str(), "default" | "kube-system" | "istio-system");
                if builtin || env.object(&ns.id()).is_some() {
                    return Err(self.exists(field, line, &ns.id()));
                }
                return Ok(ns);
            }
            CreateCommand::Secret {
                namespace,
                name,
                source: SecretSource::Tls { key, cert },
            } => {
                let (k, c) = (file(&key)?, file(&cert)?);
                match (&k, &c) {
                    (FileContent::PrivateKey { key: made }, FileContent::Certificate(crt))
                        if *made == crt.key => {}
                    (FileContent::PrivateKey { .. }, FileContent::Certificate(_)) => {
                        return Err(self.invalid(
                            line,
                            format!("{field}: error: tls: private key does not match public key ({key} is not the key of {cert})"),
                            "pass the key the certificate was made with",
                        ))
                    }
                    _ => {
                        return Err(self.invalid(
                            line,
                            format!(
                                "{field}: --key {key} holds {} and --cert {cert} holds {}; kubectl wants a private key and a certificate",
                                k.describe(),
                                c.describe()
                            ),
                            "make them with the document's openssl lines first",
                        ))
                    }
                }
                let files = FileSet {
                    secret_type: Some("kubernetes.io/tls".into()),
                    entries: [("tls.key".to_string(), k), ("tls.crt".to_string(), c)]
                        .into_iter()
                        .collect(),
                };
                ((namespace, name), Body::Secret(Box::new(files)))
            }
            CreateCommand::Secret {
                namespace,
                name,
                source: SecretSource::Generic(list),
            } => {
                let files = FileSet {
                    secret_type: Some("Opaque".into()),
                    entries: entries(list)?,
                };
                ((namespace, name), Body::Secret(Box::new(files)))
            }
            CreateCommand::ConfigMap {
                namespace,
                name,
                entries: list,
            } => {
                let files = FileSet {
                    secret_type: None,
                    entries: entries(list)?,
                };
                ((namespace, name), Body::ConfigFiles(Box::new(files)))
            }
        };
        let (namespace, name) = kind_meta;
        let made = Resource {
            api_version: "v1".into(),
            meta: egressbench_resources::ObjectMeta {
                name,
                namespace: Some(namespace),
                ..Default::default()
            },
            body,
            origin: None,
        };
        if env.object(&made.id()).is_some() {
            return Err(self.exists(field, line, &made.id()));
        }
        Ok(made)
    }

    /// kubectl's answer to creating what exists.
    fn exists(&self, field: &str, line: &str, id: &ResourceId) -> ScenarioError {
        let plural = match id.kind {
            egressbench_resources::Kind::Namespace => "namespaces",
            egressbench_resources::Kind::Secret => "secrets",
            _ => "configmaps",
        };
        self.invalid(
            line,
            format!(
                "{field}: Error from server (AlreadyExists): {plural} \"{}\" already exists \
                 (kubectl create does not replace an object)",
                id.name
            ),
            "delete it first, or create it once",
        )
    }

    /// Load every path (relative to the scenario file), in order; `field` names them in errors.
    fn load_files(&self, field: &str, paths: &[String]) -> Result<Vec<Resource>, ScenarioError> {
        let mut out = Vec::new();
        for p in paths {
            if p.contains("://") || p == "-" {
                return Err(self.invalid(
                    p,
                    format!("{field}: `{p}` is not a file: manifests are read from files only"),
                    "save the manifest under fixtures/ and name it relative to the scenario file",
                ));
            }
            let resolved = resolve(&self.base, p);
            if !resolved.exists() {
                return Err(self.invalid(
                    p,
                    format!(
                        "{field}: `{p}` does not exist (looked for {})",
                        resolved.display()
                    ),
                    "paths in a scenario are relative to the scenario file's folder",
                ));
            }
            let loaded =
                manifest::load_paths(&[&resolved]).map_err(|source| ScenarioError::Manifest {
                    file: self.file.clone(),
                    field: field.to_string(),
                    source: Box::new(source),
                })?;
            out.extend(self.non_empty(field, p, loaded.resources)?);
        }
        Ok(out)
    }

    /// A manifest that yields no object is a mistake (an empty folder, a kind that is not modelled).
    fn non_empty(
        &self,
        field: &str,
        named: &str,
        resources: Vec<Resource>,
    ) -> Result<Vec<Resource>, ScenarioError> {
        if resources.is_empty() {
            return Err(self.invalid(
                named,
                format!(
                    "{field}: `{}` holds no object egressbench models",
                    first_line(named)
                ),
                "name a file or folder with at least one manifest of a modelled kind",
            ));
        }
        Ok(resources)
    }

    /// An error located at the first place the scenario's text mentions `needle`.
    fn invalid(&self, needle: &str, message: String, help: &str) -> ScenarioError {
        ScenarioError::Invalid {
            at: At {
                file: self.file.clone(),
                position: position_of(self.text, first_line(needle)),
            },
            message,
            help: Some(help.to_string()),
        }
    }
}

/// The one workload `kubectl logs -l SELECTOR` reads.
fn one_workload(mut found: Vec<WorkloadRef>) -> Result<WorkloadRef, String> {
    if found.len() > 1 {
        let names: Vec<String> = found.iter().map(ToString::to_string).collect();
        return Err(format!(
            "the selector matches the pods of several Deployments ({}); kubectl would interleave \
             their logs, which is not replayed: select one",
            names.join(", ")
        ));
    }
    Ok(found.remove(0))
}

/// The sidecar's container name.
const PROXY_CONTAINER: &str = "istio-proxy";

/// `kubectl apply -n NS`: objects whose manifest names no namespace go to `NS`.
fn in_namespace(mut resources: Vec<Resource>, namespace: Option<&str>) -> Vec<Resource> {
    if let Some(ns) = namespace {
        for r in &mut resources {
            if r.kind().namespaced() && r.meta.namespace.is_none() {
                r.meta.namespace = Some(ns.to_string());
            }
        }
    }
    resources
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

/// Line and column (1-based) of the first occurrence of `needle` in `text`.
fn position_of(text: &str, needle: &str) -> Option<(usize, usize)> {
    if needle.is_empty() {
        return None;
    }
    let at = text.find(needle)?;
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Some((line, column))
}

/// `base/p`, with `.` and `dir/..` removed so paths read well in messages.
fn resolve(base: &Path, p: &str) -> PathBuf {
    let joined = base.join(p);
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use egressbench_text::Diagnostic as _;

    const SA: &str = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: sleep}\n";
    const NS: &str = "apiVersion: v1\nkind: Namespace\nmetadata: {name: mytest}\n";

    /// A temporary folder, removed when dropped (also when a test fails).
    struct Tree(PathBuf);

    impl std::ops::Deref for Tree {
        type Target = Path;
        fn deref(&self) -> &Path {
            &self.0
        }
    }

    impl AsRef<Path> for Tree {
        fn as_ref(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Tree {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// A folder holding `fixtures/sa.yaml`, `fixtures/ns.yaml`, an empty `fixtures/empty/` and a
    /// `scenarios/` folder for the scenario under test.
    fn tree(name: &str) -> Tree {
        let dir =
            std::env::temp_dir().join(format!("egressbench-load-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("fixtures/empty")).unwrap();
        std::fs::create_dir_all(dir.join("scenarios")).unwrap();
        std::fs::write(dir.join("fixtures/sa.yaml"), SA).unwrap();
        std::fs::write(dir.join("fixtures/ns.yaml"), NS).unwrap();
        Tree(dir)
    }

    fn load(dir: &Path, steps: &str) -> Result<Scenario, ScenarioError> {
        let text = format!(
            "name: n\nsource: {{document: d}}\nmanifests: [../fixtures/ns.yaml]\nsteps:\n{steps}"
        );
        let file = dir.join("scenarios/s.yaml");
        std::fs::write(&file, &text).unwrap();
        load_scenario(&file)
    }

    fn ids(action: &Action) -> Vec<String> {
        match action {
            Action::Apply(rs) => rs.iter().map(|r| r.id().to_string()).collect(),
            Action::Delete(ids) => ids.iter().map(ToString::to_string).collect(),
            other => vec![other.key().to_string()],
        }
    }

    #[test]
    fn steps_become_actions_with_paths_relative_to_the_scenario() {
        let dir = tree("actions");
        let s = load(
            &dir,
            "  - kubectl: kubectl apply -n mytest -f ../fixtures/sa.yaml\n\
             \x20 - apply: [../fixtures/sa.yaml, ../fixtures/ns.yaml]\n\
             \x20 - apply: {inline: \"apiVersion: v1\\nkind: ServiceAccount\\nmetadata: {name: inline, namespace: x}\\n\"}\n\
             \x20 - kubectl: kubectl delete -n mytest -f ../fixtures/sa.yaml\n\
             \x20 - kubectl: kubectl -n istio-egress delete serviceentry a b\n\
             \x20 - delete: ../fixtures/ns.yaml\n\
             \x20 - kubectl: kubectl -n default logs deployment/nginx -c istio-proxy --tail=1\n\
             \x20 - kubectl: kubectl -n mytest exec deploy/sleep -- curl -s http://httpbin.org/get\n",
        )
        .unwrap();
        assert_eq!(s.slug, "s");
        assert_eq!(s.setup.len(), 1);
        assert_eq!(s.setup[0].id().to_string(), "Namespace/mytest");
        let all: Vec<Vec<String>> = s.steps.iter().map(|st| ids(&st.action)).collect();
        assert_eq!(
            all[0],
            ["ServiceAccount/mytest/sleep"],
            "-n applies to objects without a namespace"
        );
        assert_eq!(all[1], ["ServiceAccount/default/sleep", "Namespace/mytest"]);
        assert_eq!(all[2], ["ServiceAccount/x/inline"]);
        assert_eq!(all[3], ["ServiceAccount/mytest/sleep"]);
        assert_eq!(
            all[4],
            ["ServiceEntry/istio-egress/a", "ServiceEntry/istio-egress/b"]
        );
        assert_eq!(all[5], ["Namespace/mytest"]);
        assert!(
            matches!(&s.steps[6].action, Action::Logs { from, tail: Some(1) } if from.to_string() == "default/nginx")
        );
        let Action::Exec { from, command } = &s.steps[7].action else {
            panic!("expected an exec step");
        };
        assert_eq!(from.to_string(), "mytest/sleep");
        assert_eq!(command.requests()[0].url(), "http://httpbin.org/get");
        assert_eq!(
            s.steps[7].command,
            "kubectl -n mytest exec deploy/sleep -- curl -s http://httpbin.org/get"
        );
        assert_eq!(
            s.steps[1].command,
            "apply: ../fixtures/sa.yaml, ../fixtures/ns.yaml"
        );
        assert_eq!(s.steps[7].index, 8);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn what_a_scenario_names_must_exist_and_hold_objects() {
        let dir = tree("missing");
        let err = load(&dir, "  - apply: ../fixtures/nope.yaml\n").unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(
                "scenarios/s.yaml:5:12: steps[0].apply: `../fixtures/nope.yaml` does not exist"
            ),
            "{text}"
        );
        assert!(
            text.ends_with("fixtures/nope.yaml)") && !text.contains("/../"),
            "{text}"
        );
        let err = load(&dir, "  - apply: ../fixtures/empty\n").unwrap_err();
        assert!(
            err.to_string()
                .contains("holds no object egressbench models"),
            "{err}"
        );
        let err = load(
            &dir,
            "  - kubectl: kubectl apply -f https://example.com/x.yaml\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("is not a file"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn bad_manifests_keep_their_own_location() {
        let dir = tree("badmanifest");
        std::fs::write(
            dir.join("fixtures/bad.yaml"),
            "apiVersion: v1\nkind: ServiceAccount\nmetadata: {nme: x}\n",
        )
        .unwrap();
        let err = load(&dir, "  - apply: ../fixtures/bad.yaml\n").unwrap_err();
        let ScenarioError::Manifest { field, source, .. } = &err else {
            panic!("expected a manifest error, got {err}");
        };
        assert_eq!(field, "steps[0].apply");
        assert!(
            source.file.ends_with("fixtures/bad.yaml"),
            "{}",
            source.file
        );
        assert_eq!(source.line, 3);
        assert!(
            err.to_string().contains("(read for `steps[0].apply` of "),
            "{err}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn commands_the_targets_cannot_carry_out_are_refused() {
        let dir = tree("containers");
        let err = load(
            &dir,
            "  - kubectl: kubectl -n default logs deployment/nginx -c nginx\n",
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("the logs of container `nginx` are not modelled"),
            "{err}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_command_in_the_proxy_container_is_marked_uncaptured() {
        let dir = tree("proxy-container");
        let s = load(
            &dir,
            "  - kubectl: kubectl -n default exec deployment/nginx -c istio-proxy -- curl http://x; curl -L http://y\n\
             \x20 - kubectl: kubectl -n default exec deployment/nginx -c nginx -- curl http://x\n",
        )
        .unwrap();
        let uncaptured = |i: usize| match &s.steps[i].action {
            Action::Exec { command, .. } => command
                .requests()
                .iter()
                .map(|r| r.from_proxy_container)
                .collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        assert_eq!(uncaptured(0), [true, true]);
        assert_eq!(uncaptured(1), [false]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn unreadable_files_are_named() {
        let err = load_scenario(Path::new("no/such/scenario.yaml")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("no/such/scenario.yaml: cannot read the scenario file"),
            "{err}"
        );
        assert!(matches!(err, ScenarioError::Read { .. }));
    }

    #[test]
    fn paths_resolve_against_the_scenario_folder() {
        assert_eq!(
            resolve(Path::new("scenarios"), "../fixtures/000/x.yaml"),
            PathBuf::from("fixtures/000/x.yaml")
        );
        assert_eq!(
            resolve(Path::new(""), "./a/b.yaml"),
            PathBuf::from("a/b.yaml")
        );
        assert_eq!(
            resolve(Path::new("/s"), "/abs/x.yaml"),
            PathBuf::from("/abs/x.yaml")
        );
        assert_eq!(
            resolve(Path::new(""), "../x.yaml"),
            PathBuf::from("../x.yaml")
        );
    }

    #[test]
    fn positions_are_one_based() {
        let text = "name: a\nsteps:\n  - apply: x.yaml\n";
        assert_eq!(position_of(text, "x.yaml"), Some((3, 12)));
        assert_eq!(position_of(text, "name"), Some((1, 1)));
        assert_eq!(position_of(text, "nowhere"), None);
    }

    #[test]
    fn an_unquoted_colon_in_a_command_is_a_yaml_error_with_its_fix() {
        let dir = tree("colon");
        let e = load(
            &dir,
            "  - kubectl: kubectl -n a exec deploy/b -- curl -H \"Host: x\" http://y\n    expect: {status: 200}\n",
        )
        .unwrap_err();
        let text = e.to_string();
        assert!(text.contains("s.yaml:5:"), "{text}");
        assert!(text.contains("mapping values are not allowed"), "{text}");
        assert!(
            e.help().is_some_and(|h| h.contains("single quotes")),
            "{e:?}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    const SLEEP: &str = "{inline: \"apiVersion: apps/v1\\nkind: Deployment\\nmetadata: {name: sleep, namespace: default}\\nspec:\\n  template:\\n    metadata: {labels: {app: sleep}}\\n    spec: {containers: [{name: sleep, image: curl}]}\\n\"}";

    #[test]
    fn exports_set_variables_for_the_steps_after_them() {
        let dir = tree("export");
        let pod = egressbench_resources::kube::pod_name("default", "sleep");
        let s = load(
            &dir,
            &format!(
                "  - apply: {SLEEP}\n\
                 \x20 - kubectl: export SOURCE_POD=$(kubectl get pod -l app=sleep -o jsonpath={{.items..metadata.name}})\n\
                 \x20 - kubectl: kubectl exec \"$SOURCE_POD\" -c sleep -- curl -s http://$HOST/x\n\
                 \x20 - kubectl: kubectl logs {pod} -c istio-proxy\n\
                 \x20 - kubectl: kubectl exec sleep-5d8f7c9b6-bcdfg -- curl -s http://a/\n\
                 \x20 - exec: {{from: default/sleep, command: 'curl -s http://$HOST/y'}}\n\
                 \x20 - kubectl: kubectl exec \"$(kubectl get pod -l app=sleep -o jsonpath={{.items..metadata.name}})\" -- curl -s http://a/\n\
                 vars: {{HOST: httpbin.org}}\n"
            ),
        )
        .unwrap();
        let Action::Export { name, value } = &s.steps[1].action else {
            panic!("expected an export: {:?}", s.steps[1].action);
        };
        assert_eq!(
            (name.as_str(), value.as_str()),
            ("SOURCE_POD", pod.as_str())
        );
        let Action::Exec { from, command } = &s.steps[2].action else {
            panic!("expected an exec step");
        };
        assert_eq!(
            from.to_string(),
            "default/sleep",
            "the pod is read as its Deployment"
        );
        assert_eq!(command.requests()[0].url(), "http://httpbin.org/x");
        assert!(
            matches!(&s.steps[3].action, Action::Logs { from, .. } if from.to_string() == "default/sleep")
        );
        assert!(
            matches!(&s.steps[4].action, Action::Exec { from, .. } if from.to_string() == "default/sleep")
        );
        let Action::Exec { command, .. } = &s.steps[5].action else {
            panic!("expected an exec step");
        };
        assert_eq!(command.requests()[0].url(), "http://httpbin.org/y");
        assert!(
            matches!(&s.steps[6].action, Action::Exec { from, .. } if from.to_string() == "default/sleep"),
            "a pod lookup in the exec target names the Deployment's pod"
        );
    }

    #[test]
    fn unset_variables_and_unmatched_pods_are_located_errors() {
        let dir = tree("unset");
        let e = load(
            &dir,
            "  - kubectl: kubectl exec deploy/sleep -- curl -s http://$NOPE/\n",
        )
        .unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("s.yaml:5:") && text.contains("`$NOPE` is not set"),
            "{text}"
        );
        let e = load(
            &dir,
            &format!(
                "  - apply: {SLEEP}\n\
                 \x20 - kubectl: export P=$(kubectl get pod -n default -l app=curl -o jsonpath={{.items..metadata.name}})\n"
            ),
        )
        .unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("no pod in namespace `default` has the labels app=curl"),
            "{text}"
        );
        assert!(text.contains("sleep (app=sleep)"), "{text}");
        let e = load(&dir, "  - kubectl: export A=x\n    expect: {status: 200}\n").unwrap_err();
        assert!(e.to_string().contains("an export step"), "{e}");
        let e = load(
            &dir,
            "  - kubectl: kubectl exec deploy/sleep -- curl -s http://a/\nvars: {1A: x}\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("not a variable name"), "{e}");
    }

    #[test]
    fn containers_are_checked_and_deleted_deployments_have_no_pods() {
        let dir = tree("containers-check");
        let e = load(
            &dir,
            &format!("  - apply: {SLEEP}\n  - kubectl: kubectl exec deploy/sleep -c nginx -- curl -s http://a/\n"),
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("no container `nginx`; its containers are sleep"),
            "{e}"
        );
        let e = load(
            &dir,
            &format!(
                "  - apply: {SLEEP}\n  - delete: {{kind: Deployment, namespace: default, name: sleep}}\n  - kubectl: export P=$(kubectl get pod -l app=sleep -o jsonpath={{.items..metadata.name}})\n"
            ),
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("no pod in namespace `default`"),
            "{e}"
        );
    }

    #[test]
    fn logs_without_c_read_the_application_container_except_on_a_gateway() {
        let dir = tree("logs-default");
        let e = load(
            &dir,
            &format!("  - apply: {SLEEP}\n  - kubectl: kubectl logs deploy/sleep --tail=1\n"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("default container `sleep`"), "{e}");
        assert!(
            e.help().is_some_and(|h| h.contains("-c istio-proxy")),
            "{e:?}"
        );
        load(
            &dir,
            &format!("  - apply: {SLEEP}\n  - kubectl: kubectl logs deploy/sleep -c istio-proxy --tail=1\n"),
        )
        .unwrap();
    }
}

#[cfg(test)]
mod expand_tests {
    use super::*;

    #[test]
    fn set_variables_expand_and_others_stay() {
        let mut env = Env::default();
        env.set("PROXY_IP", "10.244.78.101");
        env.set("PROXY_PORT", "3128");
        assert_eq!(
            expand_set_variables(
                "- $PROXY_IP/32\nnumber: ${PROXY_PORT}\nregex: ^a$ $UNSET",
                &env
            ),
            "- 10.244.78.101/32\nnumber: 3128\nregex: ^a$ $UNSET"
        );
    }
}
