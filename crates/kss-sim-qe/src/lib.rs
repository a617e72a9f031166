//! A simulated Quoting Enclave and PCK CA, so quotes can be produced and verified end to end
//! without SGX hardware.
//!
//! The CA is persisted per user (see [`default_sim_ca_dir`]): a P-256 root CA, a platform CA, a
//! PCK leaf carrying the Intel SGX extension (FMSPC, TCB, PCESVN, PCE-ID, PPID), a TCB signing
//! certificate and the QE attestation key, plus `platform.json` with the simulated platform's
//! identity (QE ID, PPID, FMSPC, TCB, the QE's MRENCLAVE/MRSIGNER/SVN). Private keys are PKCS#8
//! PEM files with mode 0600 in a 0700 directory. Nothing here is Intel's: a simulated quote
//! proves only that whoever holds this directory's keys produced it, and no verifier accepts it
//! unless told to trust `root.pem` explicitly.
//!
//! [`SimQuotingEnclave::quote`] builds a DCAP v3 quote with certification data type 5 (PEM chain
//! leaf, platform CA, root, followed by a NUL like Intel's QE3).
//! [`SimQuotingEnclave::export_collateral`] writes matching collateral (TCB info v3, QE identity
//! v2, CRLs) in dcap-qvl's `QuoteCollateralV3` JSON format.
#![deny(missing_docs)]

mod certs;
mod collateral;
mod store;

pub use certs::{PCK_SUBJECT, PLATFORM_CA_SUBJECT, ROOT_SUBJECT, TCB_SIGNING_SUBJECT};
pub use collateral::ExportedCollateral;
pub use store::default_sim_ca_dir;

use kss_attest::pck::{encode_sgx_extension, PckTcb, SgxExtension};
use kss_attest::quote::{
    ATT_KEY_TYPE_ECDSA_P256, CERT_TYPE_PCK_CHAIN, HEADER_SIZE, INTEL_QE_VENDOR_ID, TEE_TYPE_SGX,
};
use kss_types::{Attributes, CpuSvn, ReportBody};
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rand::RngCore;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use x509_cert::Certificate;

/// File whose presence marks a complete CA directory.
pub(crate) const MARKER_FILE: &str = "platform.json";

/// Validity of the simulated CA certificates: 20 years from creation.
const CA_VALIDITY_SECS: u64 = 20 * 365 * 86_400;
/// Validity of the PCK and TCB signing certificates: 7 years, like Intel's.
const LEAF_VALIDITY_SECS: u64 = 7 * 365 * 86_400;
/// Certificates start one hour before creation to tolerate clock skew.
const BACKDATE_SECS: u64 = 3_600;

/// Errors of the simulated CA and QE.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A file could not be read or written.
    #[error("simulated CA: cannot {action} {}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What was being done.
        action: &'static str,
        /// The OS error.
        source: std::io::Error,
    },
    /// A stored file is not what it should be.
    #[error(
        "simulated CA: {what} is corrupt: {detail}; delete the sim-ca directory to start over"
    )]
    Corrupt {
        /// Which file or value.
        what: &'static str,
        /// What is wrong: the decoder's error, or a [`PlatformFieldError`].
        #[source]
        detail: BoxError,
    },
    /// Building a certificate, CRL or signature failed.
    #[error("simulated CA: building the {what} failed: {detail}")]
    Build {
        /// What was being built.
        what: &'static str,
        /// Why: the encoder's error, or a [`TooLong`].
        #[source]
        detail: BoxError,
    },
    /// No per-user directory could be determined.
    #[error("simulated CA: none of KSS_HOME, XDG_DATA_HOME or HOME is set, so there is no place to keep the simulated CA")]
    NoHome,
}

/// The cause kept by [`SimError::Corrupt`] and [`SimError::Build`]: the error of the
/// encoder or decoder that failed (`der`, `x509-cert`, `pkcs8`, `serde_json`, ...).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

impl SimError {
    /// [`SimError::Build`] of `what`, caused by `detail`.
    pub(crate) fn build(what: &'static str, detail: impl Into<BoxError>) -> Self {
        Self::Build {
            what,
            detail: detail.into(),
        }
    }

