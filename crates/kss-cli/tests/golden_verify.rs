//! Golden outputs: representative `kss verify`, `kss quote inspect`, `kss policy` and
//! `kss sim-ca export` invocations replayed through the real binary, their stdout, stderr and
//! exit status compared byte for byte with `tests/golden/<case>.txt`.
//!
//! Paths in arguments and outputs are written as placeholders: `{TD}` (the repository's `testdata/`),
//! `{IN}` (`tests/golden/inputs/`) and `{TMP}` (a fresh temporary directory). To re-record after
//! an intended output change: `KSS_UPDATE_GOLDEN=1 cargo test -p kss --test golden`, then
//! review the diff.

use std::process::Command;

const TD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/");
const IN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/inputs/");
const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/");

const PHALA_Q: &str = "{TD}phala-dcap-qvl/sgx_quote";
const PHALA_C: &str = "{TD}phala-dcap-qvl/sgx_quote_collateral.json";
const AUTOMATA_Q: &str = "{TD}automata-dcap-rs/quote_sgx.bin";
const AUTOMATA_C: &str = "{TD}automata-dcap-rs/DERIVED_quote_sgx_collateral.dcap-qvl.json";
const TEEKIT_C: &str = "{TD}teekit-qvl/DERIVED_tlsn_collateral_2025-06.dcap-qvl.json";

/// (case name, arguments).
fn cases() -> Vec<(&'static str, Vec<&'static str>)> {
    let v = |q, c, at, extra: &[&'static str]| {
        let mut a = vec!["verify", q, "--collateral", c, "--at", at];
        a.extend_from_slice(extra);
        a
    };
    let any = "{IN}any_status_policy.json";
    vec![
        (
            "verify_phala_default_text",
            v(PHALA_Q, PHALA_C, "1752919277", &[]),
        ),
        (
            "verify_phala_default_json",
            v(PHALA_Q, PHALA_C, "2025-07-19T10:01:17Z", &["--json"]),
        ),
        (
            "verify_phala_accepted_text",
            v(PHALA_Q, PHALA_C, "1752919277", &["--policy", any]),
        ),
        (
            "verify_phala_accepted_json",
            v(PHALA_Q, PHALA_C, "1752919277", &["--policy", any, "--json"]),
        ),
        (
            "verify_phala_future_json",
            v(PHALA_Q, PHALA_C, "1750320802", &["--policy", any, "--json"]),
        ),
        (
            "verify_phala_expired_text",
            v(PHALA_Q, PHALA_C, "1752922572", &["--policy", any]),
        ),
        (
            "verify_phala_other_root_json",
            v(
                PHALA_Q,
                PHALA_C,
                "1752919277",
                &[
                    "--policy",
                    any,
                    "--json",
                    "--trust-root",
                    "{TD}intel-qvl-sampledata/trustedRootCaCert.pem",
                ],
            ),
        ),
        (
            "verify_phala_tampered_json",
            v(
                "{IN}phala_tampered_configsvn.bin",
                PHALA_C,
                "1752919277",
                &["--policy", any, "--json"],
            ),
        ),
        (
            "verify_phala_wrong_collateral_json",
            v(
                PHALA_Q,
                TEEKIT_C,
                "1752919277",
                &["--policy", any, "--json"],
            ),
        ),
        (
            "verify_automata_debug_text",
            v(AUTOMATA_Q, AUTOMATA_C, "1724962800", &["--policy", any]),
        ),
        (
            "verify_automata_debug_allowed_json",
            v(
                AUTOMATA_Q,
                AUTOMATA_C,
                "1724962800",
                &["--policy", "{IN}debug_policy.json", "--json"],
            ),
        ),
        (
            "verify_teekit_tlsn_json",
            v(
                "{TD}teekit-qvl/sgx-tlsn-quote9.dat",
                TEEKIT_C,
                "1751000000",
                &["--policy", any, "--json"],
            ),
        ),
        (
            "verify_tdx_quote_text",
            v(
                "{TD}automata-dcap-rs/quote_tdx.bin",
                PHALA_C,
                "1752919277",
                &[],
            ),
        ),
        (
            "verify_tdx_quote_allow_trailing_json",
            v(
                "{TD}automata-dcap-rs/quote_tdx.bin",
                PHALA_C,
                "1752919277",
                &["--allow-trailing", "--json"],
            ),
        ),
        (
            "verify_phala_pcs_dir_json",
            v(
                PHALA_Q,
                "{IN}phala_pcs",
                "1752919277",
                &["--policy", any, "--json"],
            ),
        ),
        (
            "verify_phala_pcs_dir_text",
            v(PHALA_Q, "{IN}phala_pcs", "1752919277", &[]),
        ),
        (
            "verify_bad_time",
            v(PHALA_Q, PHALA_C, "2025-02-30T00:00:00Z", &[]),
        ),
        (
            "verify_bad_time_word",
            v(PHALA_Q, PHALA_C, "yesterday", &[]),
        ),
        (
            "verify_missing_quote",
            v("{TMP}/missing", PHALA_C, "1752919277", &[]),
        ),
        (
            "verify_missing_collateral",
            v(PHALA_Q, "{TMP}/nocol", "1752919277", &[]),
        ),
        (
            "verify_quote_as_collateral",
            v(PHALA_Q, PHALA_Q, "1752919277", &[]),
        ),
        (
            "verify_policy_typo",
            v(
                PHALA_Q,
                PHALA_C,
                "1752919277",
                &["--policy", "{IN}typo_policy.json"],
            ),
        ),
        (
            "verify_policy_revoked",
            v(
                PHALA_Q,
                PHALA_C,
                "1752919277",
                &["--policy", "{IN}revoked_policy.json"],
            ),
        ),
        (
            "verify_bad_trust_root",
            v(PHALA_Q, PHALA_C, "1752919277", &["--trust-root", PHALA_C]),
        ),
        (
            "quote_inspect_phala_text",
            vec!["quote", "inspect", PHALA_Q],
        ),
        (
            "quote_inspect_phala_json",
            vec!["quote", "inspect", PHALA_Q, "--json"],
        ),
        (
            "quote_inspect_phala_intel_text",
            vec!["quote", "inspect", PHALA_Q, "--byte-order", "intel"],
        ),
        (
            "quote_inspect_phala_intel_json",
            vec![
                "quote",
                "inspect",
                PHALA_Q,
                "--json",
                "--byte-order",
                "intel",
            ],
        ),
        (
            "quote_inspect_automata_json",
            vec!["quote", "inspect", AUTOMATA_Q, "--json"],
        ),
        (
            "quote_inspect_tdx_text",
            vec!["quote", "inspect", "{TD}automata-dcap-rs/quote_tdx.bin"],
        ),
        (
            "quote_inspect_tdx_json",
            vec![
                "quote",
                "inspect",
                "{TD}automata-dcap-rs/quote_tdx.bin",
                "--json",
            ],
        ),
        (
            "quote_inspect_eppid_text",
            vec![
                "quote",
                "inspect",
                "{TD}oasis-core/quote_v3_ecdsa_p256_eppid.bin",
            ],
        ),
        (
            "quote_inspect_not_a_quote",
            vec!["quote", "inspect", PHALA_C],
        ),
        (
            "policy_from_sigstruct",
            vec![
                "policy",
                "from-sigstruct",
                "{TD}fortanix-rust-sgx/sgxs-sign/sig1.sigstruct.bin",
            ],
        ),
        (
            "policy_from_sigstruct_bad",
            vec!["policy", "from-sigstruct", PHALA_Q],
        ),
        (
            "policy_convert_intel",
            vec!["policy", "convert", "--from", "intel", "{IN}intel_qal.json"],
        ),
        (
            "policy_convert_trustee",
            vec!["policy", "convert", "--from", "trustee", "{IN}trustee.json"],
        ),
        (
            "policy_convert_bad",
            vec![
                "policy",
                "convert",
                "--from",
                "intel",
                "{IN}typo_policy.json",
            ],
        ),
        (
            "policy_check_full",
            vec!["policy", "check", "{IN}full_policy.json"],
        ),
        (
            "policy_check_debug",
            vec!["policy", "check", "{IN}debug_policy.json"],
        ),
        (
            "policy_check_typo",
            vec!["policy", "check", "{IN}typo_policy.json"],
        ),
        (
            "sim_ca_export",
            vec![
                "sim-ca",
                "export",
                "{TMP}/out",
                "--sim-ca-dir",
                "{TMP}/ca",
                "--now",
                "1752919277",
            ],
        ),
    ]
}

