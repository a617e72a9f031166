//! `kss quote inspect`: show every field of a DCAP quote, with the KSS fields highlighted.

use crate::error::{CliError, CliResult};
use crate::render::{ISV_REPORT_TITLE, SIMULATED};
use crate::util::{print_json, read_file};
use kss_attest::json::{quote_json, ByteOrder};
use kss_attest::origin::quote_is_simulated;
use kss_attest::pck::{pck_leaf_of_chain, SgxExtension};
use kss_attest::quote::{Quote, QuoteBody, TdReport};
use kss_attest::render::ReportBodyView;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

/// Quote subcommands.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Show every field of a DCAP quote.
    Inspect(InspectArgs),
}

/// Byte order of hex byte strings in the output.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ByteOrderArg {
    /// As stored in the quote, byte 0 first (the default).
    Stored,
    /// Reversed, last byte first: the convention of Intel's QvE/QAL output.
    Intel,
}

/// Show every field of a DCAP quote (SGX v3/v4/v5; TDX quotes are recognised and summarised).
///
/// Prints the header, the enclave's REPORT body with the KSS fields (ISVFAMILYID, ISVEXTPRODID,
/// CONFIGID, CONFIGSVN) marked, the QE report, the signature data and, when the quote carries a
/// PCK certificate chain, the PCK's SGX extension (FMSPC, TCB, PCE-ID, PPID). Signatures are
/// NOT checked here; use `kss verify` for that.
///
/// Exit status: 0 when the quote parses (also for TDX quotes, which kss reports but does not
/// appraise); 2 when it does not (the error names the field and its offset).
///
/// JSON (--json): see docs/quotes.md. Byte strings are lowercase hex; 16-byte IDs also as
/// `<name>_high_low: {"high","low"}` (low = bytes 0..8, high = bytes 8..16, each a little-endian
/// u64, as in Enclave.xml ISVFAMILYID_H/_L).
#[derive(clap::Args)]
pub struct InspectArgs {
    /// The quote file (raw binary, as produced by the QE or `kss` simulation).
    pub file: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// How to print byte strings of the header and report bodies: `stored` (as in the quote)
    /// or `intel` (reversed, like Intel QvE/QAL). Signatures, keys and PCK fields are always
    /// printed as stored.
    #[arg(long, value_enum, default_value = "stored")]
    pub byte_order: ByteOrderArg,
    /// Accept bytes after the end of the quote (e.g. zero padding) instead of failing.
    #[arg(long)]
    pub allow_trailing: bool,
}

/// Runs the command.
pub fn run(cmd: Command) -> CliResult {
    match cmd {
        Command::Inspect(args) => inspect(args),
    }
}

/// Parses the quote file `path` (contents `bytes`): strictly, or ignoring bytes after the quote
/// with `allow_trailing`. Trailing bytes get a hint naming `--allow-trailing`.
pub(crate) fn parse_quote_file(
    bytes: &[u8],
    path: &std::path::Path,
    allow_trailing: bool,
) -> Result<Quote, CliError> {
    let parsed = if allow_trailing {
        Quote::parse_allow_trailing(bytes)
    } else {
        Quote::parse(bytes)
    };
    parsed.map_err(|e| {
        let err = CliError::input(format!("'{}': {e}", path.display()))
            .input_name(path.display().to_string());
        if matches!(e, kss_attest::quote::QuoteError::TrailingBytes { .. }) {
            err.hint("pass --allow-trailing to ignore the extra bytes")
        } else {
            err
        }
    })
}

fn inspect(args: InspectArgs) -> CliResult {
    let bytes = read_file(&args.file, "quote", kss_io::limits::QUOTE)?;
    let quote = parse_quote_file(&bytes, &args.file, args.allow_trailing)?;
    let order = match args.byte_order {
        ByteOrderArg::Stored => ByteOrder::Stored,
        ByteOrderArg::Intel => ByteOrder::Intel,
    };
    if args.json {
        print_json(&quote_json(&quote, order));
    } else {
        print!("{}", quote_text(&quote, order, bytes.len()));
    }
    Ok(ExitCode::SUCCESS)
}

fn td_text(out: &mut String, td: &TdReport, order: ByteOrder) {
    let _ = writeln!(out, "TD report (not appraised by kss):");
    let _ = writeln!(out, "    tee_tcb_svn      {}", order.hex(&td.tee_tcb_svn));
    let _ = writeln!(out, "    mr_seam          {}", order.hex(&td.mr_seam));
    let _ = writeln!(out, "    td_attributes    {}", order.hex(&td.td_attributes));
    let _ = writeln!(out, "    xfam             {}", order.hex(&td.xfam));
    let _ = writeln!(out, "    mr_td            {}", order.hex(&td.mr_td));
    let _ = writeln!(out, "    mr_config_id     {}", order.hex(&td.mr_config_id));
    let _ = writeln!(out, "    mr_owner         {}", order.hex(&td.mr_owner));
    for (i, r) in td.rtmr.iter().enumerate() {
        let _ = writeln!(out, "    rtmr{i}            {}", order.hex(r));
    }
    let _ = writeln!(out, "    report_data      {}", order.hex(&td.report_data));
}

