//! nginx as a pod runs it with a mounted `nginx.conf`: the ports its `server` blocks listen on,
//! and on an `ssl` port the certificate, key and client-certificate check their files name.
//!
//! Owns: reading `nginx.conf` (directives, blocks, comments, quotes) into `NginxSetup`, and
//! loading the files it names from the pod's mounts. Leaves out: what nginx answers (its welcome
//! page, `pods`; its `400` pages for client certificates, `external::served`), `location` blocks,
//! `include`, and every directive that does not change what a client sees here.

use crate::external::tls::{ClientAuth, ServerTls};
use crate::topology::files::file_in;
use crate::topology::workload::Workload;
use egressbench_resources::files::FileContent;
use egressbench_resources::Store;

/// Where nginx reads its configuration.
pub(super) const CONF_PATH: &str = "/etc/nginx/nginx.conf";

/// What a pod's nginx serves, from its configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NginxSetup {
    /// Each port it listens on: plain, or TLS with its certificate (the first `ssl` server's).
    pub ports: Vec<(u16, Option<NginxTls>)>,
}

/// One `ssl` listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NginxTls {
    pub tls: ServerTls,
    /// `listen … ssl http2` or `http2 on`: ALPN offers h2.
    pub http2: bool,
}

/// A directive: its words, and the directives of its block if it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Directive {
    words: Vec<String>,
    block: Option<Vec<Directive>>,
}

/// Split `text` into words and the `;`, `{`, `}` between them (comments and quotes as nginx reads
/// them).
fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut chars = text.chars().peekable();
    let flush = |word: &mut String, out: &mut Vec<String>| {
        if !word.is_empty() {
            out.push(std::mem::take(word));
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '#' => {
                flush(&mut word, &mut out);
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '\'' | '"' => {
                for q in chars.by_ref() {
                    if q == c {
                        break;
                    }
                    word.push(q);
                }
            }
            ';' | '{' | '}' => {
                flush(&mut word, &mut out);
                out.push(c.to_string());
            }
            c if c.is_whitespace() => flush(&mut word, &mut out),
            c => word.push(c),
        }
    }
    flush(&mut word, &mut out);
    out
}

/// The directives of `text`, or why nginx would not start ("unexpected }").
fn parse(text: &str) -> Result<Vec<Directive>, String> {
    fn block(
        tokens: &mut std::iter::Peekable<std::vec::IntoIter<String>>,
        nested: bool,
    ) -> Result<Vec<Directive>, String> {
        let mut out = Vec::new();
        let mut words = Vec::new();
        while let Some(t) = tokens.next() {
            match t.as_str() {
                ";" => out.push(Directive {
                    words: std::mem::take(&mut words),
                    block: None,
                }),
                "{" => {
                    let inner = block(tokens, true)?;
                    out.push(Directive {
                        words: std::mem::take(&mut words),
                        block: Some(inner),
                    });
                }
                "}" if nested => return Ok(out),
                "}" => return Err("unexpected \"}\"".into()),
                _ => words.push(t),
            }
        }
        if nested {
            return Err("unexpected end of file, expecting \"}\"".into());
        }
        if !words.is_empty() {
            return Err("unexpected end of file, expecting \";\" or \"}\"".into());
        }
        Ok(out)
    }
    block(&mut tokens(text).into_iter().peekable(), false)
}

/// The value of directive `name` among `ds`.
fn value<'a>(ds: &'a [Directive], name: &str) -> Option<&'a str> {
    ds.iter()
        .find(|d| d.words.first().map(String::as_str) == Some(name))
        .and_then(|d| d.words.get(1))
        .map(String::as_str)
}

