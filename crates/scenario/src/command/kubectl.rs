//! `kubectl` command lines as the documents write them (and the `export` and `istioctl` lines a
//! step's `kubectl:` key also takes).
//!
//! Owns: `KubectlCommand` and its parser: `apply -f FILE…`, `delete KIND NAME…` (also
//! `KIND/NAME…`, kubectl's short names such as `se` and `vs`), `delete -f FILE…`,
//! `exec [-it] TARGET [-c CONTAINER] -- COMMAND…` (the command after `--` read by `parse_exec`),
//! `logs [-f] TARGET|-l SELECTOR [-c CONTAINER] [--tail N] [| tail -n N]` and `get pod NAME|-l
//! SELECTOR -o jsonpath=…`, with `-n NS` / `--namespace[=]NS` before or after the verb, variables
//! set earlier expanded (`$SOURCE_POD`); `line_kind`, which tells a step's kind before its
//! variables are known; and, handed to their own modules, `export NAME=…` and `istioctl` lines.
//! Other verbs and flags are errors listing what is supported. Leaves out: running any of them
//! (the scenario runner does).

use super::env::Env;
use super::error::CommandError;
use super::export::{parse_export, Export};
use super::istioctl::{is_istioctl, parse_istioctl, IstioctlCommand};
use super::words::{tokenize, Operator, Token, TokenKind};
use super::{parse_exec, ExecCommand};
use egressbench_model::request::WorkloadRef;
use egressbench_resources::Kind;

/// A `kubectl` command line as the documents write it.
#[derive(Debug, Clone, PartialEq)]
pub enum KubectlCommand {
    /// `kubectl apply -f FILE…`; `namespace` is `-n`, for objects whose manifest names none.
    Apply {
        files: Vec<String>,
        namespace: Option<String>,
    },
    /// `kubectl apply -f - <<EOF` (or `cat <<EOF | kubectl apply -f -`) and the manifest up to
    /// `EOF`; `namespace` is `-n`.
    ApplyText {
        text: String,
        namespace: Option<String>,
        /// Whether the shell expands variables in the text: not after a quoted end word
        /// (`<<'EOF'`, `<<\EOF`).
        expands: bool,
    },
    /// `kubectl delete KIND NAME…`; `namespace` is `-n`, or `default`.
    Delete {
        kind: Kind,
        namespace: String,
        names: Vec<String>,
    },
    /// `kubectl delete -f FILE…`.
    DeleteFiles {
        files: Vec<String>,
        namespace: Option<String>,
    },
    /// `kubectl exec TARGET -- COMMAND…`; `container` is `-c` (the application container when
    /// absent; `istio-proxy` sends from the sidecar itself, outside its own interception).
    Exec {
        workload: WorkloadRef,
        container: Option<String>,
        command: ExecCommand,
    },
    /// `kubectl logs TARGET|-l SELECTOR [-c CONTAINER] [--tail N] [| tail [-n N]]` (`--tail=-1`
    /// means all lines: `None`; with `-l`, kubectl shows 10 lines unless told otherwise, and so
    /// does `| tail`).
    Logs {
        target: PodTarget,
        container: Option<String>,
        tail: Option<usize>,
    },
    /// `export NAME=VALUE`: not kubectl, but the line the documents write to name a pod.
    Export(Export),
    /// `istioctl proxy-config …`: not kubectl either, but a line the documents write.
    Istioctl(IstioctlCommand),
    /// `kubectl get pod NAME|-l SELECTOR -o jsonpath=…`: a field of pods.
    GetPods { target: PodTarget, field: PodField },
    /// `kubectl label namespace NAME KEY=VALUE… KEY-… [--overwrite]`: labels set (`Some`) or
    /// removed (`None`) on a namespace.
    Label {
        namespace: String,
        labels: Vec<(String, Option<String>)>,
        overwrite: bool,
    },
    /// `kubectl rollout restart deployment/NAME`, `kubectl delete pod NAME|-l SELECTOR`: the pods
    /// are created anew (and sidecar injection decided again).
    RecreatePods { target: PodTarget },
    /// `kubectl exec POD [-c istio-proxy] -- pilot-agent request GET stats` (or `curl
    /// localhost:15000/…`): a page of the pod's proxy's admin interface.
    Admin {
        workload: WorkloadRef,
        container: Option<String>,
        read: super::admin::AdminRead,
    },
    /// `kubectl exec SQUID_POD -- tail /var/log/squid/access.log`: a forward proxy's access log.
    ProxyLog {
        workload: WorkloadRef,
        read: super::proxy_log::ProxyLogRead,
    },
    /// `kubectl create namespace|secret|configmap …`.
    Create(super::create::CreateCommand),
    /// `openssl …` or `cat <<EOF > FILE`: not kubectl, but the lines that make the files a
    /// `kubectl create secret` hands to the cluster.
    Workstation(super::workstation::WorkstationCommand),
    /// `curl …` (also `time curl …`, lists and pipelines of them) run on the workstation itself,
    /// outside the cluster: the documents' `curl … "http://$INGRESS_HOST:$INGRESS_PORT/…"`.
    Local(ExecCommand),
}

/// What `kubectl get pod -o jsonpath=…` prints of the pods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodField {
    /// `{.items..metadata.name}` (all, space-separated) or `{.items[0].metadata.name}`; of one
    /// pod, `{.metadata.name}`.
    Names { first_only: bool },
    /// `{.items..status.podIP}` (also `{.items..podIP}`, as Istio's tasks write it) or
    /// `{.items[0].status.podIP}`; of one pod, `{.status.podIP}`.
    Addresses { first_only: bool },
    /// `{.spec.containers[*].name}`: the pod's containers, `istio-proxy` among them when a
    /// sidecar was injected.
    Containers,
}

