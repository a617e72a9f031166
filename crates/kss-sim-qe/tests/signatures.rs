//! Simulated quotes checked by implementations other than the signer's: `ring` for every
//! ECDSA signature (quote, QE report, each certificate of the chain, CRLs, collateral) and the
//! published `dcap-qvl` verifier for the whole quote + collateral against the simulated root.

use der::{Decode, Encode};
use kss_attest::pck::{parse_pem_chain, sgx_extension_of_cert};
use kss_attest::quote::{Quote, INTEL_QE_VENDOR_ID};
use kss_sim_qe::SimQuotingEnclave;
use kss_types::{Attributes, ConfigId, Id128, ReportBody};
use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_FIXED};
use x509_cert::crl::CertificateList;
use x509_cert::Certificate;

fn kss_report_body() -> ReportBody {
    let mut rd = [0u8; 64];
    rd[..13].copy_from_slice(b"hello, quotes");
    ReportBody {
        // INIT | MODE64BIT | KSS, not DEBUG.
        attributes: Attributes::new(0x85, 0x3),
        mr_enclave: [0x11; 32],
        mr_signer: [0x22; 32],
        isv_prod_id: 7,
        isv_svn: 3,
        config_id: ConfigId::from_prefix(b"tenant=42").unwrap(),
        config_svn: 9,
        isv_family_id: Id128::from_high_low(3, 4),
        isv_ext_prod_id: Id128::from_high_low(1, 2),
        report_data: rd,
        ..ReportBody::default()
    }
}

fn spki_point(cert: &Certificate) -> Vec<u8> {
    cert.tbs_certificate
        .subject_public_key_info
        .subject_public_key
        .raw_bytes()
        .to_vec()
}

/// ring check of an X.509 signature: ECDSA P-256 SHA-256 over the TBS DER.
fn ring_verify_cert(cert: &Certificate, issuer: &Certificate) {
    let tbs = cert.tbs_certificate.to_der().unwrap();
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, spki_point(issuer))
        .verify(&tbs, cert.signature.raw_bytes())
        .unwrap_or_else(|_| {
            panic!(
                "ring rejects the signature on {}",
                cert.tbs_certificate.subject
            )
        });
}

