//! The lookups the documents substitute into their commands:
//! `$(kubectl get pod -l KEY=VALUE[,…] [-n NS] -o jsonpath={.items..metadata.name})` and
//! `$(kubectl -n istio-system get service istio-ingressgateway -o
//! jsonpath='{.status.loadBalancer.ingress[0].ip}')`.
//!
//! Owns: reading the words inside `$(…)` into a `Lookup`: of pods, `get pod|pods|po`,
//! `-l`/`--selector`, `-n`/`--namespace`, `-o`/`--output`/`-o=`/`-ojsonpath=` with
//! `{.items..metadata.name}`, `{.items[*].metadata.name}` or `{.items[0].metadata.name}`, and
//! `--field-selector=status.phase=Running` (every pod here runs); of a Service, `get
//! service|svc NAME` (or `service/NAME`) with `{.status.loadBalancer.ingress[0].ip}` (or
//! `.hostname`) and `{.spec.ports[?(@.name=="NAME")].port}`. Anything else is an error saying
//! what is supported. Leaves out: answering it (`env`) and where it stands in a line (`words`).

use super::env::{Env, Lookup, PodLookup, ServiceField, ServiceLookup};
use super::error::CommandError;
use super::flags::{self, split_inline};
use super::kubectl::{labels, pod_field, PodField};
use super::words::tokenize;

/// What the errors offer instead.
const SUPPORTED: &str =
    "$(kubectl get pod -l app=NAME [-n NAMESPACE] -o jsonpath={.items..metadata.name}) or \
     $(kubectl get service NAME [-n NAMESPACE] -o jsonpath='{.status.loadBalancer.ingress[0].ip}')";

fn usage(message: String) -> CommandError {
    CommandError::Usage {
        program: "kubectl",
        message,
    }
}

/// Read the command inside `$(…)`; variables in it expand from `env`.
pub(crate) fn lookup(inner: &str, env: &Env) -> Result<Lookup, CommandError> {
    let unsupported = || {
        usage(format!(
            "`$({inner})` is not supported here; write {SUPPORTED}"
        ))
    };
    if inner.contains("$(") || inner.contains('`') {
        // A lookup inside a lookup: nothing the documents write, and unbounded nesting.
        return Err(unsupported());
    }
    let words: Vec<String> = tokenize(inner, Some(env))?
        .into_iter()
        .map(|t| t.word().map(str::to_string).ok_or_else(unsupported))
        .collect::<Result<_, _>>()?;
    let Some(("kubectl", args)) = words.split_first().map(|(p, a)| (p.as_str(), a)) else {
        return Err(unsupported());
    };
    let mut namespace = None;
    let mut selector = None;
    let mut output = None;
    let mut positional = Vec::new();
    let mut rest = args.iter();
    while let Some(w) = rest.next() {
        let (flag, inline) = split_inline(w);
        let mut value = || flags::value("kubectl", flag, inline, &mut rest);
        match flag {
            "-n" | "--namespace" => namespace = Some(value()?),
            "-l" | "--selector" => selector = Some(value()?),
            "-o" | "--output" => output = Some(value()?),
            "-ojsonpath" => output = Some(format!("jsonpath={}", value()?)),
            "--field-selector" => {
                if value()? != "status.phase=Running" {
                    return Err(usage(
                        "only --field-selector=status.phase=Running is supported (every pod here \
                         runs)"
                            .into(),
                    ));
                }
            }
            f if f.starts_with('-') => return Err(unsupported()),
            _ => positional.push(w.as_str()),
        }
    }
    let service = match positional.as_slice() {
        ["get", "pod" | "pods" | "po"] => None,
        ["get", "service" | "services" | "svc", name] => Some(*name),
        ["get", kind_name] => match kind_name.split_once('/') {
            Some(("service" | "services" | "svc", name)) if !name.is_empty() => Some(name),
            _ => return Err(unsupported()),
        },
        _ => return Err(unsupported()),
    };
    // The jsonpath of `-o jsonpath=…`; `example` is what the error offers.
    let jsonpath = |example: &str| {
        output
            .as_deref()
            .and_then(|o| o.strip_prefix("jsonpath="))
            .ok_or_else(|| usage(format!("`$({inner})` needs -o jsonpath={example}")))
    };
    if let Some(name) = service {
        let path = jsonpath("'{.status.loadBalancer.ingress[0].ip}'")?;
        return Ok(Lookup::Service(ServiceLookup {
            namespace,
            name: name.to_string(),
            field: service_field(path)?,
        }));
    }
    let selector = selector
        .ok_or_else(|| usage(format!("`$({inner})` needs a label selector (-l app=NAME)")))?;
    let path = jsonpath("{.items..metadata.name}")?;
    let field = pod_field(path, true)
        .filter(|f| *f != PodField::Containers)
        .ok_or_else(|| {
            usage(format!(
                "the jsonpath `{path}` is not supported; use {{.items..metadata.name}}, \
                 {{.items[0].metadata.name}}, {{.items..status.podIP}} or \
                 {{.items[0].status.podIP}}"
            ))
        })?;
    Ok(Lookup::Pods(PodLookup {
        namespace,
        selector: labels(&selector)?,
        field,
    }))
}