/// Which pods a command names (`kubectl logs`, `kubectl get pod`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PodTarget {
    /// `deployment/NAME`, `pod/NAME` or a pod name.
    Workload(WorkloadRef),
    /// `-l KEY=VALUE[,…]`: the pod whose labels match, in `namespace`.
    Selector {
        namespace: String,
        labels: Vec<(String, String)>,
    },
}

/// How many lines kubectl shows for `logs -l`, and `tail` prints, unless told otherwise.
const DEFAULT_TAIL: usize = 10;

const VERBS: &str = "apply -f FILE, delete KIND NAME… / delete -f FILE, \
     exec TARGET [-c CONTAINER] -- COMMAND, logs TARGET|-l SELECTOR [-c CONTAINER] [--tail N] \
     [| tail -n N], get pod NAME|-l SELECTOR -o jsonpath=…, label namespace NAME KEY=VALUE, \
     rollout restart deployment/NAME, delete pod NAME|-l SELECTOR";

/// kubectl's short names for the kinds the bench knows.
const SHORT_NAMES: [(&str, Kind); 9] = [
    ("se", Kind::ServiceEntry),
    ("vs", Kind::VirtualService),
    ("gw", Kind::Gateway),
    ("dr", Kind::DestinationRule),
    ("ns", Kind::Namespace),
    ("deploy", Kind::Deployment),
    ("svc", Kind::Service),
    ("sa", Kind::ServiceAccount),
    ("cm", Kind::ConfigMap),
];

/// Everything read from the words before `--`.
#[derive(Default)]
struct Args {
    namespace: Option<String>,
    verb: Option<String>,
    operands: Vec<String>,
    files: Vec<String>,
    container: Option<String>,
    tail: Option<Option<usize>>,
    selector: Option<String>,
    output: Option<String>,
    overwrite: bool,
}

/// What a step's line does, read before the variables it uses are known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// `apply` or `delete`.
    Change,
    Exec,
    Logs,
    /// `export NAME=…`.
    Export,
    /// `istioctl proxy-config …`.
    Istioctl,
    /// `openssl …`, `cat <<EOF > FILE`.
    Workstation,
    /// `kubectl get pod … -o jsonpath=…`.
    Get,
}

/// Whether a line starting with `program` and then `rest` runs on the workstation: a curl of its
/// own (also `time curl`), not in a pod.
fn is_local<S: AsRef<str>>(program: &str, rest: &[S]) -> bool {
    program == "curl" || (program == "time" && rest.first().is_some_and(|w| w.as_ref() == "curl"))
}

/// Which kind of line `line` is; errors are those of its words (quotes, operators) and its verb.
/// The whole line is read later, with the variables set by then (`parse_kubectl`).
pub fn line_kind(line: &str) -> Result<LineKind, CommandError> {
    if super::here_apply::is_here_apply(line) {
        return super::here_apply::parse_here_apply(line).map(|_| LineKind::Change);
    }
    if super::workstation::is_workstation(line) {
        return super::workstation::parse_workstation(line).map(|_| LineKind::Workstation);
    }
    let lenient = Env::lenient();
    if parse_export(line, &lenient).is_some() {
        return Ok(LineKind::Export);
    }
    if is_istioctl(line) {
        return parse_istioctl(line, &lenient).map(|_| LineKind::Istioctl);
    }
    let tokens = tokenize(line, Some(&lenient))?;
    let words: Vec<String> = tokens
        .iter()
        .take_while(|t| t.word() != Some("--"))
        .filter_map(|t| t.word().map(str::to_string))
        .collect();
    match words.split_first() {
        Some((program, rest)) if is_local(program, rest) => Ok(LineKind::Exec),
        Some((program, rest)) if program == "kubectl" && super::create::is_create(rest) => {
            super::create::parse_create(rest).map(|_| LineKind::Change)
        }
        Some((program, rest)) if program == "kubectl" => match read_args(rest)?.verb.as_deref() {
            Some("apply" | "delete") => Ok(LineKind::Change),
            Some("exec") => Ok(LineKind::Exec),
            Some("logs") => Ok(LineKind::Logs),
            Some("get") => parse_kubectl(line, &lenient).map(|_| LineKind::Get),
            _ => parse_kubectl(line, &lenient).map(|_| LineKind::Change),
        },
        _ => parse_kubectl(line, &lenient).map(|_| LineKind::Change),
    }
}

