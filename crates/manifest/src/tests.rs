//! End-to-end tests of `load_str` and `load_paths`: whole streams in; resources, notes and exact
//! error positions out.

use super::*;
use egressbench_resources::enums::{OutboundMode, Protocol};
use egressbench_resources::{Body, Kind};

fn load(text: &str) -> Loaded {
    match load_str(text, "test.yaml") {
        Ok(l) => l,
        Err(e) => panic!("unexpected error:\n{}", e.render()),
    }
}

fn fail(text: &str) -> LoadError {
    match load_str(text, "test.yaml") {
        Ok(l) => panic!("expected an error, loaded {} resources", l.resources.len()),
        Err(e) => e,
    }
}

fn at(e: &LoadError) -> (usize, usize) {
    (e.line, e.column)
}

const STREAM: &str = "\
# Egress setup for the demo namespace.
---
apiVersion: v1
kind: Namespace
metadata:
  name: demo
  labels:
    istio-injection: enabled
---
# Registry entry for httpbin.
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: httpbin
  namespace: demo
spec:
  hosts:
  - httpbin.org
  ports:
  - number: 443
    name: https
    protocol: HTTPS
  resolution: DNS
  location: MESH_EXTERNAL
...
---
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: default
  namespace: istio-system
spec:
  mtls:
    mode: STRICT
---
apiVersion: istio.alibabacloud.com/v1
kind: ASMEgressTrafficPolicy
metadata:
  name: egress-by-egressgateway
  namespace: istio-egress
spec:
  byEgressGateway:
    name: istio-egressgateway
  egressRules:
  - name: http-httpbin
    from:
    - namespace: demo
      workloadSelector:
        app: sleep
    to:
    - name: httpbin-service
      hosts:
      - httpbin.org
      port:
        name: http
        number: 80
        protocol: HTTP
      byEgressGateway:
        port: 8080
";

#[test]
fn multi_document_stream_with_origins() {
    let l = load(STREAM);
    let got: Vec<(Kind, String, usize, usize)> = l
        .resources
        .iter()
        .map(|r| {
            let o = r.origin.clone().unwrap_or_else(|| panic!("no origin"));
            (r.kind(), r.name().to_string(), o.line, o.column)
        })
        .collect();
    assert_eq!(
        got,
        [
            (Kind::Namespace, "demo".into(), 3, 1),
            (Kind::ServiceEntry, "httpbin".into(), 11, 1),
            (
                Kind::AsmEgressTrafficPolicy,
                "egress-by-egressgateway".into(),
                37,
                1
            ),
        ]
    );
    assert_eq!(l.resources[1].api_version, "networking.istio.io/v1");
    assert_eq!(l.resources[2].namespace(), "istio-egress");
    let Body::ServiceEntry(se) = &l.resources[1].body else {
        panic!("not a ServiceEntry")
    };
    assert_eq!(se.ports[0].protocol, Some(Protocol::Https));
    let Body::AsmEgressTrafficPolicy(asm) = &l.resources[2].body else {
        panic!("not an ASMEgressTrafficPolicy")
    };
    assert_eq!(asm.egress_rules[0].to[0].port.number, 80);
    assert_eq!(
        l.notes,
        [Note {
            origin: Origin {
                file: "test.yaml".into(),
                line: 28,
                column: 1
            },
            message:
                "skipped PeerAuthentication/istio-system/default: kind not modelled by egressbench"
                    .into()
        }]
    );
}

#[test]
fn error_in_a_later_document() {
    let text = STREAM.replace("        protocol: HTTP\n", "        protocol: HTTQ\n");
    let e = fail(&text);
    assert_eq!(at(&e), (58, 19));
    assert!(
        e.message
            .starts_with("unknown protocol `HTTQ`, expected one of `HTTP`"),
        "{}",
        e.message
    );
    assert!(
        e.message
            .ends_with("at spec.egressRules[0].to[0].port.protocol"),
        "{}",
        e.message
    );
    assert_eq!(e.hint.as_deref(), Some("did you mean `HTTP`?"));
    assert_eq!(e.source_line.as_deref(), Some("        protocol: HTTQ"));
}

