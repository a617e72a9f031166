//! The shallow certificate and CRL parser of `x509util` reads exactly what a full `x509-cert`
//! decode reads, for every certificate and CRL in `testdata/`.

use crate::pck::SGX_EXTENSION_OID;
use crate::x509util::{parse_pem_certs, Cert, Crl};
use der::{Decode, Encode};
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::BasicConstraints;
use x509_cert::Certificate;

const TD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/");

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(format!("{TD}{rel}")).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

const PEM_FILES: &[&str] = &[
    "intel-qvl-sampledata/tcbSignChain.pem",
    "intel-qvl-sampledata/pckSignChain.pem",
    "intel-qvl-sampledata/trustedRootCaCert.pem",
    "intel-qvl-sampledata/pckCert.pem",
    "intel-sgx-root-ca/Intel_SGX_Provisioning_Certification_RootCA.pem",
    "automata-dcap-rs/signing_cert.pem",
    "oasis-core/tcb_info_v3_fmspc_00606A000000_certs.pem",
    "fortanix-rust-sgx/pcs/cert-chain/cert-chain-1.cert",
    "fortanix-rust-sgx/pcs/cert-chain/cert-chain-2.cert",
    "fortanix-rust-sgx/dcap-ql/pck_quote.cert",
    "fortanix-rust-sgx/dcap-ql/processor_ca.cert",
    "fortanix-rust-sgx/dcap-ql/root_ca.cert",
];

const DER_CERTS: &[&str] = &[
    "intel-sgx-root-ca/Intel_SGX_Root_CA_legacy_2018-2033.der",
    "phala-dcap-qvl/TrustedRootCA.der",
];

const DER_CRLS: &[&str] = &[
    "intel-qvl-sampledata/intermediateCaCrl.der",
    "intel-qvl-sampledata/rootCaCrl.der",
    "automata-dcap-rs/pck_platform_crl.der",
    "automata-dcap-rs/intel_root_ca_crl.der",
    "fortanix-rust-sgx/pcs/platform.crl",
    "fortanix-rust-sgx/pcs/processor.crl",
    "fortanix-rust-sgx/pcs/IntelSGXRootCA.crl",
    // Despite the name, a CRL (`testdata/SOURCES.md` §3.3).
    "fortanix-rust-sgx/pcs/IntelSGXRootCA.der",
];

/// Every certificate of the testdata, DER, with where it came from.
fn all_certs() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for f in PEM_FILES {
        for (i, c) in parse_pem_certs(&read(f), f).expect(f).iter().enumerate() {
            out.push((format!("{f} #{i}"), c.der().to_vec()));
        }
    }
    for f in DER_CERTS {
        out.push((f.to_string(), read(f)));
    }
    // PCK chains carried inside the phala quote and its collateral.
    let quote = read("phala-dcap-qvl/sgx_quote");
    let q = crate::quote::Quote::parse(&quote).expect("phala quote");
    let pem = q.pck_chain_pem().expect("phala PCK chain");
    for (i, c) in parse_pem_certs(pem, "phala")
        .expect("chain")
        .iter()
        .enumerate()
    {
        out.push((format!("phala quote PCK #{i}"), c.der().to_vec()));
    }
    out
}

