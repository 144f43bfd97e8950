//! `egressbench compile` on the seed's policies prints exactly the native resources kept in
//! fixtures/000/compiled/, which scenario 000-http-via-compiled-native-resources runs. When the
//! compiler changes on purpose, regenerate them with the command in the failure message.

// Test helpers may panic: a failed setup is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

fn compile(policy: &str) -> String {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = Command::new(env!("CARGO_BIN_EXE_egressbench"))
        .current_dir(root)
        .args([
            "compile",
            "fixtures/000/namespaces.yaml",
            "fixtures/000/egressgateway.yaml",
            policy,
        ])
        .output()
        .expect("run egressbench compile");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn compiled_fixtures_are_the_compilers_output() {
    let root = env!("CARGO_MANIFEST_DIR");
    for name in ["egress-http", "egress-https-upgrade"] {
        let policy = format!("fixtures/000/{name}.yaml");
        let golden_path = format!("{root}/fixtures/000/compiled/{name}.yaml");
        let golden = std::fs::read_to_string(&golden_path).expect("read golden file");
        let printed = compile(&policy);
        assert!(
            printed == golden,
            "fixtures/000/compiled/{name}.yaml differs from the compiler's output; regenerate with\n  \
             cargo run -q -- compile fixtures/000/namespaces.yaml fixtures/000/egressgateway.yaml {policy} > fixtures/000/compiled/{name}.yaml"
        );
        for kind in [
            "ServiceEntry",
            "VirtualService",
            "Gateway",
            "DestinationRule",
            "Sidecar",
        ] {
            assert!(
                printed.contains(&format!("kind: {kind}\n")),
                "{name}: no {kind} in\n{printed}"
            );
        }
    }
}