    /// [`SimError::Corrupt`] of `what`, caused by `detail`.
    pub(crate) fn corrupt(what: &'static str, detail: impl Into<BoxError>) -> Self {
        Self::Corrupt {
            what,
            detail: detail.into(),
        }
    }
}

/// A length that does not fit the u32 the quote format stores it in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{what} longer than 4 GiB")]
pub struct TooLong {
    /// What is too long.
    pub what: &'static str,
}

/// A field of `platform.json` that is missing or malformed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlatformFieldError {
    /// No string under this key.
    #[error("missing string `{key}`")]
    MissingString {
        /// The key.
        key: String,
    },
    /// The string is not hex.
    #[error("`{key}`: {source}")]
    Hex {
        /// The key.
        key: String,
        /// The hex decoder's error.
        source: hex::FromHexError,
    },
    /// The hex has the wrong length.
    #[error("`{key}` must be {len} bytes of hex")]
    HexLength {
        /// The key.
        key: String,
        /// Bytes expected.
        len: usize,
    },
    /// No number under this key, or one out of the field's range.
    #[error("missing or out-of-range number `{key}`")]
    Number {
        /// The key.
        key: String,
    },
}

/// The simulated platform and QE identity, stored in `platform.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimPlatform {
    /// QE ID: the first 16 bytes of the quote header's user_data.
    pub qe_id: [u8; 16],
    /// Platform Provisioning ID, in the PCK's SGX extension.
    pub ppid: [u8; 16],
    /// FMSPC of the simulated platform.
    pub fmspc: [u8; 6],
    /// PCE ID.
    pub pce_id: [u8; 2],
    /// PCE SVN (in the PCK certificate and the quote header).
    pub pce_svn: u16,
    /// SGX TCB component SVNs (the PCK's TCB; also used as CPUSVN).
    pub comp_svn: [u8; 16],
    /// MRENCLAVE of the simulated QE.
    pub qe_mr_enclave: [u8; 32],
    /// MRSIGNER of the simulated QE.
    pub qe_mr_signer: [u8; 32],
    /// ISVPRODID of the simulated QE (1, like Intel's QE3).
    pub qe_isv_prod_id: u16,
    /// ISVSVN of the simulated QE (also the quote header's qe_svn).
    pub qe_isv_svn: u16,
    /// When the CA was created (Unix seconds).
    pub created: u64,
}

impl SimPlatform {
    /// Default parameters with fresh random QE ID and PPID.
    fn generate(created: u64) -> Self {
        let mut rng = rand::rngs::OsRng;
        let mut qe_id = [0u8; 16];
        let mut ppid = [0u8; 16];
        rng.fill_bytes(&mut qe_id);
        rng.fill_bytes(&mut ppid);
        Self {
            qe_id,
            ppid,
            // "KSS" in the family/model bytes: clearly not a real Intel FMSPC.
            fmspc: [0x00, 0x4b, 0x53, 0x53, 0x00, 0x00],
            pce_id: [0, 0],
            pce_svn: 13,
            comp_svn: [10, 10, 2, 2, 3, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0],
            qe_mr_enclave: Sha256::digest(b"kss simulated quoting enclave: MRENCLAVE").into(),
            qe_mr_signer: Sha256::digest(b"kss simulated quoting enclave: MRSIGNER").into(),
            qe_isv_prod_id: 1,
            qe_isv_svn: 8,
            created,
        }
    }

    /// The PCK's SGX extension for this platform (Standard SGX type).
    pub fn sgx_extension(&self) -> SgxExtension {
        SgxExtension {
            ppid: self.ppid,
            tcb: PckTcb {
                comp_svn: self.comp_svn,
                pce_svn: self.pce_svn,
                cpu_svn: self.comp_svn,
            },
            pce_id: self.pce_id,
            fmspc: self.fmspc,
            sgx_type: 0,
            platform_instance_id: None,
            configuration: None,
        }
    }

