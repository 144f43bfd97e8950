//! Files as values: what a document's `openssl` lines make on the workstation and what a Secret or
//! ConfigMap holds, so that a certificate can travel from `openssl req` through `kubectl create
//! secret` and a pod's volume to curl's `--cacert` or a server's `ssl_certificate`.
//!
//! Owns: `FileContent` (a certificate, a private key, a signing request, or text), `Certificate`
//! (subject, issuer chain, serial, key, whether it is a CA) and `DistinguishedName` (OpenSSL's
//! `-subj` form, printed as OpenSSL and curl print it). Leaves out: real key material and DER (the
//! socket-running targets make real certificates from these values, once per run and the same
//! for every use within it),
//! reading PEM from Secret manifests, and what trusts what (`egressbench-model`).

use std::fmt;

/// A distinguished name, its attributes in the order written (`/O=example Inc./CN=example.com`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct DistinguishedName(pub Vec<(String, String)>);

/// Why a `-subj` value could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`-subj {written}`: {why}")]
pub struct SubjectError {
    pub written: String,
    pub why: &'static str,
}

impl DistinguishedName {
    /// OpenSSL's `-subj` form: `/TYPE=value` per attribute (`\/` for a slash inside a value).
    pub fn parse(written: &str) -> Result<Self, SubjectError> {
        let err = |why| SubjectError {
            written: written.to_string(),
            why,
        };
        let rest = written
            .strip_prefix('/')
            .ok_or_else(|| err("expected `/TYPE=value/…`, starting with `/`"))?;
        let mut parts: Vec<String> = Vec::new();
        let mut part = String::new();
        let mut chars = rest.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => part.extend(chars.next()),
                '/' => parts.push(std::mem::take(&mut part)),
                c => part.push(c),
            }
        }
        parts.push(part);
        let mut attrs = Vec::new();
        for part in parts.into_iter().filter(|p| !p.is_empty()) {
            let (ty, value) = part
                .split_once('=')
                .ok_or_else(|| err("each attribute is `TYPE=value`"))?;
            if !matches!(ty, "C" | "ST" | "L" | "O" | "OU" | "CN" | "emailAddress") {
                return Err(err(
                    "attribute types are C, ST, L, O, OU, CN and emailAddress",
                ));
            }
            attrs.push((ty.to_string(), value.to_string()));
        }
        if attrs.is_empty() {
            return Err(err("no attribute"));
        }
        Ok(DistinguishedName(attrs))
    }

    /// The `CN` attribute, if any (the last one, as OpenSSL's host check takes it).
    pub fn common_name(&self) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(t, _)| t == "CN")
            .map(|(_, v)| v.as_str())
    }

    /// As curl prints a certificate's subject and issuer under `-v` (`O=example Inc.;
    /// CN=example.com`).
    pub fn curl_form(&self) -> String {
        self.0
            .iter()
            .map(|(t, v)| format!("{t}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// OpenSSL's one-line form (`O = example Inc., CN = example.com`), as `openssl x509 -subject`
/// and `s_client` print it.
impl fmt::Display for DistinguishedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|(t, v)| format!("{t} = {v}")).collect();
        f.write_str(&parts.join(", "))
    }
}

/// An X.509 certificate as the documents make them: no subject alternative names (a client that
/// checks the name falls back to the CN, as OpenSSL does).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct Certificate {
    pub subject: DistinguishedName,
    /// The certificate that signed it; `None` for a self-signed one.
    pub issuer: Option<Box<Certificate>>,
    pub serial: u64,
    /// The file name of its private key where it was made (the key's identity: a socket-running
    /// target makes one key pair per name and run).
    pub key: String,
    /// `basicConstraints CA:TRUE` (what `openssl req -x509` writes with OpenSSL's default
    /// configuration).
    pub ca: bool,
    /// Validity in days from when the run starts.
    pub days: u32,
}

impl Certificate {
    /// Whether it chains to `anchor`: `anchor` is itself or one of its issuers.
    pub fn chains_to(&self, anchor: &Certificate) -> bool {
        let mut c = Some(self);
        while let Some(cert) = c {
            if cert == anchor {
                return true;
            }
            c = cert.issuer.as_deref();
        }
        false
    }
}

/// What a file holds.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum FileContent {
    Certificate(Certificate),
    /// A private key, named by the file it was written to first (see `Certificate::key`).
    PrivateKey {
        key: String,
    },
    /// A certificate signing request (`openssl req -out X.csr`), signed later by `openssl x509`.
    SigningRequest {
        subject: DistinguishedName,
        key: String,
    },
    Text(String),
}

impl FileContent {
    /// What it is, for errors (`a certificate (CN=example.com)`).
    pub fn describe(&self) -> String {
        match self {
            FileContent::Certificate(c) => format!("a certificate ({})", c.subject.curl_form()),
            FileContent::PrivateKey { key } => format!("a private key (made as {key})"),
            FileContent::SigningRequest { subject, .. } => {
                format!("a certificate signing request ({})", subject.curl_form())
            }
            FileContent::Text(t) => format!("a text file of {} bytes", t.len()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(subj: &str, issuer: Option<Certificate>) -> Certificate {
        Certificate {
            subject: DistinguishedName::parse(subj).unwrap(),
            issuer: issuer.map(Box::new),
            serial: 0,
            key: format!("{subj}.key"),
            ca: false,
            days: 365,
        }
    }

    #[test]
    fn subjects_read_as_openssl_writes_them() {
        let dn = DistinguishedName::parse(
            "/CN=my-nginx.mesh-external.svc.cluster.local/O=some organization",
        )
        .unwrap();
        assert_eq!(
            dn.common_name(),
            Some("my-nginx.mesh-external.svc.cluster.local")
        );
        assert_eq!(
            dn.curl_form(),
            "CN=my-nginx.mesh-external.svc.cluster.local; O=some organization"
        );
        assert_eq!(
            DistinguishedName::parse("/O=example Inc./CN=example.com")
                .unwrap()
                .to_string(),
            "O = example Inc., CN = example.com"
        );
        assert_eq!(DistinguishedName::parse("/O=a\\/b").unwrap().0[0].1, "a/b");
        for bad in ["CN=x", "/CN", "/", "/XX=1"] {
            assert!(DistinguishedName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_chain_ends_at_its_self_signed_root() {
        let root = cert("/CN=example.com", None);
        let leaf = cert("/CN=client.example.com", Some(root.clone()));
        assert!(leaf.chains_to(&root));
        assert!(!root.chains_to(&leaf));
        let other = cert("/CN=example.com", None);
        // Same subject, other key: not the same CA.
        let other = Certificate {
            key: "other.key".into(),
            ..other
        };
        assert!(!leaf.chains_to(&other));
    }
}
