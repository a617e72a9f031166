//! X.509 certificates and CRLs of the simulated PCK CA, built with `x509-cert` and signed with
//! P-256 ECDSA (SHA-256), shaped like Intel's: root → platform CA → PCK leaf (with the SGX
//! extension), and root → TCB signing certificate.

use super::SimError;
use der::asn1::ObjectIdentifier;
use der::{Encode, Length, Writer};
use kss_attest::pck::SGX_EXTENSION_OID;
use p256::ecdsa::{DerSignature, SigningKey};
use std::str::FromStr;
use std::time::{Duration, UNIX_EPOCH};
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::crl::{CertificateList, TbsCertList};
use x509_cert::ext::pkix::CrlNumber;
use x509_cert::ext::{AsExtension, Extension};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{
    DynSignatureAlgorithmIdentifier, EncodePublicKey, SubjectPublicKeyInfoOwned,
};
use x509_cert::time::{Time, Validity};
use x509_cert::Certificate;

/// Subject of the simulated root CA.
pub const ROOT_SUBJECT: &str = "CN=KSS Simulated SGX Root CA,O=KSS Simulation (not Intel),C=XX";
/// Subject of the simulated platform CA (contains "Platform", as Intel's does).
pub const PLATFORM_CA_SUBJECT: &str =
    "CN=KSS Simulated SGX PCK Platform CA,O=KSS Simulation (not Intel),C=XX";
/// Subject of the simulated PCK leaf.
pub const PCK_SUBJECT: &str =
    "CN=KSS Simulated SGX PCK Certificate,O=KSS Simulation (not Intel),C=XX";
/// Subject of the simulated TCB signing certificate.
pub const TCB_SIGNING_SUBJECT: &str =
    "CN=KSS Simulated SGX TCB Signing,O=KSS Simulation (not Intel),C=XX";

fn x509_err<E: std::error::Error + Send + Sync + 'static>(
    what: &'static str,
) -> impl Fn(E) -> SimError {
    move |detail| SimError::build(what, detail)
}

pub(crate) fn name(s: &str) -> Result<Name, SimError> {
    Name::from_str(s).map_err(|e| x509_err("certificate name")(e))
}

/// An X.509 time `secs` after the Unix epoch (UTCTime before 2050, else GeneralizedTime).
pub(crate) fn time_at(secs: u64) -> Result<Time, SimError> {
    Time::try_from(UNIX_EPOCH + Duration::from_secs(secs))
        .map_err(|e| x509_err("certificate time")(e))
}

fn serial(n: u64) -> Result<SerialNumber, SimError> {
    // Positive, 9 bytes: a leading 0x01 keeps it non-negative and non-zero.
    let mut bytes = vec![0x01];
    bytes.extend_from_slice(&n.to_be_bytes());
    SerialNumber::new(&bytes).map_err(|e| x509_err("serial number")(e))
}

fn spki(key: &SigningKey) -> Result<SubjectPublicKeyInfoOwned, SimError> {
    let der = key
        .verifying_key()
        .to_public_key_der()
        .map_err(|e| x509_err("public key")(e))?;
    SubjectPublicKeyInfoOwned::try_from(der.as_bytes()).map_err(|e| x509_err("public key")(e))
}

/// What kind of certificate to issue.
pub(crate) enum Kind<'a> {
    /// Self-signed root.
    Root,
    /// Intermediate CA (path length 0) issued by `issuer`.
    SubCa { issuer: &'a str },
    /// End entity issued by `issuer`, optionally with the SGX extension (DER value).
    Leaf {
        issuer: &'a str,
        sgx_extension: Option<Vec<u8>>,
    },
}

