//! The Intel SGX extension of PCK certificates (OID 1.2.840.113741.1.13.1): PPID, TCB (16
//! component SVNs, PCESVN, CPUSVN), PCE-ID, FMSPC, SGX type and, for platform-CA PCKs, the
//! platform instance ID and configuration. Parsing and (for the simulated PCK CA) encoding.
//!
//! The extension value is a SEQUENCE of `SEQUENCE { OID, value }` entries keyed by the arcs
//! under 1.2.840.113741.1.13.1: `.1` PPID (OCTET STRING 16), `.2` TCB (SEQUENCE of
//! `{ .2.1 ..= .2.16 INTEGER comp svn, .2.17 INTEGER pcesvn, .2.18 OCTET STRING cpusvn }`),
//! `.3` PCE-ID (OCTET STRING 2), `.4` FMSPC (OCTET STRING 6), `.5` SGX type (ENUMERATED),
//! `.6` platform instance ID (OCTET STRING 16), `.7` configuration (SEQUENCE of `.7.1`
//! dynamic platform, `.7.2` cached keys, `.7.3` SMT enabled, each BOOLEAN). Unknown entries are
//! ignored; duplicates and missing mandatory entries are errors.

use crate::collateral::PckCa;
use crate::x509util::{pem_block_texts, Cert, X509Error};
use der::asn1::{AnyRef, ObjectIdentifier, OctetStringRef};
use der::{Decode, Encode, Reader, SliceReader, Tag, Tagged};
use x509_cert::Certificate;

/// OID of the SGX extension: 1.2.840.113741.1.13.1.
pub const SGX_EXTENSION_OID: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113741.1.13.1");

/// Why a certificate or DER blob does not carry a readable SGX extension.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PckError {
    /// The DER is malformed at the named place.
    #[error("SGX extension: {what} is not valid DER: {source}")]
    Der {
        /// What was being decoded.
        what: &'static str,
        /// The decoder's error.
        #[source]
        source: der::Error,
    },
    /// A mandatory entry is absent.
    #[error("SGX extension: mandatory entry {name} (OID {oid}) is missing")]
    Missing {
        /// Entry name.
        name: &'static str,
        /// Entry OID.
        oid: &'static str,
    },
    /// An entry appears twice.
    #[error("SGX extension: entry {oid} appears more than once")]
    Duplicate {
        /// Entry OID.
        oid: String,
    },
    /// An entry has the wrong size or range.
    #[error("SGX extension: entry {name} has {found}; expected {expected}")]
    BadValue {
        /// Entry name.
        name: &'static str,
        /// What was found.
        found: String,
        /// What is expected.
        expected: &'static str,
    },
    /// The certificate has no SGX extension.
    #[error(
        "certificate has no SGX extension (OID 1.2.840.113741.1.13.1); is it a PCK certificate?"
    )]
    NotPck,
    /// PEM text does not decode to certificates.
    #[error("PCK certificate chain: {0}")]
    Pem(String),
    /// The PCK certificate's issuer is neither PCK CA.
    #[error("the PCK certificate's issuer \"{issuer}\" is neither the PCK Processor CA nor the PCK Platform CA")]
    UnknownCa {
        /// The issuer as found.
        issuer: String,
    },
}

/// TCB of the PCK: the 16 SGX TCB component SVNs, the PCE SVN and the CPUSVN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PckTcb {
    /// SGX TCB component SVNs 1..=16 (index 0 is component 1).
    pub comp_svn: [u8; 16],
    /// PCESVN.
    pub pce_svn: u16,
    /// CPUSVN (16 raw bytes).
    pub cpu_svn: [u8; 16],
}

/// The `.7` configuration entry of platform-CA PCK certificates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PlatformConfiguration {
    /// Dynamic platform (`.7.1`).
    pub dynamic_platform: Option<bool>,
    /// Cached keys (`.7.2`).
    pub cached_keys: Option<bool>,
    /// SMT enabled (`.7.3`).
    pub smt_enabled: Option<bool>,
}

/// The parsed SGX extension of a PCK certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SgxExtension {
    /// Platform Provisioning ID (16 bytes).
    pub ppid: [u8; 16],
    /// TCB of the platform when the PCK was issued.
    pub tcb: PckTcb,
    /// PCE ID (2 bytes, as stored).
    pub pce_id: [u8; 2],
    /// FMSPC: family-model-stepping-platform-custom SKU (6 bytes, as stored).
    pub fmspc: [u8; 6],
    /// SGX type: 0 = Standard, 1 = Scalable, 2 = Scalable with integrity.
    pub sgx_type: u8,
    /// Platform instance ID (platform-CA PCKs only).
    pub platform_instance_id: Option<[u8; 16]>,
    /// Platform configuration (platform-CA PCKs only).
    pub configuration: Option<PlatformConfiguration>,
}