#[test]
fn simulated_quote_verifies_with_ring() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sim-ca");
    let qe = SimQuotingEnclave::load_or_create(&dir).unwrap();
    let body = kss_report_body();
    let bytes = qe.quote(&body).unwrap();

    let q = Quote::parse(&bytes).expect("simulated quote parses strictly");
    assert_eq!(q.header.version, 3);
    assert_eq!(q.header.att_key_type, 2);
    assert_eq!(q.header.tee_type, 0);
    assert_eq!(q.header.qe_vendor_id, INTEL_QE_VENDOR_ID);
    assert_eq!(&q.header.user_data[..16], &qe.platform().qe_id);
    assert_eq!(&q.header.user_data[16..], &[0; 4]);
    assert_eq!(q.header.qe_svn, qe.platform().qe_isv_svn);
    assert_eq!(q.report_body(), Some(&body));
    // Marked as simulated by its chain's root, whatever the QE vendor ID says.
    assert!(kss_attest::origin::quote_is_simulated(&q));
    assert!(kss_sim_qe::ROOT_SUBJECT.contains(&format!(
        "O={}",
        kss_attest::origin::SIMULATION_ORGANIZATION
    )));
    assert_eq!(
        kss_attest::json::quote_json(&q, Default::default())["simulated"],
        true
    );
    assert_eq!(q.signature.certification.cert_type, 5);
    assert_eq!(q.signature.qe_auth_data.len(), 32);
    assert_eq!(q.signature.qe_report.isv_prod_id, 1);

    // 1. ISV signature by the attestation key over [0..432).
    let mut att = vec![0x04];
    att.extend_from_slice(&q.signature.attestation_key);
    assert_eq!(q.signed_bytes(), &bytes[..432]);
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &att)
        .verify(q.signed_bytes(), &q.signature.isv_signature)
        .expect("ring accepts the quote signature");
    // A flipped bit in the signed region must fail.
    let mut tampered = q.signed_bytes().to_vec();
    tampered[352] ^= 1; // ISVFAMILYID
    assert!(UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &att)
        .verify(&tampered, &q.signature.isv_signature)
        .is_err());

    // 2. QE binding: REPORTDATA[0..32] = SHA-256(attestation key || QE auth data).
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(&q.signature.attestation_key);
    ctx.update(&q.signature.qe_auth_data);
    assert_eq!(
        &q.signature.qe_report.report_data[..32],
        ctx.finish().as_ref()
    );
    assert_eq!(&q.signature.qe_report.report_data[32..], &[0u8; 32]);

    // 3. QE report signature by the PCK key (from the leaf certificate in the quote).
    let chain = parse_pem_chain(q.pck_chain_pem().unwrap()).unwrap();
    assert_eq!(chain.len(), 3);
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, spki_point(&chain[0]))
        .verify(&q.signature.qe_report_raw, &q.signature.qe_report_signature)
        .expect("ring accepts the QE report signature");

    // 4. Chain: leaf <- platform CA <- root (self-signed).
    ring_verify_cert(&chain[0], &chain[1]);
    ring_verify_cert(&chain[1], &chain[2]);
    ring_verify_cert(&chain[2], &chain[2]);
    assert_eq!(&chain[2], qe.root_certificate());

    // 5. The PCK's SGX extension carries the simulated platform.
    let ext = sgx_extension_of_cert(&chain[0]).unwrap();
    assert_eq!(ext, qe.platform().sgx_extension());

    // 6. Reloading gives the same keys: a new quote verifies against the same root.
    let again = SimQuotingEnclave::load_or_create(&dir).unwrap();
    assert_eq!(again.attestation_public_key(), qe.attestation_public_key());
    assert_eq!(again.platform(), qe.platform());
    let q2 = Quote::parse(&again.quote(&body).unwrap()).unwrap();
    let chain2 = parse_pem_chain(q2.pck_chain_pem().unwrap()).unwrap();
    assert_eq!(chain2, chain);
}

#[cfg(unix)]
#[test]
fn sim_ca_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("kss").join("sim-ca");
    SimQuotingEnclave::load_or_create(&dir).unwrap();
    let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "directory mode");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "attestation.key",
            "pck.key",
            "pck.pem",
            "platform-ca.key",
            "platform-ca.pem",
            "platform.json",
            "root.key",
            "root.pem",
            "tcb-signing.key",
            "tcb-signing.pem"
        ]
    );
    for n in names {
        let mode = std::fs::metadata(dir.join(&n))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{n}");
    }
}

/// Threads of one process creating the CA at the same moment each succeed and all end up with
/// the one CA that was published, complete, with no staging directory left behind (staging
/// names used to be per process, so threads wiped each other's files).
#[test]
fn concurrent_first_use_in_one_process_gives_one_complete_ca() {
    for round in 0..8 {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("sim-ca");
        let barrier = std::sync::Barrier::new(4);
        let roots: Vec<String> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        SimQuotingEnclave::load_or_create(&dir)
                            .unwrap_or_else(|e| panic!("round {round}: {e}"))
                            .root_pem()
                            .unwrap()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(
            roots.windows(2).all(|w| w[0] == w[1]),
            "round {round}: one CA"
        );
        let again = SimQuotingEnclave::load_or_create(&dir).unwrap();
        assert_eq!(again.root_pem().unwrap(), roots[0]);
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 10, "complete");
        let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n != "sim-ca")
            .collect();
        assert!(leftovers.is_empty(), "round {round}: {leftovers:?}");
    }
}

fn hex_field(v: &serde_json::Value, k: &str) -> Vec<u8> {
    hex::decode(v[k].as_str().unwrap()).unwrap()
}

