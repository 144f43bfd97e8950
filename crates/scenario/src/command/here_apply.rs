//! A manifest written in the command itself, as the documents apply most of theirs:
//! `kubectl apply -f - <<EOF` and `cat <<EOF | kubectl apply -f -`, with the YAML on the lines
//! up to `EOF` (in a `kubectl: |` block).
//!
//! Owns: telling such a line (`is_here_apply`) and reading it into its text and `-n` namespace.
//! Leaves out: loading the text (the scenario loader does, with the manifest checks of any file)
//! and other commands fed from a here-document (only `cat > FILE`, in `workstation`).

use super::error::CommandError;
use super::kubectl::KubectlCommand;

/// Whether the first line of `line` pipes a here-document into `kubectl apply -f -`.
pub(crate) fn is_here_apply(line: &str) -> bool {
    let head = line.lines().next().unwrap_or("");
    let words: Vec<&str> = head.split_whitespace().collect();
    head.contains("<<")
        && words.contains(&"kubectl")
        && words.contains(&"apply")
        && words
            .windows(2)
            .any(|w| w == ["-f", "-"] || w == ["--filename", "-"])
}

fn bad(line: &str, why: &str) -> CommandError {
    CommandError::ShellSyntax {
        found: line.lines().next().unwrap_or("").to_string(),
        why: why.to_string(),
    }
}

/// Read `kubectl [-n NS] apply -f - <<EOF` or `cat <<EOF | kubectl [-n NS] apply -f -` and the
/// text after it.
pub(crate) fn parse_here_apply(line: &str) -> Result<KubectlCommand, CommandError> {
    const FORMS: &str = "`kubectl apply -f - <<EOF` or `cat <<EOF | kubectl apply -f -`, with the \
                         manifest on the lines after it, up to `EOF`";
    let (head, body) = line.split_once('\n').unwrap_or((line, ""));
    let words: Vec<&str> = head.split_whitespace().collect();
    let mut delimiter = None;
    let mut namespace: Option<&str> = None;
    let mut quoted = false;
    let mut rest = words.iter().copied();
    while let Some(w) = rest.next() {
        match w {
            "cat" | "|" | "kubectl" | "apply" => {}
            "-f" | "--filename" => {
                if rest.next() != Some("-") {
                    return Err(bad(line, &format!("expected {FORMS}")));
                }
            }
            "-n" | "--namespace" => {
                namespace = rest
                    .next()
                    .filter(|n| !n.starts_with('-') && !n.starts_with("<<"));
                if namespace.is_none() {
                    return Err(bad(line, "`-n` needs a namespace"));
                }
            }
            w if w.starts_with("--namespace=") => {
                namespace = Some(&w["--namespace=".len()..]);
            }
            w if w.starts_with("<<") => {
                // `<<-EOF` also strips the lines' leading tabs, which YAML blocks do not have.
                let d = match w[2..].trim_start_matches('-') {
                    "" => rest.next().unwrap_or(""),
                    d => d,
                };
                quoted = d.starts_with('\\') || d.starts_with('\'') || d.starts_with('"');
                delimiter = Some(d.trim_start_matches('\\').trim_matches(['\'', '"']));
            }
            other => {
                return Err(bad(
                    line,
                    &format!("`{other}` is not replayed here; expected {FORMS}"),
                ))
            }
        }
    }
    let delimiter = delimiter
        .filter(|d| !d.is_empty())
        .ok_or_else(|| bad(line, &format!("no end word after `<<`; expected {FORMS}")))?;
    if namespace == Some("") {
        return Err(bad(line, "`-n` needs a namespace"));
    }
    let text = super::workstation::here_text(line, body, delimiter)?;
    Ok(KubectlCommand::ApplyText {
        text,
        namespace: namespace.map(str::to_string),
        expands: !quoted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(line: &str) -> (String, Option<String>) {
        match parse_here_apply(line) {
            Ok(KubectlCommand::ApplyText {
                text, namespace, ..
            }) => (text, namespace),
            other => panic!("{other:?}"),
        }
    }

    fn expands(line: &str) -> bool {
        matches!(
            parse_here_apply(line),
            Ok(KubectlCommand::ApplyText { expands: true, .. })
        )
    }

    #[test]
    fn both_forms_the_documents_print() {
        let yaml = "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n";
        let piped = format!("cat <<EOF | kubectl apply -f -\n{yaml}EOF\n");
        assert!(is_here_apply(&piped));
        assert_eq!(read(&piped), (yaml.to_string(), None));
        let direct = format!("kubectl apply -n istio-system -f - <<'EOF'\n{yaml}EOF");
        assert!(is_here_apply(&direct));
        assert_eq!(
            read(&direct),
            (yaml.to_string(), Some("istio-system".into()))
        );
        let quoted = format!("kubectl --namespace=x apply -f - <<\\EOF\n{yaml}EOF");
        assert_eq!(read(&quoted).1.as_deref(), Some("x"));
        // The shell expands variables only after an unquoted end word.
        assert!(expands(&piped));
        assert!(!expands(&direct));
        assert!(!expands(&quoted));
        let dash = format!("kubectl apply -f - <<-EOF\n{yaml}EOF");
        assert_eq!(read(&dash).0, yaml);
    }

    #[test]
    fn what_is_not_replayed_says_so() {
        assert!(!is_here_apply("cat <<EOF > nginx.conf\nx\nEOF"));
        assert!(!is_here_apply("kubectl apply -f a.yaml"));
        let e = parse_here_apply("kubectl apply -f - <<EOF\nkind: X\n").unwrap_err();
        assert!(e.to_string().contains("must end with a line `EOF`"), "{e}");
        let e = parse_here_apply("kubectl apply -f - -n <<EOF\nEOF").unwrap_err();
        assert!(e.to_string().contains("`-n` needs a namespace"), "{e}");
        let e = parse_here_apply("kubectl apply --dry-run=client -f - <<EOF\nEOF").unwrap_err();
        assert!(
            e.to_string().contains("`--dry-run=client` is not replayed"),
            "{e}"
        );
    }
}
