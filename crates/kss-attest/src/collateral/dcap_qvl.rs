//! dcap-qvl's `QuoteCollateralV3` JSON: PEM issuer chains, CRLs as hex DER, TCB info and QE
//! identity as exact JSON strings, signatures as hex `r || s`.

use super::{hex_signature, Collateral, CollateralError, SignedJson};
use serde_json::Value;

/// The keys of a `QuoteCollateralV3` file, each a string, with what the string holds.
const KEYS: [(&str, &str); 9] = [
    ("pck_crl_issuer_chain", "PEM certificates"),
    ("root_ca_crl", "hex DER"),
    ("pck_crl", "hex DER"),
    ("tcb_info_issuer_chain", "PEM certificates"),
    ("tcb_info", "the exact signed TCB info JSON text"),
    ("tcb_info_signature", "hex r || s"),
    ("qe_identity_issuer_chain", "PEM certificates"),
    ("qe_identity", "the exact signed QE identity JSON text"),
    ("qe_identity_signature", "hex r || s"),
];

/// A JSON value in words, for "found ..." in messages.
fn found(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(_) => "a string".into(),
        Value::Array(_) => "a list (JSON array)".into(),
        Value::Object(_) => "an object (JSON {...})".into(),
    }
}

fn field_error(name: &str, key: &str, reason: String) -> CollateralError {
    CollateralError::Field {
        source_name: name.to_string(),
        field: format!("key \"{key}\""),
        reason,
    }
}

/// The string under `key`; the error says what the key holds and what was found instead.
fn string_key<'a>(
    map: &'a serde_json::Map<String, Value>,
    key: &str,
    name: &str,
) -> Result<&'a str, CollateralError> {
    let holds = KEYS
        .iter()
        .find(|(k, _)| *k == key)
        .map_or("text", |(_, h)| *h);
    match map.get(key) {
        Some(Value::String(s)) => Ok(s),
        Some(other) => {
            let mut reason = format!("expected a string ({holds}), found {}", found(other));
            if other.is_object() {
                reason.push_str(
                    "; this looks like another tool's collateral layout (e.g. dcap-rs), \
                     which kss does not read: save it with `kss collateral fetch` or as a \
                     directory of raw PCS files",
                );
            }
            Err(field_error(name, key, reason))
        }
        None => {
            let all: Vec<&str> = KEYS.iter().map(|(k, _)| *k).collect();
            Err(field_error(
                name,
                key,
                format!(
                    "missing (a dcap-qvl QuoteCollateralV3 file has the string keys {})",
                    all.join(", ")
                ),
            ))
        }
    }
}

/// Parses the JSON text; `name` names the input in errors. Errors name the key, what was
/// expected in words and what was found.
pub fn parse(bytes: &[u8], name: &str) -> Result<Collateral, CollateralError> {
    let doc: Value = serde_json::from_slice(bytes).map_err(|source| CollateralError::Json {
        source_name: name.to_string(),
        field: "dcap-qvl QuoteCollateralV3 JSON".into(),
        source,
    })?;
    let Value::Object(map) = &doc else {
        return Err(CollateralError::Field {
            source_name: name.to_string(),
            field: "the document".into(),
            reason: format!(
                "expected an object (dcap-qvl QuoteCollateralV3 JSON), found {}",
                found(&doc)
            ),
        });
    };
    let key = |k: &str| string_key(map, k, name);
    let (tcb_info, tcb_sig) = (key("tcb_info")?, key("tcb_info_signature")?);
    let (qe_identity, qe_sig) = (key("qe_identity")?, key("qe_identity_signature")?);
    let (tcb_chain, qe_chain) = (
        key("tcb_info_issuer_chain")?,
        key("qe_identity_issuer_chain")?,
    );
    let (pck_crl, root_ca_crl) = (key("pck_crl")?, key("root_ca_crl")?);
    let pck_crl_issuer_chain = key("pck_crl_issuer_chain")?;
    Ok(Collateral {
        tcb_info: SignedJson {
            body: tcb_info.as_bytes().to_vec(),
            signature: hex_signature(tcb_sig, name, "tcb_info_signature")?,
        },
        tcb_info_issuer_chain: tcb_chain.as_bytes().to_vec(),
        qe_identity: SignedJson {
            body: qe_identity.as_bytes().to_vec(),
            signature: hex_signature(qe_sig, name, "qe_identity_signature")?,
        },
        qe_identity_issuer_chain: qe_chain.as_bytes().to_vec(),
        pck_crl: Some(pck_crl.as_bytes().to_vec()),
        pck_crl_issuer_chain: Some(pck_crl_issuer_chain.as_bytes().to_vec()),
        root_ca_crl: Some(root_ca_crl.as_bytes().to_vec()),
        pck_chain: None,
    })
}
