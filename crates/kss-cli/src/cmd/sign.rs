//! `kss sign`: write a SIGSTRUCT for an SGXS file or an enclave hash.

use crate::error::{CliError, CliResult};
use crate::util::{parse_hex_array, parse_num, write_atomic};
use kss_sign::{sign, BcdDate, SignOptions, SigningKey};
use kss_types::Id128;
use std::path::PathBuf;
use std::process::ExitCode;

/// Sign an enclave: write a SIGSTRUCT (1808 bytes) for an SGXS file or an enclave hash.
///
/// Defaults are the Intel SGX SDK sign tool's for a 64-bit enclave: ATTRIBUTES 0x4 (MODE64BIT)
/// with mask 0xff00fffffffffffd (DEBUG unchecked), XFRM 0x3 with mask 0xffffffffffffff1b,
/// MISCSELECT 0 with mask 0xffffffff, VENDOR 0, DATE today (UTC), ISVPRODID 0, ISVSVN 0,
/// SWDEFINED 0, no KSS.
///
/// MASK values are the SIGSTRUCT mask fields themselves (bits that EINIT compares), not the
/// inverted masks of Fortanix sgxs-sign. Numbers are decimal or 0x-prefixed hex.
///
/// The output is written atomically; nothing is written on error.
#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("enclave").required(true).args(["sgxs", "enclave_hash"])))]
pub struct Args {
    /// Signing key: RSA-3072 with exponent 3, PEM (PKCS#1 "RSA PRIVATE KEY" or PKCS#8
    /// "PRIVATE KEY") or DER. Create one with `kss keygen`.
    #[arg(long)]
    pub key: PathBuf,
    /// SGXS file of the enclave; it is validated and measured to get ENCLAVEHASH.
    #[arg(long)]
    pub sgxs: Option<PathBuf>,
    /// ENCLAVEHASH (expected MRENCLAVE) as 64 hex digits, instead of --sgxs.
    #[arg(long)]
    pub enclave_hash: Option<String>,
    /// Where to write the SIGSTRUCT (replaced atomically if it exists).
    #[arg(long)]
    pub out: PathBuf,
    /// ISVPRODID, 0..=65535.
    #[arg(long, default_value = "0")]
    pub isv_prod_id: String,
    /// ISVSVN (security version), 0..=65535.
    #[arg(long, default_value = "0")]
    pub isv_svn: String,
    /// Enable KSS: sets 0x80 in ATTRIBUTES and ATTRIBUTEMASK (after --attributes). Required for
    /// --family-id/--ext-prod-id. A KSS-signed enclave only launches on CPUs with KSS
    /// (SGX_ERROR_INVALID_ATTRIBUTE elsewhere).
    #[arg(long)]
    pub kss: bool,
    /// ISVFAMILYID as HIGH:LOW, two 64-bit hex numbers (0x optional), like Occlum's
    /// `{high, low}`: LOW fills bytes 0..8 (little-endian), HIGH bytes 8..16. Needs --kss.
    #[arg(long, value_name = "HIGH:LOW")]
    pub family_id: Option<String>,
    /// ISVEXTPRODID as HIGH:LOW (same format as --family-id). Needs --kss.
    #[arg(long, value_name = "HIGH:LOW")]
    pub ext_prod_id: Option<String>,
    /// Production enclave: DEBUG (0x2) is added to ATTRIBUTEMASK and cleared from ATTRIBUTES, so
    /// the enclave cannot be launched in debug mode.
    #[arg(long)]
    pub disable_debug: bool,
    /// DATE as YYYYMMDD (or YYYY-MM-DD). Default: today (UTC).
    #[arg(long)]
    pub date: Option<String>,
    /// ATTRIBUTES.flags and ATTRIBUTEMASK.flags as FLAGS/MASK, or FLAGS alone to keep the
    /// default mask. Default 0x4/0xff00fffffffffffd.
    #[arg(long, value_name = "FLAGS/MASK")]
    pub attributes: Option<String>,
    /// ATTRIBUTES.xfrm and ATTRIBUTEMASK.xfrm as XFRM/MASK, or XFRM alone to keep the default
    /// mask. Default 0x3/0xffffffffffffff1b.
    #[arg(long, value_name = "XFRM/MASK")]
    pub xfrm: Option<String>,
    /// MISCSELECT and MISCMASK as SEL/MASK, or SEL alone to keep the default mask. MISCSELECT is
    /// stored as SEL & MASK. Default 0/0xffffffff.
    #[arg(long, value_name = "SEL/MASK")]
    pub misc_select: Option<String>,
    /// SWDEFINED (the SDK's HW field), a 32-bit number.
    #[arg(long, default_value = "0")]
    pub sw_defined: String,
    /// VENDOR: 0 (non-Intel) or 0x8086 (Intel).
    #[arg(long, default_value = "0")]
    pub vendor: String,
}

/// Parses `VALUE/MASK` (or `VALUE`) into numbers within `max`.
fn value_mask(text: &str, what: &str, max: u64) -> Result<(u64, Option<u64>), CliError> {
    match text.split_once('/') {
        Some((v, m)) => Ok((
            parse_num(v, &format!("{what} value"), max)?,
            Some(parse_num(m, &format!("{what} mask"), max)?),
        )),
        None => Ok((parse_num(text, what, max)?, None)),
    }
}