#[test]
fn exported_collateral_is_signed_by_the_sim_ca() {
    let tmp = tempfile::tempdir().unwrap();
    let qe = SimQuotingEnclave::load_or_create(&tmp.path().join("ca")).unwrap();
    let now = 1_800_000_000;
    let out = tmp.path().join("export");
    let c = qe.export_collateral(&out, now).unwrap();
    for f in [
        "root.pem",
        "collateral.json",
        "tcb_info.json",
        "qe_identity.json",
        "tcb_info_issuer_chain.pem",
        "qe_identity_issuer_chain.pem",
        "pck_crl.der",
        "pck_crl_issuer_chain.pem",
        "root_ca_crl.der",
        "pck_chain.pem",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
    // Each CRL is written once, under the collateral directory's name.
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 10);
    assert_eq!(c.files.len(), 10);
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("collateral.json")).unwrap()).unwrap();
    let root = parse_pem_chain(&std::fs::read(out.join("root.pem")).unwrap()).unwrap();
    let root = &root[0];

    // TCB info and QE identity: ring over the exact strings with the TCB signing key.
    let tcb_chain =
        parse_pem_chain(v["tcb_info_issuer_chain"].as_str().unwrap().as_bytes()).unwrap();
    ring_verify_cert(&tcb_chain[0], root);
    for (body, sig) in [
        ("tcb_info", "tcb_info_signature"),
        ("qe_identity", "qe_identity_signature"),
    ] {
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, spki_point(&tcb_chain[0]))
            .verify(v[body].as_str().unwrap().as_bytes(), &hex_field(&v, sig))
            .unwrap_or_else(|_| panic!("{body} signature"));
    }
    let tcb: serde_json::Value = serde_json::from_str(v["tcb_info"].as_str().unwrap()).unwrap();
    assert_eq!(tcb["id"], "SGX");
    assert_eq!(tcb["version"], 3);
    assert_eq!(tcb["issueDate"], "2027-01-15T08:00:00Z");
    assert_eq!(tcb["nextUpdate"], "2027-02-14T08:00:00Z");
    assert_eq!(
        tcb["fmspc"].as_str().unwrap(),
        hex::encode_upper(qe.platform().fmspc)
    );
    assert_eq!(tcb["tcbLevels"][0]["tcbStatus"], "UpToDate");
    let qid: serde_json::Value = serde_json::from_str(&c.qe_identity).unwrap();
    assert_eq!(qid["id"], "QE");
    assert_eq!(qid["isvprodid"], 1);
    assert_eq!(
        qid["mrsigner"].as_str().unwrap(),
        hex::encode_upper(qe.platform().qe_mr_signer)
    );

    // CRLs: ring over the TBS with the root and platform CA keys.
    let ca_chain = parse_pem_chain(v["pck_crl_issuer_chain"].as_str().unwrap().as_bytes()).unwrap();
    for (field, issuer) in [("root_ca_crl", root), ("pck_crl", &ca_chain[0])] {
        let crl = CertificateList::from_der(&hex_field(&v, field)).unwrap();
        assert_eq!(crl.tbs_cert_list.issuer, issuer.tbs_certificate.subject);
        let tbs = crl.tbs_cert_list.to_der().unwrap();
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, spki_point(issuer))
            .verify(&tbs, crl.signature.raw_bytes())
            .unwrap_or_else(|_| panic!("{field} signature"));
        assert_eq!(
            crl.tbs_cert_list.this_update.to_unix_duration().as_secs(),
            now
        );
        assert_eq!(
            crl.tbs_cert_list
                .next_update
                .unwrap()
                .to_unix_duration()
                .as_secs(),
            now + 30 * 86_400
        );
    }
}

