//! One object of a document (or of a `List`'s `items`) into a `Resource` or a `Note`.
//!
//! Owns: dispatch on the header's kind, the strict typed read of the whole object, the rules
//! around it (`metadata.name` required, `spec` required for Istio/ASM kinds but `Sidecar` and
//! `AuthorizationPolicy`, which ConfigMaps are mesh configs) and the origin of each resource.
//! Leaves out: the header checks (`header`), the mesh string (`mesh`), and splitting streams.

use super::diag::Diag;
use super::diagnose::Ctx;
use super::envelope::{ConfigMapObject, ListObject, Object, SecretObject, ServiceAccountObject};
use super::field_path::FieldPath;
use super::header::{self, What};
use super::introspect::struct_fields;
use super::locate::{self, Pos};
use super::{mesh_config, typed, Loaded, Note};
use egressbench_resources::files::FileContent;
use egressbench_resources::{kube, Body, Kind, ObjectMeta, Origin, Resource};
use serde::de::DeserializeOwned;
use serde_yaml::Value;

/// The document being read: its text, and where it sits in its file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Doc<'a> {
    pub file: &'a str,
    pub text: &'a str,
    /// Lines of the file before the document's first line.
    pub first_line: usize,
}

impl Doc<'_> {
    fn origin(&self, pos: Pos) -> Origin {
        Origin {
            file: self.file.to_string(),
            line: self.first_line + pos.line,
            column: pos.column,
        }
    }

    fn pos_of(&self, at: &FieldPath) -> Pos {
        locate::value_at(self.text, at).unwrap_or(Pos::new(1, 1))
    }
}

/// Load the object `value`, found at `at` in `doc`, into `out`. Errors are document-relative.
pub(crate) fn load(doc: &Doc, at: &FieldPath, value: &Value, out: &mut Loaded) -> Result<(), Diag> {
    let header = header::read(doc.text, at, value)?;
    let origin = doc.origin(doc.pos_of(at));
    let kind = match header.what {
        What::Skipped(message) => {
            out.notes.push(Note { origin, message });
            return Ok(());
        }
        What::List => return load_list(doc, at, value, out),
        What::Known(kind) => kind,
    };
    let (meta, body) = match kind {
        Kind::ServiceEntry => spec(doc, at, kind, Body::ServiceEntry)?,
        Kind::VirtualService => spec(doc, at, kind, Body::VirtualService)?,
        Kind::Gateway => spec(doc, at, kind, Body::Gateway)?,
        Kind::DestinationRule => spec(doc, at, kind, Body::DestinationRule)?,
        Kind::AuthorizationPolicy => spec(doc, at, kind, Body::AuthorizationPolicy)?,
        Kind::Sidecar => spec(doc, at, kind, Body::Sidecar)?,
        Kind::AsmEgressTrafficPolicy => spec(doc, at, kind, Body::AsmEgressTrafficPolicy)?,
        Kind::Namespace => spec(doc, at, kind, |_: kube::NamespaceSpec| Body::Namespace)?,
        Kind::Deployment => spec(doc, at, kind, Body::Deployment)?,
        Kind::Service => spec(doc, at, kind, Body::Service)?,
        Kind::ServiceAccount => {
            let obj: ServiceAccountObject = read_whole(doc, at, kind, &[])?;
            (check_meta(doc, at, obj.metadata)?, Body::ServiceAccount)
        }
        Kind::ConfigMap => match config_map(doc, at, &origin, out)? {
            Some(loaded) => loaded,
            None => return Ok(()),
        },
        Kind::Secret => secret(doc, at)?,
    };
    out.resources.push(Resource {
        api_version: header.api_version,
        meta,
        body,
        origin: Some(origin),
    });
    Ok(())
}

/// Whether a kind must have a `spec` (Kubernetes rejects these without one).
fn spec_required(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::ServiceEntry
            | Kind::VirtualService
            | Kind::Gateway
            | Kind::DestinationRule
            | Kind::AsmEgressTrafficPolicy
            | Kind::Deployment
    )
}

/// A kind whose body is its `spec`.
fn spec<S: DeserializeOwned + Default>(
    doc: &Doc,
    at: &FieldPath,
    kind: Kind,
    body: impl FnOnce(S) -> Body,
) -> Result<(ObjectMeta, Body), Diag> {
    let obj: Object<S> = read_whole(doc, at, kind, struct_fields::<S>())?;
    let meta = check_meta(doc, at, obj.metadata)?;
    let spec = match obj.spec {
        Some(spec) => spec,
        None if !spec_required(kind) => S::default(),
        None => {
            let pos = locate::key_at(doc.text, at, "spec", 0).unwrap_or_else(|| doc.pos_of(at));
            let what = format!("{kind}/{}", meta.name);
            return Err(
                Diag::new(pos, format!("{what} has no `spec`")).with_hint(Some(format!(
                    "a {kind} needs a `spec:` mapping; see the Istio reference for {kind}"
                ))),
            );
        }
    };
    Ok((meta, body(spec)))
}

