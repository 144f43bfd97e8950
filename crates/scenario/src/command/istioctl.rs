//! `istioctl proxy-config` lines as the documents write them, read into data.
//!
//! Owns: `IstioctlCommand` and its parser: `istioctl proxy-config|pc cluster|clusters|c` with
//! `--fqdn`, `--port`, `--subset`, `--direction`, and `route|routes|r` with `--name`; the pod as
//! `POD`, `POD.NAMESPACE`, `deployment/NAME[.NAMESPACE]` or `-n NAMESPACE`; `-o short` (the
//! table, the default); and filters after a `|`. Anything else (listener, secret, `-o json`) is
//! an error saying what is supported. Leaves out: the tables (`egressbench_model::proxy_config`)
//! and running the line (the scenario runner).

use super::env::Env;
use super::error::CommandError;
use super::flags::{self, split_inline};
use super::pipeline::Stage;
use super::shell::filter_stages;
use super::words::{tokenize, Operator, TokenKind};
use egressbench_model::proxy_config::ClusterFilter;
use egressbench_model::request::WorkloadRef;

/// Which view of the proxy's config is printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigView {
    Clusters(ClusterFilter),
    /// `--name`: one route configuration.
    Routes {
        name: Option<String>,
    },
}

/// `istioctl proxy-config VIEW POD [flags] [| filters]`.
#[derive(Debug, Clone, PartialEq)]
pub struct IstioctlCommand {
    /// The pod's workload as written (the loader reads a pod name as its Deployment).
    pub workload: WorkloadRef,
    pub view: ConfigView,
    /// The filters after `|`, in order.
    pub filters: Vec<Stage>,
}

const SUPPORTED: &str = "istioctl proxy-config cluster POD [--fqdn F] [--port P] [--subset S] \
     [--direction D], or istioctl proxy-config route POD [--name N] (also `pc`, `-n NAMESPACE`, \
     `-o short`)";

fn usage(message: String) -> CommandError {
    CommandError::Usage {
        program: "istioctl",
        message,
    }
}

/// Whether `line` is an istioctl line (its first word).
pub(crate) fn is_istioctl(line: &str) -> bool {
    line.split_whitespace().next() == Some("istioctl")
}

/// Read an `istioctl` line, with `env` set.
pub(crate) fn parse_istioctl(line: &str, env: &Env) -> Result<IstioctlCommand, CommandError> {
    let tokens = tokenize(line, Some(env))?;
    let pipe = tokens
        .iter()
        .position(|t| t.kind == TokenKind::Op(Operator::Pipe));
    let (head, filters) = match pipe {
        Some(i) => (&tokens[..i], filter_stages(line, &tokens[i + 1..])?),
        None => (&tokens[..], Vec::new()),
    };
    let words = super::words::plain_words(
        line,
        head,
        "istioctl is replayed with filters after a `|` only",
    )?;
    let mut rest = words.iter().skip(1);
    let mut positional: Vec<&str> = Vec::new();
    let mut namespace = None;
    let mut filter = ClusterFilter::default();
    let mut route_name = None;
    while let Some(w) = rest.next() {
        let (flag, inline) = split_inline(w);
        if !flag.starts_with('-') || flag == "-" {
            positional.push(w);
            continue;
        }
        let mut value = || flags::value("istioctl", flag, inline, &mut rest);
        match flag {
            "-n" | "--namespace" => namespace = Some(value()?),
            "--fqdn" => filter.fqdn = Some(value()?),
            "--subset" => filter.subset = Some(value()?),
            "--direction" => filter.direction = Some(value()?),
            "--port" => {
                let v = value()?;
                filter.port = Some(v.parse().map_err(|_| CommandError::BadValue {
                    program: "istioctl",
                    flag: "--port".into(),
                    value: v.clone(),
                    expected: "a port number".into(),
                })?);
            }
            "--name" => route_name = Some(value()?),
            "-o" | "--output" => {
                let v = value()?;
                if v != "short" {
                    return Err(usage(format!(
                        "`-o {v}` is not replayed: the bench prints istioctl's table (`-o short`); \
                         the Envoy target's config is the JSON of the same proxy"
                    )));
                }
            }
            _ => {
                return Err(CommandError::UnknownFlag {
                    program: "istioctl",
                    flag: w.clone(),
                    supported: "-n/--namespace, -o short, --fqdn, --port, --subset, --direction, \
                                --name"
                        .into(),
                })
            }
        }
    }
    let [command, view, pod] = positional.as_slice() else {
        return Err(usage(format!("expected {SUPPORTED}")));
    };
    if !matches!(*command, "proxy-config" | "pc") {
        return Err(usage(format!(
            "istioctl {command} is not replayed; supported: {SUPPORTED}"
        )));
    }
    let view = match *view {
        "cluster" | "clusters" | "c" => {
            if route_name.is_some() {
                return Err(usage(
                    "--name filters routes; for clusters use --fqdn".into(),
                ));
            }
            ConfigView::Clusters(filter)
        }
        "route" | "routes" | "r" => {
            if filter != ClusterFilter::default() {
                return Err(usage(
                    "--fqdn, --port, --subset and --direction filter clusters, not routes; use \
                     --name for a route configuration"
                        .into(),
                ));
            }
            ConfigView::Routes { name: route_name }
        }
        other => {
            return Err(usage(format!(
                "istioctl proxy-config {other} is not replayed (the bench prints clusters and \
                 routes; listeners and secrets are not modelled as istiod builds them yet); \
                 supported: {SUPPORTED}"
            )))
        }
    };
    Ok(IstioctlCommand {
        workload: pod_ref(pod, namespace),
        view,
        filters,
    })
}

