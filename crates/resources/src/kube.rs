//! The cluster side: `Namespace`, `Deployment`, `Service` and `ServiceAccount` (the `istio`
//! `ConfigMap` that carries the mesh config is `mesh_config`'s). Only the fields the mesh reads
//! are typed; the rest of a pod spec is accepted by name (so a misspelled key is still an error)
//! and not interpreted.
//!
//! Owns: the fields of `Namespace`, `Deployment` (pod template, pod spec, containers), `Service`
//! (its ports, with the protocol Istio picks for one: `KubeServicePort::mesh_protocol`) and
//! `ServiceAccount`. Leaves out: the mesh config the ConfigMap carries (`mesh_config`, parsed out
//! of the ConfigMap by `egressbench-manifest`), object metadata (`meta`), and the workloads and
//! services these become (`topology` in `egressbench-model`).

use crate::meta::{LabelSelector, ObjectMeta};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

type Any = Option<serde_yaml::Value>;

/// The characters Kubernetes uses in generated name suffixes (no vowels, no 0/1/3).
const SUFFIX_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// The name of the pod of Deployment `deployment` in `namespace`, shaped as Kubernetes names a
/// ReplicaSet's pods (`sleep-7656cf8794-9z9k4`: the Deployment, a 10-character template hash, a
/// 5-character suffix) and the same on every run.
pub fn pod_name(namespace: &str, deployment: &str) -> String {
    let mut hash = format!("{namespace}/{deployment}")
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    let mut next = || {
        let n = SUFFIX_ALPHABET.len() as u64;
        let c = SUFFIX_ALPHABET[usize::try_from(hash % n).unwrap_or(0)];
        hash = (hash / n) ^ hash.rotate_left(17);
        char::from(c)
    };
    let template: String = (0..10).map(|_| next()).collect();
    let suffix: String = (0..5).map(|_| next()).collect();
    format!("{deployment}-{template}-{suffix}")
}

/// Whether `pod` has the shape of a pod name of Deployment `deployment`: the Deployment's name,
/// then `-HASH-SUFFIX`, a pod-template hash of 6 to 10 and a suffix of 5 characters from the
/// alphabet Kubernetes generates them from (`sleep-7656cf8794-9z9k4`).
pub fn is_pod_of(pod: &str, deployment: &str) -> bool {
    let Some(rest) = pod
        .strip_prefix(deployment)
        .and_then(|r| r.strip_prefix('-'))
    else {
        return false;
    };
    let generated = |p: &str, lengths: std::ops::RangeInclusive<usize>| {
        lengths.contains(&p.len()) && p.bytes().all(|b| SUFFIX_ALPHABET.contains(&b))
    };
    rest.split_once('-')
        .is_some_and(|(hash, suffix)| generated(hash, 6..=10) && generated(suffix, 5..=5))
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NamespaceSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finalizers: Any,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeploymentSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<LabelSelector>,
    pub template: PodTemplate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_ready_seconds: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision_history_limit: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress_deadline_seconds: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Any,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PodTemplate {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: PodSpec,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PodSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    /// Deprecated alias of `serviceAccountName`, still honoured by Kubernetes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub containers: Vec<Container>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_containers: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ephemeral_containers: Any,
    /// The pod's volumes (Secrets and ConfigMaps are read; other sources are accepted and
    /// mount nothing here).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<Volume>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affinity: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automount_service_account_token: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_config: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_policy: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_service_links: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_aliases: Any,
    #[serde(default, rename = "hostIPC", skip_serializing_if = "Option::is_none")]
    pub host_ipc: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_network: Any,
    #[serde(default, rename = "hostPID", skip_serializing_if = "Option::is_none")]
    pub host_pid: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_users: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_pull_secrets: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_name: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_selector: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overhead: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preemption_policy: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_class_name: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readiness_gates: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_claims: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_policy: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_class_name: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduler_name: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduling_gates: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_context: Any,
    #[serde(
        default,
        rename = "setHostnameAsFQDN",
        skip_serializing_if = "Option::is_none"
    )]
    pub set_hostname_as_fqdn: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_process_namespace: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subdomain: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub termination_grace_period_seconds: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerations: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topology_spread_constraints: Any,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Container {
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Any,
    /// The ports the container's server listens on (what a Service's `targetPort` names).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<ContainerPort>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env_from: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_pull_policy: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liveness_probe: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readiness_probe: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub startup_probe: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_context: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdin: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdin_once: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tty: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub termination_message_path: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub termination_message_policy: Any,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volume_mounts: Vec<VolumeMount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_devices: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_policy: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resize_policy: Any,
}

