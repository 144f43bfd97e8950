//! The scenario file, as written: its strict shape, one action per step, and which expectations
//! each kind of step can check.
//!
//! Owns: `ScenarioFile`, `Source`, `StepSpec` and `ActionSpec` (with `kubectl` and `exec` command
//! lines parsed where they are read, so a bad one is reported at its line and column). Leaves out:
//! resolving paths and loading manifests (`load`), the expectation types (`expectation`) and the
//! command-line grammar itself (`command`).

use super::command::{self, Env, LineKind};
use super::de::{checked_map, parsed_str, with_help};
use super::expectation::{AccessLogExpect, Expect};
use super::hosts::HostSpec;
use egressbench_model::request::WorkloadRef;
use egressbench_resources::{Kind, OutboundMode};
use egressbench_text::suggest::closest;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A whole scenario file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// What the scenario shows, as a sentence.
    pub name: String,
    pub source: Source,
    /// Applied in order before step 1; relative to the scenario file; files or folders.
    #[serde(default)]
    pub manifests: Vec<String>,
    #[serde(default)]
    pub hosts: Vec<HostSpec>,
    /// Shell variables set before step 1 (`INGRESS_HOST: 10.96.0.50`), for `$NAME` in commands.
    #[serde(default, deserialize_with = "variables")]
    pub vars: Vec<(String, String)>,
    #[serde(deserialize_with = "non_empty_steps")]
    pub steps: Vec<StepSpec>,
}

/// The public document a scenario replays.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub document: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// One step as written.
#[derive(Debug, Clone)]
pub struct StepSpec {
    pub name: Option<String>,
    pub action: ActionSpec,
    pub expect: Expect,
    /// What the document says against what the mesh does; reported, never checked.
    pub discrepancy: Option<String>,
    /// When this step does not pass, the steps after it are not run (the state they assume is
    /// not there).
    pub precondition: bool,
}

/// The one action of a step.
#[derive(Debug, Clone)]
pub enum ActionSpec {
    /// `kubectl: kubectl ...` (or `export NAME=…`): its kind read now, the whole line when the
    /// scenario is loaded, with the variables set by the steps before it.
    Kubectl { line: String, kind: LineKind },
    /// `apply: path | [paths] | {inline: yaml}`.
    Apply(ManifestSpec),
    /// `delete: {kind, namespace, name}`, or (an extension) the objects of files named as `apply:`
    /// names them.
    Delete(DeleteSpec),
    /// `exec: {from: namespace/deployment, command: curl ...}`; the command is read when the
    /// scenario is loaded, with the variables set by then.
    Exec { from: WorkloadRef, line: String },
    /// `logs: {from: namespace/deployment, tail: 1}`.
    Logs {
        from: WorkloadRef,
        tail: Option<usize>,
    },
    /// `mesh: {outboundTrafficPolicy: ALLOW_ANY}`.
    Mesh {
        outbound_traffic_policy: OutboundMode,
    },
}

/// What kind of thing a step does, which decides what it can expect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    /// A command in a workload: client output, response, access logs.
    Exec,
    /// A proxy's access log.
    Logs,
    /// A change to the cluster (apply, delete): it succeeds, or fails with a message.
    Change,
    /// A change to the mesh config; nothing to expect beyond it taking effect.
    Mesh,
    /// `export NAME=…`: sets a variable; nothing to expect.
    Export,
    /// `openssl …`, `cat <<EOF > FILE`: makes files on the workstation; nothing to expect.
    Workstation,
    /// `istioctl proxy-config …`, `kubectl get pod …`: what it prints.
    Printed,
}

impl StepKind {
    /// The `expect:` keys this kind of step can check.
    pub fn allowed_keys(self) -> &'static [&'static str] {
        match self {
            StepKind::Exec => &[
                "stdout",
                "stdout_contains",
                "stdout_not_contains",
                "stderr_contains",
                "stderr_not_contains",
                "exit_code",
                "status",
                "connection",
                "body_contains",
                "body_not_contains",
                "json",
                "access_log",
                "any_of",
                "duration",
                "received",
                "metrics",
            ],
            StepKind::Logs => &["access_log"],
            StepKind::Printed => &[
                "stdout",
                "stdout_contains",
                "stdout_not_contains",
                "exit_code",
                "metrics",
            ],
            StepKind::Change => &["error_contains"],
            StepKind::Mesh | StepKind::Export | StepKind::Workstation => &[],
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            StepKind::Exec => "an exec step",
            StepKind::Logs => "a logs step",
            StepKind::Change => "an apply or delete step",
            StepKind::Mesh => "a mesh step",
            StepKind::Export => "an export step",
            StepKind::Workstation => "a workstation step (openssl, cat)",
            StepKind::Printed => "an istioctl or kubectl get step",
        }
    }
}

