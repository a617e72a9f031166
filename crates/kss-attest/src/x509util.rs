//! The X.509 pieces a DCAP verifier needs: P-256 certificates and CRLs (DER or PEM), ECDSA
//! P-256/SHA-256 signature checks, validity windows and chain building in any order.
//!
//! Only what DCAP uses is supported: every certificate and CRL of the Intel SGX PKI is signed
//! with `ecdsa-with-SHA256` by a P-256 key.

use base64::Engine as _;
use der::asn1::{AnyRef, BitStringRef, ObjectIdentifier, OctetStringRef};
use der::{Decode, Reader, SliceReader, Tagged};
use x509_cert::spki::{AlgorithmIdentifierRef, SubjectPublicKeyInfoRef};

/// OID of `ecdsa-with-SHA256` (1.2.840.10045.4.3.2), as text for messages.
const ECDSA_WITH_SHA256: &str = "1.2.840.10045.4.3.2";
/// The same OID, for comparisons.
const ECDSA_WITH_SHA256_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap(ECDSA_WITH_SHA256);

/// An uncompressed SEC1 P-256 public key: `04 || x || y`.
pub type P256Key = [u8; 65];

/// Why a certificate, CRL or chain was not accepted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum X509Error {
    /// DER decoding failed.
    #[error("{what}: not valid DER: {source}")]
    Der {
        /// Which input.
        what: String,
        /// The decoder's error.
        source: der::Error,
    },
    /// The input is neither DER, PEM nor hex.
    #[error("{what}: not valid DER: neither DER, PEM nor hex: {source}")]
    NotDerPemOrHex {
        /// Which input.
        what: String,
        /// Why it is not hex either.
        source: hex::FromHexError,
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
///
/// Parsing is shallow and zero-copy over the DER (the pieces are copied out once): names are
/// kept as their DER and compared byte for byte (as webpki does; DER makes equal names equal
/// bytes), and extensions are decoded only when asked for. Names are decoded with `x509-cert`
/// only to render them in messages ([`Cert::subject_text`]).
#[derive(Debug, Clone)]
pub struct Cert {
    der: Vec<u8>,
    tbs: Vec<u8>,
    signature: Vec<u8>,
    serial: Vec<u8>,
    issuer: Vec<u8>,
    subject: Vec<u8>,
    /// Content of the `extensions` SEQUENCE OF (empty when there are none).
    extensions: Vec<u8>,
    /// The subject's P-256 public key.
    pub public_key: P256Key,
    /// Start of validity, Unix seconds.
    pub not_before: u64,
    /// End of validity, Unix seconds.
    pub not_after: u64,
}

/// The borrowed pieces of a certificate, read in one pass.
struct CertParts<'a> {
    tbs: &'a [u8],
    signature_algorithm: ObjectIdentifier,
    signature: &'a [u8],
    serial: &'a [u8],
    issuer: &'a [u8],
    validity: x509_cert::time::Validity,
    subject: &'a [u8],
    spki_key: &'a [u8],
    extensions: &'a [u8],
}

/// OID of the basicConstraints extension (2.5.29.19).
const BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");

/// Reads the `SEQUENCE { signed part, signatureAlgorithm, signatureValue BIT STRING }` that
/// wraps both certificates and CRLs: the signed part's whole TLV, the algorithm OID and the
/// signature bytes. Nothing may follow it.
fn signed_parts(der: &[u8]) -> der::Result<(&[u8], ObjectIdentifier, &[u8])> {
    let mut r = SliceReader::new(der)?;
    let parts = r.sequence(|r| {
        let signed = r.tlv_bytes()?;
        let alg: AlgorithmIdentifierRef<'_> = r.decode()?;
        let sig: BitStringRef<'_> = r.decode()?;
        let sig = sig
            .as_bytes()
            .ok_or_else(|| der::Tag::BitString.value_error())?;
        Ok((signed, alg.oid, sig))
    })?;
    r.finish(parts)
}