#[test]
fn certificates_match_a_full_decode() {
    let certs = all_certs();
    assert!(certs.len() >= 20, "{} certificates", certs.len());
    let mut pck_leaves = 0;
    for (name, der) in &certs {
        let full = Certificate::from_der(der).expect(name);
        let tbs = &full.tbs_certificate;
        let c = Cert::from_der(der, name).expect(name);
        assert_eq!(c.der(), der.as_slice(), "{name}");
        assert_eq!(
            c.tbs(),
            tbs.to_der().expect("tbs").as_slice(),
            "{name}: tbs"
        );
        assert_eq!(
            c.signature(),
            full.signature.raw_bytes(),
            "{name}: signature"
        );
        assert_eq!(c.serial(), tbs.serial_number.as_bytes(), "{name}: serial");
        assert_eq!(
            c.issuer_der(),
            tbs.issuer.to_der().expect("issuer").as_slice(),
            "{name}"
        );
        assert_eq!(
            c.subject_der(),
            tbs.subject.to_der().expect("subject").as_slice(),
            "{name}"
        );
        assert_eq!(c.is_self_issued(), tbs.subject == tbs.issuer, "{name}");
        assert_eq!(c.subject_text(), tbs.subject.to_string(), "{name}");
        assert_eq!(
            c.not_before,
            tbs.validity.not_before.to_unix_duration().as_secs(),
            "{name}"
        );
        assert_eq!(
            c.not_after,
            tbs.validity.not_after.to_unix_duration().as_secs()
        );
        assert_eq!(
            &c.public_key[..],
            tbs.subject_public_key_info.subject_public_key.raw_bytes(),
            "{name}"
        );
        let exts = tbs.extensions.as_deref().unwrap_or(&[]);
        let bc = exts
            .iter()
            .find(|e| e.extn_id.to_string() == "2.5.29.19")
            .map(|e| {
                BasicConstraints::from_der(e.extn_value.as_bytes())
                    .expect("bc")
                    .ca
            });
        assert_eq!(
            c.may_issue(),
            bc.unwrap_or(true),
            "{name}: basicConstraints"
        );
        for e in exts {
            assert_eq!(
                c.extension(&e.extn_id),
                Some(e.extn_value.as_bytes()),
                "{name}: extension {}",
                e.extn_id
            );
        }
        if c.extension(&SGX_EXTENSION_OID).is_some() {
            pck_leaves += 1;
        }
    }
    // Intel's sample pckCert.pem, Fortanix's pck_quote.cert and the phala quote's leaf.
    assert_eq!(pck_leaves, 3, "PCK certificates");
}

#[test]
fn crls_match_a_full_decode() {
    let mut total_revoked = 0;
    for f in DER_CRLS {
        let mut bytes = read(f);
        if bytes.first() == Some(&b'{') {
            // Fortanix's JSON wrapper: {"crl": "<PEM>", ...}.
            let v: serde_json::Value = serde_json::from_slice(&bytes).expect(f);
            bytes = v["crl"].as_str().expect("crl field").as_bytes().to_vec();
        }
        let crl = Crl::parse(&bytes, f).expect(f);
        let der = if bytes.first() == Some(&0x30) {
            bytes.clone()
        } else {
            // PEM or hex in the same file forms the collateral uses.
            let text = String::from_utf8(bytes.clone()).expect("text");
            if text.contains("-----BEGIN") {
                let (_, d) = crate::x509util::pem_blocks(&text, f).expect(f).remove(0);
                d
            } else {
                hex::decode(text.trim()).expect("hex")
            }
        };
        let full = CertificateList::from_der(&der).expect(f);
        let t = &full.tbs_cert_list;
        assert_eq!(crl.tbs, t.to_der().expect("tbs"), "{f}");
        assert_eq!(crl.signature, full.signature.raw_bytes(), "{f}");
        assert_eq!(crl.issuer, t.issuer.to_der().expect("issuer"), "{f}");
        assert_eq!(crl.issuer_text(), t.issuer.to_string(), "{f}");
        assert_eq!(
            crl.this_update,
            t.this_update.to_unix_duration().as_secs(),
            "{f}"
        );
        assert_eq!(
            crl.next_update,
            t.next_update
                .map_or(u64::MAX, |n| n.to_unix_duration().as_secs()),
            "{f}"
        );
        let serials: Vec<Vec<u8>> = t
            .revoked_certificates
            .iter()
            .flatten()
            .map(|r| r.serial_number.as_bytes().to_vec())
            .collect();
        assert_eq!(crl.revoked, serials, "{f}");
        total_revoked += serials.len();
    }
    assert!(total_revoked > 0, "some CRL lists revoked certificates");
}

/// A DER CRL whose last byte happens to be an ASCII whitespace value is read whole (it used to
/// be trimmed like text).
#[test]
fn der_crl_ending_in_a_whitespace_byte_is_not_trimmed() {
    let mut der = read("automata-dcap-rs/intel_root_ca_crl.der");
    let full = Crl::parse(&der, "x").expect("parses");
    for last in [b'\n', b' ', b'\t', b'\r', 0x0c] {
        *der.last_mut().expect("non-empty") = last;
        let crl = Crl::parse(&der, "x").expect("a DER CRL ending in a whitespace byte");
        assert_eq!(crl.signature.last(), Some(&last));
        assert_eq!(crl.tbs, full.tbs);
    }
}

