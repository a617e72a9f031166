//! DCAP ECDSA quotes: a strict, panic-free parser for SGX quotes v3 and v4 (and v5 with an SGX
//! body), that also recognises TDX quotes (v4 with tee_type 0x81, v5 with a TD body) far enough
//! to report them as TDX with their key fields.
//!
//! Layouts (`docs/sgx-reference.md` §12, all integers little-endian):
//!
//! ```text
//! header      0..48    version u16, att_key_type u16, tee_type u32, qe_svn u16, pce_svn u16,
//!                      qe_vendor_id [16], user_data [20]
//! body (v3/v4) 48..    SGX REPORT body (384) if tee_type 0, TD report 1.0 (584) if tee_type 0x81
//! body (v5)   48..54   descriptor {body_type u16 (1 SGX, 2 TD1.0, 3 TD1.5), size u32}, body at 54
//! then        u32 signature_data_len, then exactly that many bytes of signature data:
//!   v3:  isv_sig[64] att_key[64] qe_report[384] qe_report_sig[64] qe_auth_len u16 qe_auth
//!        cert_type u16 (1..=5) cert_len u32 cert_data
//!   v4/v5: isv_sig[64] att_key[64] cert_type u16 (= 6) cert_len u32 { qe_report[384]
//!        qe_report_sig[64] qe_auth_len u16 qe_auth inner_type u16 (1..=5) inner_len u32 inner }
//! ```
//!
//! Every nested length must end exactly where its container ends, and [`Quote::parse`] rejects
//! bytes after the signature data (use [`Quote::parse_allow_trailing`] for padded files).

mod reader;
mod tdx;

pub use tdx::TdReport;

use kss_types::ReportBody;
use reader::Reader;

/// Size of the quote header.
pub const HEADER_SIZE: usize = 48;
/// Size of the v5 body descriptor (`body_type` u16 + `size` u32).
pub const BODY_DESCRIPTOR_SIZE: usize = 6;
/// Attestation key type 2: ECDSA-256 with P-256 (the only one kss handles).
pub const ATT_KEY_TYPE_ECDSA_P256: u16 = 2;
/// `tee_type` of an SGX quote.
pub const TEE_TYPE_SGX: u32 = 0;
/// `tee_type` of a TDX quote.
pub const TEE_TYPE_TDX: u32 = 0x81;
/// Intel's QE vendor ID, `939A7233F79C4CA9940A0DB3957F0607`.
pub const INTEL_QE_VENDOR_ID: [u8; 16] = [
    0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9, 0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07,
];

/// Certification data type 1: PPID in clear text + CPUSVN + PCESVN + PCEID.
pub const CERT_TYPE_PPID_CLEARTEXT: u16 = 1;
/// Certification data type 2: PPID encrypted with RSA-2048.
pub const CERT_TYPE_PPID_RSA2048: u16 = 2;
/// Certification data type 3: PPID encrypted with RSA-3072.
pub const CERT_TYPE_PPID_RSA3072: u16 = 3;
/// Certification data type 4: PCK leaf certificate.
pub const CERT_TYPE_PCK_LEAF: u16 = 4;
/// Certification data type 5: PCK certificate chain (PEM: leaf, intermediate, root).
pub const CERT_TYPE_PCK_CHAIN: u16 = 5;
/// Certification data type 6: QE report certification data (v4/v5 wrapper).
pub const CERT_TYPE_QE_REPORT: u16 = 6;

