//! The English of a decision's notes: what `decide` recorded as data (`decide::Note`), said the
//! way the explanation says it.
//!
//! Owns: `Display` and `Serialize` (as that text) for `Note`, `WireKind` and the RBAC reasons
//! (`RuleReason`, `Mismatch`). Leaves out: when a note or reason is recorded (`decide`).

use crate::decide::authorize::{Mismatch, RuleReason};
use crate::decide::{Note, WireKind};
use serde::{Serialize, Serializer};
use std::fmt;

impl fmt::Display for WireKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireKind::PlaintextHttp => f.write_str("plaintext HTTP"),
            WireKind::PlaintextTcp => f.write_str("a plaintext TCP stream"),
            WireKind::Tls {
                sni,
                client_certificate,
            } => write!(
                f,
                "TLS with SNI {}{}",
                sni.as_deref().unwrap_or("(none)"),
                if *client_certificate {
                    " and a client certificate"
                } else {
                    ""
                }
            ),
        }
    }
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::NoFilterChain { listener, wire } => write!(
                f,
                "no filter chain of listener {listener} accepts {wire}: the connection is closed"
            ),
            Note::PlaintextOnTlsChain { chain } => {
                write!(f, "chain {chain} terminates TLS but the connection is plaintext")
            }
            Note::ClientCertificateRequired { chain, mode } => write!(
                f,
                "chain {chain} is {mode} and requires a client certificate from the mesh CA; none was presented, so the TLS handshake fails"
            ),
            Note::CredentialMissing { chain, secret } => write!(
                f,
                "chain {chain} presents the certificate of Secret {secret} (credentialName), \
                 which the gateway's namespace does not hold with its key: it has nothing to \
                 present, so the TLS handshake fails"
            ),
            Note::ClientCertificateNotIssued { chain, secret } => write!(
                f,
                "chain {chain} is MUTUAL and admits only client certificates the CA of Secret \
                 {secret} issued; none such was presented"
            ),
            Note::NetworkRbacDenied => f.write_str(
                "RBAC denied the connection (network filter) on its first bytes: it is closed, \
                 and so is the upstream connection the TCP proxy had opened",
            ),
            Note::NoTcpRoute => f.write_str(
                "the TCP proxy has no route for this port: the connection is closed",
            ),
            Note::CodecError { wire } => write!(
                f,
                "the chain speaks HTTP but the connection carries {wire}: the HTTP/1 codec fails, \
                 so Envoy answers 400 in plain text and closes"
            ),
            Note::NoVirtualHost {
                route_config,
                authority,
            } => write!(
                f,
                "no virtual host of route configuration {route_config} has the domain {authority}"
            ),
            Note::ConnectRefused => f.write_str(
                "the client asked for a tunnel (CONNECT) but this port is HTTP to the proxy: a \
                 CONNECT has no path and only a route with a connect_matcher matches it, which \
                 Istio never generates, so Envoy answers 404 (NR); declare the forward proxy's \
                 port as TCP (protocol: TCP) so that the sidecar relays the tunnel",
            ),
            Note::Tunnel {
                proxy,
                target,
                verdict,
            } => write!(f, "forward proxy {proxy}: CONNECT {target}: {verdict}"),
            Note::Relayed { proxy, url } => write!(
                f,
                "forward proxy {proxy}: the whole request for {url}, which the proxy makes itself"
            ),
            Note::NoRoute { virtual_host } => {
                write!(f, "no route of virtual host {virtual_host} matches the request")
            }
            Note::Weighted { clusters, followed } => write!(
                f,
                "weighted route ({}); the model follows the heaviest, {followed}",
                clusters
                    .iter()
                    .map(|(c, w)| format!("{c} {w}%"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Note::ClusterMissing { cluster } => write!(
                f,
                "cluster {cluster} does not exist on this proxy (no visible service has that host and port)"
            ),
            Note::NoEndpoints { cluster } if &**cluster == crate::xds::BLACKHOLE_CLUSTER => {
                f.write_str("BlackHoleCluster has no endpoints: the connection is reset")
            }
            Note::NoEndpoints { cluster } => write!(f, "cluster {cluster} has no endpoints"),
            Note::GatewayPortClosed { gateway, port } => write!(
                f,
                "gateway {gateway} has no listener on port {port} (no Gateway server there): connection refused"
            ),
            Note::AppPortClosed { workload, port } => write!(
                f,
                "the application of {workload} listens on no port {port} (no containerPort or Service targetPort): connection refused"
            ),
            Note::UpstreamTlsFailed { because } => write!(
                f,
                "the upstream TLS handshake failed: {}",
                because
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            Note::Received { host, port, wire } => write!(f, "{host}:{port} receives {wire}"),
        }
    }
}

impl Serialize for Note {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mismatch::NeedsPeerIdentity { field } => write!(
                f,
                "source.{field} needs a peer identity, and the connection is not mTLS"
            ),
            Mismatch::Principal { peer } => write!(f, "source.principals: peer is {peer}"),
            Mismatch::Namespace { peer_namespace } => {
                write!(f, "source.namespaces: peer namespace is {peer_namespace}")
            }
            Mismatch::RequestPrincipals => {
                f.write_str("source.requestPrincipals: no JWT is modelled")
            }
            Mismatch::Source { field } => write!(f, "source.{field} did not match"),
            Mismatch::Port { port } => write!(f, "to.operation.ports: request port is {port}"),
            Mismatch::Host { host } => write!(f, "to.operation.hosts: request host is {host}"),
            Mismatch::Method { method } => {
                write!(f, "to.operation.methods: request method is {method}")
            }
            Mismatch::Path { path } => write!(f, "to.operation.paths: request path is {path}"),
            Mismatch::Condition { key, value } => write!(
                f,
                "when {key}: value is {}",
                value.as_deref().unwrap_or("absent")
            ),
            Mismatch::HttpOnlyOnTcp => f.write_str(
                "uses HTTP-only fields on a TCP connection, so this ALLOW rule never matches",
            ),
            Mismatch::NoneOf(all) => {
                for (i, m) in all.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{m}")?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for RuleReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleReason::NoRules => f.write_str("has no rules: matches nothing"),
            RuleReason::Matched { index } => write!(f, "rules[{index}] matched"),
            RuleReason::NotMatched { index, why } => {
                write!(f, "rules[{index}] did not match: {why}")
            }
            RuleReason::CustomSkipped => {
                f.write_str("CUSTOM (ext_authz) policies are not modelled: skipped")
            }
        }
    }
}

impl Serialize for RuleReason {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_and_notes_read_as_the_explanation_prints_them() {
        let why = Mismatch::NoneOf(vec![
            Mismatch::NeedsPeerIdentity {
                field: "principals",
            },
            Mismatch::Condition {
                key: "request.headers[x-team]".into(),
                value: None,
            },
        ]);
        assert_eq!(
            RuleReason::NotMatched { index: 1, why }.to_string(),
            "rules[1] did not match: source.principals needs a peer identity, and the connection \
             is not mTLS; when request.headers[x-team]: value is absent"
        );
        let note = Note::UpstreamTlsFailed {
            because: vec![Note::ClientCertificateRequired {
                chain: "0.0.0.0_443".into(),
                mode: "ISTIO_MUTUAL".into(),
            }],
        };
        assert!(note.to_string().starts_with(
            "the upstream TLS handshake failed: chain 0.0.0.0_443 is ISTIO_MUTUAL and requires"
        ));
        assert_eq!(
            serde_json::to_string(&Note::NoTcpRoute).unwrap_or_default(),
            "\"the TCP proxy has no route for this port: the connection is closed\""
        );
    }
}
