//! Certificates and TLS configs for the simulated mesh: a root CA type used twice (the mesh CA
//! that issues workload SPIFFE identities, and the "public" CA that issues external hosts'
//! server certificates and that workloads trust like a system bundle), and the rustls configs
//! built from them (mesh mTLS server/client, public TLS server/client).
//!
//! Owns: `CertificateAuthority` (a self-signed root that issues `Leaf`s from a `LeafSpec`, current
//! or expired), `peer_identity` (a certificate's SPIFFE URI SAN), the SPIFFE-checking verifiers,
//! and `mesh_server`, `mesh_client`, `public_server` and `public_client`. Leaves out: sockets,
//! ClientHello inspection (`hello`), which proxy uses which config (`world`'s `Certs`, the
//! simulated proxies in `egressbench-sim`), the PEM files real Envoy reads (`egressbench-envoy`'s
//! `certs`), CRLs, OCSP, intermediate CAs and certificate rotation. One crypto provider (ring) is
//! used everywhere; nothing relies on rustls's process-wide default provider.

use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{ClientHello, ParsedCertificate, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, DistinguishedName as TlsDn,
    RootCertStore, ServerConfig, SignatureScheme,
};

/// The mesh's SPIFFE trust domain.
pub const TRUST_DOMAIN: &str = "cluster.local";

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// The one crypto provider used everywhere (ring).
pub fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::ring::default_provider()))
        .clone()
}

/// `spiffe://cluster.local/ns/<ns>/sa/<sa>`
pub fn spiffe_id(namespace: &str, service_account: &str) -> String {
    format!("spiffe://{TRUST_DOMAIN}/ns/{namespace}/sa/{service_account}")
}

/// Why a certificate or a TLS config could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    /// Key or certificate generation failed (rcgen).
    #[error("certificate generation failed: {0}")]
    Generate(String),
    /// Building a rustls config failed.
    #[error("TLS configuration failed: {0}")]
    Tls(String),
}

impl From<rcgen::Error> for PkiError {
    fn from(e: rcgen::Error) -> Self {
        PkiError::Generate(e.to_string())
    }
}

impl From<rustls::Error> for PkiError {
    fn from(e: rustls::Error) -> Self {
        PkiError::Tls(e.to_string())
    }
}

/// A certificate chain and its private key.
#[derive(Clone)]
pub struct Leaf {
    /// The leaf certificate first, then its issuer (the root).
    pub chain: Vec<CertificateDer<'static>>,
    key: Arc<PrivateKeyDer<'static>>,
    cert_pem: String,
    key_pem: String,
}

impl Leaf {
    /// The private key (PKCS#8 DER).
    pub fn key(&self) -> PrivateKeyDer<'static> {
        self.key.clone_key()
    }

    /// The whole chain (leaf first) as PEM.
    pub fn cert_pem(&self) -> String {
        self.cert_pem.clone()
    }

    /// The private key as PKCS#8 PEM.
    pub fn key_pem(&self) -> String {
        self.key_pem.clone()
    }
}

impl fmt::Debug for Leaf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let identity = self.chain.first().and_then(peer_identity);
        f.debug_struct("Leaf")
            .field("chain_len", &self.chain.len())
            .field("identity", &identity)
            .field("key", &"<redacted>")
            .finish()
    }
}

/// Whether a leaf is currently valid or already expired.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Validity {
    /// Valid from a day ago for a year.
    #[default]
    Current,
    /// `not_after` a day in the past.
    Expired,
}

/// What a leaf certificate carries.
#[derive(Debug, Clone, Default)]
pub struct LeafSpec {
    /// Subject CN; empty means no CN.
    pub common_name: String,
    /// URI SANs (SPIFFE identities).
    pub uris: Vec<String>,
    /// DNS SANs (an IP literal becomes an IP SAN).
    pub dns_names: Vec<String>,
    /// Current or expired.
    pub validity: Validity,
}

impl LeafSpec {
    /// A workload certificate: the SPIFFE URI SAN only, no CN.
    pub fn workload(spiffe: &str) -> Self {
        LeafSpec {
            uris: vec![spiffe.to_string()],
            ..LeafSpec::default()
        }
    }