/// Why bytes are not a quote kss can read. Every variant names the field and its offset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuoteError {
    /// The buffer ends inside a field.
    #[error("quote: field `{field}` at offset {offset} needs {needed} bytes but only {available} remain (the quote or its enclosing length field is too short)")]
    Truncated {
        /// Field being read.
        field: &'static str,
        /// Absolute offset of the field.
        offset: usize,
        /// Bytes the field needs.
        needed: usize,
        /// Bytes left in the buffer at that offset.
        available: usize,
    },
    /// `version` is not 3, 4 or 5.
    #[error("quote: field `version` at offset 0 is {version}; expected 3, 4 or 5")]
    UnsupportedVersion {
        /// The version found.
        version: u16,
    },
    /// `att_key_type` is not 2 (ECDSA P-256).
    #[error(
        "quote: field `att_key_type` at offset 2 is {value}; expected 2 (ECDSA-256 with P-256)"
    )]
    UnsupportedAttKeyType {
        /// The value found.
        value: u16,
    },
    /// `tee_type` is not valid for this version.
    #[error("quote: field `tee_type` at offset 4 is {tee_type:#x} in a v{version} quote; expected {expected}")]
    UnsupportedTeeType {
        /// Quote version.
        version: u16,
        /// The value found.
        tee_type: u32,
        /// What the version allows.
        expected: &'static str,
    },
    /// A v5 body descriptor names an unknown body type or a size that does not match it.
    #[error("quote: field `body_descriptor` at offset 48: body_type {body_type} with size {size}; expected type 1 (SGX, 384 bytes), 2 (TD 1.0, 584) or 3 (TD 1.5, 648) matching tee_type {tee_type:#x}")]
    BadBodyDescriptor {
        /// The body type found.
        body_type: u16,
        /// The body size found.
        size: u32,
        /// The header's tee_type.
        tee_type: u32,
    },
    /// A certification data type is not allowed where it appears.
    #[error("quote: field `{field}` at offset {offset} is {value}; expected {expected}")]
    BadCertificationType {
        /// Field name.
        field: &'static str,
        /// Absolute offset of the field.
        offset: usize,
        /// The value found.
        value: u16,
        /// What is allowed.
        expected: &'static str,
    },
    /// A declared length does not match where the nested data actually ends.
    #[error("quote: field `{field}` at offset {offset} declares {declared} bytes but its contents end after {actual} bytes")]
    LengthMismatch {
        /// Field holding the length.
        field: &'static str,
        /// Absolute offset of the length field.
        offset: usize,
        /// Declared length.
        declared: usize,
        /// Length actually used by the nested structures.
        actual: usize,
    },
    /// Bytes follow the end of the signature data.
    #[error("quote: {trailing} trailing bytes after the signature data (the quote ends at offset {quote_len}, the input has {input_len} bytes); strip them or parse with trailing bytes allowed")]
    TrailingBytes {
        /// Length of the quote proper.
        quote_len: usize,
        /// Length of the input.
        input_len: usize,
        /// Number of extra bytes.
        trailing: usize,
    },
}

/// The 48-byte quote header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteHeader {
    /// Quote format version: 3, 4 or 5.
    pub version: u16,
    /// Attestation key type: 2 = ECDSA-256 with P-256.
    pub att_key_type: u16,
    /// TEE type: 0 = SGX, 0x81 = TDX (v3 calls it att_key_data_0 and requires 0).
    pub tee_type: u32,
    /// QE security version (bytes 8..10).
    pub qe_svn: u16,
    /// PCE security version (bytes 10..12).
    pub pce_svn: u16,
    /// QE vendor ID; Intel's is [`INTEL_QE_VENDOR_ID`].
    pub qe_vendor_id: [u8; 16],
    /// User data; Intel's QE3 puts its 16-byte QE ID first.
    pub user_data: [u8; 20],
}

/// What the quote attests: an SGX enclave or a TD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuoteBody {
    /// An SGX enclave REPORT body (384 bytes).
    Sgx(ReportBody),
    /// A TDX TD report 1.0 (584 bytes).
    Td10(TdReport),
    /// A TDX TD report 1.5 (648 bytes, v5 body type 3).
    Td15(TdReport),
}

/// Certification data: how the PCK key that signed the QE report is identified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificationData {
    /// Type 1..=5 (see the `CERT_TYPE_*` constants).
    pub cert_type: u16,
    /// The raw certification data.
    pub data: Vec<u8>,
}

