//! The X.509 pieces a DCAP verifier needs: P-256 certificates and CRLs (DER or PEM), ECDSA
//! P-256/SHA-256 signature checks, validity windows and chain building in any order.
//!
//! Only what DCAP uses is supported: every certificate and CRL of the Intel SGX PKI is signed
//! with `ecdsa-with-SHA256` by a P-256 key.

use base64::Engine as _;
use der::{Decode, Encode};
use x509_cert::crl::CertificateList;
use x509_cert::Certificate;

/// OID of `ecdsa-with-SHA256` (1.2.840.10045.4.3.2).
const ECDSA_WITH_SHA256: &str = "1.2.840.10045.4.3.2";

/// An uncompressed SEC1 P-256 public key: `04 || x || y`.
pub type P256Key = [u8; 65];

/// Why a certificate, CRL or chain was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum X509Error {
    /// DER decoding failed.
    #[error("{what}: not valid DER: {reason}")]
    Der {
        /// Which input.
        what: String,
        /// Decoder message.
        reason: String,
    },
    /// PEM decoding failed.
    #[error("{what}: bad PEM: {reason}")]
    Pem {
        /// Which input.
        what: String,
        /// What was wrong.
        reason: String,
    },
    /// A signature algorithm other than ecdsa-with-SHA256.
    #[error("{what}: signature algorithm {oid} is not supported (expected ecdsa-with-SHA256, {ECDSA_WITH_SHA256})")]
    Algorithm {
        /// Which input.
        what: String,
        /// The OID found.
        oid: String,
    },
    /// A public key that is not an uncompressed P-256 point.
    #[error(
        "{what}: subject public key is {len} bytes, expected a 65-byte uncompressed P-256 point"
    )]
    PublicKey {
        /// Which input.
        what: String,
        /// Length found.
        len: usize,
    },
    /// No certificate in a chain is its leaf, or more than one is.
    #[error("certificate chain: cannot find a unique leaf among {count} certificates")]
    NoLeaf {
        /// Number of certificates given.
        count: usize,
    },
    /// The chain does not lead to a trusted root.
    #[error("certificate chain: \"{subject}\" is not signed by any certificate in the chain or any trusted root")]
    Untrusted {
        /// Subject of the last certificate reached.
        subject: String,
    },
    /// A signature in the chain is invalid.
    #[error("certificate chain: the signature of \"{subject}\" by \"{issuer}\" is invalid")]
    BadSignature {
        /// Subject of the certificate whose signature failed.
        subject: String,
        /// Issuer that was tried.
        issuer: String,
    },
    /// A certificate that is not a CA appears as an issuer.
    #[error("certificate chain: \"{subject}\" issues another certificate but is not a CA (basicConstraints cA is false)")]
    NotCa {
        /// Subject of the non-CA certificate.
        subject: String,
    },
    /// The chain is empty.
    #[error("{what}: no certificate")]
    Empty {
        /// Which input.
        what: String,
    },
}

/// A parsed certificate with the fields a DCAP verifier needs.
#[derive(Debug, Clone)]
pub struct Cert {
    /// The whole certificate, DER.
    pub der: Vec<u8>,
    /// The signed part (TBSCertificate), DER.
    pub tbs: Vec<u8>,
    /// The issuer's signature over `tbs`, DER-encoded ECDSA.
    pub signature: Vec<u8>,
    /// The subject's P-256 public key.
    pub public_key: P256Key,
    /// Start of validity, Unix seconds.
    pub not_before: u64,
    /// End of validity, Unix seconds.
    pub not_after: u64,
    /// Serial number (DER INTEGER content bytes).
    pub serial: Vec<u8>,
    /// The decoded certificate (names, extensions).
    pub parsed: Certificate,
}

impl Cert {
    /// Parses a DER certificate; `what` names it in errors.
    pub fn from_der(der: &[u8], what: &str) -> Result<Self, X509Error> {
        let der_err = |e: der::Error| X509Error::Der {
            what: what.to_string(),
            reason: e.to_string(),
        };
        let parsed = Certificate::from_der(der).map_err(der_err)?;
        let tbs = first_inner_tlv(der).ok_or_else(|| X509Error::Der {
            what: what.to_string(),
            reason: "cannot locate TBSCertificate".into(),
        })?;
        check_algorithm(&parsed.signature_algorithm.oid.to_string(), what)?;
        let tbsc = &parsed.tbs_certificate;
        let spki = tbsc.subject_public_key_info.subject_public_key.raw_bytes();
        let public_key: P256Key = match <[u8; 65]>::try_from(spki) {
            Ok(k) if k[0] == 4 => k,
            _ => {
                return Err(X509Error::PublicKey {
                    what: what.to_string(),
                    len: spki.len(),
                })
            }
        };
        Ok(Self {
            der: der.to_vec(),
            tbs: tbs.to_vec(),
            signature: parsed.signature.raw_bytes().to_vec(),
            public_key,
            not_before: tbsc.validity.not_before.to_unix_duration().as_secs(),
            not_after: tbsc.validity.not_after.to_unix_duration().as_secs(),
            serial: tbsc.serial_number.as_bytes().to_vec(),
            parsed,
        })
    }

