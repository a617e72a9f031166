//! `dcap_test`: an example workload, like Occlum's `dcap_test`. Run it inside `kss run`:
//!
//! ```text
//! kss run myapp --config-id "$(base64 64.bin)" --config-svn 0x12ab -- /bin/dcap_test
//! ```
//!
//! It asks its enclave for a DCAP quote (with REPORTDATA "dcap_test"), parses it and prints the
//! KSS fields the quote carries, then writes the quote to `$DCAP_TEST_QUOTE` if that is set.

use kss_attest::quote::Quote;
use kss_service::Client;
use std::process::ExitCode;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dcap_test: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let client = Client::from_env()?;
    let mut report_data = [0u8; 64];
    report_data[..9].copy_from_slice(b"dcap_test");
    let bytes = client.quote(&report_data)?;
    let quote = Quote::parse(&bytes)?;
    let body = quote.report_body().ok_or("the quote is not an SGX quote")?;
    println!(
        "DCAP quote v{} ({} bytes), attestation key type {}",
        quote.header.version,
        bytes.len(),
        quote.header.att_key_type
    );
    println!("MRENCLAVE:     {}", hex(&body.mr_enclave));
    println!("MRSIGNER:      {}", hex(&body.mr_signer));
    println!("ISVPRODID:     {}", body.isv_prod_id);
    println!("ISVSVN:        {}", body.isv_svn);
    println!("ATTRIBUTES:    {}", body.attributes.flags);
    println!("CONFIGID:      {}", hex(&body.config_id.0));
    println!(
        "CONFIGSVN:     {:#06x} ({})",
        body.config_svn, body.config_svn
    );
    println!(
        "ISVFAMILYID:   {} (high {:#x}, low {:#x})",
        hex(&body.isv_family_id.0),
        body.isv_family_id.high(),
        body.isv_family_id.low()
    );
    println!(
        "ISVEXTPRODID:  {} (high {:#x}, low {:#x})",
        hex(&body.isv_ext_prod_id.0),
        body.isv_ext_prod_id.high(),
        body.isv_ext_prod_id.low()
    );
    println!("REPORTDATA:    {}", hex(&body.report_data));
    if let Some(path) = std::env::var_os("DCAP_TEST_QUOTE") {
        std::fs::write(&path, &bytes)?;
        println!("quote written to {}", std::path::Path::new(&path).display());
    }
    Ok(())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
