//! In-process cost of one attestation as the service does it (warm verification with the
//! request's policy, EAR claims, ES256 signing), single thread, next to verification alone.
//!
//! ```text
//! cargo run --release -p kss-serve --example attest_inproc -- [N]
//! ```
//!
//! Uses the phala quote and collateral at 1752919277 with a policy that accepts its TCB status.

use kss_serve::policies::PolicySet;
use kss_serve::{AppState, CollateralConfig, ServeConfig};
use std::time::Instant;

const TD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/");

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: u32 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(4000);
    let dir = tempfile::tempdir()?;
    let key = dir.path().join("key.pem");
    kss_serve::token::write_new_key(&key).map_err(|e| e.to_string())?;
    let pdir = dir.path().join("policies");
    std::fs::create_dir_all(&pdir)?;
    std::fs::write(
        pdir.join("lenient.json"),
        r#"{"accepted_tcb_statuses": ["UpToDate", "ConfigurationAndSWHardeningNeeded"]}"#,
    )?;
    let mut config = ServeConfig::new(
        "127.0.0.1:0".parse()?,
        key,
        pdir.clone(),
        CollateralConfig::Fixed(format!("{TD}phala-dcap-qvl/sgx_quote_collateral.json").into()),
    );
    config.at = Some(1_752_919_277);
    let state = AppState::new(&config)?;
    let policies = PolicySet::load(&pdir)?;
    let policy = policies.get("lenient").ok_or("policy")?.clone();
    let quote = std::fs::read(format!("{TD}phala-dcap-qvl/sgx_quote"))?;
    // Warm up (fills the verifier's cache), then time.
    for _ in 0..100 {
        state.attest(&quote, &policy, None, None)?;
    }
    let t = Instant::now();
    for _ in 0..n {
        let o = state.attest(&quote, &policy, None, None)?;
        assert_eq!(o.status, kss_serve::token::EarStatus::Warning);
    }
    let each = t.elapsed().as_secs_f64() * 1e6 / f64::from(n);
    println!(
        "attest in process (verify + claims + ES256): {each:.1} µs each, {:.0}/s on one thread",
        1e6 / each
    );
    Ok(())
}
