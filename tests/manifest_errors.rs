//! The loader's errors on the broken manifests in `fixtures/bad/`, through the public API: exact
//! `file:line:column`, the message, the hint, and the rendered report. Each file is a realistic
//! multi-document manifest whose error is not in the first document.

use egressbench_manifest::{load_paths, LoadError};
use std::path::PathBuf;

fn bad(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/bad")
        .join(name)
}

fn load_error(name: &str) -> (LoadError, String) {
    let path = bad(name);
    match load_paths(&[&path]) {
        Ok(l) => panic!("{name} loaded {} resources", l.resources.len()),
        Err(e) => (e, path.display().to_string()),
    }
}

#[test]
fn bad_indentation() {
    let (e, file) = load_error("bad-indentation.yaml");
    assert_eq!(e.file, file);
    assert_eq!((e.line, e.column), (24, 4));
    assert_eq!(
        e.to_string(),
        format!("{file}:24:4: invalid YAML: mapping values are not allowed in this context")
    );
    assert_eq!(
        e.hint.as_deref(),
        Some(
            "check this line's indentation: keys of one mapping start in the same column, \
             and nested keys are indented further than their parent"
        )
    );
    assert_eq!(e.source_line.as_deref(), Some("   ports:"));
    assert!(
        e.render()
            .contains("\n24 |    ports:\n   |    ^^^^^\n  help: check this line's indentation"),
        "{}",
        e.render()
    );
}

#[test]
fn misspelled_field() {
    let (e, file) = load_error("misspelled-field.yaml");
    assert_eq!((e.line, e.column), (19, 11));
    assert_eq!(
        e.to_string(),
        format!(
            "{file}:19:11: unknown field `workloadSelectr` at spec.egressRules[0].from[0], \
             expected one of `namespace`, `workloadSelector`"
        )
    );
    assert_eq!(e.hint.as_deref(), Some("did you mean `workloadSelector`?"));
    assert_eq!(
        e.render(),
        format!(
            "{file}:19:11: unknown field `workloadSelectr` at spec.egressRules[0].from[0], \
             expected one of `namespace`, `workloadSelector`\n   |\n19 |           workloadSelectr:\n   |           ^^^^^^^^^^^^^^^\n  help: did you mean `workloadSelector`?"
        )
    );
}

#[test]
fn wrong_enum() {
    let (e, file) = load_error("wrong-enum.yaml");
    assert_eq!((e.line, e.column), (33, 17));
    assert_eq!(
        e.to_string(),
        format!(
            "{file}:33:17: unknown protocol `HTTQ`, expected one of `HTTP`, `HTTPS`, `GRPC`, \
             `GRPC-Web`, `HTTP2`, `MONGO`, `MYSQL`, `REDIS`, `TCP`, `TLS`, `UDP` at spec.ports[0].protocol"
        )
    );
    assert_eq!(e.hint.as_deref(), Some("did you mean `HTTP`?"));
    assert!(
        e.render()
            .contains("\n33 |       protocol: HTTQ\n   |                 ^^^^\n"),
        "{}",
        e.render()
    );
}

#[test]
fn the_folder_fails_on_its_first_file_in_path_order() {
    let e = match load_paths(&[bad("")]) {
        Ok(_) => panic!("fixtures/bad loaded"),
        Err(e) => e,
    };
    assert!(e.file.ends_with("bad-indentation.yaml"), "{}", e.file);
    assert_eq!((e.line, e.column), (24, 4));
}
