//! Real certificates and keys for the certificate values of a scenario (what its `openssl` lines
//! made): each key name gets one key pair and each certificate one DER, made once per run and
//! the same for every use, so that a server's `ssl_certificate`, a client's `--cacert` and a
//! presented `--cert` agree; and the way back, from a DER seen on a connection to the value.
//!
//! Owns: `Materials` (making, caching, `identify`). Leaves out: what the values mean (subject,
//! issuer, trust: `egressbench_resources::files`, `egressbench_model::external::tls`), the mesh's
//! and the public CA's certificates (`pki`), and TLS configs (`pki`, `hosts`, `client`). The DER
//! differs from what OpenSSL writes in ways no check here sees: always X.509 v3, ECDSA P-256
//! keys, and the serial one more than written (a serial of 0, which the documents use, is not a
//! valid serial for every parser).

use crate::pki::PkiError;
use egressbench_resources::files::Certificate;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SerialNumber,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// One certificate, made: its DER and PEM.
#[derive(Debug, Clone)]
pub struct Made {
    pub der: CertificateDer<'static>,
    pub pem: String,
}

/// The certificates and keys made so far in this run.
#[derive(Debug, Default)]
pub struct Materials {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Key name → PKCS#8 DER.
    keys: HashMap<String, Vec<u8>>,
    certs: HashMap<Certificate, Made>,
    by_der: HashMap<Vec<u8>, Certificate>,
}

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

fn dn_type(attribute: &str) -> DnType {
    match attribute {
        "C" => DnType::CountryName,
        "ST" => DnType::StateOrProvinceName,
        "L" => DnType::LocalityName,
        "O" => DnType::OrganizationName,
        "OU" => DnType::OrganizationalUnitName,
        "CN" => DnType::CommonName,
        // emailAddress (1.2.840.113549.1.9.1); `DistinguishedName::parse` admits no other.
        _ => DnType::CustomDnType(vec![1, 2, 840, 113549, 1, 9, 1]),
    }
}

/// The rcgen parameters of `cert` (its subject, serial, validity and CA flag; no extensions
/// besides those, and no subject alternative names).
fn params(cert: &Certificate) -> Result<CertificateParams, PkiError> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    let mut dn = DistinguishedName::new();
    for (t, v) in &cert.subject.0 {
        dn.push(dn_type(t), v.as_str());
    }
    params.distinguished_name = dn;
    params.serial_number = Some(SerialNumber::from(cert.serial.saturating_add(1)));
    if cert.ca {
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
    } else {
        params.is_ca = IsCa::NoCa;
    }
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| PkiError::Generate(format!("system clock before 1970: {e}")))?;
    let now = rcgen::date_time_ymd(1970, 1, 1) + since_epoch;
    params.not_before = now - DAY;
    params.not_after = now + DAY * cert.days.max(1);
    Ok(params)
}

impl Materials {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The key pair named `name` (made on first use).
    fn key_pair(&self, name: &str) -> Result<KeyPair, PkiError> {
        let der = {
            let mut inner = self.lock();
            match inner.keys.get(name) {
                Some(der) => der.clone(),
                None => {
                    let der = KeyPair::generate()?.serialize_der();
                    inner.keys.insert(name.to_string(), der.clone());
                    der
                }
            }
        };
        Ok(KeyPair::try_from(der)?)
    }

    /// The private key named `name`, as DER and PEM.
    pub fn key(&self, name: &str) -> Result<(PrivateKeyDer<'static>, String), PkiError> {
        let pair = self.key_pair(name)?;
        Ok((
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pair.serialize_der())),
            pair.serialize_pem(),
        ))
    }

    /// `cert`, made (its issuers first).
    pub fn certificate(&self, cert: &Certificate) -> Result<Made, PkiError> {
        if let Some(made) = self.lock().certs.get(cert) {
            return Ok(made.clone());
        }
        let key = self.key_pair(&cert.key)?;
        let made = match &cert.issuer {
            None => params(cert)?.self_signed(&key)?,
            Some(issuer) => {
                self.certificate(issuer)?;
                let issuer_key = self.key_pair(&issuer.key)?;
                let signer = Issuer::new(params(issuer)?, issuer_key);
                params(cert)?.signed_by(&key, &signer)?
            }
        };
        let made = Made {
            der: made.der().clone(),
            pem: made.pem(),
        };
        let mut inner = self.lock();
        inner
            .by_der
            .insert(made.der.as_ref().to_vec(), cert.clone());
        inner.certs.insert(cert.clone(), made.clone());
        Ok(made)
    }

    /// Whether nothing was made yet (no scenario certificate is in use).
    pub fn is_empty(&self) -> bool {
        self.lock().certs.is_empty()
    }

    /// The certificate value a DER seen on a connection was made from, if this run made it.
    pub fn identify(&self, der: &[u8]) -> Option<Certificate> {
        self.lock().by_der.get(der).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use egressbench_resources::files::DistinguishedName as Dn;

    fn cert(subj: &str, issuer: Option<&Certificate>) -> Certificate {
        Certificate {
            subject: Dn::parse(subj).unwrap(),
            issuer: issuer.map(|i| Box::new(i.clone())),
            serial: 0,
            key: format!("{subj}.key"),
            ca: issuer.is_none(),
            days: 365,
        }
    }

    #[test]
    fn a_certificate_is_made_once_signed_by_its_issuer_and_known_again() {
        let m = Materials::default();
        let ca = cert("/O=example Inc./CN=example.com", None);
        let leaf = cert(
            "/CN=my-nginx.mesh-external.svc.cluster.local/O=some organization",
            Some(&ca),
        );
        let made = m.certificate(&leaf).unwrap();
        assert_eq!(m.certificate(&leaf).unwrap().der, made.der);
        assert_eq!(m.identify(made.der.as_ref()), Some(leaf.clone()));
        let ca_made = m.certificate(&ca).unwrap();
        assert_eq!(m.identify(ca_made.der.as_ref()), Some(ca.clone()));
        let (_, parsed) = x509_parser::parse_x509_certificate(made.der.as_ref()).unwrap();
        assert_eq!(
            parsed.subject().to_string(),
            "CN=my-nginx.mesh-external.svc.cluster.local, O=some organization"
        );
        assert_eq!(
            parsed.issuer().to_string(),
            "O=example Inc., CN=example.com"
        );
        assert!(made.pem.starts_with("-----BEGIN CERTIFICATE-----"));
        let (_, pem) = m.key(&leaf.key).unwrap();
        assert!(pem.contains("PRIVATE KEY"));
    }
}