/// Read a `kubectl` command line (or an `export NAME=…` or `istioctl` line) in `env`.
pub fn parse_kubectl(line: &str, env: &Env) -> Result<KubectlCommand, CommandError> {
    if super::here_apply::is_here_apply(line) {
        return super::here_apply::parse_here_apply(line);
    }
    if super::workstation::is_workstation(line) {
        return super::workstation::parse_workstation(line).map(KubectlCommand::Workstation);
    }
    if let Some(export) = parse_export(line, env) {
        return export.map(KubectlCommand::Export);
    }
    if is_istioctl(line) {
        return parse_istioctl(line, env).map(KubectlCommand::Istioctl);
    }
    let tokens = tokenize(line, Some(env))?;
    let leading: Vec<&str> = tokens.iter().map_while(Token::word).collect();
    if let Some((program, rest)) = leading.split_first() {
        if is_local(program, rest) {
            return super::parse_exec(line, env).map(KubectlCommand::Local);
        }
    }
    let dashes = tokens.iter().position(|t| t.word() == Some("--"));
    let head = &tokens[..dashes.unwrap_or(tokens.len())];
    // `kubectl logs … | tail [-n N]`: the one pipe a kubectl line (outside exec) may have.
    let piped = head
        .iter()
        .position(|t| t.kind == TokenKind::Op(Operator::Pipe));
    let (head, after_pipe) = match piped {
        Some(i) => (&head[..i], Some(&head[i + 1..])),
        None => (head, None),
    };
    let words = super::words::plain_words(
        line,
        head,
        "kubectl commands are replayed on their own, without pipes or redirections (only the \
         command after `kubectl exec … --` may have them)",
    )?;
    let (program, rest) = words.split_first().ok_or(CommandError::Empty)?;
    if program != "kubectl" {
        return Err(CommandError::UnknownProgram {
            program: program.clone(),
            position: "as a kubectl command",
            supported: "kubectl",
        });
    }
    if super::create::is_create(rest) {
        if after_pipe.is_some() {
            return Err(CommandError::ShellSyntax {
                found: "|".into(),
                why: "kubectl create is replayed on its own, without pipes".into(),
            });
        }
        return super::create::parse_create(rest).map(KubectlCommand::Create);
    }
    let args = read_args(rest)?;
    let namespace = args.namespace.clone();
    let verb = args
        .verb
        .clone()
        .ok_or_else(|| usage(format!("no verb given; supported: {VERBS}")))?;
    let tail_pipe = match after_pipe {
        Some(rest) if verb == "logs" => Some(pipe_tail(line, rest)?),
        Some(_) => {
            return Err(CommandError::ShellSyntax {
                found: "|".into(),
                why: format!(
                    "kubectl {verb} is replayed on its own, without pipes or redirections (only \
                     `kubectl logs … | tail` and the command after `kubectl exec … --` may have them)"
                ),
            })
        }
        None => None,
    };
    if dashes.is_some() && verb != "exec" {
        return Err(usage(format!(
            "`--` only belongs in kubectl exec, not in kubectl {verb}"
        )));
    }
    match verb.as_str() {
        "apply" => {
            no_operands(&args, "apply")?;
            Ok(KubectlCommand::Apply {
                files: files(args.files, "apply")?,
                namespace,
            })
        }
        "delete" if !args.files.is_empty() => {
            no_operands(&args, "delete -f")?;
            Ok(KubectlCommand::DeleteFiles {
                files: args.files,
                namespace,
            })
        }
        "delete" if is_pods(args.operands.first()) => recreate(
            &args,
            namespace,
            "delete pod NAME or delete pod -l KEY=VALUE",
        ),
        "delete" => delete(&args.operands, namespace),
        "rollout" => match args.operands.split_first() {
            Some((sub, rest)) if sub == "restart" => {
                let target = match rest {
                    [one] => one
                        .split_once('/')
                        .filter(|(k, _)| matches!(*k, "deployment" | "deploy" | "deployments"))
                        .map(|(_, n)| n.to_string()),
                    [kind, name] if matches!(kind.as_str(), "deployment" | "deploy") => {
                        Some(name.clone())
                    }
                    _ => None,
                }
                .filter(|n| !n.is_empty())
                .ok_or_else(|| {
                    usage(
                        "kubectl rollout restart needs deployment/NAME (or deployment NAME)".into(),
                    )
                })?;
                Ok(KubectlCommand::RecreatePods {
                    target: PodTarget::Workload(WorkloadRef::new(
                        namespace.unwrap_or_else(|| "default".into()),
                        target,
                    )),
                })
            }
            _ => Err(usage(
                "of kubectl rollout, only `rollout restart deployment/NAME` is replayed".into(),
            )),
        },
        "label" => label(&args),
        "exec" => {
            let workload = target(&args, "exec")?;
            let command_tokens = dashes.map_or(&[][..], |i| &tokens[i + 1..]);
            let Some(first) = command_tokens.first() else {
                return Err(usage(
                    "kubectl exec needs the command after `--`, as in \
                     kubectl exec deployment/sleep -- curl -s http://httpbin.org/get"
                        .into(),
                ));
            };
            if let Some(read) = super::admin::admin_read(line, command_tokens) {
                return Ok(KubectlCommand::Admin {
                    workload,
                    container: args.container,
                    read: read?,
                });
            }
            if let Some(read) = super::proxy_log::proxy_log_read(line, command_tokens) {
                return Ok(KubectlCommand::ProxyLog {
                    workload,
                    read: read?,
                });
            }
            Ok(KubectlCommand::Exec {
                workload,
                container: args.container,
                command: parse_exec(line[first.start..].trim(), env)?,
            })
        }
        "get" => get_pods(&args, namespace),
        "logs" => {
            let (target, tail) = match &args.selector {
                Some(selector) => {
                    let labels = labels(selector)?;
                    if let Some(extra) = args.operands.first() {
                        return Err(usage(format!(
                            "kubectl logs -l SELECTOR takes no target; `{extra}` is not expected"
                        )));
                    }
                    let target = PodTarget::Selector {
                        namespace: namespace.unwrap_or_else(|| "default".into()),
                        labels,
                    };
                    (target, args.tail.unwrap_or(Some(DEFAULT_TAIL)))
                }
                None => (
                    PodTarget::Workload(target(&args, "logs")?),
                    args.tail.flatten(),
                ),
            };
            let tail = match (tail, tail_pipe) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            Ok(KubectlCommand::Logs {
                target,
                container: args.container,
                tail,
            })
        }
        other => Err(usage(format!(
            "kubectl {other} is not replayed; supported: {VERBS}"
        ))),
    }
}

fn usage(message: String) -> CommandError {
    CommandError::Usage {
        program: "kubectl",
        message,
    }
}