/// The strict read of the whole object at `at`.
fn read_whole<T: DeserializeOwned>(
    doc: &Doc,
    at: &FieldPath,
    kind: Kind,
    spec_fields: &[&'static str],
) -> Result<T, Diag> {
    let ctx = Ctx {
        kind: Some(kind),
        spec_fields,
        within: None,
    };
    typed::read_at::<T>(doc.text, at, &ctx)?
        .ok_or_else(|| Diag::new(doc.pos_of(at), format!("no {kind} object here")))
}

/// `metadata.name` must be there and not empty.
fn check_meta(doc: &Doc, at: &FieldPath, meta: Option<ObjectMeta>) -> Result<ObjectMeta, Diag> {
    let Some(meta) = meta else {
        let pos = locate::key_at(doc.text, at, "metadata", 0).unwrap_or_else(|| doc.pos_of(at));
        return Err(Diag::new(pos, "missing `metadata.name`").with_hint(Some(
            "add `metadata:` with a `name:` (and usually a `namespace:`)".into(),
        )));
    };
    if !meta.name.trim().is_empty() {
        return Ok(meta);
    }
    let meta_at = at.key("metadata");
    let (pos, message) = match locate::value_at(doc.text, &meta_at.key("name")) {
        Some(pos) => (pos, "`metadata.name` is empty"),
        None => (doc.pos_of(&meta_at), "missing field `name` at metadata"),
    };
    let hint = if meta.generate_name.is_some() {
        "egressbench needs a fixed `metadata.name`; `generateName` is not supported"
    } else {
        "every object needs a `metadata.name`"
    };
    Err(Diag::new(pos, message).with_hint(Some(hint.into())))
}

/// kubectl's `List`: each of `items` is loaded as an object of its own.
fn load_list(doc: &Doc, at: &FieldPath, value: &Value, out: &mut Loaded) -> Result<(), Diag> {
    let ctx = Ctx::default();
    let list: Option<ListObject> = typed::read_at(doc.text, at, &ctx)?;
    let count = list.map_or(0, |l| l.items.len());
    for i in 0..count {
        let item = value
            .get("items")
            .and_then(|items| items.get(i))
            .unwrap_or(&Value::Null);
        load(doc, &at.key("items").index(i), item, out)?;
    }
    Ok(())
}

/// A Secret: its `data` (base64) and `stringData` entries as text files.
fn secret(doc: &Doc, at: &FieldPath) -> Result<(ObjectMeta, Body), Diag> {
    let obj: SecretObject = read_whole(doc, at, Kind::Secret, &[])?;
    let meta = check_meta(doc, at, obj.metadata)?;
    let mut entries = std::collections::BTreeMap::new();
    for (key, value) in obj.data.unwrap_or_default() {
        let Some(bytes) = crate::base64::decode(&value) else {
            let pos = locate::key_at(doc.text, &at.key("data"), &key, 0)
                .unwrap_or_else(|| doc.pos_of(at));
            return Err(
                Diag::new(pos, format!("Secret `data.{key}` is not base64")).with_hint(Some(
                    "write the value base64-encoded, or put the text under `stringData`".into(),
                )),
            );
        };
        let text = String::from_utf8_lossy(&bytes).into_owned();
        entries.insert(key, FileContent::Text(text));
    }
    for (key, value) in obj.string_data.unwrap_or_default() {
        entries.insert(key, FileContent::Text(value));
    }
    let files = kube::FileSet {
        secret_type: obj.secret_type,
        entries,
    };
    Ok((meta, Body::Secret(Box::new(files))))
}

/// A ConfigMap: the mesh config when it is `istio` / `istio-<revision>` with a `mesh` key; a
/// set of files a pod may mount when it is not named like Istio's; otherwise a note (`None`).
fn config_map(
    doc: &Doc,
    at: &FieldPath,
    origin: &Origin,
    out: &mut Loaded,
) -> Result<Option<(ObjectMeta, Body)>, Diag> {
    let obj: ConfigMapObject = read_whole(doc, at, Kind::ConfigMap, &[])?;
    let meta = check_meta(doc, at, obj.metadata)?;
    let id = format!("ConfigMap/{}/{}", meta.namespace_or_default(), meta.name);
    let mesh_named = meta.name == "istio" || meta.name.starts_with("istio-");
    let mesh_text = obj.data.as_ref().and_then(|d| d.get("mesh"));
    let note = |message: String| Note {
        origin: origin.clone(),
        message,
    };
    match (mesh_named, mesh_text) {
        (true, Some(text)) => {
            let config = mesh_config::read(doc.text, &at.key("data").key("mesh"), text)?;
            Ok(Some((meta, Body::MeshConfig(Box::new(config)))))
        }
        (true, None) if meta.name == "istio" => {
            out.notes.push(note(format!(
                "{id} has no `data.mesh`: Istio's default mesh config applies"
            )));
            Ok(Some((meta, Body::MeshConfig(Box::default()))))
        }
        (false, _) => {
            let entries = obj
                .data
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, FileContent::Text(v)))
                .collect();
            let files = kube::FileSet {
                secret_type: None,
                entries,
            };
            Ok(Some((meta, Body::ConfigFiles(Box::new(files)))))
        }
        _ => {
            out.notes.push(note(format!(
                "skipped {id}: only the `istio` ConfigMap's `mesh` key is read"
            )));
            Ok(None)
        }
    }
}