impl SgxExtension {
    /// Name of [`SgxExtension::sgx_type`]: "Standard", "Scalable", "ScalableWithIntegrity".
    pub fn sgx_type_name(&self) -> &'static str {
        match self.sgx_type {
            0 => "Standard",
            1 => "Scalable",
            2 => "ScalableWithIntegrity",
            _ => "Unknown",
        }
    }
}

fn der_err(what: &'static str) -> impl Fn(der::Error) -> PckError {
    move |source| PckError::Der { what, source }
}

/// Reads the entries of a DER `SEQUENCE OF SEQUENCE { OID, value }` as (OID, value) pairs.
fn entries<'a>(
    seq: &'a [u8],
    what: &'static str,
) -> Result<Vec<(ObjectIdentifier, AnyRef<'a>)>, PckError> {
    entries_of(AnyRef::from_der(seq).map_err(der_err(what))?, what)
}

/// [`entries`] of an already decoded value, which must be a `SEQUENCE`.
fn entries_of<'a>(
    outer: AnyRef<'a>,
    what: &'static str,
) -> Result<Vec<(ObjectIdentifier, AnyRef<'a>)>, PckError> {
    if outer.tag() != Tag::Sequence {
        return Err(PckError::BadValue {
            name: what,
            found: format!("tag {}", outer.tag()),
            expected: "a SEQUENCE",
        });
    }
    let mut reader = SliceReader::new(outer.value()).map_err(der_err(what))?;
    let mut out = Vec::new();
    while !reader.is_finished() {
        let entry: AnyRef<'a> = reader.decode().map_err(der_err(what))?;
        if entry.tag() != Tag::Sequence {
            return Err(PckError::BadValue {
                name: what,
                found: format!("an entry with tag {}", entry.tag()),
                expected: "SEQUENCE { OID, value } entries",
            });
        }
        let mut er = SliceReader::new(entry.value()).map_err(der_err(what))?;
        let oid: ObjectIdentifier = er.decode().map_err(der_err(what))?;
        let value: AnyRef<'a> = er.decode().map_err(der_err(what))?;
        if !er.is_finished() {
            return Err(PckError::BadValue {
                name: what,
                found: format!("extra data after the value of {oid}"),
                expected: "SEQUENCE { OID, value } entries",
            });
        }
        out.push((oid, value));
    }
    Ok(out)
}

/// The last arc of `oid` if it is `parent.<arc>`. Compares the encodings: a child's encoding
/// is its parent's followed by one base-128 arc.
fn child_arc(oid: &ObjectIdentifier, parent: &ObjectIdentifier) -> Option<u32> {
    let rest = oid.as_bytes().strip_prefix(parent.as_bytes())?;
    let (last, init) = rest.split_last()?;
    if *last & 0x80 != 0 || init.len() > 3 || init.iter().any(|b| b & 0x80 == 0) {
        return None;
    }
    Some(
        rest.iter()
            .fold(0u32, |acc, b| (acc << 7) | u32::from(b & 0x7f)),
    )
}

fn octets<const N: usize>(value: AnyRef<'_>, name: &'static str) -> Result<[u8; N], PckError> {
    let os: OctetStringRef<'_> = value.decode_as().map_err(der_err(name))?;
    os.as_bytes().try_into().map_err(|_| PckError::BadValue {
        name,
        found: format!("{} bytes", os.as_bytes().len()),
        expected: "a fixed-size OCTET STRING (PPID/CPUSVN/instance ID 16, PCE-ID 2, FMSPC 6)",
    })
}

fn set_once<T>(slot: &mut Option<T>, value: T, oid: &ObjectIdentifier) -> Result<(), PckError> {
    if slot.is_some() {
        return Err(PckError::Duplicate {
            oid: oid.to_string(),
        });
    }
    *slot = Some(value);
    Ok(())
}