/// The field a jsonpath asks of a Service.
fn service_field(path: &str) -> Result<ServiceField, CommandError> {
    let path = path.trim_matches(|c| c == '\'' || c == '"');
    match path {
        "{.status.loadBalancer.ingress[0].ip}" => return Ok(ServiceField::LoadBalancerIp),
        "{.status.loadBalancer.ingress[0].hostname}" => {
            return Ok(ServiceField::LoadBalancerHostname)
        }
        _ => {}
    }
    let port = path
        .strip_prefix("{.spec.ports[?(@.name==")
        .and_then(|rest| rest.split_once(")]."))
        .map(|(name, field)| (name.trim_matches(|c| c == '"' || c == '\''), field));
    match port {
        Some((name, "port}")) if !name.is_empty() => Ok(ServiceField::Port {
            name: name.to_string(),
        }),
        Some((_, "nodePort}")) => Err(usage(
            "node ports are not modelled: the cluster here has a load balancer, so use the \
             Service's own port ({.spec.ports[?(@.name==\"http2\")].port}) with \
             {.status.loadBalancer.ingress[0].ip}, as the documents do when EXTERNAL-IP is set"
                .into(),
        )),
        _ => Err(usage(format!(
            "the jsonpath `{path}` is not supported for a Service; use \
             {{.status.loadBalancer.ingress[0].ip}} or {{.spec.ports[?(@.name==\"NAME\")].port}}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(inner: &str) -> PodLookup {
        match lookup(inner, &Env::default()).unwrap() {
            Lookup::Pods(q) => q,
            other => panic!("a pod lookup expected: {other:?}"),
        }
    }

    fn err(inner: &str) -> String {
        lookup(inner, &Env::default()).unwrap_err().to_string()
    }

    fn service(inner: &str) -> ServiceLookup {
        match lookup(inner, &Env::default()).unwrap() {
            Lookup::Service(q) => q,
            other => panic!("a Service lookup expected: {other:?}"),
        }
    }

    #[test]
    fn the_ingress_tasks_service_lookups() {
        assert_eq!(
            service("kubectl -n istio-system get service istio-ingressgateway -o jsonpath='{.status.loadBalancer.ingress[0].ip}'"),
            ServiceLookup {
                namespace: Some("istio-system".into()),
                name: "istio-ingressgateway".into(),
                field: ServiceField::LoadBalancerIp,
            }
        );
        assert_eq!(
            service("kubectl -n istio-system get svc/istio-ingressgateway -o jsonpath='{.spec.ports[?(@.name==\"http2\")].port}'").field,
            ServiceField::Port { name: "http2".into() }
        );
        assert!(err("kubectl -n istio-system get service istio-ingressgateway -o jsonpath='{.spec.ports[?(@.name==\"http2\")].nodePort}'")
            .contains("node ports are not modelled"));
        assert!(err("kubectl get service x -o jsonpath='{.spec.selector}'")
            .contains("is not supported for a Service"));
        assert!(err("kubectl get service x").contains("needs -o jsonpath="));
    }

    fn q(ns: Option<&str>, sel: &[(&str, &str)], first_only: bool) -> PodLookup {
        PodLookup {
            namespace: ns.map(str::to_string),
            selector: sel
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            field: PodField::Names { first_only },
        }
    }

    #[test]
    fn the_documents_lookups() {
        assert_eq!(
            read("kubectl get pod -l app=sleep -o jsonpath={.items..metadata.name}"),
            q(None, &[("app", "sleep")], false)
        );
        assert_eq!(
            read("kubectl get pod -n istio-system -l istio=egressgateway,app=istio-egressgateway -o jsonpath='{.items[0].metadata.name}'"),
            q(Some("istio-system"), &[("istio", "egressgateway"), ("app", "istio-egressgateway")], true)
        );
        assert_eq!(
            read("kubectl get pods --namespace=foo --selector=app=curl --field-selector=status.phase=Running -o=jsonpath={.items[*].metadata.name}"),
            q(Some("foo"), &[("app", "curl")], false)
        );
    }

    #[test]
    fn anything_else_says_what_is_supported() {
        assert!(err("kubectl get deploy x").contains("not supported"));
        assert!(
            err("kubectl get pod -o jsonpath={.items..metadata.name}").contains("label selector")
        );
        assert!(
            err("kubectl get pod -l app -o jsonpath={.items..metadata.name}").contains("KEY=VALUE")
        );
        assert!(err("kubectl get pod -l app=x -o name").contains("jsonpath"));
        assert!(
            err("kubectl get pod -l app=x -o jsonpath={.items[1].spec}").contains("not supported")
        );
        assert!(err(
            "kubectl get pod -l app=x --field-selector=a=b -o jsonpath={.items..metadata.name}"
        )
        .contains("status.phase"));
        assert!(err("hostname").contains("not supported"));
        let nested = "kubectl get pod -l app=$(kubectl get pod -l a=b -o jsonpath={.items..metadata.name}) -o jsonpath={.items..metadata.name}";
        assert!(err(nested).contains("not supported"));
    }
}
