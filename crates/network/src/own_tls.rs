//! TLS with the scenario's own certificates (`Materials`): a server presenting its own certificate
//! and asking for a client's as nginx's `ssl_verify_client` does, and a client that checks a
//! server the way curl's OpenSSL does (`--cacert`, the CN, `-k`) and presents `--cert`.
//!
//! Owns: `own_server`, `curl_client` and `rejected_certificate` (the model's `CertificateProblem`
//! back out of a failed handshake). A certificate the run did not make is one the public CA
//! issued for the host's names, which the system bundle trusts (the model's rule). Leaves out: what is trusted and what a name must match (the
//! model's `external::tls::check_server`, called here on the certificate the server sent), the
//! mesh's and the public CA's configs (`pki`), and the sockets.

use crate::materials::Materials;
use crate::pki::{provider, signature_tls12, signature_tls13, verify_schemes, PkiError};
use egressbench_model::external::tls::{check_server, Presented};
use egressbench_model::outcome::CertificateProblem;
use egressbench_model::request::{ClientCredentials, Trust};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, DistinguishedName, OtherError,
    ServerConfig, SignatureScheme,
};
use std::sync::Arc;

/// Asks for a client certificate and takes whatever comes (or nothing): the application checks
/// it after the handshake, as nginx does.
#[derive(Debug)]
struct AnyClientCertificate;

impl ClientCertVerifier for AnyClientCertificate {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        signature_tls12(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        signature_tls13(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        verify_schemes()
    }
}

/// A server presenting `certificate` (only the leaf, as nginx sends an `ssl_certificate` file
/// holding one), asking for a client certificate when `ask_client`.
pub fn own_server(
    materials: &Materials,
    certificate: &egressbench_resources::files::Certificate,
    ask_client: bool,
    alpn: &[&[u8]],
) -> Result<Arc<ServerConfig>, PkiError> {
    let made = materials.certificate(certificate)?;
    let (key, _) = materials.key(&certificate.key)?;
    let builder =
        ServerConfig::builder_with_provider(provider()).with_safe_default_protocol_versions()?;
    let builder = if ask_client {
        builder.with_client_cert_verifier(Arc::new(AnyClientCertificate))
    } else {
        builder.with_no_client_auth()
    };
    let mut config = builder.with_single_cert(vec![made.der], key)?;
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

/// The model's reason, carried through rustls's error (which has no words for a self-signed
/// certificate, or for the CN a name was compared with).
#[derive(Debug)]
struct Rejected(CertificateProblem);

impl std::fmt::Display for Rejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "certificate rejected: {:?}", self.0)
    }
}

impl std::error::Error for Rejected {}

/// curl's check of the server: the model's rule on the certificate value the DER was made from
/// (a certificate this run did not make is one the public CA issued).
#[derive(Debug)]
struct CurlVerifier {
    materials: Arc<Materials>,
    trust: Trust,
    host: String,
}

impl ServerCertVerifier for CurlVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let own = self.materials.identify(end_entity.as_ref());
        let presented = match &own {
            Some(c) => Presented::Own(c),
            None => Presented::Public,
        };
        check_server(&self.trust, presented, &self.host)
            .map(|()| ServerCertVerified::assertion())
            .map_err(|p| {
                rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(
                    Rejected(p),
                ))))
            })
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        signature_tls12(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        signature_tls13(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        verify_schemes()
    }
}

/// The client TLS of a curl with `credentials`, asking for `host`: it checks the server as curl
/// does and presents its certificate when asked.
pub fn curl_client(
    materials: &Arc<Materials>,
    credentials: &ClientCredentials,
    host: &str,
    alpn: &[&[u8]],
) -> Result<Arc<ClientConfig>, PkiError> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(CurlVerifier {
            materials: materials.clone(),
            trust: credentials.trust.clone(),
            host: host.to_string(),
        }));
    let mut config = match &credentials.certificate {
        None => builder.with_no_client_auth(),
        Some(cert) => {
            let made = materials.certificate(cert)?;
            let (key, _) = materials.key(&cert.key)?;
            builder.with_client_auth_cert(vec![made.der], key)?
        }
    };
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

/// The certificate problem a failed client handshake reports, if it was one.
pub fn rejected_certificate(e: &rustls::Error) -> Option<CertificateProblem> {
    match e {
        rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(inner))) => {
            inner.downcast_ref::<Rejected>().map(|r| r.0.clone())
        }
        _ => None,
    }
}