/// The ECDSA signature data of a quote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteSignature {
    /// ECDSA P-256 signature over [`Quote::signed_bytes`], raw r‖s, big-endian.
    pub isv_signature: [u8; 64],
    /// The attestation public key, raw uncompressed x‖y, big-endian.
    pub attestation_key: [u8; 64],
    /// The Quoting Enclave's REPORT body.
    pub qe_report: ReportBody,
    /// The same QE report body as the 384 bytes the PCK key signed.
    pub qe_report_raw: [u8; 384],
    /// ECDSA P-256 signature by the PCK key over `qe_report_raw`, raw r‖s, big-endian.
    pub qe_report_signature: [u8; 64],
    /// QE authentication data (hashed with the attestation key into the QE REPORTDATA).
    pub qe_auth_data: Vec<u8>,
    /// The certification data (for v4/v5: the one nested inside the type-6 wrapper).
    pub certification: CertificationData,
    /// `Some(6)` when the QE report and certification data were wrapped in a type-6
    /// certification data (v4/v5); `None` for the flat v3 layout.
    pub outer_cert_type: Option<u16>,
}

/// A parsed DCAP quote. Owns its bytes; [`Quote::raw`] gives them back exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    /// The header.
    pub header: QuoteHeader,
    /// The attested body.
    pub body: QuoteBody,
    /// The signature data.
    pub signature: QuoteSignature,
    raw: Vec<u8>,
    signed_len: usize,
    signature_data_offset: usize,
}

impl Quote {
    /// Parses exactly one quote: trailing bytes are an error ([`QuoteError::TrailingBytes`]).
    pub fn parse(bytes: &[u8]) -> Result<Quote, QuoteError> {
        let quote = Self::parse_allow_trailing(bytes)?;
        if quote.raw.len() != bytes.len() {
            return Err(QuoteError::TrailingBytes {
                quote_len: quote.raw.len(),
                input_len: bytes.len(),
                trailing: bytes.len() - quote.raw.len(),
            });
        }
        Ok(quote)
    }

    /// Parses a quote at the start of `bytes`, ignoring anything after its signature data (for
    /// files padded with zeros). [`Quote::raw`] then holds only the quote itself.
    pub fn parse_allow_trailing(bytes: &[u8]) -> Result<Quote, QuoteError> {
        let mut r = Reader::new(bytes, 0);
        let header = parse_header(&mut r)?;
        let body = parse_body(&mut r, &header)?;
        let signed_len = r.pos();
        let sig_len_offset = r.pos();
        let sig_len = r.u32("signature_data_len")? as usize;
        let signature_data_offset = r.pos();
        let sig_bytes = r.take("signature_data", sig_len)?;
        let mut sr = Reader::new(sig_bytes, signature_data_offset);
        let signature = if header.version == 3 {
            parse_signature_v3(&mut sr)?
        } else {
            parse_signature_v4(&mut sr)?
        };
        if !sr.at_end() {
            return Err(QuoteError::LengthMismatch {
                field: "signature_data_len",
                offset: sig_len_offset,
                declared: sig_len,
                actual: sr.pos() - signature_data_offset,
            });
        }
        let quote_len = r.pos();
        Ok(Quote {
            header,
            body,
            signature,
            raw: bytes.get(..quote_len).unwrap_or(bytes).to_vec(),
            signed_len,
            signature_data_offset,
        })
    }

    /// The bytes the attestation key signed: header and body (`[0..432)` for SGX v3/v4,
    /// `[0..438)` for SGX v5).
    pub fn signed_bytes(&self) -> &[u8] {
        self.raw.get(..self.signed_len).unwrap_or(&self.raw)
    }

    /// The whole quote, exactly as parsed (without trailing bytes).
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// A copy of [`Quote::raw`].
    pub fn to_bytes(&self) -> Vec<u8> {
        self.raw.clone()
    }

    /// Offset of the signature data (just after `signature_data_len`).
    pub fn signature_data_offset(&self) -> usize {
        self.signature_data_offset
    }

    /// True for SGX quotes (tee_type 0 with an SGX body).
    pub fn is_sgx(&self) -> bool {
        matches!(self.body, QuoteBody::Sgx(_))
    }

    /// The ISV enclave's REPORT body; `None` for TDX quotes.
    pub fn report_body(&self) -> Option<&ReportBody> {
        match &self.body {
            QuoteBody::Sgx(b) => Some(b),
            QuoteBody::Td10(_) | QuoteBody::Td15(_) => None,
        }
    }

