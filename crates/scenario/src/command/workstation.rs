//! The lines a document runs on the workstation to make files before handing them to kubectl:
//! `openssl req` / `openssl x509 -req` (a CA, a key and a signing request, a signed certificate)
//! and `cat <<EOF > FILE` (a config file written out).
//!
//! Owns: `WorkstationCommand`, its parser, and `Workstation`, the files made so far (each a
//! `FileContent` value, so a certificate keeps its subject, issuer and key through `kubectl create
//! secret` into a pod). Leaves out: key material (the socket-running targets make real keys and
//! certificates from these values), every other openssl subcommand and flag (refused by name),
//! and files the scenario's folder holds (read by the loader).

use super::error::CommandError;
use super::words::{plain_words, tokenize};
use egressbench_resources::files::{Certificate, DistinguishedName, FileContent};
use std::collections::BTreeMap;

/// One workstation line, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkstationCommand {
    /// `openssl req -x509 … -subj S -keyout KEY -out CERT`: a self-signed CA certificate and its key.
    SelfSigned {
        subject: DistinguishedName,
        key_out: String,
        cert_out: String,
        days: u32,
    },
    /// `openssl req -out CSR -newkey rsa:2048 -nodes -keyout KEY -subj S`: a key and a request.
    Request {
        subject: DistinguishedName,
        key_out: String,
        csr_out: String,
    },
    /// `openssl x509 -req -days N -CA CERT -CAkey KEY -set_serial N -in CSR -out CERT`.
    Sign {
        ca: String,
        ca_key: String,
        csr: String,
        out: String,
        serial: u64,
        days: u32,
    },
    /// `cat <<EOF > FILE` (also `<<\EOF`, `<<'EOF'`) and the lines up to `EOF`.
    Write { file: String, text: String },
    /// `mkdir [-p] DIR…`: folders for the files (a file's path is its name here, so making one
    /// changes nothing).
    MakeDirectories { dirs: Vec<String> },
}

impl WorkstationCommand {
    /// The files it makes.
    pub fn made(&self) -> Vec<&str> {
        match self {
            WorkstationCommand::SelfSigned {
                key_out, cert_out, ..
            } => vec![key_out, cert_out],
            WorkstationCommand::Request {
                key_out, csr_out, ..
            } => vec![key_out, csr_out],
            WorkstationCommand::Sign { out, .. } => vec![out],
            WorkstationCommand::Write { file, .. } => vec![file],
            WorkstationCommand::MakeDirectories { .. } => Vec::new(),
        }
    }
}

/// Whether `line` is a workstation line (starts with `openssl`, `mkdir` or `cat <<`/`cat >`,
/// but not a manifest piped into `kubectl apply -f -`).
pub(crate) fn is_workstation(line: &str) -> bool {
    let first = line.split_whitespace().next().unwrap_or("");
    matches!(first, "openssl" | "mkdir")
        || (first == "cat"
            && (line.contains("<<") || line.contains('>'))
            && !super::here_apply::is_here_apply(line))
}

fn usage(message: String) -> CommandError {
    CommandError::Usage {
        program: "openssl",
        message,
    }
}

const SUPPORTED: &str =
    "openssl req -x509 [-sha256] -nodes -days N -newkey rsa:BITS -subj '/O=…/CN=…' \
     -keyout KEY -out CERT; openssl req -out CSR -newkey rsa:BITS -nodes -keyout KEY -subj '…'; \
     openssl x509 -req [-sha256] -days N -CA CERT -CAkey KEY -set_serial N -in CSR -out CERT";