/// Which flags a verb takes (besides `-n`), for errors.
fn flags_of(verb: Option<&str>) -> &'static str {
    match verb {
        Some("apply" | "delete") => "-n/--namespace NS, -f/--filename FILE",
        Some("exec") => "-n/--namespace NS, -i/--stdin, -t/--tty, -c/--container NAME",
        Some("logs") => {
            "-n/--namespace NS, -f/--follow, -c/--container NAME, -l/--selector KEY=VALUE, --tail N"
        }
        Some("get") => "-n/--namespace NS, -l/--selector KEY=VALUE, -o/--output jsonpath=…",
        Some("label") => "--overwrite",
        _ => "-n/--namespace NS before the verb",
    }
}

fn read_args(words: &[String]) -> Result<Args, CommandError> {
    let mut a = Args::default();
    let mut rest = words.iter();
    while let Some(w) = rest.next() {
        let verb = a.verb.clone();
        let verb = verb.as_deref();
        let mut value = |flag: &str, inline: Option<&str>| -> Result<String, CommandError> {
            match inline {
                Some(v) if !v.is_empty() => Ok(v.to_string()),
                _ => rest
                    .next()
                    .cloned()
                    .ok_or_else(|| CommandError::MissingValue {
                        program: "kubectl",
                        flag: flag.to_string(),
                    }),
            }
        };
        let (name, inline) = split_flag(w);
        match (name, verb) {
            (_, _) if !w.starts_with('-') || w == "-" => {
                if a.verb.is_none() {
                    a.verb = Some(w.clone());
                } else {
                    a.operands.push(w.clone());
                }
            }
            ("-n" | "--namespace", _) => a.namespace = Some(value(name, inline)?),
            ("-f" | "--filename", Some("apply" | "delete")) => a.files.push(value(name, inline)?),
            ("-f" | "--follow", Some("logs")) if inline.is_none() => {}
            ("-c" | "--container", Some("exec" | "logs")) => {
                a.container = Some(value(name, inline)?)
            }
            ("-i" | "-t" | "-it" | "-ti" | "--stdin" | "--tty", Some("exec"))
                if inline.is_none() => {}
            ("-l" | "--selector", Some("logs" | "get" | "delete")) => {
                a.selector = Some(value(name, inline)?)
            }
            ("--overwrite", Some("label")) if inline.is_none() => a.overwrite = true,
            ("-o" | "--output", Some("get")) => a.output = Some(value(name, inline)?),
            ("--tail", Some("logs")) => {
                let v = value(name, inline)?;
                a.tail = Some(match v.parse::<i64>() {
                    Ok(-1) => None,
                    Ok(n) if n >= 0 => usize::try_from(n).ok(),
                    _ => {
                        return Err(CommandError::BadValue {
                            program: "kubectl",
                            flag: "--tail".into(),
                            value: v,
                            expected: "a number of lines, or -1 for all".into(),
                        })
                    }
                });
            }
            _ => {
                return Err(CommandError::UnknownFlag {
                    program: "kubectl",
                    flag: w.clone(),
                    supported: flags_of(verb).into(),
                })
            }
        }
    }
    Ok(a)
}

/// `--name=value` → (`--name`, `value`); `-nvalue` / `-n=value` → (`-n`, `value`) for the
/// one-letter flags that take values.
fn split_flag(word: &str) -> (&str, Option<&str>) {
    if word.starts_with("--") {
        return match word.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (word, None),
        };
    }
    let takes_value = ["-n", "-f", "-c", "-l", "-o"]
        .iter()
        .any(|f| word.starts_with(f));
    if takes_value && word.len() > 2 {
        let (n, v) = word.split_at(2);
        return (n, Some(v.strip_prefix('=').unwrap_or(v)));
    }
    (word, None)
}

fn no_operands(args: &Args, what: &str) -> Result<(), CommandError> {
    match args.operands.first() {
        None => Ok(()),
        Some(extra) => Err(usage(format!(
            "kubectl {what} takes files through -f only; `{extra}` is not expected"
        ))),
    }
}

fn files(files: Vec<String>, verb: &str) -> Result<Vec<String>, CommandError> {
    if files.is_empty() {
        return Err(usage(format!("kubectl {verb} needs -f FILE")));
    }
    if files.iter().any(|f| f == "-") {
        return Err(usage(
            "-f - reads the manifest from stdin, which the bench cannot see; save it to a file"
                .into(),
        ));
    }
    Ok(files)
}

fn delete(operands: &[String], namespace: Option<String>) -> Result<KubectlCommand, CommandError> {
    let namespace = namespace.unwrap_or_else(|| "default".into());
    let Some(first) = operands.first() else {
        return Err(usage(
            "kubectl delete needs KIND NAME, KIND/NAME or -f FILE".into(),
        ));
    };
    if first.contains('/') {
        let mut kind = None;
        let mut names = Vec::new();
        for op in operands {
            let Some((k, name)) = op.split_once('/').filter(|(_, n)| !n.is_empty()) else {
                return Err(usage(format!(
                    "`{op}`: once one object is written KIND/NAME, all must be"
                )));
            };
            let k = parse_kind(k)?;
            if kind.is_some_and(|seen| seen != k) {
                return Err(usage(
                    "delete objects of one kind per command; split the line by kind".into(),
                ));
            }
            kind = Some(k);
            names.push(name.to_string());
        }
        let kind = kind.ok_or_else(|| usage("kubectl delete needs an object".into()))?;
        return Ok(KubectlCommand::Delete {
            kind,
            namespace,
            names,
        });
    }
    let kind = parse_kind(first)?;
    let names = operands[1..].to_vec();
    if names.is_empty() {
        return Err(usage(format!(
            "kubectl delete {first} needs the names of the objects to delete"
        )));
    }
    if let Some(bad) = names.iter().find(|n| n.contains('/')) {
        return Err(usage(format!(
            "`{bad}`: after a kind, write bare names (or write every object as KIND/NAME)"
        )));
    }
    Ok(KubectlCommand::Delete {
        kind,
        namespace,
        names,
    })
}