/// Issues a certificate for `subject_key`, signed by `issuer_key`.
pub(crate) fn issue(
    kind: Kind<'_>,
    subject: &str,
    subject_key: &SigningKey,
    issuer_key: &SigningKey,
    serial_no: u64,
    not_before: u64,
    not_after: u64,
) -> Result<Certificate, SimError> {
    let build = |e: x509_cert::builder::Error| x509_err("certificate")(e);
    let (profile, ext) = match kind {
        Kind::Root => (Profile::Root, None),
        Kind::SubCa { issuer } => (
            Profile::SubCA {
                issuer: name(issuer)?,
                path_len_constraint: Some(0),
            },
            None,
        ),
        Kind::Leaf {
            issuer,
            sgx_extension,
        } => (
            Profile::Leaf {
                issuer: name(issuer)?,
                enable_key_agreement: false,
                enable_key_encipherment: false,
            },
            sgx_extension,
        ),
    };
    let validity = Validity {
        not_before: time_at(not_before)?,
        not_after: time_at(not_after)?,
    };
    let mut builder = CertificateBuilder::new(
        profile,
        serial(serial_no)?,
        validity,
        name(subject)?,
        spki(subject_key)?,
        issuer_key,
    )
    .map_err(build)?;
    if let Some(value) = ext {
        builder
            .add_extension(&RawSgxExtension(value))
            .map_err(build)?;
    }
    builder.build::<DerSignature>().map_err(build)
}

/// The SGX extension as an already encoded DER value, so the builder can embed it.
struct RawSgxExtension(Vec<u8>);

impl der::oid::AssociatedOid for RawSgxExtension {
    const OID: ObjectIdentifier = SGX_EXTENSION_OID;
}

impl Encode for RawSgxExtension {
    fn encoded_len(&self) -> der::Result<Length> {
        Length::try_from(self.0.len())
    }

    fn encode(&self, writer: &mut impl Writer) -> der::Result<()> {
        writer.write(&self.0)
    }
}

impl AsExtension for RawSgxExtension {
    fn critical(&self, _subject: &Name, _extensions: &[Extension]) -> bool {
        false
    }
}

/// A CRL by `issuer` (no revoked certificates), valid `this_update..next_update`.
pub(crate) fn crl(
    issuer: &str,
    issuer_key: &SigningKey,
    number: u32,
    this_update: u64,
    next_update: u64,
) -> Result<CertificateList, SimError> {
    let fail = |e: der::Error| x509_err("CRL")(e);
    let alg = issuer_key
        .signature_algorithm_identifier()
        .map_err(|e| x509_err("CRL")(e))?;
    let number_ext = Extension {
        extn_id: <CrlNumber as der::oid::AssociatedOid>::OID,
        critical: false,
        extn_value: der::asn1::OctetString::new(
            CrlNumber(der::asn1::Uint::new(&number.to_be_bytes()).map_err(fail)?)
                .to_der()
                .map_err(fail)?,
        )
        .map_err(fail)?,
    };
    let tbs = TbsCertList {
        version: x509_cert::Version::V2,
        signature: alg.clone(),
        issuer: name(issuer)?,
        this_update: time_at(this_update)?,
        next_update: Some(time_at(next_update)?),
        revoked_certificates: None,
        crl_extensions: Some(vec![number_ext]),
    };
    let tbs_der = tbs.to_der().map_err(fail)?;
    let sig: DerSignature = ecdsa::signature::Signer::sign(issuer_key, &tbs_der);
    let signature = der::asn1::BitString::from_bytes(sig.as_bytes()).map_err(fail)?;
    Ok(CertificateList {
        tbs_cert_list: tbs,
        signature_algorithm: alg,
        signature,
    })
}

/// PEM text of a certificate.
pub(crate) fn to_pem(cert: &Certificate) -> Result<String, SimError> {
    use der::EncodePem;
    cert.to_pem(der::pem::LineEnding::LF)
        .map_err(|e| x509_err("PEM encoding")(e))
}

/// Parses one PEM certificate.
pub(crate) fn from_pem(pem: &[u8], what: &'static str) -> Result<Certificate, SimError> {
    use der::DecodePem;
    Certificate::from_pem(pem).map_err(|e| SimError::corrupt(what, e))
}