impl ActionSpec {
    pub fn kind(&self) -> StepKind {
        match self {
            ActionSpec::Kubectl { kind, .. } => match kind {
                LineKind::Change => StepKind::Change,
                LineKind::Exec => StepKind::Exec,
                LineKind::Logs => StepKind::Logs,
                LineKind::Export => StepKind::Export,
                LineKind::Workstation => StepKind::Workstation,
                LineKind::Istioctl | LineKind::Get => StepKind::Printed,
            },
            ActionSpec::Apply(_) | ActionSpec::Delete(_) => StepKind::Change,
            ActionSpec::Exec { .. } => StepKind::Exec,
            ActionSpec::Logs { .. } => StepKind::Logs,
            ActionSpec::Mesh { .. } => StepKind::Mesh,
        }
    }

    /// The action's key in the file.
    pub fn key(&self) -> &'static str {
        match self {
            ActionSpec::Kubectl { .. } => "kubectl",
            ActionSpec::Apply(_) => "apply",
            ActionSpec::Delete(_) => "delete",
            ActionSpec::Exec { .. } => "exec",
            ActionSpec::Logs { .. } => "logs",
            ActionSpec::Mesh { .. } => "mesh",
        }
    }
}

/// Manifests named by a step: paths relative to the scenario file, or YAML written in place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestSpec {
    Paths(Vec<String>),
    Inline(String),
}

/// What a `delete:` step removes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeleteSpec {
    Object {
        kind: Kind,
        namespace: String,
        name: String,
    },
    Paths(Vec<String>),
}

