//! Profiling aid: times each part of a cold verification separately, and splits a cold
//! verification into its nine ECDSA checks and the rest.
//!
//! `cargo test --release -p kss-attest --lib verify_parts -- --ignored --nocapture`
//! (`KSS_PARTS=tcb` for the TCB-info variant). It needs the crate's internals, so it is an
//! ignored unit test rather than an example.
use crate::collateral::Collateral;
use crate::x509util::{pem_blocks, Cert, Crl};
use std::time::Instant;

const TD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/");

fn time<T>(name: &str, n: u32, mut f: impl FnMut() -> T) {
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(f());
    }
    println!(
        "{name:30} {:8.2} µs",
        t.elapsed().as_secs_f64() * 1e6 / f64::from(n)
    );
}

#[test]
#[ignore = "profiling aid, run by hand with --release"]
fn verify_parts() {
    let json = std::fs::read(format!("{TD}phala-dcap-qvl/sgx_quote_collateral.json")).unwrap();
    let quote = std::fs::read(format!("{TD}phala-dcap-qvl/sgx_quote")).unwrap();
    let col = Collateral::from_dcap_qvl_json(&json, "phala").unwrap();
    let q = crate::quote::Quote::parse(&quote).unwrap();
    let pck_pem = q.pck_chain_pem().unwrap().to_vec();
    let pck_text = std::str::from_utf8(pck_pem.strip_suffix(&[0]).unwrap_or(&pck_pem))
        .unwrap()
        .to_string();
    let n = 5000;
    if std::env::var("KSS_PARTS").as_deref() == Ok("tcb") {
        let tcb = col.tcb_info.text().unwrap().to_string();
        time("TcbInfo::from_json x50000", 50000, || {
            crate::tcb::TcbInfo::from_json(&tcb).unwrap()
        });
        return;
    }
    time("pem_blocks pck chain", n, || {
        pem_blocks(&pck_text, "x").unwrap()
    });
    let ders: Vec<Vec<u8>> = pem_blocks(&pck_text, "x")
        .unwrap()
        .into_iter()
        .map(|b| b.1)
        .collect();
    let tcb_text = std::str::from_utf8(&col.tcb_info_issuer_chain).unwrap();
    let tcb_ders: Vec<Vec<u8>> = pem_blocks(tcb_text, "x")
        .unwrap()
        .into_iter()
        .map(|b| b.1)
        .collect();
    for (i, d) in ders.iter().chain(tcb_ders.iter().take(1)).enumerate() {
        time(&format!("Cert::from_der #{i} ({} B)", d.len()), n, || {
            Cert::from_der(d, "x").unwrap()
        });
    }
    let leaf = Cert::from_der(&ders[0], "x").unwrap();
    time("sgx extension", n, || {
        crate::pck::parse_sgx_extension(leaf.extension(&crate::pck::SGX_EXTENSION_OID).unwrap())
            .unwrap()
    });
    let rc = col.root_ca_crl.clone().unwrap();
    let pc = col.pck_crl.clone().unwrap();
    time(&format!("Crl::parse root ({} B)", rc.len()), n, || {
        Crl::parse(&rc, "x").unwrap()
    });
    time(&format!("Crl::parse pck ({} B)", pc.len()), n, || {
        Crl::parse(&pc, "x").unwrap()
    });
    let tcb = col.tcb_info.text().unwrap().to_string();
    time(&format!("TcbInfo::from_json ({} B)", tcb.len()), n, || {
        crate::tcb::TcbInfo::from_json(&tcb).unwrap()
    });
    let qe = col.qe_identity.text().unwrap().to_string();
    time(
        &format!("QeIdentity::from_json ({} B)", qe.len()),
        n,
        || crate::tcb::QeIdentity::from_json(&qe).unwrap(),
    );
    time("Quote::parse", n, || {
        crate::quote::Quote::parse(&quote).unwrap()
    });
    time("format_rfc3339", n, || {
        crate::dcap_time::format_rfc3339(1_752_919_277)
    });
    let policy = crate::policy::Policy::default().with_accepted_tcb_statuses(vec![
        crate::tcb::TcbStatus::UpToDate,
        crate::tcb::TcbStatus::ConfigurationAndSWHardeningNeeded,
    ]);
    let at = 1_752_919_277;
    // One signature check alone, then whole cold verifications (which make nine).
    let ca = Cert::from_der(&ders[1], "x").unwrap();
    let ecdsa = || crate::x509util::verify_p256_der(&ca.public_key, leaf.tbs(), leaf.signature());
    assert!(ecdsa());
    // Interleaved batches, medians: the machine's speed drifts.
    let (mut ones, mut totals) = (Vec::new(), Vec::new());
    for _ in 0..60 {
        let t = Instant::now();
        for _ in 0..90 {
            std::hint::black_box(ecdsa());
        }
        ones.push(t.elapsed().as_secs_f64() * 1e6 / 90.0);
        let t = Instant::now();
        for _ in 0..10 {
            let v = crate::verify::Verifier::new(policy.clone());
            std::hint::black_box(v.verify(&quote, &col, at).accepted);
        }
        totals.push(t.elapsed().as_secs_f64() * 1e6 / 10.0);
    }
    ones.sort_by(f64::total_cmp);
    totals.sort_by(f64::total_cmp);
    let (one, total) = (ones[ones.len() / 2], totals[totals.len() / 2]);
    println!(
        "one ECDSA {one:.1} µs; cold verify {total:.1} µs = 9 x ECDSA {:.1} + rest {:.1} µs (medians of 60 interleaved batches)",
        9.0 * one,
        total - 9.0 * one
    );
}