fn parse_kind(s: &str) -> Result<Kind, CommandError> {
    let lower = s.to_ascii_lowercase();
    SHORT_NAMES
        .iter()
        .find(|(short, _)| *short == lower)
        .map(|(_, k)| *k)
        .or_else(|| Kind::parse_loose(s))
        .ok_or_else(|| CommandError::UnknownKind {
            kind: s.to_string(),
            supported: Kind::ALL.map(Kind::as_str).join(", "),
        })
}

/// `kubectl get pod|pods|po NAME|-l SELECTOR -o jsonpath=EXPR`.
fn get_pods(args: &Args, namespace: Option<String>) -> Result<KubectlCommand, CommandError> {
    const FORMS: &str = "kubectl get pod -l KEY=VALUE -o jsonpath={.items..metadata.name}, or \
         kubectl get pod NAME -o jsonpath='{.spec.containers[*].name}'";
    let (kind, name) = match args.operands.as_slice() {
        [kind] => (kind.as_str(), None),
        [kind, name] => (kind.as_str(), Some(name.as_str())),
        _ => return Err(usage(format!("expected {FORMS}"))),
    };
    let (kind, name) = match kind.split_once('/') {
        Some((k, n)) if name.is_none() => (k, Some(n)),
        _ => (kind, name),
    };
    if !matches!(kind, "pod" | "pods" | "po") {
        return Err(usage(format!(
            "kubectl get {kind} is not replayed; supported: {FORMS}"
        )));
    }
    let namespace = namespace.unwrap_or_else(|| "default".into());
    let target = match (name, &args.selector) {
        (Some(name), None) => PodTarget::Workload(WorkloadRef::new(namespace, name)),
        (None, Some(selector)) => PodTarget::Selector {
            namespace,
            labels: labels(selector)?,
        },
        _ => return Err(usage(format!("name one pod or give -l; expected {FORMS}"))),
    };
    let output = args.output.as_deref().unwrap_or_default();
    let path = output.strip_prefix("jsonpath=").ok_or_else(|| {
        usage(format!(
            "`kubectl get pod` prints a table here only with -o jsonpath=… (got `-o {output}`); \
             expected {FORMS}"
        ))
    })?;
    let many = matches!(target, PodTarget::Selector { .. });
    let field = pod_field(path, many).ok_or_else(|| {
        usage(format!(
            "the jsonpath `{path}` is not replayed for {}; expected {FORMS}",
            if many { "a selector" } else { "one pod" }
        ))
    })?;
    Ok(KubectlCommand::GetPods { target, field })
}

/// The field a jsonpath asks of pods: of a list (`many`, a selector) or of one named pod.
pub(crate) fn pod_field(path: &str, many: bool) -> Option<PodField> {
    let path = path.trim_matches(|c| c == '\'' || c == '"');
    Some(match (path, many) {
        ("{.items..metadata.name}" | "{.items[*].metadata.name}", true) => {
            PodField::Names { first_only: false }
        }
        ("{.items[0].metadata.name}", true) | ("{.metadata.name}", false) => {
            PodField::Names { first_only: true }
        }
        ("{.items..status.podIP}" | "{.items[*].status.podIP}" | "{.items..podIP}", true) => {
            PodField::Addresses { first_only: false }
        }
        ("{.items[0].status.podIP}", true) | ("{.status.podIP}", false) => {
            PodField::Addresses { first_only: true }
        }
        ("{.spec.containers[*].name}", false) => PodField::Containers,
        ("{.items[0].spec.containers[*].name}", true) => PodField::Containers,
        _ => return None,
    })
}

/// Whether a `kubectl delete` operand names pods.
fn is_pods(first: Option<&String>) -> bool {
    first.is_some_and(|f| {
        let kind = f.split_once('/').map_or(f.as_str(), |(k, _)| k);
        matches!(kind, "pod" | "pods" | "po")
    })
}

/// `kubectl delete pod NAME…|-l SELECTOR`: the Deployments' pods are recreated.
fn recreate(
    args: &Args,
    namespace: Option<String>,
    form: &str,
) -> Result<KubectlCommand, CommandError> {
    let namespace = namespace.unwrap_or_else(|| "default".into());
    let names: Vec<&str> = args
        .operands
        .iter()
        .enumerate()
        .filter_map(|(i, o)| match o.split_once('/') {
            Some((_, n)) => Some(n),
            None if i > 0 => Some(o.as_str()),
            None => None,
        })
        .collect();
    let target = match (names.as_slice(), &args.selector) {
        ([name], None) => PodTarget::Workload(WorkloadRef::new(namespace, *name)),
        ([], Some(selector)) => PodTarget::Selector {
            namespace,
            labels: labels(selector)?,
        },
        _ => return Err(usage(format!("name one pod or give -l: kubectl {form}"))),
    };
    Ok(KubectlCommand::RecreatePods { target })
}