#[test]
fn error_in_the_third_document() {
    let text = "\
apiVersion: v1
kind: Namespace
metadata: {name: demo}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: sleep, namespace: demo}
---
# the third document
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: httpbin, namespace: demo}
spec:
  hosts: [httpbin.org]
  ports:
  - number: 80
    name: http
    protocol: HTTP
    targetPort: http
";
    let e = fail(text);
    assert_eq!(
        e.to_string(),
        "test.yaml:19:17: invalid type: string \"http\", expected u16 at spec.ports[0].targetPort"
    );
    assert_eq!(e.source_line.as_deref(), Some("    targetPort: http"));
}

#[test]
fn misspelt_field_deep_in_an_asm_policy() {
    let text = STREAM.replace("      workloadSelector:\n", "      workloadSelectr:\n");
    let e = fail(&text);
    assert_eq!(e.to_string(), "test.yaml:49:7: unknown field `workloadSelectr` at spec.egressRules[0].from[0], expected one of `namespace`, `workloadSelector`");
    assert_eq!(e.hint.as_deref(), Some("did you mean `workloadSelector`?"));
    assert_eq!(
        e.render(),
        "test.yaml:49:7: unknown field `workloadSelectr` at spec.egressRules[0].from[0], expected one of `namespace`, `workloadSelector`
   |
49 |       workloadSelectr:
   |       ^^^^^^^^^^^^^^^
  help: did you mean `workloadSelector`?"
    );
}

#[test]
fn unsupported_asm_features_get_the_table_hint() {
    let text = STREAM.replace(
        "      byEgressGateway:\n        port: 8080\n",
        "      byEgressGateway:\n        port: 8080\n      weight: 50\n",
    );
    let e = fail(&text);
    assert_eq!(at(&e), (61, 7));
    assert_eq!(
        e.hint.as_deref(),
        Some("ASMEgressTrafficPolicy does not support weighted routing; configure a native VirtualService for the egress gateway instead")
    );
    let text = STREAM.replace(
        "  byEgressGateway:\n    name: istio-egressgateway\n",
        "  byEgressGateway:\n    name: istio-egressgateway\n    plaintext: true\n",
    );
    let e = fail(&text);
    assert_eq!(at(&e), (45, 5));
    assert!(
        e.hint.as_deref().unwrap_or("").contains("always mTLS"),
        "{e:?}"
    );
}

#[test]
fn wrong_type_names_the_path() {
    let text = STREAM.replace("  - number: 443\n", "  - number: eighty\n");
    let e = fail(&text);
    assert_eq!(
        e.to_string(),
        "test.yaml:20:13: invalid type: string \"eighty\", expected u16 at spec.ports[0].number"
    );
}

#[test]
fn bad_enum_value_points_at_the_value() {
    let text = STREAM.replace("  resolution: DNS\n", "  resolution: DNZ\n");
    let e = fail(&text);
    assert_eq!(at(&e), (23, 15));
    assert_eq!(e.hint.as_deref(), Some("did you mean `DNS`?"));
    assert!(e.message.ends_with(" at spec.resolution"), "{}", e.message);
}

#[test]
fn duplicate_keys() {
    let text = STREAM.replace(
        "  location: MESH_EXTERNAL\n",
        "  location: MESH_EXTERNAL\n  hosts: [other.org]\n",
    );
    let e = fail(&text);
    assert_eq!(at(&e), (25, 3));
    assert_eq!(
        e.message,
        "duplicate key `hosts` in spec (first defined at line 17 column 3)"
    );
}

const MESH: &str = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: istio-ca-root-cert
  namespace: demo
data:
  root-cert.pem: |
    -----BEGIN CERTIFICATE-----
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: istio
  namespace: istio-system
data:
  mesh: |-
    accessLogFile: /dev/stdout
    outboundTrafficPolicy:
      mode: REGISTRY_ONLY
  meshNetworks: 'networks: {}'
";