    /// The QE's REPORT body for a given REPORTDATA.
    pub fn qe_report_body(&self, report_data: [u8; 64]) -> ReportBody {
        ReportBody {
            cpu_svn: CpuSvn(self.comp_svn),
            // INIT | MODE64BIT | PROVISIONKEY, legacy+AVX xfrm: what Intel's QE3 reports.
            attributes: Attributes::new(0x15, 0xe7),
            mr_enclave: self.qe_mr_enclave,
            mr_signer: self.qe_mr_signer,
            isv_prod_id: self.qe_isv_prod_id,
            isv_svn: self.qe_isv_svn,
            report_data,
            ..ReportBody::default()
        }
    }

    fn to_json(&self) -> PlatformJson {
        PlatformJson {
            format: "kss-sim-ca/1",
            qe_id: hex::encode(self.qe_id),
            ppid: hex::encode(self.ppid),
            fmspc: hex::encode(self.fmspc),
            pce_id: hex::encode(self.pce_id),
            pce_svn: self.pce_svn,
            comp_svn: hex::encode(self.comp_svn),
            qe_mr_enclave: hex::encode(self.qe_mr_enclave),
            qe_mr_signer: hex::encode(self.qe_mr_signer),
            qe_isv_prod_id: self.qe_isv_prod_id,
            qe_isv_svn: self.qe_isv_svn,
            created: self.created,
        }
    }

    fn from_json(v: &Value) -> Result<Self, SimError> {
        let corrupt = |detail: PlatformFieldError| SimError::corrupt("platform.json", detail);
        fn hexa<const N: usize>(v: &Value, k: &str) -> Result<[u8; N], PlatformFieldError> {
            let key = || k.to_string();
            let s = v
                .get(k)
                .and_then(Value::as_str)
                .ok_or_else(|| PlatformFieldError::MissingString { key: key() })?;
            let b =
                hex::decode(s).map_err(|source| PlatformFieldError::Hex { key: key(), source })?;
            b.try_into()
                .map_err(|_| PlatformFieldError::HexLength { key: key(), len: N })
        }
        fn num<T: TryFrom<u64>>(v: &Value, k: &str) -> Result<T, PlatformFieldError> {
            v.get(k)
                .and_then(Value::as_u64)
                .and_then(|n| T::try_from(n).ok())
                .ok_or_else(|| PlatformFieldError::Number { key: k.to_string() })
        }
        Ok(Self {
            qe_id: hexa(v, "qe_id").map_err(corrupt)?,
            ppid: hexa(v, "ppid").map_err(corrupt)?,
            fmspc: hexa(v, "fmspc").map_err(corrupt)?,
            pce_id: hexa(v, "pce_id").map_err(corrupt)?,
            pce_svn: num(v, "pce_svn").map_err(corrupt)?,
            comp_svn: hexa(v, "comp_svn").map_err(corrupt)?,
            qe_mr_enclave: hexa(v, "qe_mr_enclave").map_err(corrupt)?,
            qe_mr_signer: hexa(v, "qe_mr_signer").map_err(corrupt)?,
            qe_isv_prod_id: num(v, "qe_isv_prod_id").map_err(corrupt)?,
            qe_isv_svn: num(v, "qe_isv_svn").map_err(corrupt)?,
            created: num(v, "created").map_err(corrupt)?,
        })
    }
}

/// `platform.json` as written, its fields in order. It is read back field by field from a
/// `Value` ([`SimPlatform::from_json`]), so that a corrupt file is reported by the field that is
/// wrong ([`PlatformFieldError`]) rather than by the first one serde would stop at.
#[derive(serde::Serialize)]
struct PlatformJson {
    format: &'static str,
    qe_id: String,
    ppid: String,
    fmspc: String,
    pce_id: String,
    pce_svn: u16,
    comp_svn: String,
    qe_mr_enclave: String,
    qe_mr_signer: String,
    qe_isv_prod_id: u16,
    qe_isv_svn: u16,
    created: u64,
}

/// A key and its certificate.
struct Issued {
    key: SigningKey,
    cert: Certificate,
}

/// The simulated quoting enclave with its PCK CA. Load it with
/// [`SimQuotingEnclave::load_or_create`].
pub struct SimQuotingEnclave {
    dir: PathBuf,
    platform: SimPlatform,
    root: Issued,
    platform_ca: Issued,
    pck: Issued,
    tcb_signing: Issued,
    attestation_key: SigningKey,
    chain_pem: Vec<u8>,
}

