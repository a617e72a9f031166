//! PEM framing errors: the message names the problem and the cause stays reachable.

use kss_sign::{KeyError, PemError, SigningKey};
use std::error::Error;

fn pem_error(text: &str) -> (PemError, String) {
    let e = SigningKey::from_pem(text).unwrap_err();
    let msg = e.to_string();
    match e {
        KeyError::Pem(p) => (p, msg),
        other => panic!("{other:?}"),
    }
}

#[test]
fn framing_problems_are_named() {
    let (e, msg) = pem_error("just text\n");
    assert!(matches!(e, PemError::NoBlock), "{e:?}");
    assert_eq!(
        msg,
        "not a usable PEM private key: no '-----BEGIN ...-----' line found"
    );
    let (e, msg) = pem_error("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    assert!(matches!(e, PemError::OtherLabel(ref l) if l == "CERTIFICATE"));
    assert!(msg.contains("found a 'CERTIFICATE' block"), "{msg}");
    // No END line: the framing error is kept as the cause.
    let (e, _) = pem_error("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n");
    assert!(matches!(e, PemError::Framing(_)), "{e:?}");
    assert!(e.source().is_some());
    // Well framed, but not a key: the PKCS#1 error is the cause.
    let (e, msg) =
        pem_error("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n");
    assert!(matches!(e, PemError::Pkcs1(_)), "{e:?}");
    assert!(
        msg.contains("PKCS#1 'RSA PRIVATE KEY' block does not decode"),
        "{msg}"
    );
    assert!(e.source().is_some());
}