#[test]
fn mesh_config_from_the_istio_config_map() {
    let l = load(MESH);
    assert_eq!(l.resources.len(), 1);
    let Body::MeshConfig(m) = &l.resources[0].body else {
        panic!("not a mesh config")
    };
    assert_eq!(m.outbound_mode(), OutboundMode::RegistryOnly);
    assert_eq!(l.resources[0].kind(), Kind::ConfigMap);
    assert_eq!(l.resources[0].origin.as_ref().map(|o| o.line), Some(10));
    assert_eq!(l.notes.len(), 1);
    assert!(
        l.notes[0]
            .message
            .starts_with("skipped ConfigMap/demo/istio-ca-root-cert"),
        "{:?}",
        l.notes
    );
}

#[test]
fn error_inside_the_mesh_string_points_at_the_file_line() {
    let e = fail(&MESH.replace("mode: REGISTRY_ONLY", "mode: REGISTRY_ONL"));
    assert_eq!(at(&e), (19, 13));
    assert!(
        e.message
            .starts_with("unknown outbound traffic policy mode `REGISTRY_ONL`"),
        "{}",
        e.message
    );
    assert!(
        e.message
            .ends_with("at outboundTrafficPolicy.mode in data.mesh"),
        "{}",
        e.message
    );
    assert_eq!(e.hint.as_deref(), Some("did you mean `REGISTRY_ONLY`?"));
    assert_eq!(e.source_line.as_deref(), Some("      mode: REGISTRY_ONL"));
}

#[test]
fn revisioned_mesh_config_and_istio_without_mesh() {
    let l = load(&MESH.replace("  name: istio\n", "  name: istio-1-22\n"));
    assert!(matches!(l.resources[0].body, Body::MeshConfig(_)));
    assert_eq!(l.resources[0].name(), "istio-1-22");
    let l = load("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\ndata: {}\n");
    assert!(matches!(l.resources[0].body, Body::MeshConfig(_)));
    assert!(
        l.notes[0].message.contains("has no `data.mesh`"),
        "{:?}",
        l.notes
    );
}

#[test]
fn tab_indentation() {
    let text = STREAM.replace("  hosts:\n  - httpbin.org\n", "  hosts:\n\t- httpbin.org\n");
    let e = fail(&text);
    assert_eq!(at(&e), (18, 1));
    assert!(e.message.starts_with("invalid YAML: "), "{}", e.message);
    assert!(e.hint.as_deref().unwrap_or("").contains("spaces"), "{e:?}");
}

#[test]
fn bad_indentation() {
    let text = STREAM.replace(
        "  ports:\n  - number: 443\n",
        "   ports:\n  - number: 443\n",
    );
    let e = fail(&text);
    assert_eq!(at(&e), (19, 4));
    assert_eq!(
        e.message,
        "invalid YAML: mapping values are not allowed in this context"
    );
    assert!(
        e.hint.as_deref().unwrap_or("").contains("indentation"),
        "{e:?}"
    );
}

#[test]
fn list_items_are_loaded() {
    let text = "\
apiVersion: v1
kind: List
metadata:
  resourceVersion: \"\"
items:
- apiVersion: v1
  kind: ServiceAccount
  metadata:
    name: sleep
    namespace: demo
- apiVersion: v1
  kind: Pod
  metadata: {name: sleep-abc, namespace: demo}
- apiVersion: networking.istio.io/v1beta1
  kind: Sidecar
  metadata:
    name: default
    namespace: demo
";
    let l = load(text);
    let kinds: Vec<(Kind, usize, usize)> = l
        .resources
        .iter()
        .filter_map(|r| r.origin.as_ref().map(|o| (r.kind(), o.line, o.column)))
        .collect();
    assert_eq!(
        kinds,
        [(Kind::ServiceAccount, 6, 3), (Kind::Sidecar, 14, 3)]
    );
    assert_eq!(l.notes.len(), 1);
    assert_eq!(l.notes[0].origin.line, 11);
    assert!(l.notes[0].message.contains("Pod/demo/sleep-abc"));
}

#[test]
fn errors_in_list_items() {
    let text = "\
apiVersion: v1
kind: List
items:
- apiVersion: networking.istio.io/v1
  kind: ServiceEntry
  metadata: {name: a}
  spec:
    hosts: [a.example]
    ports:
    - {number: 80, protocol: HTTP, nmae: http}
";
    let e = fail(text);
    assert_eq!(at(&e), (10, 36));
    assert!(
        e.message
            .starts_with("unknown field `nmae` at items[0].spec.ports[0]"),
        "{}",
        e.message
    );
    assert_eq!(e.hint.as_deref(), Some("did you mean `name`?"));
}