impl std::fmt::Debug for SimQuotingEnclave {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimQuotingEnclave")
            .field("dir", &self.dir)
            .field("platform", &self.platform)
            .finish_non_exhaustive()
    }
}

fn new_key() -> SigningKey {
    SigningKey::random(&mut rand::rngs::OsRng)
}

fn key_pem(key: &SigningKey) -> Result<zeroize::Zeroizing<String>, SimError> {
    key.to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| SimError::build("private key file", e))
}

fn load_key(dir: &Path, name: &'static str) -> Result<SigningKey, SimError> {
    let bytes = zeroize::Zeroizing::new(store::read(dir, name)?);
    let text = std::str::from_utf8(&bytes).map_err(|e| SimError::corrupt(name, e))?;
    SigningKey::from_pkcs8_pem(text).map_err(|e| SimError::corrupt(name, e))
}

fn load_issued(
    dir: &Path,
    key_file: &'static str,
    cert_file: &'static str,
) -> Result<Issued, SimError> {
    let key = load_key(dir, key_file)?;
    let cert = certs::from_pem(&store::read(dir, cert_file)?, cert_file)?;
    Ok(Issued { key, cert })
}

impl SimQuotingEnclave {
    /// Loads the simulated CA from `dir`, creating it (all keys, certificates and
    /// `platform.json`) on first use. Creation happens in a private staging directory that is
    /// renamed into place, so concurrent first uses agree on one CA.
    pub fn load_or_create(dir: &Path) -> Result<Self, SimError> {
        if !dir.join(MARKER_FILE).exists() {
            Self::create(dir)?;
        } else {
            // A creation killed while another one won leaves its staging directory behind.
            store::sweep_staging(dir);
        }
        Self::load(dir)
    }

    /// [`SimQuotingEnclave::load_or_create`] in [`default_sim_ca_dir`].
    pub fn load_or_create_default() -> Result<Self, SimError> {
        let dir = default_sim_ca_dir().ok_or(SimError::NoHome)?;
        Self::load_or_create(&dir)
    }

    fn create(dir: &Path) -> Result<(), SimError> {
        // Dropped unpublished (an error here) removes it; a kill leaves it to the next sweep.
        let staging = store::staging_dir(dir)?;
        Self::write_new_ca(staging.path(), kss_attest::now())?;
        store::publish(staging, dir).map(|_| ())
    }

    fn write_new_ca(dir: &Path, now: u64) -> Result<(), SimError> {
        let platform = SimPlatform::generate(now);
        let start = now.saturating_sub(BACKDATE_SECS);
        let root_key = new_key();
        let root = certs::issue(
            certs::Kind::Root,
            ROOT_SUBJECT,
            &root_key,
            &root_key,
            1,
            start,
            now + CA_VALIDITY_SECS,
        )?;
        let ca_key = new_key();
        let ca = certs::issue(
            certs::Kind::SubCa {
                issuer: ROOT_SUBJECT,
            },
            PLATFORM_CA_SUBJECT,
            &ca_key,
            &root_key,
            2,
            start,
            now + CA_VALIDITY_SECS,
        )?;
        let pck_key = new_key();
        let ext = encode_sgx_extension(&platform.sgx_extension())
            .map_err(|e| SimError::build("SGX extension", e))?;
        let pck = certs::issue(
            certs::Kind::Leaf {
                issuer: PLATFORM_CA_SUBJECT,
                sgx_extension: Some(ext),
            },
            PCK_SUBJECT,
            &pck_key,
            &ca_key,
            3,
            start,
            now + LEAF_VALIDITY_SECS,
        )?;
        let tcb_key = new_key();
        let tcb = certs::issue(
            certs::Kind::Leaf {
                issuer: ROOT_SUBJECT,
                sgx_extension: None,
            },
            TCB_SIGNING_SUBJECT,
            &tcb_key,
            &root_key,
            4,
            start,
            now + LEAF_VALIDITY_SECS,
        )?;
        let att_key = new_key();
        for (name, key) in [
            ("root.key", &root_key),
            ("platform-ca.key", &ca_key),
            ("pck.key", &pck_key),
            ("tcb-signing.key", &tcb_key),
            ("attestation.key", &att_key),
        ] {
            store::write_private(dir, name, key_pem(key)?.as_bytes())?;
        }
        for (name, cert) in [
            ("root.pem", &root),
            ("platform-ca.pem", &ca),
            ("pck.pem", &pck),
            ("tcb-signing.pem", &tcb),
        ] {
            store::write_private(dir, name, certs::to_pem(cert)?.as_bytes())?;
        }
        let text = serde_json::to_string_pretty(&platform.to_json())
            .map_err(|e| SimError::build("platform.json", e))?;
        store::write_private(dir, MARKER_FILE, text.as_bytes())
    }