/// `kubectl label namespace|ns NAME KEY=VALUE… KEY-… [--overwrite]`.
fn label(args: &Args) -> Result<KubectlCommand, CommandError> {
    let form = "kubectl label namespace NAME KEY=VALUE [--overwrite] (or KEY- to remove it)";
    let (name, changes) = match args.operands.as_slice() {
        [kind, rest @ ..] if kind.starts_with("namespace/") || kind.starts_with("ns/") => (
            kind.split_once('/').map(|(_, n)| n).unwrap_or_default(),
            rest,
        ),
        [kind, name, rest @ ..] if matches!(kind.as_str(), "namespace" | "namespaces" | "ns") => {
            (name.as_str(), rest)
        }
        _ => {
            return Err(usage(format!(
                "of kubectl label, only namespaces are replayed: {form}"
            )))
        }
    };
    if name.is_empty() || changes.is_empty() {
        return Err(usage(format!("expected {form}")));
    }
    let labels = changes
        .iter()
        .map(|c| match (c.split_once('='), c.strip_suffix('-')) {
            (Some((k, v)), _) if !k.is_empty() => Ok((k.to_string(), Some(v.to_string()))),
            (None, Some(k)) if !k.is_empty() => Ok((k.to_string(), None)),
            _ => Err(usage(format!("`{c}`: expected KEY=VALUE or KEY-; {form}"))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(KubectlCommand::Label {
        namespace: name.to_string(),
        labels,
        overwrite: args.overwrite,
    })
}

/// `KEY=VALUE[,KEY=VALUE…]`.
pub(crate) fn labels(selector: &str) -> Result<Vec<(String, String)>, CommandError> {
    selector
        .split(',')
        .map(|kv| {
            kv.split_once('=')
                .filter(|(k, v)| !k.is_empty() && !v.is_empty() && !v.contains('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or_else(|| {
                    usage(format!(
                        "the selector `{kv}` is not KEY=VALUE (only equality selectors are supported)"
                    ))
                })
        })
        .collect()
}

/// The words after `kubectl logs … |`: `tail`, `tail -n N`, `tail -N`, `tail --lines=N`.
fn pipe_tail(line: &str, tokens: &[Token]) -> Result<usize, CommandError> {
    let words: Vec<&str> = tokens.iter().filter_map(Token::word).collect();
    let bad = || {
        usage(format!(
            "after `kubectl logs … |` only `tail [-n N]` is replayed, in `{line}`"
        ))
    };
    if words.len() != tokens.len() {
        return Err(bad());
    }
    // `+N` counts from the start, which a tail of the log is not.
    let count = |n: &str| {
        n.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| n.parse::<usize>().ok())
            .flatten()
            .ok_or_else(bad)
    };
    match words.as_slice() {
        ["tail"] => Ok(DEFAULT_TAIL),
        ["tail", "-n", n] => count(n),
        ["tail", flag] => match flag
            .strip_prefix("--lines=")
            .or_else(|| flag.strip_prefix("-n"))
            .or_else(|| flag.strip_prefix('-'))
        {
            Some(n) => count(n),
            None => Err(bad()),
        },
        _ => Err(bad()),
    }
}

/// The workload of `exec` / `logs`: `deployment/NAME`, `deploy/NAME`, `pod/NAME` or a bare name.
fn target(args: &Args, verb: &str) -> Result<WorkloadRef, CommandError> {
    let [t] = args.operands.as_slice() else {
        return Err(usage(format!(
            "kubectl {verb} needs exactly one target such as deployment/sleep, got {:?}",
            args.operands
        )));
    };
    let name = match t.split_once('/') {
        None => t.as_str(),
        Some((
            "deployment" | "deployments" | "deploy" | "deployment.apps" | "pod" | "pods" | "po",
            name,
        )) if !name.is_empty() => name,
        Some(_) => {
            return Err(usage(format!(
                "`{t}`: the target is deployment/NAME, deploy/NAME, pod/NAME or a pod name"
            )))
        }
    };
    let namespace = args.namespace.clone().unwrap_or_else(|| "default".into());
    Ok(WorkloadRef::new(namespace, name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use egressbench_model::request::Scheme;

    fn parse(line: &str) -> KubectlCommand {
        parse_kubectl(line, &Env::default()).unwrap()
    }

    fn err(line: &str) -> String {
        parse_kubectl(line, &Env::default())
            .unwrap_err()
            .to_string()
    }

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn namespace_labels_set_and_remove() {
        assert_eq!(
            parse("kubectl label namespace default istio-injection=enabled --overwrite"),
            KubectlCommand::Label {
                namespace: "default".into(),
                labels: vec![("istio-injection".into(), Some("enabled".into()))],
                overwrite: true,
            }
        );
        assert_eq!(
            parse("kubectl label ns/foo istio-injection- istio.io/rev=canary"),
            KubectlCommand::Label {
                namespace: "foo".into(),
                labels: vec![
                    ("istio-injection".into(), None),
                    ("istio.io/rev".into(), Some("canary".into())),
                ],
                overwrite: false,
            }
        );
        assert!(err("kubectl label pod sleep a=b").contains("only namespaces"));
        assert!(err("kubectl label namespace default").contains("expected"));
        assert!(err("kubectl label namespace default =x").contains("KEY=VALUE or KEY-"));
    }

    #[test]
    fn restarts_and_pod_deletions_recreate_pods() {
        let on = |ns: &str, name: &str| KubectlCommand::RecreatePods {
            target: PodTarget::Workload(WorkloadRef::new(ns, name)),
        };
        assert_eq!(
            parse("kubectl rollout restart deployment/sleep"),
            on("default", "sleep")
        );
        assert_eq!(
            parse("kubectl -n foo rollout restart deploy sleep"),
            on("foo", "sleep")
        );
        assert_eq!(
            parse("kubectl delete pod sleep-5c7d8f9b6d-x2x4q -n foo"),
            on("foo", "sleep-5c7d8f9b6d-x2x4q")
        );
        assert_eq!(
            parse("kubectl delete pods -l app=sleep"),
            KubectlCommand::RecreatePods {
                target: PodTarget::Selector {
                    namespace: "default".into(),
                    labels: vec![("app".into(), "sleep".into())],
                },
            }
        );
        assert!(err("kubectl rollout status deployment/sleep").contains("rollout restart"));
        assert!(err("kubectl rollout restart daemonset/x").contains("deployment/NAME"));
        assert!(err("kubectl delete pod").contains("name one pod or give -l"));
    }

    #[test]
    fn delete_an_asm_policy() {
        assert_eq!(
            parse("kubectl -n istio-egress delete ASMEgressTrafficPolicy egress-by-egressgateway"),
            KubectlCommand::Delete {
                kind: Kind::AsmEgressTrafficPolicy,
                namespace: "istio-egress".into(),
                names: strings(&["egress-by-egressgateway"]),
            }
        );
    }

    #[test]
    fn delete_forms() {
        assert_eq!(
            parse("kubectl delete serviceentries a b --namespace istio-egress"),
            KubectlCommand::Delete {
                kind: Kind::ServiceEntry,
                namespace: "istio-egress".into(),
                names: strings(&["a", "b"]),
            }
        );
        assert_eq!(
            parse("kubectl delete vs/httpbin virtualservice.networking.istio.io/other"),
            KubectlCommand::Delete {
                kind: Kind::VirtualService,
                namespace: "default".into(),
                names: strings(&["httpbin", "other"]),
            }
        );
        assert_eq!(
            parse("kubectl delete se httpbin -nistio-egress"),
            KubectlCommand::Delete {
                kind: Kind::ServiceEntry,
                namespace: "istio-egress".into(),
                names: strings(&["httpbin"]),
            }
        );
        assert_eq!(
            parse("kubectl delete -f egress.yaml -n=mytest"),
            KubectlCommand::DeleteFiles {
                files: strings(&["egress.yaml"]),
                namespace: Some("mytest".into()),
            }
        );
    }

    #[test]
    fn apply_files() {
        assert_eq!(
            parse("kubectl apply -f egress-by-egressgateway.yaml"),
            KubectlCommand::Apply {
                files: strings(&["egress-by-egressgateway.yaml"]),
                namespace: None,
            }
        );
        assert_eq!(
            parse("kubectl --namespace=mytest apply -f a.yaml --filename b.yaml -fc.yaml --filename=d.yaml"),
            KubectlCommand::Apply {
                files: strings(&["a.yaml", "b.yaml", "c.yaml", "d.yaml"]),
                namespace: Some("mytest".into()),
            }
        );
    }

    #[test]
    fn logs_of_the_sidecar() {
        assert_eq!(
            parse("kubectl -n default logs -f deployment/nginx -c istio-proxy --tail=1"),
            KubectlCommand::Logs {
                target: PodTarget::Workload(WorkloadRef::new("default", "nginx")),
                container: Some("istio-proxy".into()),
                tail: Some(1),
            }
        );
        assert_eq!(
            parse("kubectl logs deploy/sleep --container=istio-proxy --tail 20 -n mytest"),
            KubectlCommand::Logs {
                target: PodTarget::Workload(WorkloadRef::new("mytest", "sleep")),
                container: Some("istio-proxy".into()),
                tail: Some(20),
            }
        );
        assert_eq!(
            parse("kubectl logs sleep-7d9f-x --tail=-1"),
            KubectlCommand::Logs {
                target: PodTarget::Workload(WorkloadRef::new("default", "sleep-7d9f-x")),
                container: None,
                tail: None,
            }
        );
    }

    #[test]
    fn get_pod_fields() {
        assert_eq!(
            parse(
                "kubectl get pod sleep-x -n test-egress -o jsonpath='{.spec.containers[*].name}'"
            ),
            KubectlCommand::GetPods {
                target: PodTarget::Workload(WorkloadRef::new("test-egress", "sleep-x")),
                field: PodField::Containers,
            }
        );
        assert_eq!(
            parse("kubectl get pods -l app=sleep -o=jsonpath={.items..metadata.name}"),
            KubectlCommand::GetPods {
                target: PodTarget::Selector {
                    namespace: "default".into(),
                    labels: vec![("app".into(), "sleep".into())],
                },
                field: PodField::Names { first_only: false },
            }
        );
        assert!(err("kubectl get svc x -o jsonpath={.spec}").contains("not replayed"));
        assert!(err("kubectl get pod x").contains("-o jsonpath"));
        assert!(err("kubectl get pod x -o jsonpath={.status.phase}")
            .contains("not replayed for one pod"));
    }

    #[test]
    fn logs_by_label_and_through_tail() {
        let eg = || PodTarget::Selector {
            namespace: "istio-system".into(),
            labels: vec![("istio".into(), "egressgateway".into())],
        };
        let logs = |target, tail| KubectlCommand::Logs {
            target,
            container: Some("istio-proxy".into()),
            tail,
        };
        assert_eq!(
            parse("kubectl logs -l istio=egressgateway -c istio-proxy -n istio-system | tail"),
            logs(eg(), Some(10))
        );
        assert_eq!(
            parse("kubectl logs -l istio=egressgateway -c istio-proxy -n istio-system --tail=-1 | tail -n 3"),
            logs(eg(), Some(3))
        );
        assert_eq!(
            parse("kubectl logs -n istio-system -l istio=egressgateway -c istio-proxy --tail 2 | tail -5"),
            logs(eg(), Some(2))
        );
        assert_eq!(
            parse("kubectl logs deploy/a -c istio-proxy | tail --lines=4"),
            logs(
                PodTarget::Workload(WorkloadRef::new("default", "a")),
                Some(4)
            )
        );
        assert!(err("kubectl logs deploy/a | grep x").contains("only `tail"));
        assert!(err("kubectl logs deploy/a | tail -n +5").contains("only `tail"));
        assert!(err("kubectl apply -f a.yaml | tail").contains("without pipes"));
        assert!(err("kubectl logs -l app=a deploy/a").contains("takes no target"));
        assert!(err("kubectl logs -l app deploy/a").contains("KEY=VALUE"));
    }

    #[test]
    fn exec_a_status_probe() {
        let KubectlCommand::Exec {
            workload,
            container,
            command,
        } = parse(
            r#"kubectl -n mytest exec deployment/sleep-a -- curl -s -o /dev/null -w "%{http_code}\n" http://www.httpbin.org"#,
        )
        else {
            panic!("exec expected");
        };
        assert_eq!(workload, WorkloadRef::new("mytest", "sleep-a"));
        assert_eq!(container, None);
        assert_eq!(
            command.text,
            r#"curl -s -o /dev/null -w "%{http_code}\n" http://www.httpbin.org"#
        );
        let curl = command.script.curls()[0];
        assert_eq!(curl.request.scheme, Scheme::Http);
        assert_eq!(curl.request.host, "www.httpbin.org");
        assert!(curl.options.discard_body);
    }

    #[test]
    fn a_bare_curl_line_runs_on_the_workstation() {
        let line = r#"curl -s -I -HHost:httpbin.example.com "http://172.18.255.200:80/status/200""#;
        assert_eq!(line_kind(line), Ok(LineKind::Exec));
        // Its variables are read when the step runs, not when its kind is told.
        assert_eq!(
            line_kind(r#"curl -s "http://$INGRESS_HOST:$INGRESS_PORT/""#),
            Ok(LineKind::Exec)
        );
        let KubectlCommand::Local(command) = parse(line) else {
            panic!("a command on the workstation expected");
        };
        let request = &command.requests()[0];
        assert_eq!(request.host, "172.18.255.200");
        assert_eq!(request.host_header.as_deref(), Some("httpbin.example.com"));
        assert!(matches!(
            parse("time curl -s http://a"),
            KubectlCommand::Local(_)
        ));
        assert!(
            err("curl").contains("URL") || err("curl").contains("url"),
            "{}",
            err("curl")
        );
    }

    #[test]
    fn exec_a_shell_pipeline() {
        let KubectlCommand::Exec { command, .. } = parse(
            r#"kubectl -n mytest exec deployment/sleep-a -- sh -c "curl -s http://httpbin.org/anything | grep url""#,
        ) else {
            panic!("exec expected");
        };
        assert_eq!(
            command.text,
            r#"sh -c "curl -s http://httpbin.org/anything | grep url""#
        );
        assert_eq!(command.requests()[0].path, "/anything");
    }

    #[test]
    fn exec_flags_anywhere_and_a_local_pipe() {
        let KubectlCommand::Exec {
            workload,
            container,
            command,
        } = parse(
            "kubectl exec -it sleep-abc -c sleep --namespace foo -- curl -sS http://a | grep x",
        )
        else {
            panic!("exec expected");
        };
        assert_eq!(workload, WorkloadRef::new("foo", "sleep-abc"));
        assert_eq!(container.as_deref(), Some("sleep"));
        assert_eq!(command.text, "curl -sS http://a | grep x");
        assert_eq!(command.script.items[0].1.stages.len(), 2);
        let KubectlCommand::Exec { workload, .. } =
            parse("kubectl exec deploy/sleep -- curl http://a")
        else {
            panic!("exec expected");
        };
        assert_eq!(workload, WorkloadRef::new("default", "sleep"));
    }

    #[test]
    fn unknown_kinds_list_the_known_ones() {
        let e = err("kubectl delete persistentvolumeclaims data-0");
        assert!(
            e.contains("`persistentvolumeclaims`")
                && e.contains("ASMEgressTrafficPolicy, Namespace"),
            "{e}"
        );
        let e = err("kubectl delete widget/x");
        assert!(e.contains("`widget`"), "{e}");
    }

    #[test]
    fn everything_else_is_explained() {
        assert!(err("kubectl get pods").contains("-o jsonpath"));
        assert!(err("kubectl").contains("no verb"));
        assert!(err("").contains("empty"));
        assert!(err("helm install x").contains("`helm`"));
        assert!(err("kubectl apply").contains("needs -f FILE"));
        assert!(err("kubectl apply -f").contains("`-f` needs a value"));
        assert!(err("kubectl apply -f - ").contains("stdin"));
        assert!(err("kubectl apply -f a.yaml extra").contains("`extra`"));
        assert!(err("kubectl apply -k dir").contains("unknown kubectl option `-k`"));
        assert!(err("kubectl delete --ignore-not-found se x").contains("--ignore-not-found"));
        assert!(err("kubectl delete se").contains("needs the names"));
        assert!(err("kubectl delete").contains("KIND NAME"));
        assert!(err("kubectl delete se/a vs/b").contains("one kind per command"));
        assert!(err("kubectl delete se/a b").contains("all must be"));
        assert!(err("kubectl delete se a/b").contains("bare names"));
        assert!(err("kubectl exec deploy/x curl http://a").contains("exactly one target"));
        assert!(err("kubectl exec deploy/x").contains("after `--`"));
        assert!(err("kubectl exec deploy/x --").contains("after `--`"));
        assert!(err("kubectl exec svc/x -- curl http://a").contains("deployment/NAME"));
        assert!(err("kubectl exec deploy/x -- wget http://a").contains("`wget`"));
        assert!(err("kubectl logs deploy/x --since=1h").contains("--since=1h"));
        assert!(err("kubectl logs deploy/x --tail=x").contains("-1 for all"));
        assert!(err("kubectl apply -f a.yaml | tee").contains("without pipes"));
        assert!(err("kubectl delete se x -- y").contains("only belongs in kubectl exec"));
        assert!(err("kubectl exec $POD -- curl http://a").contains("`$POD` is not set"));
    }
}
