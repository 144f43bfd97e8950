//! The environment a scenario's command lines are read in: the user's shell variables (the
//! scenario's `vars:` block and `export NAME=…` steps) and the pods of the Deployments applied so
//! far (what `$(kubectl get pod -l … -o jsonpath=…)` and a pod name in `kubectl exec` refer to),
//! and the files made on the workstation so far.
//!
//! Owns: `Env`, the rule for variable names (`[A-Za-z_][A-Za-z0-9_]*`, as `sh` has them), the
//! answer to a pod lookup (`PodLookup`: the pod names of the Deployments whose pod labels match,
//! in the order applied) and reading a pod name as its Deployment. Leaves out: expanding variables
//! and lookups in a command line (`words`), reading lookups and exports (`export`), and pod names
//! themselves (`egressbench_resources::kube::pod_name`).

use super::kubectl::PodField;
use egressbench_model::request::WorkloadRef;
use egressbench_model::topology::workload::pod_addresses;
use egressbench_resources::kube::{is_pod_of, pod_name};
use egressbench_resources::{Resource, ResourceId};
use std::collections::BTreeMap;

/// What the user's shell and the cluster hold when a step's command line is read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Env {
    values: BTreeMap<String, String>,
    pods: Vec<Pod>,
    /// Every object applied so far and not deleted, as applied (`kubectl label` and `rollout
    /// restart` change them).
    objects: BTreeMap<ResourceId, Resource>,
    /// Unset names expand to themselves (`$NAME`), and lookups to their own text, instead of
    /// being errors: for reading what kind of line a step is before its environment is known.
    lenient: bool,
    /// The files the `openssl` and `cat <<EOF` steps made so far.
    pub(crate) workstation: super::workstation::Workstation,
}

/// The pod of a Deployment applied so far: its labels and its containers' names.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pod {
    workload: WorkloadRef,
    labels: Vec<(String, String)>,
    containers: Vec<String>,
}

/// A `$(kubectl get …)` a command line substitutes, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Pods(PodLookup),
    Service(ServiceLookup),
}

/// `kubectl get service NAME [-n NS] -o jsonpath=…`, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceLookup {
    pub namespace: Option<String>,
    pub name: String,
    pub field: ServiceField,
}

/// What a Service lookup prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceField {
    /// `{.status.loadBalancer.ingress[0].ip}`: the load-balancer address of a `type:
    /// LoadBalancer` Service (nothing for another type, as kubectl prints a missing field).
    LoadBalancerIp,
    /// `{.status.loadBalancer.ingress[0].hostname}`: nothing (the load balancer here gives an
    /// address, as MetalLB does, not a name, as AWS's does).
    LoadBalancerHostname,
    /// `{.spec.ports[?(@.name=="NAME")].port}`: the port named NAME (nothing if none is).
    Port { name: String },
}

/// `kubectl get pod -l SELECTOR [-n NS] -o jsonpath=…`, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodLookup {
    pub namespace: Option<String>,
    pub selector: Vec<(String, String)>,
    /// Names or addresses, of all (space-separated) or of the first.
    pub field: PodField,
}

impl Env {
    /// An environment for a first reading of a line: every name and lookup stands for itself.
    pub(crate) fn lenient() -> Env {
        Env {
            lenient: true,
            ..Env::default()
        }
    }

    /// Whether unset names and lookups stand for themselves.
    pub(crate) fn is_lenient(&self) -> bool {
        self.lenient
    }

    /// The value of `name`, if it is set.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// Set `name` (a valid name, see `is_name`) to `value`.
    pub fn set(&mut self, name: &str, value: &str) {
        self.values.insert(name.to_string(), value.to_string());
    }