    fn load(dir: &Path) -> Result<Self, SimError> {
        let pj = store::read(dir, MARKER_FILE)?;
        let v: Value =
            serde_json::from_slice(&pj).map_err(|e| SimError::corrupt("platform.json", e))?;
        let platform = SimPlatform::from_json(&v)?;
        let root = load_issued(dir, "root.key", "root.pem")?;
        let platform_ca = load_issued(dir, "platform-ca.key", "platform-ca.pem")?;
        let pck = load_issued(dir, "pck.key", "pck.pem")?;
        let tcb_signing = load_issued(dir, "tcb-signing.key", "tcb-signing.pem")?;
        let attestation_key = load_key(dir, "attestation.key")?;
        let mut chain_pem = Vec::new();
        for c in [&pck.cert, &platform_ca.cert, &root.cert] {
            chain_pem.extend_from_slice(certs::to_pem(c)?.as_bytes());
        }
        chain_pem.push(0);
        Ok(Self {
            dir: dir.to_path_buf(),
            platform,
            root,
            platform_ca,
            pck,
            tcb_signing,
            attestation_key,
            chain_pem,
        })
    }

    /// The directory the CA was loaded from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The simulated platform and QE identity.
    pub fn platform(&self) -> &SimPlatform {
        &self.platform
    }

    /// The simulated root CA certificate (the trust anchor a verifier must be given explicitly).
    pub fn root_certificate(&self) -> &Certificate {
        &self.root.cert
    }

    /// PEM of the simulated root CA certificate.
    pub fn root_pem(&self) -> Result<String, SimError> {
        certs::to_pem(&self.root.cert)
    }

    /// The PCK leaf certificate.
    pub fn pck_certificate(&self) -> &Certificate {
        &self.pck.cert
    }

    /// The certification data of every quote: PEM leaf, platform CA, root, then a NUL byte.
    pub fn pck_chain_pem(&self) -> &[u8] {
        &self.chain_pem
    }

    /// The attestation public key as raw x‖y (64 bytes, big-endian).
    pub fn attestation_public_key(&self) -> [u8; 64] {
        raw_public_key(&self.attestation_key)
    }