    /// The TD report; `None` for SGX quotes.
    pub fn td_report(&self) -> Option<&TdReport> {
        match &self.body {
            QuoteBody::Td10(t) | QuoteBody::Td15(t) => Some(t),
            QuoteBody::Sgx(_) => None,
        }
    }

    /// The PEM PCK certificate chain (certification data type 5, also when nested in a v4
    /// type-6 wrapper), without any trailing NUL bytes; `None` for other certification types.
    pub fn pck_chain_pem(&self) -> Option<&[u8]> {
        let cert = &self.signature.certification;
        if cert.cert_type != CERT_TYPE_PCK_CHAIN {
            return None;
        }
        let mut end = cert.data.len();
        while end > 0 && cert.data.get(end - 1) == Some(&0) {
            end -= 1;
        }
        cert.data.get(..end)
    }
}

fn parse_header(r: &mut Reader<'_>) -> Result<QuoteHeader, QuoteError> {
    let version = r.u16("version")?;
    if !(3..=5).contains(&version) {
        return Err(QuoteError::UnsupportedVersion { version });
    }
    let att_key_type = r.u16("att_key_type")?;
    if att_key_type != ATT_KEY_TYPE_ECDSA_P256 {
        return Err(QuoteError::UnsupportedAttKeyType {
            value: att_key_type,
        });
    }
    let tee_type = r.u32("tee_type")?;
    match (version, tee_type) {
        (3, TEE_TYPE_SGX) | (4 | 5, TEE_TYPE_SGX | TEE_TYPE_TDX) => {}
        (3, _) => {
            return Err(QuoteError::UnsupportedTeeType {
                version,
                tee_type,
                expected: "0 (SGX)",
            })
        }
        _ => {
            return Err(QuoteError::UnsupportedTeeType {
                version,
                tee_type,
                expected: "0 (SGX) or 0x81 (TDX)",
            })
        }
    }
    Ok(QuoteHeader {
        version,
        att_key_type,
        tee_type,
        qe_svn: r.u16("qe_svn")?,
        pce_svn: r.u16("pce_svn")?,
        qe_vendor_id: r.array("qe_vendor_id")?,
        user_data: r.array("user_data")?,
    })
}

fn parse_body(r: &mut Reader<'_>, header: &QuoteHeader) -> Result<QuoteBody, QuoteError> {
    let (kind, len) = if header.version == 5 {
        let body_type = r.u16("body_type")?;
        let size = r.u32("body_size")?;
        let kind = match (body_type, size as usize, header.tee_type) {
            (1, ReportBody::SIZE, TEE_TYPE_SGX) => BodyKind::Sgx,
            (2, TdReport::SIZE_10, TEE_TYPE_TDX) => BodyKind::Td10,
            (3, TdReport::SIZE_15, TEE_TYPE_TDX) => BodyKind::Td15,
            _ => {
                return Err(QuoteError::BadBodyDescriptor {
                    body_type,
                    size,
                    tee_type: header.tee_type,
                })
            }
        };
        (kind, size as usize)
    } else if header.tee_type == TEE_TYPE_TDX {
        (BodyKind::Td10, TdReport::SIZE_10)
    } else {
        (BodyKind::Sgx, ReportBody::SIZE)
    };
    match kind {
        BodyKind::Sgx => {
            let b = r.take("isv_enclave_report", len)?;
            let body = ReportBody::from_bytes(b).map_err(|_| truncated_at(r, len))?;
            Ok(QuoteBody::Sgx(body))
        }
        BodyKind::Td10 | BodyKind::Td15 => {
            let b = r.take("td_report", len)?;
            let td = TdReport::from_bytes(b).ok_or_else(|| truncated_at(r, len))?;
            Ok(if kind == BodyKind::Td10 {
                QuoteBody::Td10(td)
            } else {
                QuoteBody::Td15(td)
            })
        }
    }
}