    /// A server certificate for `names` (DNS SANs; CN is the first name).
    pub fn server(names: &[String]) -> Self {
        LeafSpec {
            common_name: names.first().cloned().unwrap_or_default(),
            dns_names: names.to_vec(),
            ..LeafSpec::default()
        }
    }
}

/// A root CA (self-signed) that issues leaves.
pub struct CertificateAuthority {
    name: String,
    issuer: Issuer<'static, KeyPair>,
    root: CertificateDer<'static>,
    root_pem: String,
    roots: Arc<RootCertStore>,
}

impl fmt::Debug for CertificateAuthority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateAuthority")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Set `params` valid from `now - back` to `now ± forward` (rcgen's date type is inferred, so
/// the `time` crate need not be a direct dependency).
fn set_validity(
    params: &mut CertificateParams,
    back: Duration,
    forward: Duration,
    expired: bool,
) -> Result<(), PkiError> {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|e| PkiError::Generate(format!("system clock before 1970: {e}")))?;
    let now = rcgen::date_time_ymd(1970, 1, 1) + since_epoch;
    params.not_before = now - back;
    params.not_after = if expired {
        now - forward
    } else {
        now + forward
    };
    Ok(())
}

impl CertificateAuthority {
    /// A new self-signed root with an ECDSA P-256 key.
    pub fn new(common_name: &str) -> Result<Self, PkiError> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, common_name);
        dn.push(DnType::OrganizationName, "egressbench");
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        set_validity(&mut params, DAY, DAY * 3650, false)?;
        let cert = params.self_signed(&key)?;
        let root = cert.der().clone();
        let root_pem = cert.pem();
        let mut store = RootCertStore::empty();
        store.add(root.clone())?;
        Ok(CertificateAuthority {
            name: common_name.to_string(),
            issuer: Issuer::new(params, key),
            root,
            root_pem,
            roots: Arc::new(store),
        })
    }

    /// The root certificate.
    pub fn root(&self) -> CertificateDer<'static> {
        self.root.clone()
    }

    /// The root certificate as PEM.
    pub fn root_pem(&self) -> String {
        self.root_pem.clone()
    }

    /// A root store holding only this CA.
    pub fn roots(&self) -> Arc<RootCertStore> {
        self.roots.clone()
    }

    /// Issue a leaf (ECDSA P-256 key, serverAuth + clientAuth); the chain is `[leaf, root]`.
    pub fn issue(&self, spec: &LeafSpec) -> Result<Leaf, PkiError> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        let mut dn = DistinguishedName::new();
        if !spec.common_name.is_empty() {
            dn.push(DnType::CommonName, spec.common_name.as_str());
        }
        params.distinguished_name = dn;
        for uri in &spec.uris {
            params
                .subject_alt_names
                .push(SanType::URI(uri.as_str().try_into()?));
        }
        for name in &spec.dns_names {
            let san = match name.parse::<IpAddr>() {
                Ok(ip) => SanType::IpAddress(ip),
                Err(_) => SanType::DnsName(name.as_str().try_into()?),
            };
            params.subject_alt_names.push(san);
        }
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        params.use_authority_key_identifier_extension = true;
        match spec.validity {
            Validity::Current => set_validity(&mut params, DAY, DAY * 365, false)?,
            Validity::Expired => set_validity(&mut params, DAY * 30, DAY, true)?,
        }
        let cert = params.signed_by(&key, &self.issuer)?;
        let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        Ok(Leaf {
            chain: vec![cert.der().clone(), self.root.clone()],
            key: Arc::new(key_der),
            cert_pem: format!("{}{}", cert.pem(), self.root_pem),
            key_pem: key.serialize_pem(),
        })
    }
}

/// The SPIFFE identity (first `spiffe://` URI SAN) of a DER certificate.
pub fn peer_identity(cert: &CertificateDer<'_>) -> Option<String> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref()).ok()?;
    let san = parsed.tbs_certificate.subject_alternative_name().ok()??;
    san.value.general_names.iter().find_map(|name| match name {
        x509_parser::extensions::GeneralName::URI(uri) if uri.starts_with("spiffe://") => {
            Some((*uri).to_string())
        }
        _ => None,
    })
}