fn pck_text(out: &mut String, ext: &SgxExtension) {
    let _ = writeln!(out, "PCK certificate SGX extension:");
    let _ = writeln!(out, "    fmspc            {}", hex::encode(ext.fmspc));
    let _ = writeln!(out, "    pce_id           {}", hex::encode(ext.pce_id));
    let _ = writeln!(out, "    pce_svn          {}", ext.tcb.pce_svn);
    let comps: Vec<String> = ext.tcb.comp_svn.iter().map(u8::to_string).collect();
    let _ = writeln!(out, "    tcb_comp_svn     [{}]", comps.join(", "));
    let _ = writeln!(out, "    ppid             {}", hex::encode(ext.ppid));
    let _ = writeln!(
        out,
        "    sgx_type         {} ({})",
        ext.sgx_type,
        ext.sgx_type_name()
    );
    if let Some(id) = ext.platform_instance_id {
        let _ = writeln!(out, "    platform_inst_id {}", hex::encode(id));
    }
}

fn quote_text(q: &Quote, order: ByteOrder, input_len: usize) -> String {
    let mut out = String::new();
    let h = &q.header;
    let tee = match &q.body {
        QuoteBody::Sgx(_) => "SGX".to_string(),
        QuoteBody::Td10(_) => format!("TDX quote (tee_type {:#x}), TD report 1.0", h.tee_type),
        QuoteBody::Td15(_) => format!("TDX quote (tee_type {:#x}), TD report 1.5", h.tee_type),
    };
    let simulated = quote_is_simulated(q);
    let _ = writeln!(
        out,
        "DCAP quote v{}: {tee}{}",
        h.version,
        if simulated {
            format!(", {SIMULATED}")
        } else {
            String::new()
        }
    );
    if simulated {
        let _ = writeln!(
            out,
            "  note: {SIMULATED}: the PCK certificate chain ends in a kss simulation root, not Intel's; the quote proves nothing about SGX hardware"
        );
    }
    if !q.is_sgx() {
        let _ = writeln!(
            out,
            "  note: TDX quote, version {}; kss inspects SGX quotes, so only the header, the key TD fields and the QE data are shown",
            h.version
        );
    }
    let _ = writeln!(
        out,
        "  length           {} bytes{}",
        q.raw().len(),
        if input_len > q.raw().len() {
            format!(" ({} trailing bytes ignored)", input_len - q.raw().len())
        } else {
            String::new()
        }
    );
    let _ = writeln!(out, "Header:");
    let _ = writeln!(out, "    version          {}", h.version);
    let _ = writeln!(out, "    att_key_type     {} (ECDSA P-256)", h.att_key_type);
    let _ = writeln!(out, "    tee_type         {:#x}", h.tee_type);
    let _ = writeln!(out, "    qe_svn           {}", h.qe_svn);
    let _ = writeln!(out, "    pce_svn          {}", h.pce_svn);
    let vendor = match (
        h.qe_vendor_id == kss_attest::quote::INTEL_QE_VENDOR_ID,
        simulated,
    ) {
        (true, false) => " (Intel)".to_string(),
        (true, true) => " (Intel's ID, reused by kss's simulated QE)".to_string(),
        (false, _) => String::new(),
    };
    let _ = writeln!(
        out,
        "    qe_vendor_id     {}{vendor}",
        order.hex(&h.qe_vendor_id)
    );
    let _ = writeln!(out, "    user_data        {}", order.hex(&h.user_data));
    match &q.body {
        QuoteBody::Sgx(b) => out.push_str(&ReportBodyView::new(b, order).text(ISV_REPORT_TITLE)),
        QuoteBody::Td10(td) | QuoteBody::Td15(td) => td_text(&mut out, td, order),
    }
    let s = &q.signature;
    out.push_str(&ReportBodyView::new(&s.qe_report, order).text("QE report:"));
    let _ = writeln!(out, "Signature data:");
    let _ = writeln!(out, "    isv_signature    {}", hex::encode(s.isv_signature));
    let _ = writeln!(
        out,
        "    attestation_key  {}",
        hex::encode(s.attestation_key)
    );
    let _ = writeln!(
        out,
        "    qe_report_sig    {}",
        hex::encode(s.qe_report_signature)
    );
    let _ = writeln!(out, "    qe_auth_data     {}", hex::encode(&s.qe_auth_data));
    let outer = s
        .outer_cert_type
        .map(|t| format!(" (inside type {t})"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "    cert_data_type   {}{outer}, {} bytes",
        s.certification.cert_type,
        s.certification.data.len()
    );
    if let Some(pem) = q.pck_chain_pem() {
        match pck_leaf_of_chain(pem) {
            Ok((_, ext)) => pck_text(&mut out, &ext),
            Err(e) => {
                let _ = writeln!(out, "PCK certificate: cannot read the SGX extension: {e}");
            }
        }
    }
    out
}