/// Read a workstation line.
pub(crate) fn parse_workstation(line: &str) -> Result<WorkstationCommand, CommandError> {
    if line.trim_start().starts_with("cat") {
        return heredoc(line);
    }
    if line.trim_start().starts_with("mkdir") {
        return mkdir(line);
    }
    let words = plain_words(
        line,
        &tokenize(line, None)?,
        "an openssl line is replayed on its own, without pipes or redirections",
    )?;
    let (sub, rest) = match words.split_first() {
        Some((_, rest)) => rest
            .split_first()
            .ok_or_else(|| usage(format!("no subcommand; supported: {SUPPORTED}")))?,
        None => return Err(CommandError::Empty),
    };
    let mut flags: BTreeMap<&str, Option<String>> = BTreeMap::new();
    let mut i = 0;
    let (switches, valued): (&[&str], &[&str]) = match sub.as_str() {
        "req" => (
            &[
                "-x509", "-nodes", "-noenc", "-new", "-sha256", "-sha384", "-sha512",
            ],
            &["-days", "-newkey", "-subj", "-keyout", "-out"],
        ),
        "x509" => (
            &["-req", "-sha256", "-sha384", "-sha512", "-CAcreateserial"],
            &["-days", "-CA", "-CAkey", "-set_serial", "-in", "-out"],
        ),
        other => {
            return Err(usage(format!(
                "`openssl {other}` is not replayed; supported: {SUPPORTED}"
            )))
        }
    };
    while i < rest.len() {
        let w = rest[i].as_str();
        if let Some(s) = switches.iter().find(|s| **s == w) {
            flags.insert(s, None);
            i += 1;
        } else if let Some(v) = valued.iter().find(|v| **v == w) {
            let value = rest
                .get(i + 1)
                .ok_or_else(|| usage(format!("`{w}` needs a value")))?;
            flags.insert(v, Some(value.clone()));
            i += 2;
        } else {
            return Err(usage(format!(
                "`{w}` is not replayed in `openssl {sub}`; supported: {SUPPORTED}"
            )));
        }
    }
    let value = |name: &str| -> Result<String, CommandError> {
        flags
            .get(name)
            .cloned()
            .flatten()
            .ok_or_else(|| usage(format!("`openssl {sub}` needs `{name}` here")))
    };
    let days = |flags: &BTreeMap<&str, Option<String>>| -> Result<u32, CommandError> {
        match flags.get("-days").cloned().flatten() {
            None => Ok(30),
            Some(d) => d
                .parse()
                .ok()
                .filter(|d| (1..=36_500).contains(d))
                .ok_or_else(|| usage(format!("`-days {d}`: expected a number of days"))),
        }
    };
    let subject = |flags: &BTreeMap<&str, Option<String>>| -> Result<_, CommandError> {
        let s = flags.get("-subj").cloned().flatten().ok_or_else(|| {
            usage(
                "`openssl req` needs `-subj '/CN=…'` here (it would prompt for the subject)".into(),
            )
        })?;
        DistinguishedName::parse(&s).map_err(|e| usage(e.to_string()))
    };
    match sub.as_str() {
        "req" => {
            if let Some(newkey) = flags.get("-newkey").cloned().flatten() {
                if !newkey.starts_with("rsa:") && !newkey.starts_with("ec") {
                    return Err(usage(format!(
                        "`-newkey {newkey}`: expected rsa:BITS or ec:…"
                    )));
                }
            } else {
                return Err(usage(
                    "`openssl req` needs `-newkey rsa:2048` here (a key of its own)".into(),
                ));
            }
            if !flags.contains_key("-nodes") && !flags.contains_key("-noenc") {
                return Err(usage(
                    "`openssl req` without -nodes would ask for a passphrase; add -nodes, as the \
                     documents do"
                        .into(),
                ));
            }
            if flags.contains_key("-x509") {
                Ok(WorkstationCommand::SelfSigned {
                    subject: subject(&flags)?,
                    key_out: value("-keyout")?,
                    cert_out: value("-out")?,
                    days: days(&flags)?,
                })
            } else {
                Ok(WorkstationCommand::Request {
                    subject: subject(&flags)?,
                    key_out: value("-keyout")?,
                    csr_out: value("-out")?,
                })
            }
        }
        _ => {
            if !flags.contains_key("-req") {
                return Err(usage(
                    "of `openssl x509`, only signing a request (`-req … -CA … -in CSR`) is replayed"
                        .into(),
                ));
            }
            let serial = match flags.get("-set_serial").cloned().flatten() {
                None => 1,
                Some(s) => s
                    .parse()
                    .map_err(|_| usage(format!("`-set_serial {s}`: expected a number")))?,
            };
            Ok(WorkstationCommand::Sign {
                ca: value("-CA")?,
                ca_key: value("-CAkey")?,
                csr: value("-in")?,
                out: value("-out")?,
                serial,
                days: days(&flags)?,
            })
        }
    }
}