    /// The names set, sorted, for error messages.
    pub fn names(&self) -> String {
        if self.values.is_empty() {
            return "none".into();
        }
        self.values
            .keys()
            .map(|k| format!("${k}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Note that Deployment `workload` runs a pod labelled `labels` with `containers` (applying
    /// it again replaces the earlier one).
    pub fn add_pod(
        &mut self,
        workload: WorkloadRef,
        labels: Vec<(String, String)>,
        containers: Vec<String>,
    ) {
        self.pods.retain(|p| p.workload != workload);
        self.pods.push(Pod {
            workload,
            labels,
            containers,
        });
    }

    /// Note that `r` was applied.
    pub fn note_applied(&mut self, r: &Resource) {
        self.objects.insert(r.id(), r.clone());
    }

    /// Note that the object `id` was deleted.
    pub fn note_deleted(&mut self, id: &ResourceId) {
        self.objects.remove(id);
    }

    /// The object `id` as applied so far.
    pub fn object(&self, id: &ResourceId) -> Option<&Resource> {
        self.objects.get(id)
    }

    /// Forget `workload`'s pod (its Deployment was deleted).
    pub fn remove_pod(&mut self, workload: &WorkloadRef) {
        self.pods.retain(|p| p.workload != *workload);
    }

    /// The containers of `workload`'s pod as its Deployment names them (before injection).
    pub fn containers(&self, workload: &WorkloadRef) -> Option<&[String]> {
        self.pods
            .iter()
            .find(|p| p.workload == *workload)
            .map(|p| p.containers.as_slice())
    }

    /// The Deployments in `namespace` whose pods carry every label of `selector` (at least one,
    /// else an error naming the Deployments there and their labels).
    pub fn matching(
        &self,
        namespace: &str,
        selector: &[(String, String)],
    ) -> Result<Vec<WorkloadRef>, String> {
        let found: Vec<WorkloadRef> = self
            .pods
            .iter()
            .filter(|p| {
                p.workload.namespace == namespace && selector.iter().all(|kv| p.labels.contains(kv))
            })
            .map(|p| p.workload.clone())
            .collect();
        if !found.is_empty() {
            return Ok(found);
        }
        let here: Vec<String> = self
            .pods
            .iter()
            .filter(|p| p.workload.namespace == namespace)
            .map(|p| {
                let l: Vec<String> = p.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!("{} ({})", p.workload.name, l.join(","))
            })
            .collect();
        let sel: Vec<String> = selector.iter().map(|(k, v)| format!("{k}={v}")).collect();
        Err(format!(
            "no pod in namespace `{namespace}` has the labels {}; the Deployments applied there so \
             far are: {}",
            sel.join(","),
            if here.is_empty() {
                "none".to_string()
            } else {
                here.join(", ")
            }
        ))
    }

    /// What a lookup prints (`Err`: what kubectl says instead).
    pub fn answer(&self, q: &Lookup) -> Result<String, String> {
        match q {
            Lookup::Pods(q) => self.lookup(q),
            Lookup::Service(q) => self.service(q),
        }
    }

    /// What a Service lookup prints, from the Service as applied so far.
    fn service(&self, q: &ServiceLookup) -> Result<String, String> {
        let namespace = q.namespace.as_deref().unwrap_or("default");
        let id = ResourceId::new(egressbench_resources::Kind::Service, namespace, &q.name);
        let Some(service) = self.objects.get(&id) else {
            return Err(format!(
                "Error from server (NotFound): services \"{}\" not found (no Service {} in \
                 namespace {namespace} was applied by then)",
                q.name, q.name
            ));
        };
        let egressbench_resources::Body::Service(spec) = &service.body else {
            return Ok(String::new());
        };
        Ok(match &q.field {
            ServiceField::LoadBalancerIp => {
                egressbench_model::topology::registry::load_balancer_addresses(
                    self.objects.values(),
                )
                .get(&id)
                .map(ToString::to_string)
                .unwrap_or_default()
            }
            ServiceField::LoadBalancerHostname => String::new(),
            ServiceField::Port { name } => spec
                .ports
                .iter()
                .find(|p| p.name == *name)
                .map(|p| p.port.to_string())
                .unwrap_or_default(),
        })
    }

    /// What a pod lookup prints: the matching pods' names (or addresses) in kubectl's order (by
    /// pod name), separated by spaces, or the first.
    pub fn lookup(&self, q: &PodLookup) -> Result<String, String> {
        let mut pods: Vec<(String, WorkloadRef)> = self
            .matching(q.namespace.as_deref().unwrap_or("default"), &q.selector)?
            .into_iter()
            .map(|w| (pod_name(&w.namespace, &w.name), w))
            .collect();
        pods.sort();
        let (addresses, first_only) = match q.field {
            PodField::Addresses { first_only } => (true, first_only),
            PodField::Names { first_only } => (false, first_only),
            PodField::Containers => (false, true),
        };
        let shown: Vec<String> = pods
            .iter()
            .take(if first_only { 1 } else { pods.len() })
            .map(|(name, w)| match self.address(w).filter(|_| addresses) {
                Some(ip) => ip.to_string(),
                None => name.clone(),
            })
            .collect();
        Ok(shown.join(" "))
    }

    /// The address of `workload`'s pod, as the model assigns it among the Deployments applied so
    /// far (`topology::workload::pod_addresses`).
    pub fn address(&self, workload: &WorkloadRef) -> Option<std::net::Ipv4Addr> {
        pod_addresses(self.pods.iter().map(|p| &p.workload))
            .get(workload)
            .copied()
    }

    /// The workload a `kubectl exec`/`logs` target names: a Deployment applied so far, or the
    /// Deployment of a pod (its bench-given name, or any name shaped `DEPLOYMENT-HASH-SUFFIX`);
    /// anything else as written.
    pub fn workload(&self, named: WorkloadRef) -> WorkloadRef {
        let here = self
            .pods
            .iter()
            .map(|p| &p.workload)
            .filter(|w| w.namespace == named.namespace);
        if here.clone().any(|w| w.name == named.name) {
            return named;
        }
        here.filter(|w| {
            pod_name(&w.namespace, &w.name) == named.name || is_pod_of(&named.name, &w.name)
        })
        .max_by_key(|w| w.name.len())
        .cloned()
        .unwrap_or(named)
    }
}

/// Whether `name` can name a shell variable.
pub fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(kv: &[(&str, &str)]) -> Vec<(String, String)> {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn names_and_values() {
        let mut v = Env::default();
        assert_eq!(v.names(), "none");
        v.set("SOURCE_POD", "sleep-1");
        v.set("A", "x");
        assert_eq!(v.get("SOURCE_POD"), Some("sleep-1"));
        assert_eq!(v.get("B"), None);
        assert_eq!(v.names(), "$A, $SOURCE_POD");
        assert!(is_name("INGRESS_HOST") && is_name("_x1"));
        assert!(!is_name("1A") && !is_name("") && !is_name("A-B"));
    }

    #[test]
    fn pod_lookups_and_pod_names() {
        let mut env = Env::default();
        env.add_pod(
            WorkloadRef::new("default", "sleep"),
            sel(&[("app", "sleep")]),
            vec!["sleep".to_string()],
        );
        env.add_pod(
            WorkloadRef::new("default", "sleep-v2"),
            sel(&[("app", "sleep"), ("v", "2")]),
            vec!["sleep".to_string()],
        );
        env.add_pod(
            WorkloadRef::new("other", "sleep"),
            sel(&[("app", "sleep")]),
            vec!["sleep".to_string()],
        );
        let q = |ns: Option<&str>, s: &[(&str, &str)], first_only| PodLookup {
            namespace: ns.map(str::to_string),
            selector: sel(s),
            field: PodField::Names { first_only },
        };
        let a = pod_name("default", "sleep");
        let b = pod_name("default", "sleep-v2");
        // kubectl lists pods by name.
        let mut both = [a.clone(), b.clone()];
        both.sort();
        assert_eq!(
            env.lookup(&q(None, &[("app", "sleep")], false)),
            Ok(both.join(" "))
        );
        assert_eq!(
            env.lookup(&q(None, &[("app", "sleep")], true)),
            Ok(both[0].clone())
        );
        assert_eq!(env.lookup(&q(None, &[("v", "2")], false)), Ok(b.clone()));
        let e = env
            .lookup(&q(Some("other"), &[("app", "curl")], false))
            .unwrap_err();
        assert!(
            e.contains("`other`") && e.contains("sleep (app=sleep)"),
            "{e}"
        );
        let w = |name: &str| env.workload(WorkloadRef::new("default", name)).name;
        assert_eq!(w("sleep"), "sleep");
        assert_eq!(w(&a), "sleep");
        assert_eq!(w(&b), "sleep-v2");
        assert_eq!(w("sleep-v2-5d8f7c9b6-bcdfg"), "sleep-v2");
        assert_eq!(w("nginx-5d8f7c9b6-bcdfg"), "nginx-5d8f7c9b6-bcdfg");
    }

    #[test]
    fn service_lookups_answer_as_the_cluster_serves() {
        let yaml = "apiVersion: v1\nkind: Service\nmetadata: {name: istio-ingressgateway, namespace: istio-system}\nspec:\n  type: LoadBalancer\n  ports: [{name: http2, port: 80, targetPort: 8080}, {name: https, port: 443}]\n";
        let resources = egressbench_manifest::load_str(yaml, "t.yaml")
            .expect("a Service")
            .resources;
        let mut env = Env::default();
        for r in &resources {
            env.note_applied(r);
        }
        let q = |name: &str, field: ServiceField| {
            Lookup::Service(ServiceLookup {
                namespace: Some("istio-system".into()),
                name: name.into(),
                field,
            })
        };
        let expected = egressbench_model::topology::registry::load_balancer_addresses(&resources)
            .values()
            .next()
            .expect("an address")
            .to_string();
        let name = "istio-ingressgateway";
        assert_eq!(
            env.answer(&q(name, ServiceField::LoadBalancerIp)),
            Ok(expected)
        );
        assert_eq!(
            env.answer(&q(name, ServiceField::LoadBalancerHostname)),
            Ok(String::new())
        );
        let port = |n: &str| ServiceField::Port { name: n.into() };
        assert_eq!(env.answer(&q(name, port("http2"))), Ok("80".into()));
        assert_eq!(env.answer(&q(name, port("https"))), Ok("443".into()));
        assert_eq!(env.answer(&q(name, port("tcp"))), Ok(String::new()));
        let e = env
            .answer(&q("nope", ServiceField::LoadBalancerIp))
            .unwrap_err();
        assert!(e.contains("services \"nope\" not found"), "{e}");
    }
}