#[test]
fn dcap_qvl_accepts_simulated_quote_with_explicit_sim_root() {
    let tmp = tempfile::tempdir().unwrap();
    let qe = SimQuotingEnclave::load_or_create(&tmp.path().join("ca")).unwrap();
    let quote = qe.quote(&kss_report_body()).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let c = qe.collateral(now).unwrap();
    let collateral: dcap_qvl::QuoteCollateralV3 = serde_json::from_str(&c.collateral_json).unwrap();
    let root_der = qe.root_certificate().to_der().unwrap();
    let report = dcap_qvl::verify::QuoteVerifier::new(root_der)
        .verify(&quote, &collateral, now + 60)
        .expect("dcap-qvl verifies the simulated quote against the simulated root");
    assert_eq!(report.status, "UpToDate");
    assert!(report.advisory_ids.is_empty());

    // The same quote is rejected when only Intel's root is trusted.
    assert!(dcap_qvl::verify::QuoteVerifier::new_prod()
        .verify(&quote, &collateral, now + 60)
        .is_err());
    // And after the collateral has expired.
    assert!(
        dcap_qvl::verify::QuoteVerifier::new(qe.root_certificate().to_der().unwrap())
            .verify(&quote, &collateral, now + 31 * 86_400)
            .is_err()
    );
}

/// `export_collateral` writes a raw PCS directory that `Collateral::from_path` reads, and the
/// verifier accepts a simulated quote with it when (and only when) told to trust the sim root.
#[test]
fn exported_directory_verifies_a_simulated_quote() {
    use kss_attest::collateral::Collateral;
    use kss_attest::policy::Policy;
    use kss_attest::verify::{trust_root_key, Outcome, Verifier};

    let tmp = tempfile::tempdir().unwrap();
    let qe = SimQuotingEnclave::load_or_create(&tmp.path().join("ca")).unwrap();
    let quote = qe.quote(&kss_report_body()).unwrap();
    let now = kss_attest::now();
    let out = tmp.path().join("export");
    qe.export_collateral(&out, now).unwrap();
    let col = Collateral::from_path(&out).expect("the exported directory reads as collateral");
    assert!(col.pck_crl.is_some() && col.root_ca_crl.is_some());
    assert!(col.pck_crl_issuer_chain.is_some() && col.pck_chain.is_some());

    let root = trust_root_key(&std::fs::read(out.join("root.pem")).unwrap(), "root").unwrap();
    let v =
        Verifier::with_trust_roots(vec![root], Policy::default()).verify(&quote, &col, now + 60);
    let failed: Vec<String> = v
        .checks
        .iter()
        .filter(|c| c.outcome == Outcome::Fail)
        .map(|c| format!("{}: {}", c.name, c.reason))
        .collect();
    assert!(v.accepted, "{failed:?}");
    assert_eq!(v.tcb_status, Some(kss_attest::tcb::TcbStatus::UpToDate));

    // Intel's root alone does not accept it.
    assert!(!Verifier::default().verify(&quote, &col, now + 60).accepted);
}

/// A creation killed half-way leaves a staging directory (with private keys in it) next to the
/// CA; the next use removes it, whether it then creates the CA or finds it made.
#[cfg(unix)]
#[test]
fn a_killed_creations_staging_directory_is_swept() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sim-ca");
    // No process has a pid above the kernel's maximum (2^22).
    let plant = |n: u32| {
        let stale = tmp.path().join(format!(".kss-staging-sim-ca-99999999~{n}"));
        std::fs::create_dir(&stale).unwrap();
        std::fs::write(stale.join("root.key"), b"a private key").unwrap();
        stale
    };
    let names = || -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let stale = plant(0);
    SimQuotingEnclave::load_or_create(&dir).unwrap();
    assert!(!stale.exists());
    assert_eq!(names(), ["sim-ca"]);
    let stale = plant(1);
    SimQuotingEnclave::load_or_create(&dir).unwrap();
    assert!(!stale.exists());
    assert_eq!(names(), ["sim-ca"]);
}