/// Whether a mesh server demands a client certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// The client must present a valid mesh certificate with a SPIFFE identity.
    Required,
    /// No client certificate is requested.
    None,
}

fn no_spiffe() -> rustls::Error {
    rustls::Error::InvalidCertificate(CertificateError::ApplicationVerificationFailure)
}

fn alpn_list(alpn: &[&[u8]]) -> Vec<Vec<u8>> {
    alpn.iter().map(|p| p.to_vec()).collect()
}

/// webpki client verification plus "the certificate carries a SPIFFE URI SAN".
#[derive(Debug)]
struct SpiffeClientVerifier {
    inner: Arc<dyn ClientCertVerifier>,
}

impl ClientCertVerifier for SpiffeClientVerifier {
    fn root_hint_subjects(&self) -> &[TlsDn] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let verified = self
            .inner
            .verify_client_cert(end_entity, intermediates, now)?;
        peer_identity(end_entity).ok_or_else(no_spiffe)?;
        Ok(verified)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Chain verification against the mesh CA plus a SPIFFE URI SAN; no server-name check.
#[derive(Debug)]
struct SpiffeServerVerifier {
    roots: Arc<RootCertStore>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for SpiffeServerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let parsed = ParsedCertificate::try_from(end_entity)?;
        rustls::client::verify_server_cert_signed_by_trust_anchor(
            &parsed,
            &self.roots,
            intermediates,
            now,
            self.provider.signature_verification_algorithms.all,
        )?;
        peer_identity(end_entity).ok_or_else(no_spiffe)?;
        Ok(ServerCertVerified::assertion())
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

/// A TLS 1.2 handshake signature checked with the one provider's algorithms (for the verifiers
/// that check certificates their own way).
pub(crate) fn signature_tls12(
    message: &[u8],
    cert: &CertificateDer<'_>,
    dss: &DigitallySignedStruct,
) -> Result<HandshakeSignatureValid, rustls::Error> {
    rustls::crypto::verify_tls12_signature(
        message,
        cert,
        dss,
        &provider().signature_verification_algorithms,
    )
}

/// `signature_tls12` for TLS 1.3.
pub(crate) fn signature_tls13(
    message: &[u8],
    cert: &CertificateDer<'_>,
    dss: &DigitallySignedStruct,
) -> Result<HandshakeSignatureValid, rustls::Error> {
    rustls::crypto::verify_tls13_signature(
        message,
        cert,
        dss,
        &provider().signature_verification_algorithms,
    )
}

/// The signature schemes the provider verifies.
pub(crate) fn verify_schemes() -> Vec<SignatureScheme> {
    provider()
        .signature_verification_algorithms
        .supported_schemes()
}

/// Server side of mesh mTLS: presents `leaf`; with `Required`, the client must present a
/// currently valid certificate chaining to `ca` with a `spiffe://` URI SAN.
pub fn mesh_server(
    ca: &CertificateAuthority,
    leaf: &Leaf,
    client_auth: ClientAuth,
    alpn: &[&[u8]],
) -> Result<Arc<ServerConfig>, PkiError> {
    let builder =
        ServerConfig::builder_with_provider(provider()).with_safe_default_protocol_versions()?;
    let builder = match client_auth {
        ClientAuth::Required => {
            let inner = WebPkiClientVerifier::builder_with_provider(ca.roots(), provider())
                .build()
                .map_err(|e| PkiError::Tls(e.to_string()))?;
            builder.with_client_cert_verifier(Arc::new(SpiffeClientVerifier { inner }))
        }
        ClientAuth::None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_single_cert(leaf.chain.clone(), leaf.key())?;
    config.alpn_protocols = alpn_list(alpn);
    Ok(Arc::new(config))
}

/// Client side of mesh mTLS: presents `leaf`; verifies the server chain against `ca` and
/// requires a SPIFFE URI SAN, without checking the server name against the SNI.
pub fn mesh_client(
    ca: &CertificateAuthority,
    leaf: &Leaf,
    alpn: &[&[u8]],
) -> Result<Arc<ClientConfig>, PkiError> {
    let verifier = SpiffeServerVerifier {
        roots: ca.roots(),
        provider: provider(),
    };
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_client_auth_cert(leaf.chain.clone(), leaf.key())?;
    config.alpn_protocols = alpn_list(alpn);
    Ok(Arc::new(config))
}

/// Picks a certificate by SNI; no SNI gets the first, an unknown SNI gets none.
#[derive(Debug)]
struct SniResolver {
    entries: Vec<(Vec<String>, Arc<CertifiedKey>)>,
}

fn name_matches(pattern: &str, name: &str) -> bool {
    if pattern.eq_ignore_ascii_case(name) {
        return true;
    }
    match (pattern.strip_prefix("*."), name.split_once('.')) {
        (Some(suffix), Some((label, rest))) => {
            !label.is_empty() && suffix.eq_ignore_ascii_case(rest)
        }
        _ => false,
    }
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        match client_hello.server_name() {
            None => self.entries.first().map(|(_, key)| key.clone()),
            Some(sni) => self
                .entries
                .iter()
                .find(|(names, _)| names.iter().any(|n| name_matches(n, sni)))
                .map(|(_, key)| key.clone()),
        }
    }
}

/// Server side of an external host: a certificate per served name set, chosen by SNI.
pub fn public_server(
    certs: &[(Vec<String>, Leaf)],
    alpn: &[&[u8]],
) -> Result<Arc<ServerConfig>, PkiError> {
    let provider = provider();
    let entries = certs
        .iter()
        .map(|(names, leaf)| {
            let key = provider.key_provider.load_private_key(leaf.key())?;
            Ok((
                names.clone(),
                Arc::new(CertifiedKey::new(leaf.chain.clone(), key)),
            ))
        })
        .collect::<Result<Vec<_>, PkiError>>()?;
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(SniResolver { entries }));
    config.alpn_protocols = alpn_list(alpn);
    Ok(Arc::new(config))
}

/// Client side towards external hosts: standard webpki verification against `ca`'s root.
pub fn public_client(
    ca: &CertificateAuthority,
    alpn: &[&[u8]],
) -> Result<Arc<ClientConfig>, PkiError> {
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(ca.roots())
        .with_no_client_auth();
    config.alpn_protocols = alpn_list(alpn);
    Ok(Arc::new(config))
}

/// A client config that trusts no server: for requests in plain HTTP, which never use it (a
/// forward proxy's own `GET http://…`).
pub(crate) fn plain_text_client() -> Result<Arc<ClientConfig>, PkiError> {
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(RootCertStore::empty())
        .with_no_client_auth();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use rustls::pki_types::ServerName;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_rustls::{TlsAcceptor, TlsConnector};

    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    const GATEWAY_SNI: &str = "outbound_.80_._.egressgateway.istio-egress.svc.cluster.local";

    /// Handshake over an in-memory pipe; `Ok(identity the server saw)` only if both sides
    /// complete and a byte round-trips.
    async fn handshake(
        client: Arc<ClientConfig>,
        server: Arc<ServerConfig>,
        sni: &str,
    ) -> Result<Option<String>, String> {
        let (client_io, server_io) = tokio::io::duplex(64 * 1024);
        let name = ServerName::try_from(sni.to_string()).map_err(|e| e.to_string())?;
        let client_side = async move {
            let mut tls = TlsConnector::from(client)
                .connect(name, client_io)
                .await
                .map_err(|e| format!("client: {e}"))?;
            let mut b = [0u8; 1];
            tls.read_exact(&mut b)
                .await
                .map_err(|e| format!("client read: {e}"))?;
            Ok::<_, String>(())
        };
        let server_side = async move {
            let mut tls = TlsAcceptor::from(server)
                .accept(server_io)
                .await
                .map_err(|e| format!("server: {e}"))?;
            let identity = tls
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|certs| certs.first())
                .and_then(peer_identity);
            tls.write_all(b"k")
                .await
                .map_err(|e| format!("server write: {e}"))?;
            tls.flush()
                .await
                .map_err(|e| format!("server flush: {e}"))?;
            Ok::<_, String>(identity)
        };
        let both = async { tokio::join!(client_side, server_side) };
        let (c, s) = tokio::time::timeout(Duration::from_secs(10), both)
            .await
            .map_err(|_| "timeout".to_string())?;
        match (c, s) {
            (Ok(()), Ok(identity)) => Ok(identity),
            (c, s) => Err(format!("{:?} / {:?}", c.err(), s.err())),
        }
    }

