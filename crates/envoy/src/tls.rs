//! TLS transport sockets: the upstream context of a cluster (mesh mTLS with the proxy's SPIFFE
//! certificate, or TLS origination to an external host) and the downstream context of a chain that
//! terminates TLS (a gateway server), as istiod renders them (istio/istio
//! `pilot/pkg/networking/core/cluster_tls.go`, `gateway.go`), with file-based certificates in
//! place of SDS.
//!
//! Owns: `UpstreamTlsContext` and `DownstreamTlsContext`. Leaves out: which clusters and chains
//! get one (`clusters`, `chains`) and where the files are (`Placement`). Not rendered: MUTUAL
//! origination's client certificate (a DestinationRule's `clientCertificate` files are not
//! modelled: MUTUAL is rendered as SIMPLE). A gateway server's `credentialName` is rendered as
//! files (`CertPaths::credential`), which the runner writes from the Secret's certificate.

use super::placement::CertPaths;
use egressbench_model::xds::{DownstreamTls, UpstreamTls};
use egressbench_resources::{ClientTlsMode, ServerTlsMode};
use serde_json::{json, Value};

fn file(path: &std::path::Path) -> Value {
    json!({"filename": path.display().to_string()})
}

fn own_certificate(certs: &CertPaths) -> Value {
    json!([{
        "certificate_chain": file(&certs.cert_chain),
        "private_key": file(&certs.private_key),
    }])
}

fn transport_socket(type_url: &str, context: Value) -> Value {
    let mut typed = context;
    typed["@type"] = json!(type_url);
    json!({"name": "envoy.transport_sockets.tls", "typed_config": typed})
}

/// A cluster's upstream TLS. ISTIO_MUTUAL: the proxy's certificate, the mesh root, and the
/// expected SPIFFE ids of the endpoints when known (`peer_identities`), ALPN as istiod advertises
/// in-mesh. SIMPLE (and MUTUAL): the public CA bundle, the SNI's DNS name as the expected SAN.
pub(crate) fn upstream(
    tls: &UpstreamTls,
    certs: &CertPaths,
    peer_identities: &[String],
    http2: bool,
) -> Value {
    let mut common = json!({});
    let mut context = json!({});
    if let Some(sni) = &tls.sni {
        context["sni"] = json!(sni);
    }
    match tls.mode {
        ClientTlsMode::IstioMutual => {
            common["tls_certificates"] = own_certificate(certs);
            let mut validation = json!({"trusted_ca": file(&certs.mesh_root)});
            if !peer_identities.is_empty() {
                let sans: Vec<Value> = peer_identities
                    .iter()
                    .map(|id| json!({"san_type": "URI", "matcher": {"exact": id}}))
                    .collect();
                validation["match_typed_subject_alt_names"] = Value::Array(sans);
            }
            common["validation_context"] = validation;
            let alpn: &[&str] = if http2 {
                &["istio-peer-exchange", "istio", "h2"]
            } else {
                &["istio-peer-exchange", "istio"]
            };
            common["alpn_protocols"] = json!(alpn);
        }
        ClientTlsMode::Simple | ClientTlsMode::Mutual | ClientTlsMode::Disable => {
            let mut validation = json!({"trusted_ca": file(&certs.public_ca)});
            if let Some(sni) = &tls.sni {
                validation["match_typed_subject_alt_names"] =
                    json!([{"san_type": "DNS", "matcher": {"exact": sni}}]);
            }
            common["validation_context"] = validation;
            if http2 {
                common["alpn_protocols"] = json!(["h2"]);
            }
        }
    }
    context["common_tls_context"] = common;
    transport_socket(
        "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
        context,
    )
}

/// A chain's downstream TLS: the proxy's certificate, or a gateway server's `credentialName`
/// files; with a client certificate required (or optional, for OPTIONAL_MUTUAL), validation
/// against the mesh root (who may connect is RBAC's job), or the credential's CA. `http` chains
/// advertise `h2` and `http/1.1` as istiod's gateway servers do.
pub(crate) fn downstream(tls: &DownstreamTls, certs: &CertPaths, http: bool) -> Value {
    let mode = tls.mode;
    let require_client_certificate = tls.require_client_certificate;
    let mut common = match &tls.credential {
        None => json!({"tls_certificates": own_certificate(certs)}),
        // A gateway server's `credentialName`: the Secret's certificate, or, for a Secret that
        // does not exist, an SDS secret that never arrives (the server has nothing to present;
        // once the fetch times out the listener serves, and every handshake fails).
        Some(credential) if credential.certificate.is_none() => json!({
            "tls_certificate_sds_secret_configs": [{
                "name": format!("kubernetes://{}", credential.secret),
                "sds_config": {
                    "path_config_source": {"path": certs.missing_credential(&credential.secret).display().to_string()},
                    "initial_fetch_timeout": "0.1s",
                    "resource_api_version": "V3",
                },
            }],
        }),
        Some(credential) => {
            let (cert, key, _) = certs.credential(credential);
            json!({"tls_certificates": [{
                "certificate_chain": file(&cert),
                "private_key": file(&key),
            }]})
        }
    };
    let verifies = require_client_certificate
        || matches!(
            mode,
            ServerTlsMode::IstioMutual | ServerTlsMode::Mutual | ServerTlsMode::OptionalMutual
        );
    if verifies {
        let trusted = match &tls.credential {
            // MUTUAL: the Secret's CA (without one, no client certificate is accepted: the
            // server's own certificate stands in, which issued none).
            Some(credential) => {
                let (cert, _, ca) = certs.credential(credential);
                if credential.ca.is_some() {
                    ca
                } else {
                    cert
                }
            }
            None => certs.mesh_root.clone(),
        };
        if tls
            .credential
            .as_ref()
            .is_none_or(|c| c.certificate.is_some())
        {
            common["validation_context"] = json!({"trusted_ca": file(&trusted)});
        }
    }
    if http {
        common["alpn_protocols"] = json!(["h2", "http/1.1"]);
    }
    let presents = tls
        .credential
        .as_ref()
        .is_none_or(|c| c.certificate.is_some());
    let context = json!({
        "require_client_certificate": require_client_certificate && presents,
        "common_tls_context": common,
    });
    transport_socket(
        "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
        context,
    )
}
