//! `kubectl create namespace|secret|configmap`, as the documents hand their workstation's files
//! to the cluster.
//!
//! Owns: `CreateCommand` and its parser (`create namespace NAME`, `create secret tls NAME --key K
//! --cert C`, `create secret generic NAME --from-file=[KEY=]PATH… --from-literal=KEY=VALUE…`,
//! `create configmap NAME --from-file=…`, with `-n NS` anywhere). Leaves out: where the files come
//! from (the loader: the workstation's, or the scenario's folder) and applying the objects.

use super::error::CommandError;

/// A `kubectl create …` line, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateCommand {
    Namespace {
        name: String,
    },
    Secret {
        namespace: String,
        name: String,
        source: SecretSource,
    },
    ConfigMap {
        namespace: String,
        name: String,
        entries: Vec<Entry>,
    },
}

/// Where a Secret's entries come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// `secret tls --key K --cert C`: entries `tls.key` and `tls.crt`, type `kubernetes.io/tls`.
    Tls { key: String, cert: String },
    /// `secret generic --from-file… --from-literal…`: type `Opaque`.
    Generic(Vec<Entry>),
}

/// One entry: `--from-file=[KEY=]PATH` (the key defaults to the file's base name) or
/// `--from-literal=KEY=VALUE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    File { key: String, path: String },
    Literal { key: String, value: String },
}

fn usage(message: String) -> CommandError {
    CommandError::Usage {
        program: "kubectl create",
        message,
    }
}

const SUPPORTED: &str = "create namespace NAME, create secret tls NAME --key FILE --cert FILE, \
     create secret generic NAME --from-file=[KEY=]FILE… [--from-literal=KEY=VALUE…], create \
     configmap NAME --from-file=[KEY=]FILE… (each with -n NAMESPACE)";

/// Whether the words after `kubectl` are a `create` line (the verb is the first word that is no
/// `-n`/`--namespace` flag or its value).
pub(crate) fn is_create(words: &[String]) -> bool {
    let mut i = 0;
    while let Some(w) = words.get(i) {
        match w.as_str() {
            "-n" | "--namespace" => i += 2,
            w if w.starts_with("--namespace=") || (w.starts_with("-n") && w.len() > 2) => i += 1,
            w => return w == "create",
        }
    }
    false
}