#[test]
fn trailing_data_and_wrong_tags_are_rejected() {
    let der = read("phala-dcap-qvl/TrustedRootCA.der");
    let mut long = der.clone();
    long.push(0);
    assert!(Cert::from_der(&long, "x").is_err());
    let mut wrong = der.clone();
    wrong[0] = 0x31; // SET instead of SEQUENCE
    assert!(Cert::from_der(&wrong, "x").is_err());
    let crl = read("automata-dcap-rs/intel_root_ca_crl.der");
    let mut long = crl.clone();
    long.push(0);
    assert!(Crl::parse(&long, "x").is_err());
}

mod mutations {
    use super::*;
    use proptest::prelude::*;

    /// Real certificates and CRLs to mutate.
    fn corpus() -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
        let certs = all_certs().into_iter().map(|(_, d)| d).collect();
        let crls = [
            "automata-dcap-rs/pck_platform_crl.der",
            "intel-qvl-sampledata/rootCaCrl.der",
            "intel-qvl-sampledata/intermediateCaCrl.der",
        ]
        .iter()
        .map(|f| read(f))
        .collect();
        (certs, crls)
    }

    /// Whether `der` is exactly the DER encoding of what x509-cert decoded from it. x509-cert is
    /// lenient in one way the shallow parser is not: looking for an optional context-specific
    /// field it skips any context-specific field with a lower tag number, so a certificate
    /// whose `[3]` extensions tag became `[0]` decodes (without its extensions) although it is
    /// not a valid TBSCertificate. The shallow parser refuses it, which is the safer reading;
    /// such input does not re-encode to itself.
    fn is_canonical<T: Encode>(decoded: &T, der: &[u8]) -> bool {
        decoded.to_der().is_ok_and(|d| d == der)
    }

    /// Compares the shallow reading of a (possibly mutated) certificate with a full x509-cert
    /// decode. Whatever the full decode accepts as a canonical ECDSA-P256 certificate with
    /// whole-byte BIT STRINGs, the shallow parser must read the same way. It may accept more
    /// (e.g. malformed names, which only the signature protects), and it refuses BIT STRINGs
    /// with unused bits (as webpki does) where x509-cert keeps them. It never panics.
    fn check_cert(der: &[u8]) -> Result<(), String> {
        let ours = Cert::from_der(der, "m");
        let Ok(full) = Certificate::from_der(der) else {
            return Ok(());
        };
        let tbs = &full.tbs_certificate;
        let key = tbs.subject_public_key_info.subject_public_key.raw_bytes();
        let whole_bytes = full.signature.unused_bits() == 0
            && tbs.subject_public_key_info.subject_public_key.unused_bits() == 0;
        if full.signature_algorithm.oid.to_string() != "1.2.840.10045.4.3.2"
            || key.len() != 65
            || key[0] != 4
            || !whole_bytes
            || !is_canonical(&full, der)
        {
            return Ok(());
        }
        let c = ours.map_err(|e| format!("full decode accepted it, shallow said {e}"))?;
        let enc = |v: &dyn Fn() -> der::Result<Vec<u8>>| v().map_err(|e| e.to_string());
        let same = c.tbs() == enc(&|| tbs.to_der())?.as_slice()
            && c.serial() == tbs.serial_number.as_bytes()
            && c.subject_der() == enc(&|| tbs.subject.to_der())?.as_slice()
            && c.issuer_der() == enc(&|| tbs.issuer.to_der())?.as_slice()
            && c.not_after == tbs.validity.not_after.to_unix_duration().as_secs()
            && c.public_key[..] == *key;
        if same {
            Ok(())
        } else {
            Err("shallow and full decode read different fields".into())
        }
    }

    /// As [`check_cert`], for CRLs.
    fn check_crl(der: &[u8]) -> Result<(), String> {
        let ours = Crl::from_der(der, "m");
        let Ok(full) = CertificateList::from_der(der) else {
            return Ok(());
        };
        if full.signature_algorithm.oid.to_string() != "1.2.840.10045.4.3.2"
            || full.signature.unused_bits() != 0
            || !is_canonical(&full, der)
        {
            return Ok(());
        }
        let c = ours.map_err(|e| format!("full decode accepted it, shallow said {e}"))?;
        let t = &full.tbs_cert_list;
        let same = c.tbs == t.to_der().map_err(|e| e.to_string())?
            && c.issuer == t.issuer.to_der().map_err(|e| e.to_string())?
            && c.this_update == t.this_update.to_unix_duration().as_secs()
            && c.revoked.len() == t.revoked_certificates.as_ref().map_or(0, Vec::len);
        if same {
            Ok(())
        } else {
            Err("shallow and full decode read different fields".into())
        }
    }

    /// Every byte of every corpus certificate and CRL, set to a handful of values that hit tags,
    /// lengths and BIT STRING headers (0x80 and 0xa0 turn the `[3]` extensions tag into the
    /// `[0]` that x509-cert skips; see [`is_canonical`]). Deterministic, so CI sees the same
    /// cases on every run; the proptest below adds random ones.
    #[test]
    fn every_byte_sweep_agrees_with_full_decode() {
        let (certs, crls) = corpus();
        let mut checked = 0usize;
        for (which, original) in certs.iter().chain(&crls).enumerate() {
            let is_crl = which >= certs.len();
            for i in 0..original.len() {
                for value in [0x00, 0x01, 0x80, 0xa0, 0xff, original[i] ^ 1] {
                    let mut der = original.clone();
                    der[i] = value;
                    let r = if is_crl {
                        check_crl(&der)
                    } else {
                        check_cert(&der)
                    };
                    if let Err(e) = r {
                        panic!("corpus #{which} byte {i} set to {value:#04x}: {e}");
                    }
                    checked += 1;
                }
            }
        }
        assert!(checked > 100_000, "swept {checked} cases");
    }

    /// The two x509-cert leniencies the checks above exclude are real: the shallow parser
    /// refuses both inputs while x509-cert decodes them.
    #[test]
    fn shallow_parser_is_stricter_where_x509_cert_is_lenient() {
        let (certs, crls) = corpus();
        // [3] extensions tag rewritten to [0]: x509-cert skips it and drops the extensions.
        let cert = &certs[0];
        // The extensions tag is the last [3] inside the TBSCertificate (searching the whole
        // certificate could land in the signature bytes).
        let tbs = Cert::from_der(cert, "c").expect("parses").tbs().to_vec();
        let tbs_at = cert
            .windows(tbs.len())
            .position(|w| w == tbs.as_slice())
            .expect("TBS inside");
        let ext_tag = tbs_at
            + tbs
                .windows(2)
                .rposition(|w| w == [0xa3, 0x81] || w == [0xa3, 0x82])
                .expect("an extensions tag");
        let mut bad = cert.clone();
        bad[ext_tag] = 0x80;
        let full = Certificate::from_der(&bad).expect("x509-cert is lenient here");
        assert!(full.tbs_certificate.extensions.is_none());
        assert!(!is_canonical(&full, &bad));
        assert!(Cert::from_der(&bad, "m").is_err());
        // A CRL signature BIT STRING with unused bits.
        let crl = &crls[1];
        let mut bad = crl.clone();
        let n = bad.len();
        // ... 03 <len> 00 30 ...: the unused-bits octet precedes the ECDSA SEQUENCE.
        let pos = (0..n - 2)
            .rev()
            .find(|&p| bad[p] == 0x03 && bad[p + 2] == 0x00 && usize::from(bad[p + 1]) == n - p - 2)
            .expect("signature BIT STRING");
        bad[pos + 2] = 1;
        let full = CertificateList::from_der(&bad).expect("x509-cert keeps the unused bits");
        assert_eq!(full.signature.unused_bits(), 1);
        assert!(Crl::from_der(&bad, "m").is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Random single-byte changes, compared as in [`check_cert`] / [`check_crl`].
        #[test]
        fn shallow_agrees_with_full_decode_on_mutated_input(
            which in 0usize..64,
            pos in any::<prop::sample::Index>(),
            value in any::<u8>(),
            crl in any::<bool>(),
        ) {
            let (certs, crls) = corpus();
            let set = if crl { &crls } else { &certs };
            let mut der = set[which % set.len()].clone();
            let i = pos.index(der.len());
            der[i] = value;
            let r = if crl { check_crl(&der) } else { check_cert(&der) };
            prop_assert!(r.is_ok(), "{}", r.unwrap_err());
        }
    }
}