/// Reads `Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }`
/// (RFC 5280 §4.1) without decoding names or extension values.
fn cert_parts(der: &[u8]) -> der::Result<CertParts<'_>> {
    let (tbs, signature_algorithm, signature) = signed_parts(der)?;
    let mut t = SliceReader::new(tbs)?;
    let inner = t.sequence(|t| {
        // version [0] EXPLICIT INTEGER DEFAULT v1
        if t.peek_byte() == Some(0xa0) {
            let _ = t.tlv_bytes()?;
        }
        let serial = integer_bytes(t)?;
        let _signature: AlgorithmIdentifierRef<'_> = t.decode()?;
        let issuer = name_tlv(t)?;
        let validity: x509_cert::time::Validity = t.decode()?;
        let subject = name_tlv(t)?;
        let spki: SubjectPublicKeyInfoRef<'_> = t.decode()?;
        let spki_key = spki
            .subject_public_key
            .as_bytes()
            .ok_or_else(|| der::Tag::BitString.value_error())?;
        // issuerUniqueID [1] and subjectUniqueID [2] (IMPLICIT), unused by DCAP.
        for tag in [0x81, 0xa1, 0x82, 0xa2] {
            if t.peek_byte() == Some(tag) {
                let _ = t.tlv_bytes()?;
            }
        }
        // extensions [3] EXPLICIT SEQUENCE OF Extension
        let mut extensions: &[u8] = &[];
        if t.peek_byte() == Some(0xa3) {
            let explicit: AnyRef<'_> = t.decode()?;
            let seq = AnyRef::from_der(explicit.value())?;
            seq.tag().assert_eq(der::Tag::Sequence)?;
            extensions = seq.value();
        }
        Ok((serial, issuer, validity, subject, spki_key, extensions))
    })?;
    let (serial, issuer, validity, subject, spki_key, extensions) = t.finish(inner)?;
    Ok(CertParts {
        tbs,
        signature_algorithm,
        signature,
        serial,
        issuer,
        validity,
        subject,
        spki_key,
        extensions,
    })
}

/// The content bytes of an INTEGER (serial numbers are compared as encoded).
fn integer_bytes<'a, R: Reader<'a>>(r: &mut R) -> der::Result<&'a [u8]> {
    let any: AnyRef<'a> = r.decode()?;
    any.tag().assert_eq(der::Tag::Integer)?;
    Ok(any.value())
}

/// A `Name` (a SEQUENCE), as its whole TLV.
fn name_tlv<'a, R: Reader<'a>>(r: &mut R) -> der::Result<&'a [u8]> {
    r.peek_tag()?.assert_eq(der::Tag::Sequence)?;
    r.tlv_bytes()
}

/// Iterates `Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue }`
/// entries, calling `f(oid, value)` with the OID's content bytes; stops at the first error.
fn for_each_extension<'a>(
    content: &'a [u8],
    mut f: impl FnMut(&'a [u8], &'a [u8]),
) -> der::Result<()> {
    let mut r = SliceReader::new(content)?;
    while !r.is_finished() {
        let (oid, value) = r.sequence(|e| {
            let oid: AnyRef<'a> = e.decode()?;
            oid.tag().assert_eq(der::Tag::ObjectIdentifier)?;
            if e.peek_tag()? == der::Tag::Boolean {
                let _critical: bool = e.decode()?;
            }
            let value: OctetStringRef<'a> = e.decode()?;
            Ok((oid.value(), value.as_bytes()))
        })?;
        f(oid, value);
    }
    Ok(())
}

impl Cert {
    /// Parses a DER certificate; `what` names it in errors.
    pub fn from_der(der: &[u8], what: &str) -> Result<Self, X509Error> {
        let der_err = |source: der::Error| X509Error::Der {
            what: what.to_string(),
            source,
        };
        let p = cert_parts(der).map_err(der_err)?;
        check_algorithm(&p.signature_algorithm, what)?;
        let public_key: P256Key = match <[u8; 65]>::try_from(p.spki_key) {
            Ok(k) if k[0] == 4 => k,
            _ => {
                return Err(X509Error::PublicKey {
                    what: what.to_string(),
                    len: p.spki_key.len(),
                })
            }
        };
        // The extensions' framing is checked now; values are decoded when asked for.
        for_each_extension(p.extensions, |_, _| ()).map_err(der_err)?;
        Ok(Self {
            der: der.to_vec(),
            tbs: p.tbs.to_vec(),
            signature: p.signature.to_vec(),
            serial: p.serial.to_vec(),
            issuer: p.issuer.to_vec(),
            subject: p.subject.to_vec(),
            extensions: p.extensions.to_vec(),
            public_key,
            not_before: p.validity.not_before.to_unix_duration().as_secs(),
            not_after: p.validity.not_after.to_unix_duration().as_secs(),
        })
    }

    /// The whole certificate, DER.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    #[cfg(test)]
    /// The signed part (TBSCertificate), DER.
    pub fn tbs(&self) -> &[u8] {
        &self.tbs
    }