/// `POD`, `POD.NAMESPACE`, `deployment/NAME[.NAMESPACE]`; `-n` when the name carries none.
fn pod_ref(pod: &str, namespace: Option<String>) -> WorkloadRef {
    let name = pod.split_once('/').map_or(pod, |(_, n)| n);
    match name.split_once('.') {
        Some((name, ns)) => WorkloadRef::new(ns, name),
        None => WorkloadRef::new(namespace.unwrap_or_else(|| "default".into()), name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> IstioctlCommand {
        parse_istioctl(line, &Env::default()).unwrap()
    }

    fn err(line: &str) -> String {
        parse_istioctl(line, &Env::default())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn the_documents_forms() {
        let c = parse("istioctl pc cluster sleep-5d8f7c9b6-bcdfg.default --fqdn edition.cnn.com");
        assert_eq!(
            c.workload,
            WorkloadRef::new("default", "sleep-5d8f7c9b6-bcdfg")
        );
        assert_eq!(
            c.view,
            ConfigView::Clusters(ClusterFilter {
                fqdn: Some("edition.cnn.com".into()),
                ..ClusterFilter::default()
            })
        );
        let c = parse("istioctl proxy-config clusters deploy/istio-egressgateway -n istio-system --port 443 | grep cnn");
        assert_eq!(
            c.workload,
            WorkloadRef::new("istio-system", "istio-egressgateway")
        );
        assert_eq!(c.filters.len(), 1);
        let c = parse("istioctl proxy-config routes sleep-x-y --name=80 -o short");
        assert_eq!(
            c.view,
            ConfigView::Routes {
                name: Some("80".into())
            }
        );
    }

    #[test]
    fn the_rest_is_explained() {
        assert!(err("istioctl pc listener sleep").contains("not replayed"));
        assert!(err("istioctl pc cluster sleep -o json").contains("-o json"));
        assert!(err("istioctl analyze").contains("expected"));
        assert!(err("istioctl pc route sleep --fqdn x").contains("filter clusters"));
        assert!(err("istioctl pc cluster sleep --name 80").contains("--name filters routes"));
        assert!(err("istioctl pc cluster sleep --port x").contains("a port number"));
        assert!(err("istioctl pc cluster sleep --verbose").contains("unknown istioctl option"));
        assert!(err("istioctl pc cluster sleep | wget x").contains("`wget`"));
    }
}