/// Parses a 16-byte KSS ID written as `HIGH:LOW` (64-bit hex halves, `0x` optional).
pub fn parse_high_low(text: &str, what: &str) -> Result<Id128, CliError> {
    let bad = |why: &str| {
        CliError::input(format!(
            "{what}: '{text}' {why}; expected HIGH:LOW, two 64-bit hex numbers such as 0x1:0x2a"
        ))
        .input_name(what)
    };
    let (h, l) = text.split_once(':').ok_or_else(|| bad("has no ':'"))?;
    let half = |s: &str| {
        let s = s.trim();
        let digits = s
            .strip_prefix("0x")
            .or_else(|| s.strip_prefix("0X"))
            .unwrap_or(s);
        if digits.is_empty() || digits.len() > 16 {
            return Err(bad("has a half that is not 1 to 16 hex digits"));
        }
        u64::from_str_radix(digits, 16).map_err(|_| bad("has a half that is not hex"))
    };
    Ok(Id128::from_high_low(half(h)?, half(l)?))
}

fn build_options(args: &Args) -> Result<SignOptions, CliError> {
    let mut o = SignOptions::new()
        .isv_prod_id(parse_num(&args.isv_prod_id, "--isv-prod-id", 0xFFFF)? as u16)
        .isv_svn(parse_num(&args.isv_svn, "--isv-svn", 0xFFFF)? as u16)
        .kss(args.kss)
        .disable_debug(args.disable_debug)
        .sw_defined(parse_num(&args.sw_defined, "--sw-defined", u32::MAX.into())? as u32)
        .vendor(parse_num(&args.vendor, "--vendor", u32::MAX.into())? as u32);
    if let Some(t) = &args.family_id {
        o = o.isv_family_id(parse_high_low(t, "--family-id")?);
    }
    if let Some(t) = &args.ext_prod_id {
        o = o.isv_ext_prod_id(parse_high_low(t, "--ext-prod-id")?);
    }
    if let Some(t) = &args.date {
        let d = BcdDate::parse(t)
            .map_err(|e| CliError::input(format!("--date: {e}")).input_name("--date"))?;
        o = o.date(d.to_bcd());
    }
    if let Some(t) = &args.attributes {
        let (v, m) = value_mask(t, "--attributes", u64::MAX)?;
        let mask = m.unwrap_or(o.attribute_mask.flags.0);
        o = o.attribute_flags(v, mask);
    }
    if let Some(t) = &args.xfrm {
        let (v, m) = value_mask(t, "--xfrm", u64::MAX)?;
        let mask = m.unwrap_or(o.attribute_mask.xfrm);
        o = o.xfrm(v, mask);
    }
    if let Some(t) = &args.misc_select {
        let (v, m) = value_mask(t, "--misc-select", u32::MAX.into())?;
        let mask = m.unwrap_or(o.misc_mask.into());
        o = o.misc(v as u32, mask as u32);
    }
    o.check().map_err(|e| CliError::input(e.to_string()))?;
    Ok(o)
}

/// Loads a signing key file with errors that name it.
pub fn load_key(path: &std::path::Path) -> Result<SigningKey, CliError> {
    SigningKey::load(path).map_err(|e| {
        let message = match e {
            kss_sign::KeyError::Io { .. } => e.to_string(),
            // Neither form parsed: say so once, not with both DER parsers' ASN.1 details.
            kss_sign::KeyError::Der { .. } => format!(
                "signing key '{}': not an RSA private key: expected PEM ('-----BEGIN RSA PRIVATE \
                 KEY-----' or '-----BEGIN PRIVATE KEY-----') or DER (PKCS#1 or PKCS#8)",
                path.display()
            ),
            _ => format!("signing key '{}': {e}", path.display()),
        };
        CliError::input(message)
            .hint(
                "create one with `kss keygen --out key.pem` (or `openssl genrsa -3 -out key.pem 3072`)",
            )
            .input_name(path.display().to_string())
    })
}

/// Runs the command.
pub fn run(args: Args) -> CliResult {
    let options = build_options(&args)?;
    let key = load_key(&args.key)?;
    let enclave_hash = match (&args.sgxs, &args.enclave_hash) {
        (Some(path), _) => super::measure::measure_file(path)?.mr_enclave,
        (None, Some(h)) => parse_hex_array::<32>(h, "--enclave-hash")?,
        (None, None) => {
            return Err(CliError::input(
                "give the enclave as --sgxs FILE or --enclave-hash HEX",
            ))
        }
    };
    let sig = sign(&options, &enclave_hash, &key).map_err(|e| CliError::input(e.to_string()))?;
    write_atomic(&args.out, &sig.to_bytes())?;
    println!(
        "wrote SIGSTRUCT {}\nMRENCLAVE {}\nMRSIGNER  {}",
        args.out.display(),
        hex::encode(sig.enclave_hash),
        hex::encode(kss_sign::mr_signer(&sig))
    );
    Ok(ExitCode::SUCCESS)
}
