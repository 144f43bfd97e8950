//! The top level of a manifest document, per family of kinds: which keys may sit next to
//! `apiVersion`, `kind` and `metadata`.
//!
//! Owns: the strict shapes of whole documents (an unknown top-level key is an error). Leaves out:
//! the shapes of `spec`s (`egressbench_resources`) and what is done with them (`object`).

use egressbench_resources::ObjectMeta;
use serde::de::IgnoredAny;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Most kinds: `spec`, and `status` (accepted, ignored, as `kubectl get -o yaml` writes it).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Object<S> {
    #[allow(dead_code)]
    pub api_version: IgnoredAny,
    #[allow(dead_code)]
    pub kind: IgnoredAny,
    #[serde(default)]
    pub metadata: Option<ObjectMeta>,
    #[serde(default)]
    pub spec: Option<S>,
    #[serde(default)]
    #[allow(dead_code)]
    pub status: Option<IgnoredAny>,
}

/// `ConfigMap`: `data`, `binaryData`, `immutable`; no `spec`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ConfigMapObject {
    #[allow(dead_code)]
    pub api_version: IgnoredAny,
    #[allow(dead_code)]
    pub kind: IgnoredAny,
    #[serde(default)]
    pub metadata: Option<ObjectMeta>,
    #[serde(default)]
    pub data: Option<BTreeMap<String, String>>,
    #[serde(default)]
    #[allow(dead_code)]
    pub binary_data: Option<BTreeMap<String, String>>,
    #[serde(default)]
    #[allow(dead_code)]
    pub immutable: Option<bool>,
}

/// `Secret`: `type`, `data` (base64), `stringData`, `immutable`; no `spec`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct SecretObject {
    #[allow(dead_code)]
    pub api_version: IgnoredAny,
    #[allow(dead_code)]
    pub kind: IgnoredAny,
    #[serde(default)]
    pub metadata: Option<ObjectMeta>,
    #[serde(default, rename = "type")]
    pub secret_type: Option<String>,
    #[serde(default)]
    pub data: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub string_data: Option<BTreeMap<String, String>>,
    #[serde(default)]
    #[allow(dead_code)]
    pub immutable: Option<bool>,
}

/// `ServiceAccount`: its own top-level fields; no `spec`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ServiceAccountObject {
    #[allow(dead_code)]
    pub api_version: IgnoredAny,
    #[allow(dead_code)]
    pub kind: IgnoredAny,
    #[serde(default)]
    pub metadata: Option<ObjectMeta>,
    #[serde(default)]
    #[allow(dead_code)]
    pub secrets: Option<IgnoredAny>,
    #[serde(default)]
    #[allow(dead_code)]
    pub image_pull_secrets: Option<IgnoredAny>,
    #[serde(default)]
    #[allow(dead_code)]
    pub automount_service_account_token: Option<bool>,
}

/// kubectl's `List`: `items`, each an object of its own.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ListObject {
    #[allow(dead_code)]
    pub api_version: IgnoredAny,
    #[allow(dead_code)]
    pub kind: IgnoredAny,
    #[serde(default)]
    #[allow(dead_code)]
    pub metadata: Option<IgnoredAny>,
    #[serde(default)]
    pub items: Vec<IgnoredAny>,
}