    /// Asserts the handshake failed, with `needle` in the error.
    fn assert_failed(result: Result<Option<String>, String>, needle: &str) {
        match result {
            Ok(seen) => panic!("handshake unexpectedly succeeded (peer {seen:?})"),
            Err(e) => assert!(e.contains(needle), "expected {needle:?} in {e:?}"),
        }
    }

    struct Mesh {
        ca: CertificateAuthority,
        gateway: Arc<ServerConfig>,
    }

    fn mesh() -> Result<Mesh, PkiError> {
        let ca = CertificateAuthority::new("mesh-root")?;
        let gw = ca.issue(&LeafSpec::workload(&spiffe_id(
            "istio-egress",
            "egressgateway",
        )))?;
        let gateway = mesh_server(&ca, &gw, ClientAuth::Required, &[b"istio"])?;
        Ok(Mesh { ca, gateway })
    }

    #[test]
    fn spiffe_id_format_and_debug_hides_key() -> TestResult {
        assert_eq!(
            spiffe_id("default", "sleep"),
            "spiffe://cluster.local/ns/default/sa/sleep"
        );
        let ca = CertificateAuthority::new("mesh-root")?;
        let leaf = ca.issue(&LeafSpec::workload(&spiffe_id("default", "sleep")))?;
        let dbg = format!("{leaf:?} {ca:?}");
        assert!(!dbg.contains("PRIVATE"));
        assert!(dbg.contains("spiffe://cluster.local/ns/default/sa/sleep"));
        assert!(leaf.key_pem().contains("PRIVATE KEY"));
        assert_eq!(leaf.cert_pem().matches("BEGIN CERTIFICATE").count(), 2);
        assert!(ca.root_pem().contains("BEGIN CERTIFICATE"));
        assert_eq!(leaf.chain.get(1), Some(&ca.root()));
        Ok(())
    }