    /// Builds a DCAP v3 quote for `isv_report_body`.
    ///
    /// The caller must already have checked that the body comes from a genuine REPORT
    /// targeted at this QE (the enclave service verifies the REPORT's MAC with the QE's report
    /// key before calling this); the simulated QE signs whatever body it is given.
    ///
    /// Layout: header (version 3, att_key_type 2, tee_type 0, qe_svn, pce_svn, Intel's QE
    /// vendor ID, user_data = QE ID ‖ 4 zero bytes), the ISV body, then signature data: ECDSA
    /// P-256 over bytes [0..432) by the attestation key, the attestation key, the QE report
    /// (REPORTDATA = SHA-256(attestation key ‖ QE auth data) ‖ 32 zeros), its signature by the
    /// PCK key, 32 bytes of QE auth data and certification data type 5.
    pub fn quote(&self, isv_report_body: &ReportBody) -> Result<Vec<u8>, SimError> {
        let p = &self.platform;
        let mut q = Vec::with_capacity(1100 + self.chain_pem.len());
        q.extend_from_slice(&3u16.to_le_bytes());
        q.extend_from_slice(&ATT_KEY_TYPE_ECDSA_P256.to_le_bytes());
        q.extend_from_slice(&TEE_TYPE_SGX.to_le_bytes());
        q.extend_from_slice(&p.qe_isv_svn.to_le_bytes());
        q.extend_from_slice(&p.pce_svn.to_le_bytes());
        q.extend_from_slice(&INTEL_QE_VENDOR_ID);
        q.extend_from_slice(&p.qe_id);
        q.extend_from_slice(&[0u8; 4]);
        debug_assert_eq!(q.len(), HEADER_SIZE);
        q.extend_from_slice(&isv_report_body.to_bytes());

        let isv_sig: Signature = ecdsa::signature::Signer::sign(&self.attestation_key, &q);
        let att_pub = self.attestation_public_key();
        let qe_auth: [u8; 32] = std::array::from_fn(|i| i as u8);
        let mut report_data = [0u8; 64];
        let mut h = Sha256::new();
        h.update(att_pub);
        h.update(qe_auth);
        report_data[..32].copy_from_slice(&h.finalize());
        let qe_report = p.qe_report_body(report_data).to_bytes();
        let qe_sig: Signature = ecdsa::signature::Signer::sign(&self.pck.key, &qe_report);

        let mut sig = Vec::with_capacity(1000 + self.chain_pem.len());
        sig.extend_from_slice(&isv_sig.to_bytes());
        sig.extend_from_slice(&att_pub);
        sig.extend_from_slice(&qe_report);
        sig.extend_from_slice(&qe_sig.to_bytes());
        sig.extend_from_slice(&(qe_auth.len() as u16).to_le_bytes());
        sig.extend_from_slice(&qe_auth);
        sig.extend_from_slice(&CERT_TYPE_PCK_CHAIN.to_le_bytes());
        let chain_len = u32::try_from(self.chain_pem.len()).map_err(|_| {
            SimError::build(
                "quote",
                TooLong {
                    what: "certificate chain",
                },
            )
        })?;
        sig.extend_from_slice(&chain_len.to_le_bytes());
        sig.extend_from_slice(&self.chain_pem);
        let sig_len = u32::try_from(sig.len()).map_err(|_| {
            SimError::build(
                "quote",
                TooLong {
                    what: "signature data",
                },
            )
        })?;
        q.extend_from_slice(&sig_len.to_le_bytes());
        q.extend_from_slice(&sig);
        Ok(q)
    }
}

/// Raw x‖y of a P-256 public key.
fn raw_public_key(key: &SigningKey) -> [u8; 64] {
    let point = key.verifying_key().to_encoded_point(false);
    let mut out = [0u8; 64];
    // An uncompressed point is 0x04 ‖ x ‖ y (65 bytes).
    if let Some(xy) = point.as_bytes().get(1..65) {
        out.copy_from_slice(xy);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_corrupt_platform_json_names_the_field_and_keeps_the_cause() {
        let e = SimPlatform::from_json(&serde_json::json!({ "qe_id": "zz" })).unwrap_err();
        assert_eq!(
            e.to_string(),
            "simulated CA: platform.json is corrupt: `qe_id`: Invalid character 'z' at \
             position 0; delete the sim-ca directory to start over"
        );
        let cause = std::error::Error::source(&e).expect("a cause");
        assert_eq!(
            cause.downcast_ref::<PlatformFieldError>(),
            Some(&PlatformFieldError::Hex {
                key: "qe_id".into(),
                source: hex::FromHexError::InvalidHexCharacter { c: 'z', index: 0 },
            })
        );
        let e = SimPlatform::from_json(&serde_json::json!({ "qe_id": "00" })).unwrap_err();
        assert!(
            e.to_string().contains("`qe_id` must be 16 bytes of hex"),
            "{e}"
        );
    }

    #[test]
    fn too_long_reads_as_before() {
        let e = SimError::build(
            "quote",
            TooLong {
                what: "signature data",
            },
        );
        assert_eq!(
            e.to_string(),
            "simulated CA: building the quote failed: signature data longer than 4 GiB"
        );
    }
}