/// What `w`'s nginx serves: `Ok(None)` without a mounted `nginx.conf` (the image's own: the
/// welcome page on its ports), `Err` with nginx's reason when it would not start (it then serves
/// nothing).
pub(super) fn setup(store: &Store, w: &Workload) -> Result<Option<NginxSetup>, String> {
    let text = match file_in(store, w, None, CONF_PATH) {
        Ok(FileContent::Text(t)) => t,
        Ok(other) => return Err(format!("{CONF_PATH} holds {}", other.describe())),
        Err(e @ crate::topology::files::FileError::SourceMissing { .. }) => {
            return Err(e.to_string())
        }
        Err(_) => return Ok(None),
    };
    let top = parse(&text).map_err(|e| format!("{e} in {CONF_PATH}"))?;
    let http = top
        .iter()
        .filter(|d| d.words.first().map(String::as_str) == Some("http"))
        .filter_map(|d| d.block.as_deref());
    let mut ports: Vec<(u16, Option<NginxTls>)> = Vec::new();
    for servers in http {
        for server in servers
            .iter()
            .filter(|d| d.words.first().map(String::as_str) == Some("server"))
            .filter_map(|d| d.block.as_deref())
        {
            for listen in server
                .iter()
                .filter(|d| d.words.first().map(String::as_str) == Some("listen"))
            {
                let Some(port) = listen
                    .words
                    .get(1)
                    .and_then(|p| p.rsplit(':').next().and_then(|p| p.parse::<u16>().ok()))
                else {
                    return Err(format!(
                        "invalid port in \"{}\" of the \"listen\" directive in {CONF_PATH}",
                        listen.words.get(1).map_or("", String::as_str)
                    ));
                };
                let params = &listen.words[2..];
                let tls = if params.iter().any(|p| p == "ssl") {
                    Some(NginxTls {
                        tls: server_tls(store, w, server)?,
                        http2: params.iter().any(|p| p == "http2")
                            || value(server, "http2") == Some("on"),
                    })
                } else {
                    None
                };
                if !ports.iter().any(|(p, _)| *p == port) {
                    ports.push((port, tls));
                }
            }
        }
    }
    Ok(Some(NginxSetup { ports }))
}