fn parse_tcb(value: AnyRef<'_>, parent: &ObjectIdentifier) -> Result<PckTcb, PckError> {
    let mut comps: [Option<u8>; 16] = [None; 16];
    let mut pce_svn = None;
    let mut cpu_svn = None;
    for (oid, v) in entries_of(value, "TCB")? {
        match child_arc(&oid, parent) {
            Some(n @ 1..=16) => {
                let svn: u8 = v.decode_as().map_err(|e| PckError::BadValue {
                    name: "TCB component SVN",
                    found: e.to_string(),
                    expected: "an INTEGER 0..=255",
                })?;
                let idx = (n - 1) as usize;
                if let Some(slot) = comps.get_mut(idx) {
                    set_once(slot, svn, &oid)?;
                }
            }
            Some(17) => {
                let svn: u16 = v.decode_as().map_err(|e| PckError::BadValue {
                    name: "PCESVN",
                    found: e.to_string(),
                    expected: "an INTEGER 0..=65535",
                })?;
                set_once(&mut pce_svn, svn, &oid)?;
            }
            Some(18) => set_once(&mut cpu_svn, octets::<16>(v, "CPUSVN")?, &oid)?,
            _ => {}
        }
    }
    let mut comp_svn = [0u8; 16];
    for (dst, src) in comp_svn.iter_mut().zip(comps) {
        *dst = src.ok_or(PckError::Missing {
            name: "TCB component SVN",
            oid: "1.2.840.113741.1.13.1.2.1..16",
        })?;
    }
    Ok(PckTcb {
        comp_svn,
        pce_svn: pce_svn.ok_or(PckError::Missing {
            name: "PCESVN",
            oid: "1.2.840.113741.1.13.1.2.17",
        })?,
        cpu_svn: cpu_svn.ok_or(PckError::Missing {
            name: "CPUSVN",
            oid: "1.2.840.113741.1.13.1.2.18",
        })?,
    })
}

fn parse_configuration(
    value: AnyRef<'_>,
    parent: &ObjectIdentifier,
) -> Result<PlatformConfiguration, PckError> {
    let mut cfg = PlatformConfiguration::default();
    for (oid, v) in entries_of(value, "configuration")? {
        let slot = match child_arc(&oid, parent) {
            Some(1) => &mut cfg.dynamic_platform,
            Some(2) => &mut cfg.cached_keys,
            Some(3) => &mut cfg.smt_enabled,
            _ => continue,
        };
        let b: bool = v.decode_as().map_err(der_err("configuration flag"))?;
        set_once(slot, b, &oid)?;
    }
    Ok(cfg)
}

/// Parses the value of the SGX extension (the DER `SEQUENCE` that is the extension's
/// `extnValue` content).
pub fn parse_sgx_extension(der: &[u8]) -> Result<SgxExtension, PckError> {
    let base = SGX_EXTENSION_OID;
    let mut ppid = None;
    let mut tcb = None;
    let mut pce_id = None;
    let mut fmspc = None;
    let mut sgx_type = None;
    let mut instance = None;
    let mut configuration = None;
    for (oid, v) in entries(der, "SGX extension")? {
        match child_arc(&oid, &base) {
            Some(1) => set_once(&mut ppid, octets::<16>(v, "PPID")?, &oid)?,
            Some(2) => set_once(&mut tcb, parse_tcb(v, &oid)?, &oid)?,
            Some(3) => set_once(&mut pce_id, octets::<2>(v, "PCE-ID")?, &oid)?,
            Some(4) => set_once(&mut fmspc, octets::<6>(v, "FMSPC")?, &oid)?,
            Some(5) => {
                let t = enumerated(v)?;
                set_once(&mut sgx_type, t, &oid)?;
            }
            Some(6) => set_once(
                &mut instance,
                octets::<16>(v, "platform instance ID")?,
                &oid,
            )?,
            Some(7) => set_once(&mut configuration, parse_configuration(v, &oid)?, &oid)?,
            _ => {}
        }
    }
    Ok(SgxExtension {
        ppid: ppid.ok_or(PckError::Missing {
            name: "PPID",
            oid: "1.2.840.113741.1.13.1.1",
        })?,
        tcb: tcb.ok_or(PckError::Missing {
            name: "TCB",
            oid: "1.2.840.113741.1.13.1.2",
        })?,
        pce_id: pce_id.ok_or(PckError::Missing {
            name: "PCE-ID",
            oid: "1.2.840.113741.1.13.1.3",
        })?,
        fmspc: fmspc.ok_or(PckError::Missing {
            name: "FMSPC",
            oid: "1.2.840.113741.1.13.1.4",
        })?,
        sgx_type: sgx_type.ok_or(PckError::Missing {
            name: "SGX type",
            oid: "1.2.840.113741.1.13.1.5",
        })?,
        platform_instance_id: instance,
        configuration,
    })
}

/// ENUMERATED 0..=255 (the SGX type).
fn enumerated(v: AnyRef<'_>) -> Result<u8, PckError> {
    let bad = |found: String| PckError::BadValue {
        name: "SGX type",
        found,
        expected: "an ENUMERATED 0..=255",
    };
    if v.tag() != Tag::Enumerated {
        return Err(bad(format!("tag {}", v.tag())));
    }
    match v.value() {
        [b] if *b < 0x80 => Ok(*b),
        [0, b] if *b >= 0x80 => Ok(*b),
        other => Err(bad(format!("{} value bytes", other.len()))),
    }
}