#[test]
fn top_level_keys() {
    let text = STREAM.replace("spec:\n  hosts:", "spc:\n  hosts:");
    let e = fail(&text);
    assert_eq!(at(&e), (16, 1));
    assert_eq!(
        e.message,
        "unknown field `spc` at the top level, expected one of `apiVersion`, `kind`, `metadata`, `spec`, `status`"
    );
    assert_eq!(e.hint.as_deref(), Some("did you mean `spec`?"));

    let e = fail(
        "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: x}\nhosts: [a]\n",
    );
    assert_eq!(at(&e), (4, 1));
    assert_eq!(
        e.hint.as_deref(),
        Some("`hosts` is a field of `spec`; indent it under `spec:`")
    );

    // `status` is accepted and ignored; ConfigMaps and ServiceAccounts have their own keys.
    load("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80}]}\nstatus: {loadBalancer: {}}\n");
    load("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: s}\nautomountServiceAccountToken: false\nimagePullSecrets: []\n");
    let e = fail("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio}\nspec: {}\n");
    assert_eq!(at(&e), (4, 1));
}

#[test]
fn metadata_name_and_spec_rules() {
    let e = fail("apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nspec: {hosts: [a]}\n");
    assert_eq!(
        (at(&e), e.message.as_str()),
        ((1, 1), "missing `metadata.name`")
    );
    let e = fail("apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  namespace: x\nspec: {hosts: [a]}\n");
    assert_eq!(
        (at(&e), e.message.as_str()),
        ((4, 3), "missing field `name` at metadata")
    );
    let e = fail("apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: \"\"\nspec: {hosts: [a]}\n");
    assert_eq!(
        (at(&e), e.message.as_str()),
        ((4, 9), "`metadata.name` is empty")
    );
    let e = fail("apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: se}\n");
    assert_eq!(e.message, "ServiceEntry/se has no `spec`");
    let e = fail(
        "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: se}\nspec:\n",
    );
    assert_eq!(at(&e), (4, 1));

    // AuthorizationPolicy and Sidecar may leave `spec` out or empty.
    let l = load("apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: deny-all, namespace: demo}\nspec: {}\n---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: no-spec}\n---\napiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {name: default}\n");
    assert_eq!(l.resources.len(), 3);
    let Body::AuthorizationPolicy(ap) = &l.resources[0].body else {
        panic!("not an AuthorizationPolicy")
    };
    assert_eq!(ap.rules, None);
}

#[test]
fn api_versions() {
    let e = fail(
        "apiVersion: networking.istio.io/v1\nkind: ASMEgressTrafficPolicy\nmetadata: {name: x}\n",
    );
    assert_eq!(at(&e), (1, 13));
    assert_eq!(
        e.message,
        "ASMEgressTrafficPolicy is not served as `networking.istio.io/v1`; accepted: `istio.alibabacloud.com/v1`, `istio.alibabacloud.com/v1beta1`"
    );
    let e = fail("kind: ServiceEntry\nmetadata: {name: x}\n");
    assert_eq!(
        (at(&e), e.message.as_str()),
        ((1, 1), "document has no `apiVersion`")
    );
    let e = fail("---\napiVersion: v1\nmetadata: {name: x}\n");
    assert_eq!(
        (at(&e), e.message.as_str()),
        ((2, 1), "document has no `kind`")
    );
}

#[test]
fn other_kinds_are_notes() {
    let text = "\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: serviceentries.networking.istio.io}
---
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: f, namespace: istio-system}
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: mesh-default, namespace: istio-system}
";
    let l = load(text);
    assert!(l.resources.is_empty());
    let notes: Vec<(usize, &str)> = l
        .notes
        .iter()
        .map(|n| (n.origin.line, n.message.as_str()))
        .collect();
    assert_eq!(
        notes,
        [
            (1, "skipped CustomResourceDefinition/serviceentries.networking.istio.io: kind not modelled by egressbench"),
            (5, "skipped EnvoyFilter/istio-system/f: kind not modelled by egressbench"),
            (9, "skipped Telemetry/istio-system/mesh-default: kind not modelled by egressbench"),
        ]
    );
}