/// The TLS of an `ssl` server block: its certificate, key and client check, read from the pod.
fn server_tls(store: &Store, w: &Workload, server: &[Directive]) -> Result<ServerTls, String> {
    let path = |name: &str| {
        value(server, name).ok_or_else(|| {
            format!("no \"{name}\" is defined for the \"listen ... ssl\" directive in {CONF_PATH}")
        })
    };
    let read = |p: &str| {
        file_in(store, w, None, p).map_err(|e| format!("cannot load certificate \"{p}\": {e}"))
    };
    let FileContent::Certificate(certificate) = read(path("ssl_certificate")?)? else {
        return Err(format!(
            "cannot load certificate \"{}\": not a certificate",
            path("ssl_certificate")?
        ));
    };
    let key_path = path("ssl_certificate_key")?;
    match read(key_path)? {
        FileContent::PrivateKey { key } if key == certificate.key => {}
        _ => {
            return Err(format!(
                "SSL_CTX_use_PrivateKey(\"{key_path}\") failed (key values mismatch)"
            ))
        }
    }
    let client_auth = match value(server, "ssl_verify_client") {
        None | Some("off") => None,
        Some(mode @ ("on" | "optional")) => {
            let ca_path = value(server, "ssl_client_certificate").ok_or_else(|| {
                format!("no ssl_client_certificate for ssl_verify_client in {CONF_PATH}")
            })?;
            let FileContent::Certificate(ca) = read(ca_path)? else {
                return Err(format!(
                    "cannot load certificate \"{ca_path}\": not a certificate"
                ));
            };
            Some(ClientAuth {
                ca,
                required: mode == "on",
            })
        }
        Some(other) => {
            return Err(format!(
                "invalid value \"{other}\" in \"ssl_verify_client\" directive in {CONF_PATH}"
            ))
        }
    };
    Ok(ServerTls {
        certificate,
        client_auth,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::workload::{Container, Mount, MountSource};
    use egressbench_resources::files::{Certificate, DistinguishedName};
    use egressbench_resources::kube::FileSet;
    use egressbench_resources::{Body, Kind, ObjectMeta, Resource, ResourceId};

    fn cert(cn: &str, issuer: Option<&Certificate>) -> Certificate {
        Certificate {
            subject: DistinguishedName::parse(&format!("/CN={cn}")).unwrap(),
            issuer: issuer.map(|i| Box::new(i.clone())),
            serial: 0,
            key: format!("{cn}.key"),
            ca: issuer.is_none(),
            days: 365,
        }
    }

    fn files(kind: &str, name: &str, entries: Vec<(&str, FileContent)>) -> Resource {
        let set = FileSet {
            secret_type: None,
            entries: entries
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        };
        let body = match kind {
            "secret" => Body::Secret(Box::new(set)),
            _ => Body::ConfigFiles(Box::new(set)),
        };
        Resource::new("v1", ObjectMeta::named(name, "x"), body)
    }

    fn nginx() -> Workload {
        let mount = |path: &str, source| Mount {
            path: path.into(),
            source,
            sub_path: None,
        };
        Workload {
            id: crate::request::WorkloadRef::new("x", "nginx"),
            labels: Default::default(),
            service_account: "default".into(),
            proxy: None,
            proxy_reason: String::new(),
            identity: "x".into(),
            address: "10.244.0.2".into(),
            containers: vec![Container {
                name: "nginx".into(),
                image: "nginx".into(),
                ports: Vec::new(),
                mounts: vec![
                    mount("/etc/nginx", MountSource::ConfigMap("conf".into())),
                    mount("/etc/certs", MountSource::Secret("certs".into())),
                ],
            }],
            origin: ResourceId::new(Kind::Deployment, "x", "nginx"),
        }
    }

    const CONF: &str =
        "http { server { listen 443 ssl; listen 80; ssl_certificate /etc/certs/tls.crt; \
        ssl_certificate_key /etc/certs/tls.key; ssl_client_certificate /etc/certs/ca.crt; \
        ssl_verify_client optional; } }";

    fn store(conf: &str, key: &str) -> Store {
        let ca = cert("ca", None);
        let server = cert("server", Some(&ca));
        let mut store = Store::default();
        store.apply(files(
            "configmap",
            "conf",
            vec![("nginx.conf", FileContent::Text(conf.into()))],
        ));
        store.apply(files(
            "secret",
            "certs",
            vec![
                ("tls.crt", FileContent::Certificate(server)),
                ("tls.key", FileContent::PrivateKey { key: key.into() }),
                ("ca.crt", FileContent::Certificate(ca)),
            ],
        ));
        store
    }

    #[test]
    fn an_ssl_server_gets_its_certificate_key_and_client_check_from_the_pod() {
        let setup = setup(&store(CONF, "server.key"), &nginx())
            .unwrap()
            .unwrap();
        let [(443, Some(tls)), (80, None)] = &setup.ports[..] else {
            panic!("{setup:?}")
        };
        assert_eq!(tls.tls.certificate.subject.common_name(), Some("server"));
        let auth = tls.tls.client_auth.as_ref().unwrap();
        assert!(!auth.required);
        assert!(!tls.http2);
    }

    #[test]
    fn nginx_does_not_start_with_a_broken_tls_setup() {
        let e = setup(&store(CONF, "other.key"), &nginx()).unwrap_err();
        assert!(e.contains("key values mismatch"), "{e}");
        let e = setup(
            &store("http { server { listen 443 ssl; } }", "server.key"),
            &nginx(),
        )
        .unwrap_err();
        assert!(e.contains("no \"ssl_certificate\""), "{e}");
        let e = setup(
            &store("http { server { listen x; } }", "server.key"),
            &nginx(),
        )
        .unwrap_err();
        assert!(e.contains("invalid port"), "{e}");
        // The ConfigMap its volume mounts is missing: the pod does not start.
        let e = setup(&Store::default(), &nginx()).unwrap_err();
        assert!(e.contains("does not start"), "{e}");
    }

    #[test]
    fn the_tasks_nginx_conf_reads_as_one_ssl_server() {
        let conf = "events {\n}\n\nhttp {\n  log_format main '$remote_addr - $remote_user [$time_local]  $status '\n  '\"$request\" $body_bytes_sent';\n  access_log /var/log/nginx/access.log main; # log\n\n  server {\n    listen 443 ssl;\n    root /usr/share/nginx/html;\n    server_name my-nginx.mesh-external.svc.cluster.local;\n    ssl_certificate /etc/nginx-server-certs/tls.crt;\n    ssl_verify_client on;\n  }\n}\n";
        let top = parse(conf).unwrap();
        assert_eq!(top.len(), 2);
        let http = top[1].block.as_ref().unwrap();
        let server = http
            .iter()
            .find(|d| d.words[0] == "server")
            .and_then(|d| d.block.as_ref())
            .unwrap();
        assert_eq!(value(server, "listen"), Some("443"));
        assert_eq!(value(server, "ssl_verify_client"), Some("on"));
        assert_eq!(value(http, "log_format"), Some("main"),);
        assert!(parse("http { server { listen 80; }").is_err());
        assert!(parse("http { } }").is_err());
        assert!(parse("events {} worker").is_err());
    }
}