/// Read the words after `kubectl` of a `create` line.
pub(crate) fn parse_create(words: &[String]) -> Result<CreateCommand, CommandError> {
    let mut namespace = None;
    let mut positional = Vec::new();
    let mut entries = Vec::new();
    let mut key = None;
    let mut cert = None;
    let mut i = 0;
    let value = |i: usize, flag: &str| -> Result<String, CommandError> {
        words
            .get(i + 1)
            .cloned()
            .ok_or_else(|| usage(format!("`{flag}` needs a value")))
    };
    while let Some(w) = words.get(i) {
        let (flag, inline) = match w.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (w.as_str(), None),
        };
        let take = |i: &mut usize| -> Result<String, CommandError> {
            match &inline {
                Some(v) => Ok(v.clone()),
                None => {
                    let v = value(*i, flag)?;
                    *i += 1;
                    Ok(v)
                }
            }
        };
        match flag {
            "-n" | "--namespace" => namespace = Some(take(&mut i)?),
            f if f.starts_with("-n") && f.len() > 2 && !f.starts_with("--") => {
                namespace = Some(f[2..].to_string())
            }
            "--key" => key = Some(take(&mut i)?),
            "--cert" => cert = Some(take(&mut i)?),
            "--from-file" => {
                let v = take(&mut i)?;
                let (key, path) = match v.split_once('=') {
                    Some((k, p)) => (k.to_string(), p.to_string()),
                    None => (v.rsplit('/').next().unwrap_or(&v).to_string(), v.clone()),
                };
                entries.push(Entry::File { key, path });
            }
            "--from-literal" => {
                let v = take(&mut i)?;
                let (key, value) = v
                    .split_once('=')
                    .ok_or_else(|| usage(format!("`--from-literal={v}`: expected KEY=VALUE")))?;
                entries.push(Entry::Literal {
                    key: key.into(),
                    value: value.into(),
                });
            }
            f if f.starts_with('-') => {
                return Err(usage(format!(
                    "`{f}` is not replayed; supported: {SUPPORTED}"
                )))
            }
            _ => positional.push(w.clone()),
        }
        i += 1;
    }
    let namespace = namespace.unwrap_or_else(|| "default".into());
    let positional: Vec<&str> = positional.iter().map(String::as_str).collect();
    let only = |what: &str, ok: bool| -> Result<(), CommandError> {
        if ok {
            Ok(())
        } else {
            Err(usage(format!(
                "{what} does not take these flags together; supported: {SUPPORTED}"
            )))
        }
    };
    match positional.as_slice() {
        ["create", "namespace" | "ns", name] => {
            only(
                "create namespace",
                entries.is_empty() && key.is_none() && cert.is_none(),
            )?;
            Ok(CreateCommand::Namespace {
                name: name.to_string(),
            })
        }
        ["create", "secret", "tls", name] => {
            only("create secret tls", entries.is_empty())?;
            let (Some(key), Some(cert)) = (key, cert) else {
                return Err(usage(
                    "create secret tls needs both --key FILE and --cert FILE".into(),
                ));
            };
            Ok(CreateCommand::Secret {
                namespace,
                name: name.to_string(),
                source: SecretSource::Tls { key, cert },
            })
        }
        ["create", "secret", "generic", name] => {
            only("create secret generic", key.is_none() && cert.is_none())?;
            if entries.is_empty() {
                return Err(usage(
                    "create secret generic needs --from-file or --from-literal".into(),
                ));
            }
            Ok(CreateCommand::Secret {
                namespace,
                name: name.to_string(),
                source: SecretSource::Generic(entries),
            })
        }
        ["create", "configmap" | "cm", name] => {
            only("create configmap", key.is_none() && cert.is_none())?;
            if entries.is_empty() {
                return Err(usage(
                    "create configmap needs --from-file or --from-literal".into(),
                ));
            }
            Ok(CreateCommand::ConfigMap {
                namespace,
                name: name.to_string(),
                entries,
            })
        }
        _ => Err(usage(format!(
            "`kubectl {}` is not replayed; supported: {SUPPORTED}",
            positional.join(" ")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<CreateCommand, CommandError> {
        let words: Vec<String> = line
            .split_whitespace()
            .skip(1)
            .map(str::to_string)
            .collect();
        assert!(is_create(&words), "{line}");
        parse_create(&words)
    }

    #[test]
    fn the_tasks_create_lines_read() {
        assert_eq!(
            parse("kubectl create -n mesh-external secret tls nginx-server-certs --key my.key --cert my.crt").unwrap(),
            CreateCommand::Secret {
                namespace: "mesh-external".into(),
                name: "nginx-server-certs".into(),
                source: SecretSource::Tls {
                    key: "my.key".into(),
                    cert: "my.crt".into()
                }
            }
        );
        assert_eq!(
            parse("kubectl create secret -n istio-system generic client-credential --from-file=tls.key=client.example.com.key --from-file=ca.crt=example.com.crt --from-file ./x/example.com.crt").unwrap(),
            CreateCommand::Secret {
                namespace: "istio-system".into(),
                name: "client-credential".into(),
                source: SecretSource::Generic(vec![
                    Entry::File { key: "tls.key".into(), path: "client.example.com.key".into() },
                    Entry::File { key: "ca.crt".into(), path: "example.com.crt".into() },
                    Entry::File { key: "example.com.crt".into(), path: "./x/example.com.crt".into() },
                ])
            }
        );
        assert_eq!(
            parse("kubectl create configmap nginx-configmap -n mesh-external --from-file=nginx.conf=./nginx.conf").unwrap(),
            CreateCommand::ConfigMap {
                namespace: "mesh-external".into(),
                name: "nginx-configmap".into(),
                entries: vec![Entry::File { key: "nginx.conf".into(), path: "./nginx.conf".into() }],
            }
        );
        assert_eq!(
            parse("kubectl create namespace mesh-external").unwrap(),
            CreateCommand::Namespace {
                name: "mesh-external".into()
            }
        );
    }

    #[test]
    fn incomplete_or_other_create_lines_say_what_is_replayed() {
        for (line, says) in [
            (
                "kubectl create secret tls s --key k",
                "both --key FILE and --cert FILE",
            ),
            (
                "kubectl create secret generic s",
                "--from-file or --from-literal",
            ),
            (
                "kubectl create deployment x",
                "`kubectl create deployment x` is not replayed",
            ),
            ("kubectl create secret docker-registry s", "not replayed"),
            (
                "kubectl create secret generic s --from-file=a --type=x",
                "`--type` is not replayed",
            ),
        ] {
            let e = parse(line).unwrap_err().to_string();
            assert!(e.contains(says), "{line}: {e}");
        }
        assert!(!is_create(&["apply".to_string()]));
        assert!(is_create(&["-n".into(), "x".into(), "create".into()]));
    }
}