/// One of a pod's `volumes`: a name and its source. Only `secret` and `configMap` are read; any
/// other source (`emptyDir`, `projected`, …) is kept as written.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Volume {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<SecretVolume>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map: Option<ConfigMapVolume>,
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_yaml::Value>,
}

/// `volumes[].secret`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretVolume {
    pub secret_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_mode: Any,
}

/// `volumes[].configMap`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfigMapVolume {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_mode: Any,
}

/// One of a container's `volumeMounts`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VolumeMount {
    pub name: String,
    pub mount_path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_path_expr: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mount_propagation: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recursive_read_only: Any,
}

/// A Secret's or a ConfigMap's entries, each a file when a volume mounts it (`tls.crt`,
/// `nginx.conf`), and the Secret's `type` (`kubernetes.io/tls`, `Opaque`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileSet {
    pub secret_type: Option<String>,
    pub entries: BTreeMap<String, crate::files::FileContent>,
}

/// One entry of a container's `ports`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContainerPort {
    pub container_port: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// TCP (default), UDP or SCTP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_port: Any,
    #[serde(default, rename = "hostIP", skip_serializing_if = "Option::is_none")]
    pub host_ip: Any,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceSpec {
    #[serde(default)]
    pub ports: Vec<KubeServicePort>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub selector: BTreeMap<String, String>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub service_type: Option<String>,
    #[serde(default, rename = "clusterIP", skip_serializing_if = "Option::is_none")]
    pub cluster_ip: Option<String>,
    #[serde(
        default,
        rename = "clusterIPs",
        skip_serializing_if = "Option::is_none"
    )]
    pub cluster_ips: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_name: Option<String>,
    #[serde(
        default,
        rename = "externalIPs",
        skip_serializing_if = "Option::is_none"
    )]
    pub external_ips: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_affinity: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_affinity_config: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_families: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_family_policy: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_traffic_policy: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal_traffic_policy: Any,
    #[serde(
        default,
        rename = "loadBalancerIP",
        skip_serializing_if = "Option::is_none"
    )]
    pub load_balancer_ip: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer_source_ranges: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer_class: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocate_load_balancer_node_ports: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check_node_port: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish_not_ready_addresses: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic_distribution: Any,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KubeServicePort {
    #[serde(default)]
    pub name: String,
    pub port: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_port: Option<serde_yaml::Value>,
    /// Transport protocol: TCP (default), UDP or SCTP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_protocol: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_port: Option<u16>,
}

impl KubeServicePort {
    /// The application protocol, as Istio selects it: `appProtocol`, else the port name's prefix.
    pub fn mesh_protocol(&self) -> crate::enums::Protocol {
        use crate::enums::Protocol;
        self.app_protocol
            .as_deref()
            .and_then(|p| p.parse().ok())
            .or_else(|| Protocol::from_port_name(&self.name))
            .unwrap_or(Protocol::Tcp)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceAccountFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secrets: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_pull_secrets: Any,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automount_service_account_token: Any,
}

#[cfg(test)]
mod pod_name_tests {
    use super::*;

    #[test]
    fn pod_names_are_stable_and_shaped_like_kubernetes_ones() {
        let a = pod_name("default", "sleep");
        assert_eq!(a, pod_name("default", "sleep"));
        assert_ne!(a, pod_name("test", "sleep"));
        assert!(is_pod_of(&a, "sleep"), "{a}");
        assert_eq!(a.len(), "sleep".len() + 17);
        assert!(a["sleep-".len()..]
            .bytes()
            .all(|b| b == b'-' || SUFFIX_ALPHABET.contains(&b)));
    }

    #[test]
    fn pod_shapes() {
        assert!(is_pod_of("sleep-7656cf8794-9z9k4", "sleep"));
        assert!(is_pod_of("sleep-5d8f7c9b6-bcdfg", "sleep"));
        assert!(!is_pod_of("sleep-9z9k4", "sleep"));
        assert!(!is_pod_of("sleep-v1", "sleep"));
        assert!(!is_pod_of("sleep-a-b", "sleep"));
        assert!(
            !is_pod_of("sleep-7656cf8794-aeiou", "sleep"),
            "no vowels in generated names"
        );
        assert!(!is_pod_of("sleep", "sleep"));
        assert!(!is_pod_of("sleep-a", "sleep-a-x"));
        assert!(!is_pod_of("sleeper-7656cf8794-9z9k4", "sleep"));
        assert!(!is_pod_of("sleep-7656cf8794-9Z9k4", "sleep"));
    }
}