    /// True when `issuer`'s key made this certificate's signature.
    pub fn is_signed_by(&self, issuer_key: &P256Key) -> bool {
        verify_p256_der(issuer_key, &self.tbs, &self.signature)
    }

    /// True when `at` (Unix seconds) is within the validity period.
    pub fn valid_at(&self, at: u64) -> bool {
        self.not_before <= at && at <= self.not_after
    }

    /// True when the subject equals the issuer.
    pub fn is_self_issued(&self) -> bool {
        self.parsed.tbs_certificate.subject == self.parsed.tbs_certificate.issuer
    }

    /// True when this certificate's issuer name is `other`'s subject name.
    pub fn names_issuer(&self, other: &Cert) -> bool {
        self.parsed.tbs_certificate.issuer == other.parsed.tbs_certificate.subject
    }

    /// True unless the certificate has a basicConstraints extension with `cA` false (or one
    /// that does not decode): only CA certificates may issue others.
    pub fn may_issue(&self) -> bool {
        use x509_cert::ext::pkix::BasicConstraints;
        const BASIC_CONSTRAINTS: der::asn1::ObjectIdentifier =
            der::asn1::ObjectIdentifier::new_unwrap("2.5.29.19");
        let exts = self.parsed.tbs_certificate.extensions.iter().flatten();
        match exts.into_iter().find(|e| e.extn_id == BASIC_CONSTRAINTS) {
            None => true,
            Some(e) => BasicConstraints::from_der(e.extn_value.as_bytes()).is_ok_and(|b| b.ca),
        }
    }

    /// The subject as text (for messages).
    pub fn subject_text(&self) -> String {
        self.parsed.tbs_certificate.subject.to_string()
    }
}

/// A parsed certificate revocation list.
#[derive(Debug, Clone)]
pub struct Crl {
    /// The signed part (TBSCertList), DER.
    pub tbs: Vec<u8>,
    /// The issuer's signature over `tbs`, DER-encoded ECDSA.
    pub signature: Vec<u8>,
    /// Issuer name, DER.
    pub issuer: Vec<u8>,
    /// Issuer as text (for messages).
    pub issuer_text: String,
    /// thisUpdate, Unix seconds.
    pub this_update: u64,
    /// nextUpdate, Unix seconds (`u64::MAX` when absent).
    pub next_update: u64,
    /// Serial numbers of revoked certificates.
    pub revoked: Vec<Vec<u8>>,
}

impl Crl {
    /// Parses a CRL given as DER, PEM (`X509 CRL`) or hex of DER; `what` names it in errors.
    pub fn parse(bytes: &[u8], what: &str) -> Result<Self, X509Error> {
        let der = crl_der(bytes, what)?;
        Self::from_der(&der, what)
    }

    /// Parses a DER CRL.
    pub fn from_der(der: &[u8], what: &str) -> Result<Self, X509Error> {
        let der_err = |e: der::Error| X509Error::Der {
            what: what.to_string(),
            reason: e.to_string(),
        };
        let list = CertificateList::from_der(der).map_err(der_err)?;
        check_algorithm(&list.signature_algorithm.oid.to_string(), what)?;
        let tbs = first_inner_tlv(der).ok_or_else(|| X509Error::Der {
            what: what.to_string(),
            reason: "cannot locate TBSCertList".into(),
        })?;
        let t = &list.tbs_cert_list;
        Ok(Self {
            tbs: tbs.to_vec(),
            signature: list.signature.raw_bytes().to_vec(),
            issuer: t.issuer.to_der().map_err(der_err)?,
            issuer_text: t.issuer.to_string(),
            this_update: t.this_update.to_unix_duration().as_secs(),
            next_update: t
                .next_update
                .map(|n| n.to_unix_duration().as_secs())
                .unwrap_or(u64::MAX),
            revoked: t
                .revoked_certificates
                .iter()
                .flatten()
                .map(|r| r.serial_number.as_bytes().to_vec())
                .collect(),
        })
    }