/// `mkdir [-p] DIR…`.
fn mkdir(line: &str) -> Result<WorkstationCommand, CommandError> {
    let words = plain_words(
        line,
        &tokenize(line, None)?,
        "a mkdir line is replayed on its own, without pipes or redirections",
    )?;
    let dirs: Vec<String> = words
        .iter()
        .skip(1)
        .filter(|w| w.as_str() != "-p")
        .cloned()
        .collect();
    if let Some(flag) = dirs.iter().find(|d| d.starts_with('-')) {
        return Err(CommandError::Usage {
            program: "mkdir",
            message: format!("`{flag}` is not replayed; only `mkdir [-p] DIR…` is"),
        });
    }
    if dirs.is_empty() {
        return Err(CommandError::Usage {
            program: "mkdir",
            message: "missing operand: name the folder".into(),
        });
    }
    Ok(WorkstationCommand::MakeDirectories { dirs })
}

/// `cat <<\EOF > FILE` / `cat <<EOF > FILE` / `cat > FILE <<EOF`, the text, then `EOF` alone.
fn heredoc(line: &str) -> Result<WorkstationCommand, CommandError> {
    let bad = |why: &str| CommandError::ShellSyntax {
        found: line.lines().next().unwrap_or("").to_string(),
        why: why.to_string(),
    };
    let (head, body) = line.split_once('\n').unwrap_or((line, ""));
    let words: Vec<&str> = head.split_whitespace().collect();
    let mut file = None;
    let mut delimiter = None;
    let mut i = 1;
    while i < words.len() {
        let w = words[i];
        if let Some(d) = w.strip_prefix("<<") {
            let d = if d.is_empty() {
                i += 1;
                words.get(i).copied().unwrap_or("")
            } else {
                d
            };
            delimiter = Some(
                d.trim_start_matches('\\')
                    .trim_matches(['\'', '"'])
                    .to_string(),
            );
        } else if let Some(f) = w.strip_prefix('>') {
            let f = if f.is_empty() {
                i += 1;
                words.get(i).copied().unwrap_or("")
            } else {
                f
            };
            file = Some(f.to_string());
        } else {
            return Err(bad(
                "of cat, only `cat <<EOF > FILE` with the text on the lines after it is replayed",
            ));
        }
        i += 1;
    }
    let (Some(file), Some(delimiter)) = (
        file.filter(|f| !f.is_empty()),
        delimiter.filter(|d| !d.is_empty()),
    ) else {
        return Err(bad(
            "`cat <<EOF > FILE` needs both the end word and the file",
        ));
    };
    let text = here_text(line, body, &delimiter)?;
    Ok(WorkstationCommand::Write { file, text })
}

/// The text of a here-document: the lines of `body` up to the line `delimiter` (`line` is the
/// whole command, for the error).
pub(crate) fn here_text(line: &str, body: &str, delimiter: &str) -> Result<String, CommandError> {
    let mut text = String::new();
    for l in body.lines() {
        if l.trim_end() == delimiter {
            return Ok(text);
        }
        text.push_str(l);
        text.push('\n');
    }
    Err(CommandError::ShellSyntax {
        found: line.lines().next().unwrap_or("").to_string(),
        why: format!(
            "the text after `<<{delimiter}` must end with a line `{delimiter}` (write the step as a YAML block, `kubectl: |`)"
        ),
    })
}

/// The files made on the workstation so far, by path (`./nginx.conf` is `nginx.conf`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Workstation {
    files: BTreeMap<String, FileContent>,
}

/// Why a workstation line could not be carried out (what openssl or the shell would say).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkstationError {
    #[error("{file}: no such file (no earlier step made it)")]
    Missing { file: String },
    #[error("{file} holds {holds}, where {wanted} was expected")]
    Wrong {
        file: String,
        holds: String,
        wanted: &'static str,
    },
    #[error("{key} is not the private key of {ca} (openssl: \"key values mismatch\")")]
    KeyMismatch { key: String, ca: String },
}

/// `./a/b` and `a/b` name the same file.
fn normal(path: &str) -> String {
    path.trim_start_matches("./").to_string()
}