    #[tokio::test]
    async fn mesh_mtls_succeeds_and_server_sees_identity() -> TestResult {
        let m = mesh()?;
        let sleep =
            m.ca.issue(&LeafSpec::workload(&spiffe_id("default", "sleep")))?;
        let client = mesh_client(&m.ca, &sleep, &[b"istio"])?;
        let seen = handshake(client, m.gateway, GATEWAY_SNI).await?;
        assert_eq!(
            seen.as_deref(),
            Some("spiffe://cluster.local/ns/default/sa/sleep")
        );
        Ok(())
    }

    #[tokio::test]
    async fn mesh_mtls_without_client_cert_fails() -> TestResult {
        let m = mesh()?;
        let client = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(SpiffeServerVerifier {
                roots: m.ca.roots(),
                provider: provider(),
            }))
            .with_no_client_auth();
        assert_failed(
            handshake(Arc::new(client), m.gateway, GATEWAY_SNI).await,
            "server: peer sent no certificates",
        );
        Ok(())
    }

    #[tokio::test]
    async fn mesh_mtls_with_other_ca_client_cert_fails() -> TestResult {
        let m = mesh()?;
        let other = CertificateAuthority::new("other-root")?;
        let rogue = other.issue(&LeafSpec::workload(&spiffe_id("default", "sleep")))?;
        // The client trusts the real mesh CA, so only the client cert is wrong.
        let client = mesh_client(&m.ca, &rogue, &[])?;
        assert_failed(
            handshake(client, m.gateway, GATEWAY_SNI).await,
            "server: invalid peer certificate: UnknownIssuer",
        );
        Ok(())
    }

    #[tokio::test]
    async fn mesh_mtls_with_expired_client_cert_fails() -> TestResult {
        let m = mesh()?;
        let mut spec = LeafSpec::workload(&spiffe_id("default", "sleep"));
        spec.validity = Validity::Expired;
        let expired = m.ca.issue(&spec)?;
        let client = mesh_client(&m.ca, &expired, &[])?;
        assert_failed(
            handshake(client, m.gateway, GATEWAY_SNI).await,
            "server: invalid peer certificate: certificate expired",
        );
        Ok(())
    }

    #[tokio::test]
    async fn mesh_mtls_with_dns_only_client_cert_fails() -> TestResult {
        let m = mesh()?;
        let dns_only =
            m.ca.issue(&LeafSpec::server(&["sleep.default".to_string()]))?;
        assert_eq!(peer_identity(&dns_only.chain[0]), None);
        let client = mesh_client(&m.ca, &dns_only, &[])?;
        assert_failed(
            handshake(client, m.gateway, GATEWAY_SNI).await,
            "server: invalid peer certificate: ApplicationVerificationFailure",
        );
        Ok(())
    }

    #[tokio::test]
    async fn mesh_client_rejects_server_without_spiffe_san() -> TestResult {
        let ca = CertificateAuthority::new("mesh-root")?;
        let server_leaf = ca.issue(&LeafSpec::server(&[
            "egressgateway.istio-egress.svc.cluster.local".to_string(),
        ]))?;
        let server = mesh_server(&ca, &server_leaf, ClientAuth::None, &[])?;
        let sleep = ca.issue(&LeafSpec::workload(&spiffe_id("default", "sleep")))?;
        let client = mesh_client(&ca, &sleep, &[])?;
        assert_failed(
            handshake(client, server, GATEWAY_SNI).await,
            "client: invalid peer certificate: ApplicationVerificationFailure",
        );

        // Control: the same setup with a SPIFFE server cert succeeds.
        let good_leaf = ca.issue(&LeafSpec::workload(&spiffe_id(
            "istio-egress",
            "egressgateway",
        )))?;
        let good = mesh_server(&ca, &good_leaf, ClientAuth::None, &[])?;
        let client = mesh_client(&ca, &sleep, &[])?;
        assert_eq!(handshake(client, good, GATEWAY_SNI).await?, None);
        Ok(())
    }

    fn public_setup() -> Result<(CertificateAuthority, Arc<ServerConfig>), PkiError> {
        let ca = CertificateAuthority::new("public-root")?;
        let names_a = vec!["httpbin.org".to_string(), "www.httpbin.org".to_string()];
        let names_b = vec!["*.wikipedia.org".to_string()];
        let a = ca.issue(&LeafSpec::server(&names_a))?;
        let b = ca.issue(&LeafSpec::server(&names_b))?;
        let server = public_server(&[(names_a, a), (names_b, b)], &[b"h2", b"http/1.1"])?;
        Ok((ca, server))
    }

    #[tokio::test]
    async fn public_tls_served_names_succeed() -> TestResult {
        let (ca, server) = public_setup()?;
        for sni in ["httpbin.org", "WWW.httpbin.org", "en.wikipedia.org"] {
            let client = public_client(&ca, &[b"http/1.1"])?;
            assert_eq!(handshake(client, server.clone(), sni).await?, None);
        }
        Ok(())
    }

    #[tokio::test]
    async fn public_tls_unknown_sni_fails() -> TestResult {
        let (ca, server) = public_setup()?;
        let client = public_client(&ca, &[])?;
        assert_failed(
            handshake(client, server, "example.com").await,
            "no server certificate chain resolved",
        );
        Ok(())
    }

    #[tokio::test]
    async fn public_tls_cert_from_other_ca_fails() -> TestResult {
        let (_, server) = public_setup()?;
        let other = CertificateAuthority::new("other-root")?;
        let client = public_client(&other, &[])?;
        assert_failed(
            handshake(client, server, "httpbin.org").await,
            "client: invalid peer certificate: UnknownIssuer",
        );
        Ok(())
    }
}