fn expand(arg: &str, tmp: &str) -> String {
    arg.replace("{TD}", TD)
        .replace("{IN}", IN)
        .replace("{TMP}", tmp)
}

/// JSON on stdout with its object keys sorted (what the `kss` binary prints when built alone).
/// A workspace test build links serde_json with `preserve_order` (a dev-dependency, dcap-qvl,
/// enables it), which prints keys in insertion order; sorting makes both builds comparable,
/// and for the binary built alone it changes no byte.
fn sorted_json(out: &str) -> String {
    fn sort(v: serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(m) => {
                let mut entries: Vec<_> = m.into_iter().collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                serde_json::Value::Object(entries.into_iter().map(|(k, v)| (k, sort(v))).collect())
            }
            serde_json::Value::Array(a) => {
                serde_json::Value::Array(a.into_iter().map(sort).collect())
            }
            other => other,
        }
    }
    match serde_json::from_str::<serde_json::Value>(out) {
        Ok(v) if out.starts_with('{') => {
            format!(
                "{}\n",
                serde_json::to_string_pretty(&sort(v)).unwrap_or_default()
            )
        }
        _ => out.to_string(),
    }
}

fn placeholders(out: &[u8], tmp: &str) -> String {
    String::from_utf8_lossy(out)
        .replace(IN, "{IN}")
        .replace(TD, "{TD}")
        .replace(tmp, "{TMP}")
}

fn run(args: &[&str]) -> String {
    let tmp = tempfile::tempdir().expect("tempdir");
    let tmp = tmp.path().to_str().expect("utf-8").to_string();
    let args: Vec<String> = args.iter().map(|a| expand(a, &tmp)).collect();
    let o = Command::new(env!("CARGO_BIN_EXE_kss"))
        .args(&args)
        .env("NO_COLOR", "1")
        .env("KSS_HOME", format!("{tmp}/home"))
        .output()
        .expect("run kss");
    format!(
        "exit: {:?}\n--- stdout\n{}--- stderr\n{}",
        o.status.code(),
        sorted_json(&placeholders(&o.stdout, &tmp)),
        placeholders(&o.stderr, &tmp)
    )
}

#[test]
fn golden_outputs() {
    let update = std::env::var_os("KSS_UPDATE_GOLDEN").is_some();
    let mut failed = Vec::new();
    for (name, args) in cases() {
        let got = format!("$ kss {}\n{}", args.join(" "), run(&args));
        let path = format!("{GOLDEN}{name}.txt");
        if update {
            std::fs::write(&path, &got).expect("write golden");
            continue;
        }
        let want = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        if got != want {
            eprintln!("--- {name}: want\n{want}\n--- {name}: got\n{got}");
            failed.push(name);
        }
    }
    assert!(failed.is_empty(), "outputs differ from golden: {failed:?}");
}