    /// True when `issuer_key` made this CRL's signature.
    pub fn is_signed_by(&self, issuer_key: &P256Key) -> bool {
        verify_p256_der(issuer_key, &self.tbs, &self.signature)
    }

    /// True when the certificate with this serial number is listed.
    pub fn revokes(&self, serial: &[u8]) -> bool {
        self.revoked.iter().any(|s| s == serial)
    }

    /// True when `at` is within [thisUpdate, nextUpdate].
    pub fn valid_at(&self, at: u64) -> bool {
        self.this_update <= at && at <= self.next_update
    }
}

fn check_algorithm(oid: &str, what: &str) -> Result<(), X509Error> {
    if oid == ECDSA_WITH_SHA256 {
        Ok(())
    } else {
        Err(X509Error::Algorithm {
            what: what.to_string(),
            oid: oid.to_string(),
        })
    }
}

/// CRL bytes in any of the forms collateral uses: DER, PEM, or hex of DER (dcap-qvl JSON).
fn crl_der(bytes: &[u8], what: &str) -> Result<Vec<u8>, X509Error> {
    let trimmed = trim_ascii(bytes);
    if trimmed.starts_with(b"-----BEGIN") {
        let text = std::str::from_utf8(trimmed).map_err(|_| X509Error::Pem {
            what: what.to_string(),
            reason: "not UTF-8".into(),
        })?;
        let mut blocks = pem_blocks(text, what)?;
        return if blocks.len() == 1 {
            Ok(blocks.remove(0).1)
        } else {
            Err(X509Error::Pem {
                what: what.to_string(),
                reason: format!("expected one PEM block, found {}", blocks.len()),
            })
        };
    }
    if trimmed.first() == Some(&0x30) {
        return Ok(trimmed.to_vec());
    }
    hex::decode(trimmed).map_err(|e| X509Error::Der {
        what: what.to_string(),
        reason: format!("neither DER, PEM nor hex: {e}"),
    })
}

fn trim_ascii(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    b.get(start..end).unwrap_or(&[])
}

/// Returns the first element inside the outermost DER SEQUENCE (the signed part of a
/// certificate or CRL), exactly as encoded.
fn first_inner_tlv(der: &[u8]) -> Option<&[u8]> {
    let (hdr, _len) = tlv_header(der)?;
    let inner = der.get(hdr..)?;
    let (ihdr, ilen) = tlv_header(inner)?;
    inner.get(..ihdr.checked_add(ilen)?)
}

/// Parses a DER tag+length header: (header length, content length).
fn tlv_header(b: &[u8]) -> Option<(usize, usize)> {
    let first = *b.get(1)?;
    if first < 0x80 {
        return Some((2, usize::from(first)));
    }
    let n = usize::from(first & 0x7f);
    if n == 0 || n > 4 {
        return None;
    }
    let mut len = 0usize;
    for i in 0..n {
        len = (len << 8) | usize::from(*b.get(2 + i)?);
    }
    Some((2 + n, len))
}

/// Splits PEM text into `(label, DER)` blocks. Text outside blocks is ignored, as is a trailing
/// NUL (DCAP's certification data sometimes ends with one).
pub fn pem_blocks(text: &str, what: &str) -> Result<Vec<(String, Vec<u8>)>, X509Error> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + 11..];
        let label_end = after.find("-----").ok_or_else(|| X509Error::Pem {
            what: what.to_string(),
            reason: "unterminated BEGIN line".into(),
        })?;
        let label = &after[..label_end];
        let body_start = &after[label_end + 5..];
        let end_marker = format!("-----END {label}-----");
        let end = body_start.find(&end_marker).ok_or_else(|| X509Error::Pem {
            what: what.to_string(),
            reason: format!("no \"{end_marker}\" line"),
        })?;
        let b64: String = body_start[..end]
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(b64.as_bytes())
            .map_err(|e| X509Error::Pem {
                what: what.to_string(),
                reason: format!("block {} ({label}): {e}", out.len() + 1),
            })?;
        out.push((label.to_string(), der));
        rest = &body_start[end + end_marker.len()..];
    }
    Ok(out)
}

