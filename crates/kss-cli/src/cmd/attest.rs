//! `kss attest QUOTE --server URL`: attest a quote through a `kss serve` service.

use crate::error::{CliError, CliResult};
use crate::util::{ca_cert_error, client_error, print_json, read_file};
use base64::Engine as _;
use kss_attest::render::ReportBodyView;
use kss_serve::client::{Client, Target};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

const AFTER_HELP: &str = "\
Posts the quote to URL/v1/attest and prints the service's answer: the verdict (the same as
`kss verify --json` for the same collateral, time and policy) and the EAR token (a JWT; check it
with `kss token verify`).

Exit status: 0 accepted, 1 rejected (the first failed check is named), 2 bad input (also when
the service refuses the request: 400, 404, 413, 415), 3 the service cannot be reached or is
unavailable (503).";

/// Arguments of `kss attest`.
#[derive(clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// The DCAP quote (binary).
    pub quote: PathBuf,

    /// Base URL of the service, e.g. http://127.0.0.1:8443.
    #[arg(long, value_name = "URL")]
    pub server: String,

    /// Policy id (default: the service's `default`).
    #[arg(long, value_name = "ID")]
    pub policy: Option<String>,

    /// Fetch a nonce from the service first and send it; the token then carries it.
    #[arg(long)]
    pub nonce: bool,

    /// Runtime data whose SHA-256 or SHA-512 must start the quote's REPORTDATA.
    #[arg(long, value_name = "FILE")]
    pub runtime_data: Option<PathBuf>,

    /// CA certificate (PEM) of an https:// service.
    #[arg(long, value_name = "PEM")]
    pub ca_cert: Option<PathBuf>,

    /// Write the token to this file.
    #[arg(long, value_name = "FILE")]
    pub token_out: Option<PathBuf>,

    /// Print the service's whole answer as JSON: {"token", "verdict"}.
    #[arg(long)]
    pub json: bool,

    /// Give up after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub timeout: u64,
}

/// A JSON error body `{"error", "field"}` as one line.
fn service_error(status: u16, body: &[u8]) -> String {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(v) => {
            let e = v["error"].as_str().unwrap_or("(no message)");
            match v["field"].as_str() {
                Some(f) => format!("the service answered {status}: {e} (field {f})"),
                None => format!("the service answered {status}: {e}"),
            }
        }
        Err(_) => format!(
            "the service answered {status}: {}",
            String::from_utf8_lossy(&body[..body.len().min(200)])
        ),
    }
}

/// The body of `POST /v1/attest` (keys in this order; absent options are left out).
#[derive(serde::Serialize)]
struct AttestBody<'a> {
    /// The quote, standard base64.
    quote: String,
    /// The service's policy to appraise with.
    #[serde(skip_serializing_if = "Option::is_none")]
    policy_id: Option<&'a str>,
    /// A nonce from `GET /v1/nonce`.
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<String>,
    /// The runtime data, standard base64.
    #[serde(skip_serializing_if = "Option::is_none")]
    runtime_data: Option<String>,
}

/// Runs the command.
pub fn run(args: Args) -> CliResult {
    let quote = read_file(&args.quote, "quote", kss_io::limits::QUOTE)?;
    let runtime_data = match &args.runtime_data {
        Some(p) => Some(read_file(p, "runtime data", kss_io::limits::QUOTE)?),
        None => None,
    };
    let target = Target::parse(&args.server)
        .map_err(|e| CliError::input(e.to_string()).input_name("--server"))?;
    let client = Client::new(
        args.ca_cert.as_deref(),
        Duration::from_secs(args.timeout.max(1)),
    )
    .map_err(|e| ca_cert_error(args.ca_cert.as_deref(), e))?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::environment(e.to_string()))?;
    let unreachable = |e| client_error(&args.server, e);
    let (status, body) = rt.block_on(async {
        let nonce = if args.nonce {
            let (status, body) = client
                .request(&target, "GET", "/v1/nonce", None)
                .await
                .map_err(unreachable)?;
            if status != 200 {
                return Err(CliError::environment(service_error(status, &body)));
            }
            let v: serde_json::Value = serde_json::from_slice(&body)
                .map_err(|e| CliError::environment(format!("GET /v1/nonce: not JSON: {e}")))?;
            Some(v["nonce"].as_str().unwrap_or_default().to_string())
        } else {
            None
        };
        let b64 = base64::engine::general_purpose::STANDARD;
        let req = AttestBody {
            quote: b64.encode(&quote),
            policy_id: args.policy.as_deref(),
            nonce,
            runtime_data: runtime_data.as_ref().map(|r| b64.encode(r)),
        };
        let body = serde_json::to_vec(&req).map_err(|e| CliError::environment(e.to_string()))?;
        client
            .request(&target, "POST", "/v1/attest", Some(body.into()))
            .await
            .map_err(unreachable)
    })?;
    match status {
        200 => {}
        400 | 404 | 413 | 415 => return Err(CliError::input(service_error(status, &body))),
        _ => return Err(CliError::environment(service_error(status, &body))),
    }
    let answer: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|e| CliError::environment(format!("the service's answer is not JSON: {e}")))?;
    let token = answer["token"].as_str().unwrap_or_default();
    if let Some(p) = &args.token_out {
        crate::util::write_atomic(p, format!("{token}\n").as_bytes())?;
    }
    let verdict = &answer["verdict"];
    let accepted = verdict["accepted"].as_bool() == Some(true);
    if args.json {
        print_json(&answer);
        return Ok(ExitCode::from(if accepted { 0 } else { 1 }));
    }
    let first_fail = verdict["checks"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["outcome"] == "fail"));
    println!(
        "{}: {}",
        args.quote.display(),
        if accepted { "ACCEPTED" } else { "REJECTED" }
    );
    println!(
        "TCB status:   {}",
        crate::render::tcb_status_text(
            verdict["tcb_status"].as_str(),
            verdict["platform_tcb_status"].as_str(),
            verdict["qe_tcb_status"].as_str()
        )
    );
    // The service's report body is in the schema of every report body: shown the same way.
    if let Ok(b) = serde_json::from_value::<ReportBodyView>(verdict["report_body"].clone()) {
        print!("{}", b.text(crate::render::ISV_REPORT_TITLE));
    }
    if let Some(c) = verdict["checks"].as_array().and_then(|cs| {
        cs.iter()
            .find(|c| c["name"] == kss_serve::appraise::RUNTIME_DATA_CHECK.as_str())
    }) {
        println!("runtime data: {}", c["reason"].as_str().unwrap_or(""));
    }
    match &args.token_out {
        Some(p) => println!("token:        written to {}", p.display()),
        None => println!("token:        {token}"),
    }
    match first_fail {
        None => Ok(ExitCode::SUCCESS),
        Some(f) => Err(CliError::rejected(format!(
            "quote rejected: {} ({})",
            f["reason"].as_str().unwrap_or(""),
            f["name"].as_str().unwrap_or("")
        ))),
    }
}
