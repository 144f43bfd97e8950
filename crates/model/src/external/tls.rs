//! A TLS server's own certificate, and the two checks a TLS handshake makes with it: the client's
//! of the server's certificate (OpenSSL's, as curl runs it) and the server's of the client's
//! (nginx's `ssl_verify_client`).
//!
//! Owns: `ServerTls`, `ClientAuth`, `check_server` (trust and name, with the CN fallback OpenSSL
//! keeps for certificates without subject alternative names) and `check_client`. Leaves out: real
//! key material (the socket-running targets make it), which server has which certificate (`pods`
//! reads it from mounted Secrets; other hosts present one the public CA issued for their names),
//! and revocation, expiry and intermediate bundles (`--cacert` with a chain is read as its
//! certificates, each an anchor, as curl's OpenSSL takes a partial chain).

use crate::outcome::CertificateProblem;
use crate::request::Trust;
use egressbench_resources::files::Certificate;

/// A server's own TLS: the certificate it presents and whether it asks for a client's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServerTls {
    pub certificate: Certificate,
    pub client_auth: Option<ClientAuth>,
}

/// nginx's `ssl_client_certificate` and `ssl_verify_client on|optional`: the server asks for a
/// client certificate issued by `ca`. nginx completes the handshake whatever the client sends and
/// answers a missing (with `on`) or unverified certificate with its own `400` page.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientAuth {
    pub ca: Certificate,
    pub required: bool,
}

/// What a server presents: a certificate of its own, or one the public CA issued for its names.
#[derive(Debug, Clone, Copy)]
pub enum Presented<'a> {
    Own(&'a Certificate),
    Public,
}

/// Whether a client trusting `trust` accepts what the server presents, for the host it asked for
/// (`host`: the URL's host name or address).
pub fn check_server(
    trust: &Trust,
    presented: Presented<'_>,
    host: &str,
) -> Result<(), CertificateProblem> {
    match (trust, presented) {
        (Trust::Anything, _) => Ok(()),
        // The public CA is in every system bundle, and issued the host a certificate for its names.
        (Trust::System, Presented::Public) => Ok(()),
        (Trust::System, Presented::Own(cert)) => Err(untrusted(cert)),
        (Trust::Anchors(_), Presented::Public) => Err(CertificateProblem::UnknownIssuer),
        (Trust::Anchors(anchors), Presented::Own(cert)) => {
            if !anchors.iter().any(|a| cert.chains_to(a)) {
                // OpenSSL finds the issuer among the anchors by name; one of that name whose key
                // did not sign the certificate fails its signature check.
                let issuers =
                    std::iter::successors(cert.issuer.as_deref(), |c| c.issuer.as_deref());
                let named = issuers
                    .into_iter()
                    .any(|i| anchors.iter().any(|a| a.subject == i.subject));
                return Err(if named {
                    CertificateProblem::SignatureFailure
                } else {
                    untrusted(cert)
                });
            }
            // No subject alternative names: OpenSSL compares the host with the subject's CN.
            let matches = cert
                .subject
                .common_name()
                .is_some_and(|cn| name_matches(cn, host));
            if matches {
                Ok(())
            } else {
                Err(CertificateProblem::NameMismatch {
                    common_name: cert.subject.common_name().unwrap_or_default().to_string(),
                })
            }
        }
    }
}

fn untrusted(cert: &Certificate) -> CertificateProblem {
    if cert.issuer.is_none() {
        CertificateProblem::SelfSigned
    } else {
        CertificateProblem::UnknownIssuer
    }
}

/// A certificate name against a host: equal ignoring case, or a `*.` wildcard for one label.
fn name_matches(pattern: &str, host: &str) -> bool {
    let (pattern, host) = (pattern.to_ascii_lowercase(), host.to_ascii_lowercase());
    match pattern.strip_prefix("*.") {
        Some(rest) => host
            .split_once('.')
            .is_some_and(|(label, tail)| !label.is_empty() && tail == rest),
        None => pattern == host,
    }
}

/// What a server asking for client certificates makes of the one presented (if any).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientCheck {
    /// Verified, or not asked for, or optional and not sent.
    Passed,
    /// Required and not sent: nginx's `400 No required SSL certificate was sent`.
    Missing,
    /// Sent and not issued by the server's CA: nginx's `400 The SSL certificate error`.
    Unverified,
}