const ACTIONS: [&str; 6] = ["kubectl", "apply", "delete", "exec", "logs", "mesh"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    #[serde(default)]
    name: Option<String>,
    #[serde(default, deserialize_with = "kubectl_line")]
    kubectl: Option<(String, LineKind)>,
    #[serde(default)]
    apply: Option<ManifestSpec>,
    #[serde(default)]
    delete: Option<DeleteSpec>,
    #[serde(default)]
    exec: Option<RawExec>,
    #[serde(default)]
    logs: Option<RawLogs>,
    #[serde(default)]
    mesh: Option<RawMesh>,
    #[serde(default)]
    expect: Option<Expect>,
    #[serde(default)]
    discrepancy: Option<String>,
    #[serde(default)]
    precondition: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExec {
    #[serde(deserialize_with = "workload")]
    from: WorkloadRef,
    #[serde(deserialize_with = "exec_line")]
    command: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLogs {
    #[serde(deserialize_with = "workload")]
    from: WorkloadRef,
    #[serde(default)]
    tail: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawMesh {
    outbound_traffic_policy: OutboundMode,
}

fn step(raw: RawStep) -> Result<StepSpec, String> {
    let mut actions: Vec<ActionSpec> = Vec::new();
    if let Some((line, kind)) = raw.kubectl {
        actions.push(ActionSpec::Kubectl { line, kind });
    }
    if let Some(a) = raw.apply {
        actions.push(ActionSpec::Apply(a));
    }
    if let Some(d) = raw.delete {
        actions.push(ActionSpec::Delete(d));
    }
    if let Some(e) = raw.exec {
        actions.push(ActionSpec::Exec {
            from: e.from,
            line: e.command,
        });
    }
    if let Some(l) = raw.logs {
        actions.push(ActionSpec::Logs {
            from: l.from,
            tail: l.tail,
        });
    }
    if let Some(m) = raw.mesh {
        actions.push(ActionSpec::Mesh {
            outbound_traffic_policy: m.outbound_traffic_policy,
        });
    }
    let action = match actions.len() {
        1 => actions.remove(0),
        0 => {
            return Err(with_help(
                "the step has no action",
                format!("give it exactly one of {}", quoted(&ACTIONS)),
            ))
        }
        _ => {
            let keys: Vec<&str> = actions.iter().map(ActionSpec::key).collect();
            return Err(with_help(
                format!("the step has {} actions ({})", keys.len(), quoted(&keys)),
                "split it into one step per action",
            ));
        }
    };
    let expect = raw.expect.unwrap_or_default();
    check_expectations_fit(&action, &expect)?;
    Ok(StepSpec {
        name: raw.name,
        precondition: raw.precondition,
        action,
        expect,
        discrepancy: raw.discrepancy,
    })
}

/// Each kind of step can only observe some things: a logs step has no HTTP status, an apply step
/// has no stdout. An expectation it cannot observe is a mistake in the file, not a failure.
fn check_expectations_fit(action: &ActionSpec, expect: &Expect) -> Result<(), String> {
    for alternative in &expect.any_of {
        if alternative.keys().is_empty() {
            return Err(with_help(
                "an alternative of `expect.any_of` expects nothing, so it would always hold",
                "give each alternative at least one expectation, e.g. `{status: 502}`",
            ));
        }
        if !alternative.metrics.is_empty() {
            return Err(with_help(
                "`expect.metrics` inside `any_of` is not supported",
                "check metrics beside `any_of`, in the step's own `expect`",
            ));
        }
        if !alternative.any_of.is_empty() {
            return Err(with_help(
                "`expect.any_of` inside `any_of` is not supported",
                "list every alternative in one `any_of`",
            ));
        }
        check_expectations_fit(action, alternative)?;
    }
    let kind = action.kind();
    let allowed = kind.allowed_keys();
    if let Some(bad) = expect.keys().into_iter().find(|k| !allowed.contains(k)) {
        let fix = if allowed.is_empty() {
            format!("remove `expect:` from this `{}` step", action.key())
        } else {
            format!("{} can expect {}", kind.describe(), quoted(allowed))
        };
        return Err(with_help(
            format!(
                "`expect.{bad}` does not apply to {} (`{}`)",
                kind.describe(),
                action.key()
            ),
            fix,
        ));
    }
    match (&expect.access_log, kind) {
        (Some(AccessLogExpect::Fields(_)), StepKind::Exec) => Err(with_help(
            "`expect.access_log` on an exec step must name the proxy's entry to check",
            "write `access_log: {proxy: namespace/workload, fields: {...}}` (without `proxy`, the \
             sidecar of the workload the command runs in)",
        )),
        (Some(AccessLogExpect::Proxies(_)), StepKind::Logs) => Err(with_help(
            "`expect.access_log` on a logs step checks the last entry shown, so it takes fields only",
            "write the fields directly, e.g. `access_log: {upstream_cluster: BlackHoleCluster}`",
        )),
        _ => Ok(()),
    }
}

impl<'de> Deserialize<'de> for StepSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked_map(
            d,
            "a step: a map with one of kubectl, apply, delete, exec, logs, mesh",
            step,
        )
    }
}

fn non_empty_steps<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<StepSpec>, D::Error> {
    struct Steps;
    impl<'de> Visitor<'de> for Steps {
        type Value = Vec<StepSpec>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a list of steps")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<StepSpec>, A::Error> {
            let mut steps = Vec::new();
            while let Some(s) = seq.next_element()? {
                steps.push(s);
            }
            if steps.is_empty() {
                return Err(de::Error::custom(with_help(
                    "`steps` is empty, so the scenario could never fail",
                    "add at least one step with an `expect:`",
                )));
            }
            Ok(steps)
        }
    }
    d.deserialize_seq(Steps)
}

const COMMAND_HELP: &str =
    "write the command line as the document prints it, within what the bench replays (the message says what that is)";

fn kubectl_line<'de, D: Deserializer<'de>>(d: D) -> Result<Option<(String, LineKind)>, D::Error> {
    parsed_str(d, "a kubectl command line", |line| {
        command::line_kind(line)
            .map(|kind| Some((line.to_string(), kind)))
            .map_err(|e| with_help(e, COMMAND_HELP))
    })
}