impl Workstation {
    /// Every file made so far, as the workstation's curl reads them.
    pub fn snapshot(&self) -> egressbench_model::request::WorkstationFiles {
        std::sync::Arc::new(self.files.clone())
    }

    /// The file at `path`, if a line made it.
    pub fn file(&self, path: &str) -> Option<&FileContent> {
        self.files.get(&normal(path))
    }

    fn cert(&self, path: &str) -> Result<&Certificate, WorkstationError> {
        match self.file(path) {
            Some(FileContent::Certificate(c)) => Ok(c),
            Some(other) => Err(WorkstationError::Wrong {
                file: path.into(),
                holds: other.describe(),
                wanted: "a certificate",
            }),
            None => Err(WorkstationError::Missing { file: path.into() }),
        }
    }

    /// Carry out `command`, making its files.
    pub fn run(&mut self, command: &WorkstationCommand) -> Result<(), WorkstationError> {
        match command {
            WorkstationCommand::SelfSigned {
                subject,
                key_out,
                cert_out,
                days,
            } => {
                let key = normal(key_out);
                self.files
                    .insert(key.clone(), FileContent::PrivateKey { key: key.clone() });
                self.files.insert(
                    normal(cert_out),
                    FileContent::Certificate(Certificate {
                        subject: subject.clone(),
                        issuer: None,
                        serial: 0,
                        key,
                        ca: true,
                        days: *days,
                    }),
                );
            }
            WorkstationCommand::Request {
                subject,
                key_out,
                csr_out,
            } => {
                let key = normal(key_out);
                self.files
                    .insert(key.clone(), FileContent::PrivateKey { key: key.clone() });
                self.files.insert(
                    normal(csr_out),
                    FileContent::SigningRequest {
                        subject: subject.clone(),
                        key,
                    },
                );
            }
            WorkstationCommand::Sign {
                ca,
                ca_key,
                csr,
                out,
                serial,
                days,
            } => {
                let issuer = self.cert(ca)?.clone();
                match self.file(ca_key) {
                    Some(FileContent::PrivateKey { key }) if *key == issuer.key => {}
                    Some(FileContent::PrivateKey { .. }) => {
                        return Err(WorkstationError::KeyMismatch {
                            key: ca_key.clone(),
                            ca: ca.clone(),
                        })
                    }
                    Some(other) => {
                        return Err(WorkstationError::Wrong {
                            file: ca_key.clone(),
                            holds: other.describe(),
                            wanted: "a private key",
                        })
                    }
                    None => {
                        return Err(WorkstationError::Missing {
                            file: ca_key.clone(),
                        })
                    }
                }
                let (subject, key) = match self.file(csr) {
                    Some(FileContent::SigningRequest { subject, key }) => {
                        (subject.clone(), key.clone())
                    }
                    Some(other) => {
                        return Err(WorkstationError::Wrong {
                            file: csr.clone(),
                            holds: other.describe(),
                            wanted: "a certificate signing request",
                        })
                    }
                    None => return Err(WorkstationError::Missing { file: csr.clone() }),
                };
                self.files.insert(
                    normal(out),
                    FileContent::Certificate(Certificate {
                        subject,
                        issuer: Some(Box::new(issuer)),
                        serial: *serial,
                        key,
                        ca: false,
                        days: *days,
                    }),
                );
            }
            WorkstationCommand::Write { file, text } => {
                self.files
                    .insert(normal(file), FileContent::Text(text.clone()));
            }
            WorkstationCommand::MakeDirectories { .. } => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(ws: &mut Workstation, line: &str) {
        let c = parse_workstation(line).unwrap_or_else(|e| panic!("{line}: {e}"));
        ws.run(&c).unwrap_or_else(|e| panic!("{line}: {e}"));
    }

    #[test]
    fn the_tasks_openssl_lines_make_a_ca_and_certificates_it_signed() {
        let mut ws = Workstation::default();
        run(&mut ws, "openssl req -x509 -sha256 -nodes -days 365 -newkey rsa:2048 -subj '/O=example Inc./CN=example.com' -keyout example.com.key -out example.com.crt");
        run(&mut ws, "openssl req -out my-nginx.mesh-external.svc.cluster.local.csr -newkey rsa:2048 -nodes -keyout my-nginx.mesh-external.svc.cluster.local.key -subj \"/CN=my-nginx.mesh-external.svc.cluster.local/O=some organization\"");
        run(&mut ws, "openssl x509 -req -days 365 -CA example.com.crt -CAkey example.com.key -set_serial 0 -in my-nginx.mesh-external.svc.cluster.local.csr -out my-nginx.mesh-external.svc.cluster.local.crt");
        let Some(FileContent::Certificate(ca)) = ws.file("example.com.crt") else {
            panic!()
        };
        assert!(ca.ca && ca.issuer.is_none());
        let Some(FileContent::Certificate(leaf)) =
            ws.file("./my-nginx.mesh-external.svc.cluster.local.crt")
        else {
            panic!()
        };
        assert!(!leaf.ca);
        assert!(leaf.chains_to(ca));
        assert_eq!(leaf.key, "my-nginx.mesh-external.svc.cluster.local.key");
        assert_eq!(
            leaf.subject.common_name(),
            Some("my-nginx.mesh-external.svc.cluster.local")
        );
    }

    #[test]
    fn signing_needs_the_cas_own_key_and_a_request() {
        let mut ws = Workstation::default();
        run(
            &mut ws,
            "openssl req -x509 -nodes -newkey rsa:2048 -subj /CN=a -keyout a.key -out a.crt",
        );
        run(
            &mut ws,
            "openssl req -x509 -nodes -newkey rsa:2048 -subj /CN=b -keyout b.key -out b.crt",
        );
        run(
            &mut ws,
            "openssl req -out c.csr -newkey rsa:2048 -nodes -keyout c.key -subj /CN=c",
        );
        let sign = |ca_key: &str, csr: &str| {
            parse_workstation(&format!(
                "openssl x509 -req -CA a.crt -CAkey {ca_key} -in {csr} -out c.crt"
            ))
            .unwrap()
        };
        assert!(matches!(
            ws.clone().run(&sign("b.key", "c.csr")),
            Err(WorkstationError::KeyMismatch { .. })
        ));
        assert!(matches!(
            ws.clone().run(&sign("a.key", "c.key")),
            Err(WorkstationError::Wrong { .. })
        ));
        assert!(matches!(
            ws.clone().run(&sign("a.key", "nope.csr")),
            Err(WorkstationError::Missing { .. })
        ));
        assert!(ws.run(&sign("a.key", "c.csr")).is_ok());
    }

    #[test]
    fn other_openssl_lines_are_refused_with_what_is_replayed() {
        for (line, says) in [
            ("openssl version -a", "`openssl version` is not replayed"),
            ("openssl req -x509 -newkey rsa:2048 -subj /CN=a -keyout a.key -out a.crt", "passphrase"),
            ("openssl req -x509 -nodes -newkey rsa:2048 -keyout a.key -out a.crt", "-subj"),
            ("openssl req -x509 -nodes -newkey rsa:2048 -subj CN=a -keyout a.key -out a.crt", "starting with `/`"),
            ("openssl req -x509 -nodes -newkey rsa:2048 -subj /CN=a -keyout a.key -out a.crt -config x.cnf", "`-config` is not replayed"),
            ("openssl x509 -in a.crt -text", "`-text` is not replayed"),
            ("openssl x509 -in a.crt -out b.crt", "only signing a request"),
        ] {
            let e = parse_workstation(line).unwrap_err().to_string();
            assert!(e.contains(says), "{line}: {e}");
        }
    }

    #[test]
    fn a_heredoc_writes_its_text() {
        let mut ws = Workstation::default();
        run(&mut ws, "cat <<\\EOF > ./nginx.conf\nevents {\n}\nEOF\n");
        assert_eq!(
            ws.file("nginx.conf"),
            Some(&FileContent::Text("events {\n}\n".into()))
        );
        run(&mut ws, "cat > b.txt <<'END'\nx\nEND");
        assert_eq!(ws.file("b.txt"), Some(&FileContent::Text("x\n".into())));
        assert!(parse_workstation("cat <<EOF > a\nno end\n").is_err());
        assert!(parse_workstation("cat a.txt").is_err());
        assert!(is_workstation("cat <<EOF > a"));
        assert!(!is_workstation("curl x"));
    }
}