    #[cfg(test)]
    /// The issuer's signature over the TBSCertificate, DER-encoded ECDSA.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// Serial number (DER INTEGER content bytes).
    pub fn serial(&self) -> &[u8] {
        &self.serial
    }

    #[cfg(test)]
    /// The subject name, DER.
    pub fn subject_der(&self) -> &[u8] {
        &self.subject
    }

    /// The issuer name, DER.
    pub fn issuer_der(&self) -> &[u8] {
        &self.issuer
    }

    /// The value (`extnValue` content) of the extension `oid`, if present. The first
    /// occurrence wins; a certificate with a duplicate extension does not parse in strict
    /// X.509 decoders, but DCAP only asks for extensions that occur once.
    pub fn extension(&self, oid: &ObjectIdentifier) -> Option<&[u8]> {
        let mut found = None;
        let _ = for_each_extension(&self.extensions, |o, v| {
            if found.is_none() && o == oid.as_bytes() {
                found = Some(v);
            }
        });
        found
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
        self.subject == self.issuer
    }

    /// True when this certificate's issuer name is `other`'s subject name.
    pub fn names_issuer(&self, other: &Cert) -> bool {
        self.issuer == other.subject
    }

    /// True unless the certificate has a basicConstraints extension with `cA` false (or one
    /// that does not decode): only CA certificates may issue others.
    pub fn may_issue(&self) -> bool {
        use x509_cert::ext::pkix::BasicConstraints;
        match self.extension(&BASIC_CONSTRAINTS) {
            None => true,
            Some(v) => BasicConstraints::from_der(v).is_ok_and(|b| b.ca),
        }
    }

    /// The subject as text (for messages; decoded on demand).
    pub fn subject_text(&self) -> String {
        name_text(&self.subject)
    }

    /// The issuer as text (for messages; decoded on demand).
    pub fn issuer_text(&self) -> String {
        name_text(&self.issuer)
    }
}

/// A DER name as RFC 4514-style text, or hex when it does not decode.
fn name_text(der: &[u8]) -> String {
    x509_cert::name::Name::from_der(der)
        .map(|n| n.to_string())
        .unwrap_or_else(|_| format!("name {}", hex::encode(der)))
}

/// A parsed certificate revocation list.
#[derive(Debug, Clone)]
pub struct Crl {
    /// The signed part (TBSCertList), DER.
    pub tbs: Vec<u8>,
    /// The issuer's signature over `tbs`, DER-encoded ECDSA.
    pub signature: Vec<u8>,
    /// Issuer name, DER (render it with [`Crl::issuer_text`]).
    pub issuer: Vec<u8>,
    /// thisUpdate, Unix seconds.
    pub this_update: u64,
    /// nextUpdate, Unix seconds (`u64::MAX` when absent).
    pub next_update: u64,
    /// Serial numbers of revoked certificates (INTEGER content bytes).
    pub revoked: Vec<Vec<u8>>,
}

/// Reads `CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue }`
/// (RFC 5280 §5.1).
fn crl_parts(der: &[u8]) -> der::Result<(Crl, ObjectIdentifier)> {
    let (tbs, alg, signature) = signed_parts(der)?;
    let mut t = SliceReader::new(tbs)?;
    let crl = t.sequence(|t| {
        if t.peek_tag()? == der::Tag::Integer {
            let _version: u8 = t.decode()?;
        }
        let _signature: AlgorithmIdentifierRef<'_> = t.decode()?;
        let issuer = name_tlv(t)?;
        let this_update: x509_cert::time::Time = t.decode()?;
        let next_update = match t.peek_tag() {
            Ok(der::Tag::UtcTime | der::Tag::GeneralizedTime) => {
                let n: x509_cert::time::Time = t.decode()?;
                n.to_unix_duration().as_secs()
            }
            _ => u64::MAX,
        };
        let mut revoked = Vec::new();
        if !t.is_finished() && t.peek_tag()? == der::Tag::Sequence {
            t.sequence(|list| {
                while !list.is_finished() {
                    list.sequence(|entry| {
                        revoked.push(integer_bytes(entry)?.to_vec());
                        let _date: x509_cert::time::Time = entry.decode()?;
                        if !entry.is_finished() {
                            let exts: AnyRef<'_> = entry.decode()?;
                            exts.tag().assert_eq(der::Tag::Sequence)?;
                        }
                        Ok(())
                    })?;
                }
                Ok(())
            })?;
        }
        // crlExtensions [0] EXPLICIT
        if t.peek_byte() == Some(0xa0) {
            let _ = t.tlv_bytes()?;
        }
        Ok(Crl {
            tbs: tbs.to_vec(),
            signature: signature.to_vec(),
            issuer: issuer.to_vec(),
            this_update: this_update.to_unix_duration().as_secs(),
            next_update,
            revoked,
        })
    })?;
    Ok((t.finish(crl)?, alg))
}

