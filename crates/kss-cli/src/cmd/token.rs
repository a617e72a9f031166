//! `kss token verify TOKEN --jwks URL|FILE` and `kss token keygen --out FILE`.

use crate::error::{CliError, CliResult};
use crate::util::{ca_cert_error, client_error, print_json, read_file, read_text};
use kss_serve::client::{Client, Target};
use kss_serve::token::{Jwks, EAR_PROFILE};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Token subcommands.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Check an attestation token's signature (against a JWKS), expiry and nonce; print its
    /// claims. Exit 0 valid, 1 invalid (signature, expired, nonce), 2 bad input, 3 the JWKS
    /// cannot be fetched.
    Verify(VerifyArgs),
    /// Write a new EC P-256 token signing key (PKCS#8 PEM, mode 0600) for `kss serve`.
    Keygen(KeygenArgs),
}

/// Arguments of `kss token verify`.
#[derive(clap::Args)]
pub struct VerifyArgs {
    /// File holding the token (a compact JWS; surrounding whitespace is ignored).
    pub token: PathBuf,
    /// The signing keys: a JWKS file, or the service's URL of it
    /// (e.g. http://127.0.0.1:8443/.well-known/jwks.json).
    #[arg(long, value_name = "URL|FILE")]
    pub jwks: String,
    /// Require this nonce in the token (eat_nonce).
    #[arg(long, value_name = "NONCE")]
    pub nonce: Option<String>,
    /// CA certificate (PEM) for an https:// JWKS URL.
    #[arg(long, value_name = "PEM")]
    pub ca_cert: Option<PathBuf>,
    /// Print the claims as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `kss token keygen`.
#[derive(clap::Args)]
pub struct KeygenArgs {
    /// Where to write the key (refuses an existing file).
    #[arg(long, value_name = "PEM")]
    pub out: PathBuf,
}

/// Runs the command.
pub fn run(cmd: Command) -> CliResult {
    match cmd {
        Command::Verify(a) => verify(a),
        Command::Keygen(a) => {
            let kid = kss_serve::token::write_new_key(&a.out)
                .map_err(|e| CliError::environment(e.to_string()))?;
            println!("wrote {} (kid {kid})", a.out.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn fetch_jwks(args: &VerifyArgs) -> Result<Vec<u8>, CliError> {
    if !(args.jwks.starts_with("http://") || args.jwks.starts_with("https://")) {
        return read_file(
            std::path::Path::new(&args.jwks),
            "JWKS",
            kss_io::limits::POLICY,
        );
    }
    let url: hyper::Uri = args.jwks.parse().map_err(|e| {
        CliError::input(format!("--jwks {}: {e}", args.jwks)).input_name(&args.jwks)
    })?;
    let base = format!(
        "{}://{}",
        url.scheme_str().unwrap_or("http"),
        url.authority().map(|a| a.as_str()).unwrap_or("")
    );
    let target =
        Target::parse(&base).map_err(|e| CliError::input(e.to_string()).input_name(&args.jwks))?;
    let client = Client::new(args.ca_cert.as_deref(), Duration::from_secs(30))
        .map_err(|e| ca_cert_error(args.ca_cert.as_deref(), e))?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::environment(e.to_string()))?;
    let path = url.path_and_query().map_or("/", |p| p.as_str()).to_string();
    let (status, body) = rt
        .block_on(client.request(&target, "GET", &path, None))
        .map_err(|e| client_error(&format!("--jwks {}", args.jwks), e))?;
    if status != 200 {
        return Err(CliError::environment(format!(
            "--jwks {}: the server answered {status}",
            args.jwks
        )));
    }
    Ok(body.to_vec())
}

fn verify(args: VerifyArgs) -> CliResult {
    let token = read_text(&args.token, "token", kss_io::limits::POLICY)?;
    let token = token.trim();
    let jwks_bytes = fetch_jwks(&args)?;
    let jwks: Jwks = serde_json::from_slice(&jwks_bytes).map_err(|e| {
        CliError::input(format!("--jwks {}: not a JWKS: {e}", args.jwks)).input_name(&args.jwks)
    })?;
    let header = jsonwebtoken::decode_header(token).map_err(|e| {
        CliError::input(format!("{}: not a JWT: {e}", args.token.display()))
            .input_name(args.token.display().to_string())
    })?;
    if header.alg != jsonwebtoken::Algorithm::ES256 {
        return Err(CliError::rejected(format!(
            "the token is signed with {:?}; only ES256 is accepted",
            header.alg
        )));
    }
    let key = match &header.kid {
        Some(kid) => jwks.keys.iter().find(|k| &k.kid == kid),
        None if jwks.keys.len() == 1 => jwks.keys.first(),
        None => None,
    }
    .filter(|k| k.kty == "EC" && k.crv == "P-256")
    .ok_or_else(|| {
        CliError::rejected(format!(
            "no EC P-256 key with kid {:?} in the JWKS",
            header.kid.as_deref().unwrap_or("(none)")
        ))
    })?;
    let decoding = jsonwebtoken::DecodingKey::from_ec_components(&key.x, &key.y).map_err(|e| {
        CliError::input(format!("JWKS key {}: {e}", key.kid)).input_name(&args.jwks)
    })?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.leeway = 0;
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp", "iat"]);
    let data =
        jsonwebtoken::decode::<serde_json::Value>(token, &decoding, &validation).map_err(|e| {
            match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                    CliError::rejected("the token has expired (exp is in the past)")
                }
                jsonwebtoken::errors::ErrorKind::InvalidSignature => {
                    CliError::rejected("the token's signature is invalid")
                }
                _ => CliError::rejected(format!("the token is not valid: {e}")),
            }
        })?;
    let claims = data.claims;
    if claims["eat_profile"] != EAR_PROFILE {
        return Err(CliError::rejected(format!(
            "eat_profile is {}, expected {EAR_PROFILE}",
            claims["eat_profile"]
        )));
    }
    if let Some(n) = &args.nonce {
        if claims["eat_nonce"].as_str() != Some(n.as_str()) {
            return Err(CliError::rejected(format!(
                "the token's nonce is {}, expected {n}",
                claims["eat_nonce"]
            )));
        }
    }
    if args.json {
        print_json(&claims);
        return Ok(ExitCode::SUCCESS);
    }
    let sgx = &claims["submods"]["sgx"];
    let ev = &sgx["ear.veraison.annotated-evidence"];
    println!("signature:    valid (ES256, kid {})", key.kid);
    println!(
        "issued:       {}  expires: {}",
        fmt_time(&claims["iat"]),
        fmt_time(&claims["exp"])
    );
    println!(
        "status:       {}",
        sgx["ear.status"].as_str().unwrap_or("?")
    );
    println!(
        "policy:       {}",
        sgx["ear.appraisal-policy-id"].as_str().unwrap_or("?")
    );
    println!(
        "TCB status:   {}",
        ev["tcb_status"].as_str().unwrap_or("(not established)")
    );
    if let Some(f) = ev["first_failed_check"].as_object() {
        println!(
            "first failed: {} ({})",
            f["name"].as_str().unwrap_or(""),
            f["reason"].as_str().unwrap_or("")
        );
    }
    if let Some(n) = claims["eat_nonce"].as_str() {
        println!("nonce:        {n}");
    }
    if let Some(b) = ev["report_body"].as_object() {
        println!("MRENCLAVE:    {}", b["mr_enclave"].as_str().unwrap_or(""));
        println!("CONFIGSVN:    {}", b["config_svn"]);
    }
    Ok(ExitCode::SUCCESS)
}

fn fmt_time(v: &serde_json::Value) -> String {
    v.as_u64()
        .map(kss_attest::format_rfc3339)
        .unwrap_or_else(|| "?".into())
}
