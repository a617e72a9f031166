//! `kss verify QUOTE [--collateral PATH]`: full DCAP verification of an SGX quote, then
//! appraisal with a policy. Without `--collateral` the collateral comes from a PCCS or Intel's
//! PCS, through the collateral cache.

use crate::cmd::collateral::{time_arg, trust_roots, SourceArgs};
use crate::error::{CliError, CliResult};
use crate::util::{print_json, read_file, read_text};
use kss_attest::collateral::Collateral;
use kss_attest::policy::Policy;
use kss_attest::verify::{ReportDataExpectation, RuntimeDataHash, Verifier};
use std::path::PathBuf;
use std::process::ExitCode;

const AFTER_HELP: &str = "\
Without --collateral, the collateral is fetched: kss reads the quote's PCK certificate (FMSPC
from its SGX extension, Processor or Platform CA from its issuer) and asks --pccs URL, else
$KSS_PCCS_URL, else Intel's PCS (https://api.trustedservices.intel.com), API v4, for the TCB
info, QE identity, PCK CRL and Root CA CRL. Each piece is checked (signature, issuer chain to
the trust root) before it is used or cached. Cached pieces (--cache-dir, default
collateral-cache/ in the kss home) are used while valid at the verification time (--at);
--offline uses the cache only, --no-cache never touches it. See docs/collateral.md.