impl Crl {
    /// Parses a CRL given as DER, PEM (`X509 CRL`) or hex of DER; `what` names it in errors.
    pub fn parse(bytes: &[u8], what: &str) -> Result<Self, X509Error> {
        let der = crl_der(bytes, what)?;
        Self::from_der(&der, what)
    }

    /// Parses a DER CRL.
    pub fn from_der(der: &[u8], what: &str) -> Result<Self, X509Error> {
        let (crl, alg) = crl_parts(der).map_err(|source| X509Error::Der {
            what: what.to_string(),
            source,
        })?;
        check_algorithm(&alg, what)?;
        Ok(crl)
    }

    /// The issuer as text (for messages; decoded on demand).
    pub fn issuer_text(&self) -> String {
        name_text(&self.issuer)
    }

    /// True when `issuer_key` made this CRL's signature.
    pub fn is_signed_by(&self, issuer_key: &P256Key) -> bool {
        verify_p256_der(issuer_key, &self.tbs, &self.signature)
    }

    /// True when the certificate with this serial number is listed.
    pub fn revokes(&self, serial: &[u8]) -> bool {
        self.revoked.iter().any(|s| s == serial)
    }
}

fn check_algorithm(oid: &ObjectIdentifier, what: &str) -> Result<(), X509Error> {
    if *oid == ECDSA_WITH_SHA256_OID {
        Ok(())
    } else {
        Err(X509Error::Algorithm {
            what: what.to_string(),
            oid: oid.to_string(),
        })
    }
}

/// CRL bytes in any of the forms collateral uses: DER, PEM, or hex of DER (dcap-qvl JSON).
pub(crate) fn crl_der(bytes: &[u8], what: &str) -> Result<Vec<u8>, X509Error> {
    // DER first and untrimmed: its last byte may well be 0x0a or 0x20.
    if bytes.first() == Some(&0x30) {
        return Ok(bytes.to_vec());
    }
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
    hex::decode(trimmed).map_err(|source| X509Error::NotDerPemOrHex {
        what: what.to_string(),
        source,
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

/// One block of PEM text, not yet decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PemBlock<'a> {
    /// The label of the BEGIN/END lines (`CERTIFICATE`, `X509 CRL`, ...).
    pub label: &'a str,
    /// The base64 text between them, line breaks included.
    pub body: &'a str,
}

impl PemBlock<'_> {
    /// Decodes the base64 body (whitespace anywhere is ignored); `what` and `index` (1-based)
    /// name the block in errors.
    pub fn decode(&self, what: &str, index: usize) -> Result<Vec<u8>, X509Error> {
        let body = self.body.as_bytes();
        let mut b64 = Vec::with_capacity(body.len());
        for piece in body.split(u8::is_ascii_whitespace) {
            b64.extend_from_slice(piece);
        }
        base64::engine::general_purpose::STANDARD
            .decode(&b64)
            .map_err(|e| X509Error::Pem {
                what: what.to_string(),
                reason: format!("block {index} ({}): {e}", self.label),
            })
    }
}

/// Finds the blocks of PEM text without decoding them. Text outside blocks is ignored.
pub fn pem_block_texts<'a>(text: &'a str, what: &str) -> Result<Vec<PemBlock<'a>>, X509Error> {
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
        out.push(PemBlock {
            label,
            body: &body_start[..end],
        });
        rest = &body_start[end + end_marker.len()..];
    }
    Ok(out)
}

/// Splits PEM text into `(label, DER)` blocks. Text outside blocks is ignored, as is a trailing
/// NUL (DCAP's certification data sometimes ends with one).
pub fn pem_blocks(text: &str, what: &str) -> Result<Vec<(String, Vec<u8>)>, X509Error> {
    pem_block_texts(text, what)?
        .iter()
        .enumerate()
        .map(|(i, b)| Ok((b.label.to_string(), b.decode(what, i + 1)?)))
        .collect()
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
/// `signed_by` checks one signature (e.g. one that remembers results).
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
