//! Times loading an enclave with a large EADD-only heap on the simulator, against the baseline
//! of only validating and hashing the same SGXS stream (`kss_sgxs::measure_stream`).
//!
//! `cargo run -p kss-enclave --release --example load_heap -- [heap GiB, default 4]`

use kss_enclave::sim::{load_sgxs, SimCpu};
use kss_sgxs::{measure_stream, SgxsWriter};
use kss_types::{KssConfig, SecinfoFlags, Sigstruct};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let gib: u64 = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(4);
    let pages = gib << 18;
    let size = (pages * 4096 * 2).next_power_of_two();
    let mut w = SgxsWriter::new(Vec::new(), 1, size)?;
    w.eadd(0, SecinfoFlags::TCS)?;
    w.add_page(0x1000, SecinfoFlags::REG_RX, Some(&[0x90; 4096]))?;
    for i in 0..pages {
        w.eadd(0x2000 + i * 4096, SecinfoFlags::REG_RW)?;
    }
    let (stream, mr) = w.finish()?;
    println!(
        "stream: {} MiB, {} heap pages ({gib} GiB)",
        stream.len() >> 20,
        pages
    );

    let t = Instant::now();
    let m = measure_stream(&stream[..])?;
    let baseline = t.elapsed();
    assert_eq!(m.mr_enclave, mr);

    // A SIGSTRUCT with the right ENCLAVEHASH but no signature: EINIT stops at
    // SGX_INVALID_SIGNATURE after ECREATE/EADD/EEXTEND have processed the whole stream.
    let mut sig = Sigstruct::unsigned();
    sig.enclave_hash = mr;
    sig.attributes = kss_types::Attributes::new(0x4, 0x3);
    let t = Instant::now();
    let r = load_sgxs(&stream[..], &KssConfig::default(), &sig, &SimCpu::default());
    let load = t.elapsed();
    println!("measure_stream (baseline): {baseline:?}");
    println!(
        "sim::load_sgxs:            {load:?} ({:?})",
        r.err().map(|e| e.to_string())
    );
    Ok(())
}