/// Parses every `CERTIFICATE` block of PEM text (bytes; a trailing NUL is tolerated).
pub fn parse_pem_certs(pem: &[u8], what: &str) -> Result<Vec<Cert>, X509Error> {
    let pem = pem.strip_suffix(&[0]).unwrap_or(pem);
    let text = std::str::from_utf8(pem).map_err(|_| X509Error::Pem {
        what: what.to_string(),
        reason: "not UTF-8 text".into(),
    })?;
    let blocks = pem_blocks(text, what)?;
    let certs = blocks
        .iter()
        .filter(|(label, _)| label == "CERTIFICATE")
        .enumerate()
        .map(|(i, (_, der))| Cert::from_der(der, &format!("{what}, certificate {}", i + 1)))
        .collect::<Result<Vec<_>, _>>()?;
    if certs.is_empty() {
        return Err(X509Error::Empty {
            what: what.to_string(),
        });
    }
    Ok(certs)
}

/// Parses a certificate given as DER or PEM.
pub fn parse_cert_any(bytes: &[u8], what: &str) -> Result<Cert, X509Error> {
    if trim_ascii(bytes).starts_with(b"-----BEGIN") {
        let mut v = parse_pem_certs(bytes, what)?;
        Ok(v.remove(0))
    } else {
        Cert::from_der(bytes, what)
    }
}

/// Verifies a DER-encoded ECDSA P-256/SHA-256 signature.
pub fn verify_p256_der(key: &P256Key, msg: &[u8], sig_der: &[u8]) -> bool {
    ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_ASN1, key)
        .verify(msg, sig_der)
        .is_ok()
}

/// Verifies a raw `r || s` (64 bytes, big-endian) ECDSA P-256/SHA-256 signature.
pub fn verify_p256_fixed(key: &P256Key, msg: &[u8], sig: &[u8]) -> bool {
    ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, key)
        .verify(msg, sig)
        .is_ok()
}

/// Prefixes a raw 64-byte `x || y` key with 0x04.
pub fn key_from_xy(xy: &[u8; 64]) -> P256Key {
    let mut k = [0u8; 65];
    k[0] = 4;
    k[1..].copy_from_slice(xy);
    k
}

/// Orders `certs` (given in any order) into a chain from the leaf to the certificate that a
/// trusted root vouches for, checking every signature on the way.
///
/// The leaf is the only certificate that issues none of the others. The chain ends at a
/// certificate whose public key is a trusted root key (a root certificate present in the input,
/// matched by key so any issuance of the same root is accepted) or at a certificate signed by a
/// trusted root key. Returns the indexes of the chain, leaf first. Certificates not on the path
/// are ignored.
pub fn build_chain(certs: &[Cert], roots: &[P256Key]) -> Result<Vec<usize>, X509Error> {
    let refs: Vec<&Cert> = certs.iter().collect();
    build_chain_by(&refs, roots, &|c: &Cert, k: &P256Key| c.is_signed_by(k))
}

/// [`build_chain`] with a caller-supplied signature check (e.g. one that remembers results).
pub fn build_chain_by(
    certs: &[&Cert],
    roots: &[P256Key],
    signed_by: &dyn Fn(&Cert, &P256Key) -> bool,
) -> Result<Vec<usize>, X509Error> {
    let leaves: Vec<usize> = (0..certs.len())
        .filter(|&i| {
            !certs
                .iter()
                .enumerate()
                .any(|(j, c)| j != i && !c.is_self_issued() && c.names_issuer(certs[i]))
        })
        .collect();
    let &[leaf] = leaves.as_slice() else {
        return Err(X509Error::NoLeaf { count: certs.len() });
    };
    let mut chain = vec![leaf];
    let mut current = leaf;
    for _ in 0..=certs.len() {
        let cur = certs[current];
        // A trusted key ends the chain; its certificate's self-signature adds nothing (the
        // key itself is what is trusted), so it is not checked.
        if roots.contains(&cur.public_key) {
            return Ok(chain);
        }
        let issuer = (0..certs.len())
            .find(|&j| j != current && !chain.contains(&j) && cur.names_issuer(certs[j]));
        match issuer {
            Some(j) => {
                if !certs[j].may_issue() {
                    return Err(X509Error::NotCa {
                        subject: certs[j].subject_text(),
                    });
                }
                if !signed_by(cur, &certs[j].public_key) {
                    return Err(X509Error::BadSignature {
                        subject: cur.subject_text(),
                        issuer: certs[j].subject_text(),
                    });
                }
                chain.push(j);
                current = j;
            }
            None => {
                if roots.iter().any(|r| signed_by(cur, r)) {
                    return Ok(chain);
                }
                return Err(X509Error::Untrusted {
                    subject: cur.subject_text(),
                });
            }
        }
    }
    Err(X509Error::Untrusted {
        subject: certs[current].subject_text(),
    })
}