// Unreachable in practice (the reader already returned exactly `len` bytes); kept so no
// conversion can panic.
fn truncated_at(r: &Reader<'_>, len: usize) -> QuoteError {
    QuoteError::Truncated {
        field: "body",
        offset: r.pos().saturating_sub(len),
        needed: len,
        available: 0,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum BodyKind {
    Sgx,
    Td10,
    Td15,
}

struct QeReportPart {
    qe_report: ReportBody,
    qe_report_raw: [u8; 384],
    qe_report_signature: [u8; 64],
    qe_auth_data: Vec<u8>,
    certification: CertificationData,
}

impl QeReportPart {
    /// The whole signature section: the ISV signature and attestation key that precede this
    /// part, and the v4 outer certification data type (`None` in v3).
    fn into_signature(
        self,
        isv_signature: [u8; 64],
        attestation_key: [u8; 64],
        outer_cert_type: Option<u16>,
    ) -> QuoteSignature {
        QuoteSignature {
            isv_signature,
            attestation_key,
            qe_report: self.qe_report,
            qe_report_raw: self.qe_report_raw,
            qe_report_signature: self.qe_report_signature,
            qe_auth_data: self.qe_auth_data,
            certification: self.certification,
            outer_cert_type,
        }
    }
}

/// QE report, its signature, the QE auth data and a type 1..=5 certification data.
fn parse_qe_part(r: &mut Reader<'_>, cert_field: &'static str) -> Result<QeReportPart, QuoteError> {
    let qe_report_raw: [u8; 384] = r.array("qe_report")?;
    let qe_report = ReportBody::from_bytes(&qe_report_raw).map_err(|_| truncated_at(r, 384))?;
    let qe_report_signature = r.array("qe_report_signature")?;
    let auth_len = r.u16("qe_auth_data_len")? as usize;
    let qe_auth_data = r.take("qe_auth_data", auth_len)?.to_vec();
    let type_offset = r.pos();
    let cert_type = r.u16(cert_field)?;
    if !(CERT_TYPE_PPID_CLEARTEXT..=CERT_TYPE_PCK_CHAIN).contains(&cert_type) {
        return Err(QuoteError::BadCertificationType {
            field: cert_field,
            offset: type_offset,
            value: cert_type,
            expected: "1..=5 (PPID or PCK certificate data)",
        });
    }
    let cert_len = r.u32("certification_data_len")? as usize;
    let data = r.take("certification_data", cert_len)?.to_vec();
    Ok(QeReportPart {
        qe_report,
        qe_report_raw,
        qe_report_signature,
        qe_auth_data,
        certification: CertificationData { cert_type, data },
    })
}

fn parse_signature_v3(r: &mut Reader<'_>) -> Result<QuoteSignature, QuoteError> {
    let isv_signature = r.array("isv_signature")?;
    let attestation_key = r.array("attestation_key")?;
    let qe = parse_qe_part(r, "certification_data_type")?;
    Ok(qe.into_signature(isv_signature, attestation_key, None))
}

fn parse_signature_v4(r: &mut Reader<'_>) -> Result<QuoteSignature, QuoteError> {
    let isv_signature = r.array("isv_signature")?;
    let attestation_key = r.array("attestation_key")?;
    let type_offset = r.pos();
    let outer_type = r.u16("outer_certification_data_type")?;
    if outer_type != CERT_TYPE_QE_REPORT {
        return Err(QuoteError::BadCertificationType {
            field: "outer_certification_data_type",
            offset: type_offset,
            value: outer_type,
            expected: "6 (QE report certification data) in a v4/v5 quote",
        });
    }
    let len_offset = r.pos();
    let outer_len = r.u32("outer_certification_data_len")? as usize;
    let start = r.pos();
    let outer = r.take("outer_certification_data", outer_len)?;
    let mut inner = Reader::new(outer, start);
    let qe = parse_qe_part(&mut inner, "inner_certification_data_type")?;
    if !inner.at_end() {
        return Err(QuoteError::LengthMismatch {
            field: "outer_certification_data_len",
            offset: len_offset,
            declared: outer_len,
            actual: inner.pos() - start,
        });
    }
    Ok(qe.into_signature(isv_signature, attestation_key, Some(outer_type)))
}