#[test]
fn configmaps_and_secrets_are_files_a_pod_mounts() {
    use egressbench_resources::files::FileContent;
    use egressbench_resources::Body;
    let l = load(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app-config}\ndata: {nginx.conf: 'events {}'}\n\
         ---\napiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: x}\ntype: Opaque\n\
         data: {a: aGVsbG8=}\nstringData: {b: world}\n",
    );
    let [config, secret] = &l.resources[..] else {
        panic!("{:?}", l.resources)
    };
    let Body::ConfigFiles(files) = &config.body else {
        panic!("{config:?}")
    };
    assert_eq!(
        files.entries["nginx.conf"],
        FileContent::Text("events {}".into())
    );
    assert_eq!(secret.id().to_string(), "Secret/x/s");
    let Body::Secret(files) = &secret.body else {
        panic!("{secret:?}")
    };
    assert_eq!(files.secret_type.as_deref(), Some("Opaque"));
    assert_eq!(files.entries["a"], FileContent::Text("hello".into()));
    assert_eq!(files.entries["b"], FileContent::Text("world".into()));
    let e = fail("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata:\n  a: not base64!\n");
    assert_eq!(
        (at(&e), e.message.as_str()),
        ((5, 3), "Secret `data.a` is not base64")
    );
}

#[test]
fn empty_and_comment_only_streams() {
    for text in [
        "",
        "\n\n",
        "# nothing\n",
        "---\n---\n",
        "---\n# c\n...\n",
        "--- ~\n",
        "null\n",
    ] {
        let l = load(text);
        assert!(l.resources.is_empty() && l.notes.is_empty(), "{text:?}");
    }
}

#[test]
fn odd_input_never_panics() {
    let odd = [
        ":",
        "- - -",
        "{",
        "[",
        "!!binary AAAA",
        "&a [*a]",
        "? [a]\n: b",
        "apiVersion: [",
        "kind: List\nitems: 3",
        "kind: List\napiVersion: v1\nitems: [1, [2], {kind: X}]",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio}\ndata: {mesh: 3}",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio}\ndata:\n  mesh: \"a: [\"",
        "apiVersion: v1\nkind: !Service x\n",
        "\t",
        "'",
        "\"\\q\"",
        "a: !custom {b: 1}",
        "apiVersion: v1\nkind: Namespace\nmetadata: !tag {name: x}\n",
        &"[".repeat(300),
        "a: &x 1\nb: *x\nc: *y",
    ];
    for text in odd {
        let _ = load_str(text, "odd.yaml").map_err(|e| e.render());
    }
}

#[test]
fn folders_load_in_path_order() -> std::io::Result<()> {
    let dir = std::env::temp_dir().join(format!("egressbench-manifest-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("10-mesh"))?;
    let ns = |name: &str| format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n");
    std::fs::write(dir.join("20-b.yaml"), ns("b"))?;
    std::fs::write(dir.join("10-mesh/01-a.yml"), ns("a"))?;
    std::fs::write(dir.join("00-first.yaml"), ns("first"))?;
    std::fs::write(dir.join("notes.txt"), "not yaml")?;
    let loaded = load_paths(&[&dir]);
    std::fs::remove_dir_all(&dir)?;
    let l = loaded.unwrap_or_else(|e| panic!("{}", e.render()));
    let names: Vec<&str> = l.resources.iter().map(|r| r.name()).collect();
    assert_eq!(names, ["first", "a", "b"]);
    let origin = l.resources[1]
        .origin
        .clone()
        .unwrap_or_else(|| panic!("no origin"));
    assert!(origin.file.ends_with("10-mesh/01-a.yml"), "{}", origin.file);
    assert_eq!((origin.line, origin.column), (1, 1));

    let e = load_paths(&[dir.join("gone.yaml")]).unwrap_err();
    assert_eq!((e.line, e.column), (0, 0));
    assert!(e.message.contains("gone.yaml"), "{}", e.message);
    Ok(())
}