fn exec_line<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    parsed_str(
        d,
        "a command line, e.g. `curl -s http://httpbin.org/get`",
        |line| {
            command::parse_exec(line, &Env::lenient())
                .map(|_| line.to_string())
                .or_else(|e| match e {
                    // Read again once the variables are known.
                    _ if line.contains('$') => Ok(line.to_string()),
                    e => Err(format!("`exec.command`: {e}")),
                })
        },
    )
}

fn variables<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, String)>, D::Error> {
    let map = std::collections::BTreeMap::<String, super::de::Scalar>::deserialize(d)?;
    map.into_iter()
        .map(|(name, value)| {
            if command::is_name(&name) {
                Ok((name, value.0))
            } else {
                Err(de::Error::custom(with_help(
                    format!("`vars`: `{name}` is not a variable name"),
                    "use letters, digits and `_`, not starting with a digit, e.g. INGRESS_HOST",
                )))
            }
        })
        .collect()
}

fn workload<'de, D: Deserializer<'de>>(d: D) -> Result<WorkloadRef, D::Error> {
    parsed_str(d, "`namespace/deployment`", |s| {
        WorkloadRef::parse(s).ok_or_else(|| {
            with_help(
                format!("expected a workload as `namespace/deployment`, got `{s}`"),
                "name the Deployment with its namespace, e.g. `mytest/sleep-a`",
            )
        })
    })
}