/// nginx's check of `presented` under `auth`.
pub fn check_client(auth: Option<&ClientAuth>, presented: Option<&Certificate>) -> ClientCheck {
    match (auth, presented) {
        (None, _) => ClientCheck::Passed,
        (Some(a), None) if a.required => ClientCheck::Missing,
        (Some(_), None) => ClientCheck::Passed,
        (Some(a), Some(c)) if c.chains_to(&a.ca) => ClientCheck::Passed,
        (Some(_), Some(_)) => ClientCheck::Unverified,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use egressbench_resources::files::DistinguishedName;

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

    #[test]
    fn another_ca_of_the_same_name_fails_the_signature_check() {
        let first = cert("example.com", None);
        let mut second = cert("example.com", None);
        second.key = "example_certs2/example.com.key".into();
        let server = cert("httpbin.example.com", Some(&second));
        assert_eq!(
            check_server(
                &Trust::Anchors(vec![first]),
                Presented::Own(&server),
                "httpbin.example.com"
            ),
            Err(CertificateProblem::SignatureFailure)
        );
        assert_eq!(
            check_server(
                &Trust::Anchors(vec![second]),
                Presented::Own(&server),
                "httpbin.example.com"
            ),
            Ok(())
        );
    }

    #[test]
    fn curl_trusts_what_chains_to_its_cacert_and_names_the_host() {
        let ca = cert("example.com", None);
        let nginx = cert("my-nginx.mesh-external.svc.cluster.local", Some(&ca));
        let anchors = Trust::Anchors(vec![ca.clone()]);
        let host = "my-nginx.mesh-external.svc.cluster.local";
        assert_eq!(check_server(&anchors, Presented::Own(&nginx), host), Ok(()));
        assert_eq!(
            check_server(&anchors, Presented::Own(&nginx), "10.96.0.20"),
            Err(CertificateProblem::NameMismatch {
                common_name: host.into()
            })
        );
        assert_eq!(
            check_server(&Trust::System, Presented::Own(&nginx), host),
            Err(CertificateProblem::UnknownIssuer)
        );
        assert_eq!(
            check_server(&Trust::System, Presented::Own(&ca), "example.com"),
            Err(CertificateProblem::SelfSigned)
        );
        assert_eq!(
            check_server(&anchors, Presented::Public, "httpbin.org"),
            Err(CertificateProblem::UnknownIssuer)
        );
        assert_eq!(
            check_server(&Trust::System, Presented::Public, "httpbin.org"),
            Ok(())
        );
        assert_eq!(
            check_server(&Trust::Anything, Presented::Own(&nginx), "x"),
            Ok(())
        );
        // A trusted leaf is an anchor itself (curl's OpenSSL accepts a partial chain).
        let leaf_only = Trust::Anchors(vec![nginx.clone()]);
        assert_eq!(
            check_server(&leaf_only, Presented::Own(&nginx), host),
            Ok(())
        );
    }

    #[test]
    fn wildcards_cover_one_label() {
        assert!(name_matches("*.example.com", "a.example.com"));
        assert!(!name_matches("*.example.com", "a.b.example.com"));
        assert!(!name_matches("*.example.com", "example.com"));
        assert!(name_matches("Example.COM", "example.com"));
    }

    #[test]
    fn a_server_asking_for_certificates_answers_nginx_400_pages() {
        use crate::external::{App, Arrival, ArrivedRequest, ExternalHost, Internet, Served};
        let ca = cert("example.com", None);
        let server = cert("my-nginx", Some(&ca));
        let stranger = cert("other", Some(&cert("other-ca", None)));
        let client = cert("client.example.com", Some(&ca));
        let host = ExternalHost::new("10.244.0.9", App::html_page("welcome"))
            .at("10.244.0.9".parse().unwrap())
            .any_name()
            .with_tls(ServerTls {
                certificate: server,
                client_auth: Some(ClientAuth { ca, required: true }),
            })
            .listen(443, true);
        let mut world = Internet::empty();
        world.add(host);
        let serve = |presented: Option<Certificate>| {
            let a = Arrival::https(
                443,
                Some("my-nginx"),
                ArrivedRequest::new("GET", "/", "my-nginx"),
            )
            .presenting(presented);
            match world.serve("10.244.0.9", &a) {
                Served::Response { response, .. } => (response.status, response.body),
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(serve(Some(client)), (200, "welcome".to_string()));
        let (status, body) = serve(None);
        assert_eq!(status, 400);
        assert!(body.contains("No required SSL certificate was sent"));
        let (status, body) = serve(Some(stranger));
        assert_eq!(status, 400);
        assert!(body.contains("The SSL certificate error"));
    }

    #[test]
    fn nginx_checks_the_client_certificate_it_asked_for() {
        let ca = cert("example.com", None);
        let client = cert("client.example.com", Some(&ca));
        let stranger = cert("other", Some(&cert("other-ca", None)));
        let on = ClientAuth {
            ca: ca.clone(),
            required: true,
        };
        let optional = ClientAuth {
            required: false,
            ..on.clone()
        };
        assert_eq!(check_client(Some(&on), Some(&client)), ClientCheck::Passed);
        assert_eq!(check_client(Some(&on), None), ClientCheck::Missing);
        assert_eq!(check_client(Some(&optional), None), ClientCheck::Passed);
        assert_eq!(
            check_client(Some(&on), Some(&stranger)),
            ClientCheck::Unverified
        );
        assert_eq!(check_client(None, Some(&stranger)), ClientCheck::Passed);
    }
}
