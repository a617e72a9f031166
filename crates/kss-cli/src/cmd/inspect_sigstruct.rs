//! `kss inspect sigstruct`: show every field of a SIGSTRUCT and check its signature.

use crate::error::{CliError, CliResult};
use crate::util::{print_json, read_file};
use kss_sign::{mr_signer, verify, BcdDate};
use kss_types::{Attributes, Id128, Sigstruct};
use serde_json::{json, Value};
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

fn attributes_json(a: &Attributes) -> Value {
    json!({
        "flags": format!("{:#x}", a.flags.0),
        "xfrm": format!("{:#x}", a.xfrm),
        "flags_decoded": a.flags.to_string(),
    })
}

fn id_parts(id: &Id128) -> Value {
    json!({ "high": format!("{:#018x}", id.high()), "low": format!("{:#018x}", id.low()) })
}

/// The JSON description of `sig`.
pub fn sigstruct_json(sig: &Sigstruct) -> Value {
    let signature = verify(sig);
    let structure = sig.structure_problem();
    let date_iso = BcdDate::from_bcd(sig.date).ok().map(|d| d.to_string());
    let kss = sig
        .attributes
        .flags
        .contains(kss_types::AttributeFlags::KSS);
    let debug_checked = sig
        .attribute_mask
        .flags
        .contains(kss_types::AttributeFlags::DEBUG);
    let debug_set = sig
        .attributes
        .flags
        .contains(kss_types::AttributeFlags::DEBUG);
    json!({
        "header": hex::encode(sig.header),
        "header2": hex::encode(sig.header2),
        "header_ok": sig.header == Sigstruct::HEADER && sig.header2 == Sigstruct::HEADER2,
        "vendor": format!("{:#x}", sig.vendor),
        "date": format!("{:#010x}", sig.date),
        "date_iso": date_iso,
        "sw_defined": sig.sw_defined,
        "exponent": sig.exponent,
        "modulus": hex::encode(sig.modulus),
        "signature": hex::encode(sig.signature),
        "q1": hex::encode(sig.q1),
        "q2": hex::encode(sig.q2),
        "misc_select": format!("{:#010x}", sig.misc_select.0),
        "misc_mask": format!("{:#010x}", sig.misc_mask),
        "cet_attributes": format!("{:#04x}", sig.cet_attributes),
        "cet_attributes_mask": format!("{:#04x}", sig.cet_attributes_mask),
        "isv_family_id": hex::encode(sig.isv_family_id.0),
        "isv_family_id_parts": id_parts(&sig.isv_family_id),
        "attributes": attributes_json(&sig.attributes),
        "attribute_mask": attributes_json(&sig.attribute_mask),
        "enclave_hash": hex::encode(sig.enclave_hash),
        "isv_ext_prod_id": hex::encode(sig.isv_ext_prod_id.0),
        "isv_ext_prod_id_parts": id_parts(&sig.isv_ext_prod_id),
        "isv_prod_id": sig.isv_prod_id,
        "isv_svn": sig.isv_svn,
        "mr_signer": hex::encode(mr_signer(sig)),
        "kss": kss,
        "debug_allowed": !debug_checked || debug_set,
        "signature_valid": signature.is_ok(),
        "signature_error": signature.err().map(|e| e.to_string()),
        "structure_problem": structure,
    })
}

fn print_text(sig: &Sigstruct, j: &Value) {
    let s = |k: &str| match &j[k] {
        Value::String(v) => v.clone(),
        other => other.to_string(),
    };
    let id = |name: &str, v: &Id128| {
        println!(
            "{name:<18}{} (high {:#018x}, low {:#018x})",
            hex::encode(v.0),
            v.high(),
            v.low()
        )
    };
    println!(
        "{:<18}{}",
        "header",
        if j["header_ok"] == true {
            "ok"
        } else {
            "WRONG"
        }
    );
    println!("{:<18}{}", "vendor", s("vendor"));
    println!("{:<18}{} ({})", "date", s("date"), s("date_iso"));
    println!("{:<18}{}", "sw_defined", sig.sw_defined);
    println!("{:<18}{}", "isv_prod_id", sig.isv_prod_id);
    println!("{:<18}{}", "isv_svn", sig.isv_svn);
    id("isv_family_id", &sig.isv_family_id);
    id("isv_ext_prod_id", &sig.isv_ext_prod_id);
    println!(
        "{:<18}flags {}, xfrm {:#x}",
        "attributes", sig.attributes.flags, sig.attributes.xfrm
    );
    println!(
        "{:<18}flags {}, xfrm {:#x}",
        "attribute_mask", sig.attribute_mask.flags, sig.attribute_mask.xfrm
    );
    println!("{:<18}{}", "misc_select", s("misc_select"));
    println!("{:<18}{}", "misc_mask", s("misc_mask"));
    println!(
        "{:<18}{} / {}",
        "cet_attributes",
        s("cet_attributes"),
        s("cet_attributes_mask")
    );
    println!("{:<18}{}", "enclave_hash", s("enclave_hash"));
    println!("{:<18}{}", "mr_signer", s("mr_signer"));
    println!("{:<18}{}", "exponent", sig.exponent);
    println!("{:<18}{}", "kss", j["kss"]);
    println!("{:<18}{}", "debug_allowed", j["debug_allowed"]);
    match &j["signature_error"] {
        Value::String(e) => println!("{:<18}INVALID: {e}", "signature"),
        _ => println!(
            "{:<18}valid (RSA-3072 PKCS#1 v1.5 SHA-256, Q1/Q2 ok)",
            "signature"
        ),
    }
    if let Value::String(p) = &j["structure_problem"] {
        println!("{:<18}INVALID: {p}", "structure");
    }
}

/// Runs the command.
pub fn run(args: Args) -> CliResult {
    let bytes = read_file(&args.file, "SIGSTRUCT", kss_io::limits::SIGSTRUCT)?;
    let sig = Sigstruct::from_bytes(&bytes)
        .map_err(|e| CliError::input(format!("'{}': {e}", args.file.display())))?;
    let j = sigstruct_json(&sig);
    if args.json {
        print_json(&j);
    } else {
        print_text(&sig, &j);
    }
    if j["signature_valid"] == true && j["structure_problem"].is_null() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "kss: '{}': the SIGSTRUCT would be rejected by EINIT (see signature/structure above)",
            args.file.display()
        );
        Ok(ExitCode::from(crate::error::status::REJECTED))
    }
}
