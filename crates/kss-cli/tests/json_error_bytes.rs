//! The exact bytes of the JSON error object on stdout (`{"error": {kind, message, input,
//! hint}}`): key order, pretty-printing and `null` for what is absent, both for an error of a
//! command and for an argument error that clap reports.

use std::process::{Command, Output};

fn kss(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kss"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run kss")
}

fn testdata(path: &str) -> String {
    format!("{}/../../testdata/{path}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn a_command_error_with_input_and_hint() {
    let quote = testdata("phala-dcap-qvl/sgx_quote");
    let o = kss(&[
        "verify",
        &quote,
        "--collateral",
        "/nonexistent/c.json",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        r#"{
  "error": {
    "kind": "input",
    "message": "/nonexistent/c.json: cannot read: No such file or directory (os error 2)",
    "input": "/nonexistent/c.json",
    "hint": "see `kss verify --help` for the collateral forms"
  }
}
"#
    );
}

#[test]
fn an_argument_error_has_null_input_and_hint() {
    let o = kss(&["--json", "frobnicate"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        r#"{
  "error": {
    "kind": "input",
    "message": "unexpected argument '--json' found",
    "input": null,
    "hint": null
  }
}
"#
    );
}