Collateral (--collateral PATH) comes in two forms:
  * a file: dcap-qvl's QuoteCollateralV3 JSON (keys pck_crl_issuer_chain, root_ca_crl,
    pck_crl, tcb_info_issuer_chain, tcb_info, tcb_info_signature, qe_identity_issuer_chain,
    qe_identity, qe_identity_signature);
  * a directory of raw Intel PCS responses, under kss's names or Intel's usual ones:
      tcb_info.json | tcbInfo.json                {\"tcbInfo\":{..},\"signature\":\"hex\"}
      tcb_info_issuer_chain.pem | tcbSignChain.pem | TCB-Info-Issuer-Chain
      qe_identity.json | qeIdentity.json          {\"enclaveIdentity\":{..},\"signature\":\"hex\"}
      qe_identity_issuer_chain.pem | qeIdentitySignChain.pem | SGX-Enclave-Identity-Issuer-Chain
                                    optional; defaults to the TCB info issuer chain
      pck_crl.der | pck_crl.pem | pckCrl.der | pckCrl.pem | intermediateCaCrl.der
      pck_crl_issuer_chain.pem | pckCrlIssuerChain.pem | SGX-PCK-CRL-Issuer-Chain
      root_ca_crl.der | root_ca_crl.pem | rootCaCrl.der | rootCaCrl.pem
      pck_chain.pem | pckCertChain.pem   optional PCK chain for quotes that do not carry one
    (all names: docs/verification.md). Chains saved from a response header may stay
    URL-encoded. A missing piece is named with every name looked for.
A strict verifier needs both CRLs: without them the quote is rejected.

Exit status: 0 accepted, 1 rejected (a check failed, the first one is named; or fetched
collateral failed its signature or chain check), 2 bad input (or a malformed answer from the
service), 3 collateral unavailable (service unreachable, timeout, HTTP error, --offline without
a valid cached piece).";

/// Arguments of `kss verify`.
#[derive(clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// The DCAP quote to verify (binary, as produced by the quoting enclave).
    pub quote: PathBuf,

    /// Collateral: a dcap-qvl JSON file or a directory of raw PCS files (see below).
    /// Without it, collateral is fetched from a PCCS or Intel's PCS (see below).
    #[arg(long, value_name = "PATH", conflicts_with_all = ["pccs", "pccs_ca", "cache_dir", "no_cache", "offline"])]
    pub collateral: Option<PathBuf>,

    /// Verification time: Unix seconds or RFC 3339 (e.g. 2025-07-19T10:01:17Z).
    /// Default: now. Every certificate, CRL, TCB info and QE identity must be valid then.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,

    /// Appraisal policy (JSON; see docs/policy.md). Default: accept any non-debug enclave on
    /// an UpToDate platform.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,

    /// Trust this root certificate (PEM or DER) instead of the built-in Intel SGX Root CA.
    /// Repeat to trust several. Roots are matched by public key.
    #[arg(long = "trust-root", value_name = "CERT")]
    pub trust_roots: Vec<PathBuf>,

    /// PCK certificate chain (PEM) for quotes whose certification data does not carry one
    /// (types 1-4). Overrides pck_chain.pem in a collateral directory.
    #[arg(long, value_name = "PEM")]
    pub pck_chain: Option<PathBuf>,

    /// Ignore bytes after the end of the quote (e.g. a zero-padded buffer). They are not
    /// signed, so they are not looked at; without this flag they are an input error.
    #[arg(long)]
    pub allow_trailing: bool,

    /// Expected REPORTDATA, hex: 64 bytes must match exactly (check report_data.exact), fewer
    /// bytes must open REPORTDATA (check report_data.prefix).
    #[arg(long, value_name = "HEX")]
    pub report_data: Option<String>,

    /// Runtime data (e.g. the enclave's public key or your nonce) whose hash must open
    /// REPORTDATA (check report_data.runtime_data). Without --runtime-data-hash either SHA-256
    /// (first 32 bytes) or SHA-512 (all 64 bytes) is accepted, as `kss serve` does.
    #[arg(long, value_name = "FILE")]
    pub runtime_data: Option<PathBuf>,

    /// Require this hash for --runtime-data: sha256 (REPORTDATA starts with the 32-byte digest)
    /// or sha512 (REPORTDATA is the 64-byte digest).
    #[arg(long, value_name = "HASH", value_parser = ["sha256", "sha512"], requires = "runtime_data")]
    pub runtime_data_hash: Option<String>,

    /// Print the verdict as JSON on stdout: accepted, tcb_status, advisory_ids, qe_tcb_status,
    /// report_body and every check with its outcome and reason.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub source: SourceArgs,
}

/// Runs the command.
pub fn run(args: Args) -> CliResult {
    // Options first: a bad --at is reported before any file is read.
    let at = time_arg(args.at.as_deref())?;
    let bytes = read_file(&args.quote, "quote", kss_io::limits::QUOTE)?;
    // Parsed once; the verifier is given the parsed quote (its own bytes, without trailing ones).
    let quote = crate::cmd::quote::parse_quote_file(&bytes, &args.quote, args.allow_trailing)?;
    drop(bytes);
    let pck_chain = args
        .pck_chain
        .as_deref()
        .map(|p| read_file(p, "PCK chain", kss_io::limits::COLLATERAL))
        .transpose()?;
    let roots = trust_roots(&args.trust_roots)?;
    let mut collateral = match &args.collateral {
        Some(path) => Collateral::from_path(path).map_err(|e| {
            CliError::input(e.to_string())
                .hint("see `kss verify --help` for the collateral forms")
                .input_name(path.display().to_string())
        })?,
        None => {
            args.source
                .fetch(quote.raw(), pck_chain.as_deref(), roots.clone(), at)?
                .collateral
        }
    };
    if pck_chain.is_some() {
        collateral.pck_chain = pck_chain;
    }
    let policy = match &args.policy {
        Some(p) => {
            let text = read_text(p, "policy", kss_io::limits::POLICY)?;
            Policy::from_json(&text, &p.display().to_string())
                .map_err(|e| CliError::input(e.to_string()).input_name(p.display().to_string()))?
        }
        None => Policy::default(),
    };
    let runtime_data = match &args.runtime_data {
        Some(p) => Some(read_file(p, "runtime data", kss_io::limits::QUOTE)?),
        None => None,
    };
    let expectations = report_data_expectations(&args, runtime_data.as_deref())?;
    // With an explicit --runtime-data-hash the runtime data is checked as an expectation with
    // that hash; otherwise `appraise` checks it as `kss serve` does (either hash).
    let appraised_runtime_data = match args.runtime_data_hash {
        Some(_) => None,
        None => runtime_data.as_deref(),
    };
    // The verifier checks with the default policy; `appraise` applies `policy`. This is the
    // code path `kss serve` uses, so both give the same verdict for the same inputs.
    let verifier = Verifier::with_trust_roots(roots, Policy::default());
    let (verdict, _) = kss_serve::appraise::appraise_quote(
        &verifier,
        &quote,
        &collateral,
        at,
        &policy,
        appraised_runtime_data,
    );
    let mut verdict = verdict;
    if !expectations.is_empty() {
        verdict.check_report_data(&expectations);
    }
    if args.json {
        print_json(&kss_serve::appraise::verdict_json(&verdict));
        return Ok(ExitCode::from(if verdict.accepted { 0 } else { 1 }));
    }
    let simulated = kss_attest::origin::quote_is_simulated(&quote);
    let text = crate::render::verdict_text(&args.quote.display().to_string(), &verdict, simulated);
    // A closed pipe (e.g. `| head`) is not an error worth a panic.
    let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes());
    match crate::render::rejection(&verdict, simulated, !args.trust_roots.is_empty()) {
        None => Ok(ExitCode::SUCCESS),
        Some(e) => Err(e),
    }
}

/// What `--report-data` and `--runtime-data` ask of REPORTDATA.
fn report_data_expectations(
    args: &Args,
    runtime_data: Option<&[u8]>,
) -> Result<Vec<ReportDataExpectation>, CliError> {
    let mut out = Vec::new();
    if let Some(text) = &args.report_data {
        let t = text.trim();
        let t = t.strip_prefix("0x").unwrap_or(t);
        let bytes = hex::decode(t)
            .ok()
            .and_then(|b| ReportDataExpectation::from_bytes(&b));
        out.push(bytes.ok_or_else(|| {
            CliError::input(format!(
                "--report-data: '{text}' is not valid: expected 1 to 64 bytes of hex \
                 (64 bytes: exact match; fewer: a prefix of REPORTDATA)"
            ))
            .input_name("--report-data")
        })?);
    }
    if let (Some(data), Some(name)) = (runtime_data, args.runtime_data_hash.as_deref()) {
        let hash = if name == "sha512" {
            RuntimeDataHash::Sha512
        } else {
            RuntimeDataHash::Sha256
        };
        out.push(ReportDataExpectation::RuntimeData {
            data: data.to_vec(),
            hash,
        });
    }
    Ok(out)
}
