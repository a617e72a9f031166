//! `kss inspect sigstruct`: show every field of a SIGSTRUCT and check its signature.

use crate::error::{CliError, CliResult};
use crate::util::{print_json, read_file};
use kss_attest::render::{attribute_flag_names, id128_text, IdHighLow};
use kss_sign::{mr_signer, verify, BcdDate};
use kss_types::{Attributes, Sigstruct};
use std::path::PathBuf;
use std::process::ExitCode;

/// Show every field of a SIGSTRUCT (1808 bytes) and check its signature.
///
/// The check is what EINIT does with the signature: EXPONENT 3, a 3072-bit modulus,
/// RSA PKCS#1 v1.5 SHA-256 over bytes 0..128 and 900..1028, and the Q1/Q2 helper values; plus the
/// fixed headers, VENDOR (0 or 0x8086) and zero reserved fields.
///
/// Exit status: 0 if the signature and the structure are valid; 1 if either is not (all fields
/// are still printed); 2 if the file is not 1808 bytes.
///
/// JSON (--json): counters (isv_prod_id, isv_svn, sw_defined, exponent) are numbers; vendor,
/// date, misc_select, misc_mask and attribute halves are "0x..." strings; byte fields (IDs,
/// hashes, modulus, signature, q1, q2) are lowercase hex in stored byte order. Also
/// isv_family_id_parts/isv_ext_prod_id_parts as {"high","low"}, date_iso ("2016-01-09"),
/// mr_signer, signature_valid, signature_error, header_ok, structure_problem, kss, debug_allowed.
#[derive(clap::Args)]
pub struct Args {
    /// SIGSTRUCT file (e.g. build/enclave.sig).
    pub file: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// ATTRIBUTES or ATTRIBUTEMASK in the JSON: both halves as minimal `0x…` hex and the flags
/// decoded (`0x85 (INIT|MODE64BIT|KSS)`).
#[derive(serde::Serialize)]
struct AttributesJson {
    flags: String,
    xfrm: String,
    flags_decoded: String,
}

impl AttributesJson {
    fn new(a: &Attributes) -> Self {
        AttributesJson {
            flags: format!("{:#x}", a.flags.0),
            xfrm: format!("{:#x}", a.xfrm),
            flags_decoded: a.flags.to_string(),
        }
    }
}

/// `kss inspect sigstruct --json` (keys in this order).
#[derive(serde::Serialize)]
struct SigstructJson {
    header: String,
    header2: String,
    header_ok: bool,
    vendor: String,
    date: String,
    date_iso: Option<String>,
    sw_defined: u32,
    exponent: u32,
    modulus: String,
    signature: String,
    q1: String,
    q2: String,
    misc_select: String,
    misc_mask: String,
    cet_attributes: String,
    cet_attributes_mask: String,
    isv_family_id: String,
    isv_family_id_parts: IdHighLow,
    attributes: AttributesJson,
    attribute_mask: AttributesJson,
    enclave_hash: String,
    isv_ext_prod_id: String,
    isv_ext_prod_id_parts: IdHighLow,
    isv_prod_id: u16,
    isv_svn: u16,
    mr_signer: String,
    kss: bool,
    debug_allowed: bool,
    signature_valid: bool,
    signature_error: Option<String>,
    structure_problem: Option<&'static str>,
}

impl SigstructJson {
    /// The description of `sig`, its signature checked.
    fn new(sig: &Sigstruct) -> Self {
        use kss_types::AttributeFlags;
        let signature = verify(sig);
        let debug_checked = sig.attribute_mask.flags.contains(AttributeFlags::DEBUG);
        let debug_set = sig.attributes.flags.contains(AttributeFlags::DEBUG);
        SigstructJson {
            header: hex::encode(sig.header),
            header2: hex::encode(sig.header2),
            header_ok: sig.header == Sigstruct::HEADER && sig.header2 == Sigstruct::HEADER2,
            vendor: format!("{:#x}", sig.vendor),
            date: format!("{:#010x}", sig.date),
            date_iso: BcdDate::from_bcd(sig.date).ok().map(|d| d.to_string()),
            sw_defined: sig.sw_defined,
            exponent: sig.exponent,
            modulus: hex::encode(sig.modulus),
            signature: hex::encode(sig.signature),
            q1: hex::encode(sig.q1),
            q2: hex::encode(sig.q2),
            misc_select: format!("{:#010x}", sig.misc_select.0),
            misc_mask: format!("{:#010x}", sig.misc_mask),
            cet_attributes: format!("{:#04x}", sig.cet_attributes),
            cet_attributes_mask: format!("{:#04x}", sig.cet_attributes_mask),
            isv_family_id: hex::encode(sig.isv_family_id.0),
            isv_family_id_parts: IdHighLow::new(&sig.isv_family_id),
            attributes: AttributesJson::new(&sig.attributes),
            attribute_mask: AttributesJson::new(&sig.attribute_mask),
            enclave_hash: hex::encode(sig.enclave_hash),
            isv_ext_prod_id: hex::encode(sig.isv_ext_prod_id.0),
            isv_ext_prod_id_parts: IdHighLow::new(&sig.isv_ext_prod_id),
            isv_prod_id: sig.isv_prod_id,
            isv_svn: sig.isv_svn,
            mr_signer: hex::encode(mr_signer(sig)),
            kss: sig.attributes.flags.contains(AttributeFlags::KSS),
            debug_allowed: !debug_checked || debug_set,
            signature_valid: signature.is_ok(),
            signature_error: signature.err().map(|e| e.to_string()),
            structure_problem: sig.structure_problem(),
        }
    }
}

/// `flags 0x85 [INIT|MODE64BIT|KSS], xfrm 0x3`: attributes with the flag names in the brackets
/// of every report body.
fn attributes_text(a: &Attributes) -> String {
    format!(
        "flags {:#x} [{}], xfrm {:#x}",
        a.flags.0,
        attribute_flag_names(a.flags).join("|"),
        a.xfrm
    )
}

fn print_text(sig: &Sigstruct, j: &SigstructJson) {
    println!(
        "{:<18}{}",
        "header",
        if j.header_ok { "ok" } else { "WRONG" }
    );
    println!("{:<18}{}", "vendor", j.vendor);
    let iso = j.date_iso.as_deref().unwrap_or("null");
    println!("{:<18}{} ({iso})", "date", j.date);
    println!("{:<18}{}", "sw_defined", sig.sw_defined);
    println!("{:<18}{}", "isv_prod_id", sig.isv_prod_id);
    println!("{:<18}{}", "isv_svn", sig.isv_svn);
    println!("{:<18}{}", "isv_family_id", id128_text(&sig.isv_family_id));
    println!(
        "{:<18}{}",
        "isv_ext_prod_id",
        id128_text(&sig.isv_ext_prod_id)
    );
    println!("{:<18}{}", "attributes", attributes_text(&sig.attributes));
    println!(
        "{:<18}{}",
        "attribute_mask",
        attributes_text(&sig.attribute_mask)
    );
    println!("{:<18}{}", "misc_select", j.misc_select);
    println!("{:<18}{}", "misc_mask", j.misc_mask);
    println!(
        "{:<18}{} / {}",
        "cet_attributes", j.cet_attributes, j.cet_attributes_mask
    );
    println!("{:<18}{}", "enclave_hash", j.enclave_hash);
    println!("{:<18}{}", "mr_signer", j.mr_signer);
    println!("{:<18}{}", "exponent", sig.exponent);
    println!("{:<18}{}", "kss", j.kss);
    println!("{:<18}{}", "debug_allowed", j.debug_allowed);
    match &j.signature_error {
        Some(e) => println!("{:<18}INVALID: {e}", "signature"),
        None => println!(
            "{:<18}valid (RSA-3072 PKCS#1 v1.5 SHA-256, Q1/Q2 ok)",
            "signature"
        ),
    }
    if let Some(p) = j.structure_problem {
        println!("{:<18}INVALID: {p}", "structure");
    }
}

/// Runs the command.
pub fn run(args: Args) -> CliResult {
    let bytes = read_file(&args.file, "SIGSTRUCT", kss_io::limits::SIGSTRUCT)?;
    let sig = Sigstruct::from_bytes(&bytes).map_err(|e| {
        CliError::input(format!("'{}': {e}", args.file.display()))
            .input_name(args.file.display().to_string())
    })?;
    let j = SigstructJson::new(&sig);
    if args.json {
        print_json(&j);
    } else {
        print_text(&sig, &j);
    }
    if j.signature_valid && j.structure_problem.is_none() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "kss: '{}': the SIGSTRUCT would be rejected by EINIT (see signature/structure above)",
            args.file.display()
        );
        Ok(ExitCode::from(crate::error::status::REJECTED))
    }
}