/// The SGX extension of a PCK certificate.
pub fn sgx_extension_of_cert(cert: &Certificate) -> Result<SgxExtension, PckError> {
    let exts = cert.tbs_certificate.extensions.as_deref().unwrap_or(&[]);
    let ext = exts
        .iter()
        .find(|e| e.extn_id == SGX_EXTENSION_OID)
        .ok_or(PckError::NotPck)?;
    parse_sgx_extension(ext.extn_value.as_bytes())
}

/// Decodes a PEM certificate chain (as in certification data type 5) into certificates, in
/// file order. Tolerant like real quote producers require: any line length (2020 Intel quotes
/// use 76-character lines), CR/LF, and trailing NUL bytes or text between blocks.
pub fn parse_pem_chain(pem: &[u8]) -> Result<Vec<Certificate>, PckError> {
    // Bytes that are not UTF-8 can only be outside the blocks (base64 is ASCII): replacing
    // them keeps the tolerance for whatever surrounds the chain.
    let text = String::from_utf8_lossy(pem);
    let blocks = pem_block_texts(&text, "").map_err(pem_err)?;
    let certs = blocks
        .iter()
        .filter(|b| b.label == "CERTIFICATE")
        .enumerate()
        .map(|(i, b)| {
            let der = b.decode("", i + 1).map_err(pem_err)?;
            Certificate::from_der(&der)
                .map_err(|e| PckError::Pem(format!("certificate {}: DER: {e}", i + 1)))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if certs.is_empty() {
        return Err(PckError::Pem("no BEGIN CERTIFICATE block found".into()));
    }
    Ok(certs)
}

/// [`PckError::Pem`] with the reason of a PEM error (the variant already names the input).
fn pem_err(e: X509Error) -> PckError {
    match e {
        X509Error::Pem { reason, .. } => PckError::Pem(reason),
        other => PckError::Pem(other.to_string()),
    }
}

/// The first certificate of a PEM chain that carries an SGX extension (the PCK leaf), with
/// the extension parsed. Quotes normally put the leaf first, but some (2020 Fortanix samples)
/// order the chain differently, so this searches.
pub fn pck_leaf_of_chain(pem: &[u8]) -> Result<(Certificate, SgxExtension), PckError> {
    for cert in parse_pem_chain(pem)? {
        match sgx_extension_of_cert(&cert) {
            Ok(ext) => return Ok((cert, ext)),
            Err(PckError::NotPck) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(PckError::NotPck)
}

/// What a PCK certificate says about the collateral its quotes need: the platform's FMSPC and
/// PCE ID (from the SGX extension) and the CA that issued it (from its issuer name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PckNeed {
    /// FMSPC from the SGX extension (selects the TCB info).
    pub fmspc: [u8; 6],
    /// PCE ID from the SGX extension.
    pub pce_id: [u8; 2],
    /// The issuing CA (selects the PCK CRL).
    pub ca: PckCa,
}

/// The [`PckNeed`] of a PEM PCK chain (any order: the first certificate with an SGX extension
/// is the PCK certificate). Reads the certificates with the verifier's shallow DER parser and
/// verifies nothing: it only says which collateral to get. A [`crate::Verifier`] at hand
/// answers the same from its certificate cache ([`crate::Verifier::pck_need`]).
pub fn pck_need_of_chain(pem: &[u8]) -> Result<PckNeed, PckError> {
    let pem = pem.strip_suffix(&[0]).unwrap_or(pem);
    let text = String::from_utf8_lossy(pem);
    let blocks = pem_block_texts(&text, "").map_err(pem_err)?;
    let mut any = false;
    for (i, b) in blocks
        .iter()
        .filter(|b| b.label == "CERTIFICATE")
        .enumerate()
    {
        any = true;
        let der = b.decode("", i + 1).map_err(pem_err)?;
        let cert = Cert::from_der(&der, &format!("certificate {}", i + 1))
            .map_err(|e| PckError::Pem(e.to_string()))?;
        if let Some(n) = pck_need_of_cert(&cert)? {
            return Ok(n);
        }
    }
    if any {
        Err(PckError::NotPck)
    } else {
        Err(PckError::Pem("no BEGIN CERTIFICATE block found".into()))
    }
}

/// The [`PckNeed`] of a parsed certificate; `None` when it has no SGX extension.
pub(crate) fn pck_need_of_cert(cert: &Cert) -> Result<Option<PckNeed>, PckError> {
    let Some(ext) = cert.extension(&SGX_EXTENSION_OID) else {
        return Ok(None);
    };
    let ext = parse_sgx_extension(ext)?;
    // The CA's common name is stored as is in the issuer's DER: no need to render it.
    let issuer = cert.issuer_der();
    let has = |word: &[u8]| issuer.windows(word.len()).any(|w| w == word);
    let ca = if has(b"Platform") {
        PckCa::Platform
    } else if has(b"Processor") {
        PckCa::Processor
    } else {
        return Err(PckError::UnknownCa {
            issuer: cert.issuer_text(),
        });
    };
    Ok(Some(PckNeed {
        fmspc: ext.fmspc,
        pce_id: ext.pce_id,
        ca,
    }))
}

// ---------------------------------------------------------------------------------------------
// Encoding (for the simulated PCK CA).

fn tlv(tag: Tag, content: &[u8]) -> Result<Vec<u8>, der::Error> {
    AnyRef::new(tag, content)?.to_der()
}

fn oid_entry(oid: &ObjectIdentifier, value_der: &[u8]) -> Result<Vec<u8>, der::Error> {
    let mut content = oid.to_der()?;
    content.extend_from_slice(value_der);
    tlv(Tag::Sequence, &content)
}

fn sub_oid(parent: &ObjectIdentifier, arc: u32) -> Result<ObjectIdentifier, der::Error> {
    parent
        .push_arc(arc)
        .map_err(|_| der::Error::from(der::ErrorKind::OidMalformed))
}

/// Encodes `ext` as the DER value of the SGX extension (the inverse of
/// [`parse_sgx_extension`]).
pub fn encode_sgx_extension(ext: &SgxExtension) -> Result<Vec<u8>, der::Error> {
    let base = SGX_EXTENSION_OID;
    let mut body = Vec::new();
    body.extend(oid_entry(
        &sub_oid(&base, 1)?,
        &ext.ppid.as_slice().to_der_octets()?,
    )?);

    let tcb_oid = sub_oid(&base, 2)?;
    let mut tcb = Vec::new();
    for (i, svn) in (1u32..).zip(ext.tcb.comp_svn) {
        tcb.extend(oid_entry(&sub_oid(&tcb_oid, i)?, &svn.to_der()?)?);
    }
    tcb.extend(oid_entry(
        &sub_oid(&tcb_oid, 17)?,
        &ext.tcb.pce_svn.to_der()?,
    )?);
    tcb.extend(oid_entry(
        &sub_oid(&tcb_oid, 18)?,
        &ext.tcb.cpu_svn.as_slice().to_der_octets()?,
    )?);
    body.extend(oid_entry(&tcb_oid, &tlv(Tag::Sequence, &tcb)?)?);

    body.extend(oid_entry(
        &sub_oid(&base, 3)?,
        &ext.pce_id.as_slice().to_der_octets()?,
    )?);
    body.extend(oid_entry(
        &sub_oid(&base, 4)?,
        &ext.fmspc.as_slice().to_der_octets()?,
    )?);
    let enum_content: Vec<u8> = if ext.sgx_type >= 0x80 {
        vec![0, ext.sgx_type]
    } else {
        vec![ext.sgx_type]
    };
    body.extend(oid_entry(
        &sub_oid(&base, 5)?,
        &tlv(Tag::Enumerated, &enum_content)?,
    )?);
    if let Some(id) = &ext.platform_instance_id {
        body.extend(oid_entry(
            &sub_oid(&base, 6)?,
            &id.as_slice().to_der_octets()?,
        )?);
    }
    if let Some(cfg) = &ext.configuration {
        let cfg_oid = sub_oid(&base, 7)?;
        let mut c = Vec::new();
        for (arc, flag) in [
            (1, cfg.dynamic_platform),
            (2, cfg.cached_keys),
            (3, cfg.smt_enabled),
        ] {
            if let Some(b) = flag {
                c.extend(oid_entry(&sub_oid(&cfg_oid, arc)?, &b.to_der()?)?);
            }
        }
        body.extend(oid_entry(&cfg_oid, &tlv(Tag::Sequence, &c)?)?);
    }
    tlv(Tag::Sequence, &body)
}

trait ToDerOctets {
    fn to_der_octets(&self) -> Result<Vec<u8>, der::Error>;
}

impl ToDerOctets for &[u8] {
    fn to_der_octets(&self) -> Result<Vec<u8>, der::Error> {
        OctetStringRef::new(self)?.to_der()
    }
}