impl<'de> Deserialize<'de> for ManifestSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ManifestVisitor;
        impl<'de> Visitor<'de> for ManifestVisitor {
            type Value = ManifestSpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a path, a list of paths, or `{inline: \"<yaml>\"}`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ManifestSpec, E> {
                Ok(ManifestSpec::Paths(vec![v.to_string()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<ManifestSpec, A::Error> {
                path_list(seq).map(ManifestSpec::Paths)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ManifestSpec, A::Error> {
                #[derive(Deserialize)]
                #[serde(deny_unknown_fields)]
                struct Inline {
                    inline: String,
                }
                let i = Inline::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(ManifestSpec::Inline(i.inline))
            }
        }
        d.deserialize_any(ManifestVisitor)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDeleteObject {
    kind: String,
    #[serde(default)]
    namespace: Option<String>,
    name: String,
}

fn delete_object(raw: RawDeleteObject) -> Result<DeleteSpec, String> {
    let kind = Kind::parse_loose(&raw.kind).ok_or_else(|| {
        let words: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
        let fix = match closest(&raw.kind, words.iter().copied()) {
            Some(best) => format!("did you mean `{best}`?"),
            None => format!("use one of {}", quoted(&words)),
        };
        with_help(format!("`delete.kind`: unknown kind `{}`", raw.kind), fix)
    })?;
    let namespace = if kind.namespaced() {
        raw.namespace.unwrap_or_else(|| "default".to_string())
    } else {
        String::new()
    };
    Ok(DeleteSpec::Object {
        kind,
        namespace,
        name: raw.name,
    })
}

impl<'de> Deserialize<'de> for DeleteSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct DeleteVisitor;
        impl<'de> Visitor<'de> for DeleteVisitor {
            type Value = DeleteSpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("`{kind, namespace, name}`, a path, or a list of paths")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<DeleteSpec, E> {
                Ok(DeleteSpec::Paths(vec![v.to_string()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<DeleteSpec, A::Error> {
                path_list(seq).map(DeleteSpec::Paths)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<DeleteSpec, A::Error> {
                let raw = RawDeleteObject::deserialize(de::value::MapAccessDeserializer::new(map))?;
                delete_object(raw).map_err(de::Error::custom)
            }
        }
        d.deserialize_any(DeleteVisitor)
    }
}

/// A non-empty list of paths.
fn path_list<'de, A: SeqAccess<'de>>(seq: A) -> Result<Vec<String>, A::Error> {
    let paths = Vec::<String>::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
    if paths.is_empty() {
        return Err(de::Error::custom(with_help(
            "the list of paths is empty",
            "name at least one file or folder",
        )));
    }
    Ok(paths)
}

/// `` `a`, `b`, `c` ``.
fn quoted(words: &[&str]) -> String {
    words
        .iter()
        .map(|w| format!("`{w}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{from_yaml, ScenarioError};
    use egressbench_text::Diagnostic as _;

    const HEAD: &str = "name: a scenario\nsource: {document: seed 000}\nsteps:\n";

    fn parse(steps: &str) -> Result<ScenarioFile, ScenarioError> {
        let text = format!("{HEAD}{steps}");
        serde_yaml::from_str(&text).map_err(|e| from_yaml("s.yaml", &e))
    }

    /// `(file:line:column: message, help)` of a failed parse.
    fn error(steps: &str) -> (String, String) {
        match parse(steps) {
            Ok(_) => panic!("expected an error for {steps}"),
            Err(e) => (e.to_string(), e.help().unwrap_or_default()),
        }
    }

    #[test]
    fn structured_actions_read_into_their_variants() {
        let file = parse(
            "  - apply: ../fixtures/a.yaml\n\
             \x20 - apply: [a.yaml, b/]\n\
             \x20 - apply: {inline: \"kind: Namespace\"}\n\
             \x20 - delete: {kind: serviceentries, namespace: istio-egress, name: httpbin}\n\
             \x20 - delete: {kind: Namespace, name: mytest}\n\
             \x20 - delete: ../fixtures/a.yaml\n\
             \x20 - logs: {from: default/nginx, tail: 1}\n\
             \x20   expect: {access_log: {upstream_cluster: BlackHoleCluster}}\n\
             \x20 - name: open up\n\
             \x20   mesh: {outboundTrafficPolicy: ALLOW_ANY}\n\
             \x20   discrepancy: the document says otherwise\n",
        )
        .unwrap();
        let a: Vec<&ActionSpec> = file.steps.iter().map(|s| &s.action).collect();
        assert!(
            matches!(a[0], ActionSpec::Apply(ManifestSpec::Paths(p)) if p == &["../fixtures/a.yaml"])
        );
        assert!(matches!(a[1], ActionSpec::Apply(ManifestSpec::Paths(p)) if p.len() == 2));
        assert!(
            matches!(a[2], ActionSpec::Apply(ManifestSpec::Inline(y)) if y == "kind: Namespace")
        );
        assert_eq!(
            delete_of(a[3]),
            Some(DeleteSpec::Object {
                kind: Kind::ServiceEntry,
                namespace: "istio-egress".into(),
                name: "httpbin".into()
            })
        );
        assert_eq!(
            delete_of(a[4]),
            Some(DeleteSpec::Object {
                kind: Kind::Namespace,
                namespace: String::new(),
                name: "mytest".into()
            })
        );
        assert_eq!(
            delete_of(a[5]),
            Some(DeleteSpec::Paths(vec!["../fixtures/a.yaml".into()]))
        );
        assert!(
            matches!(a[6], ActionSpec::Logs { from, tail: Some(1) } if from.to_string() == "default/nginx")
        );
        assert_eq!(a[6].kind(), StepKind::Logs);
        assert!(matches!(
            a[7],
            ActionSpec::Mesh {
                outbound_traffic_policy: OutboundMode::AllowAny
            }
        ));
        assert_eq!(file.steps[7].name.as_deref(), Some("open up"));
        assert_eq!(
            file.steps[7].discrepancy.as_deref(),
            Some("the document says otherwise")
        );
    }

    fn delete_of(a: &ActionSpec) -> Option<DeleteSpec> {
        match a {
            ActionSpec::Delete(d) => Some(d.clone()),
            _ => None,
        }
    }

    #[test]
    fn a_step_has_exactly_one_action() {
        let (msg, help) = error("  - name: nothing\n");
        assert_eq!(msg, "s.yaml:4:5: steps[0]: the step has no action");
        assert!(help.contains("`kubectl`, `apply`"), "{help}");
        let (msg, help) =
            error("  - apply: a.yaml\n    mesh: {outboundTrafficPolicy: ALLOW_ANY}\n");
        assert_eq!(
            msg,
            "s.yaml:4:5: steps[0]: the step has 2 actions (`apply`, `mesh`)"
        );
        assert_eq!(help, "split it into one step per action");
    }

    #[test]
    fn expectations_must_suit_the_step() {
        let (msg, help) = error("  - apply: a.yaml\n    expect: {status: 200}\n");
        assert!(
            msg.contains("`expect.status` does not apply to an apply or delete step (`apply`)"),
            "{msg}"
        );
        assert_eq!(help, "an apply or delete step can expect `error_contains`");
        let (msg, _) = error("  - logs: {from: default/nginx}\n    expect: {access_log: {proxy: default/nginx, fields: {response_code: 1}}}\n");
        assert!(msg.contains("takes fields only"), "{msg}");
        let (msg, help) = error(
            "  - mesh: {outboundTrafficPolicy: ALLOW_ANY}\n    expect: {error_contains: x}\n",
        );
        assert!(msg.contains("does not apply to a mesh step"), "{msg}");
        assert_eq!(help, "remove `expect:` from this `mesh` step");
    }

    #[test]
    fn errors_point_at_the_offending_value() {
        let (msg, help) = error("  - logs: {from: nginx}\n");
        assert_eq!(
            msg,
            "s.yaml:4:18: steps[0].logs.from: expected a workload as `namespace/deployment`, got `nginx`"
        );
        assert!(help.contains("mytest/sleep-a"), "{help}");
        let (msg, _) = error("  - mesh: {outboundTrafficPolicy: REGISTRY_ONL}\n");
        assert!(msg.contains("did you mean `REGISTRY_ONLY`"), "{msg}");
        let (msg, help) = error("  - kubectl: kubectl frobnicate the cluster\n");
        assert!(msg.starts_with("s.yaml:4:14: steps[0].kubectl: "), "{msg}");
        assert_eq!(help, COMMAND_HELP);
        let (msg, help) = error("  - delete: {kind: ServiceEntyr, name: x}\n");
        assert!(msg.contains("unknown kind `ServiceEntyr`"), "{msg}");
        assert_eq!(help, "did you mean `ServiceEntry`?");
        let (_, help) = error("  - apply: a.yaml\n    expcet: {}\n");
        assert_eq!(help, "did you mean `expect`?");
    }

    #[test]
    fn any_of_alternatives_fit_the_step_and_do_not_nest() {
        let (msg, help) = error(
            "  - exec: {from: default/nginx, command: curl -s http://a}\n    expect: {any_of: [{status: 200}, {error_contains: x}]}\n",
        );
        assert!(
            msg.contains("`expect.error_contains` does not apply to an exec step"),
            "{msg}"
        );
        assert!(help.contains("any_of"), "{help}");
        let (msg, _) = error(
            "  - exec: {from: default/nginx, command: curl -s http://a}\n    expect: {any_of: [{any_of: [{status: 200}]}]}\n",
        );
        assert!(msg.contains("`expect.any_of` inside `any_of`"), "{msg}");
        let (msg, _) = error(
            "  - exec: {from: default/nginx, command: curl -s http://a}\n    expect: {stdout_contains: []}\n",
        );
        assert!(msg.contains("expected at least one text"), "{msg}");
        let (msg, _) = error(
            "  - exec: {from: default/nginx, command: curl -s http://a}\n    expect: {any_of: []}\n",
        );
        assert!(msg.contains("expected at least one alternative"), "{msg}");
        let (msg, _) = error(
            "  - exec: {from: default/nginx, command: curl -s http://a}\n    expect: {any_of: [{status: 200}, {}]}\n",
        );
        assert!(
            msg.contains("expects nothing, so it would always hold"),
            "{msg}"
        );
    }

    #[test]
    fn files_are_strict_at_the_top_too() {
        let err =
            serde_yaml::from_str::<ScenarioFile>("name: x\nsource: {document: d}\nstep: []\n")
                .map_err(|e| from_yaml("s.yaml", &e))
                .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("s.yaml:3:1: unknown field `step`"),
            "{err}"
        );
        assert_eq!(err.help().as_deref(), Some("did you mean `steps`?"));
        let (msg, _) = match serde_yaml::from_str::<ScenarioFile>(
            "name: x\nsource: {document: d}\nsteps: []\n",
        ) {
            Ok(_) => panic!("empty steps must be refused"),
            Err(e) => {
                let e = from_yaml("s.yaml", &e);
                (e.to_string(), e.help())
            }
        };
        assert!(msg.contains("`steps` is empty"), "{msg}");
    }
}
