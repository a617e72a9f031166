//! The token check: the JWKS's P-256 keys, and each sampled token's ES256 signature, `kid`,
//! verdict and nonce checked against them and the answer it came with.

use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{Signature, VerifyingKey};
use serde_json::Value;

use crate::conn::fetch_json;
use crate::record::Sample;
use crate::Shared;

/// The JWKS's P-256 keys by `kid` ("" for a key without one).
fn parse_jwks(v: &Value) -> Result<HashMap<String, VerifyingKey>, String> {
    let keys = v
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("JWKS: no `keys` array")?;
    let mut out = HashMap::new();
    for k in keys {
        if k.get("kty").and_then(Value::as_str) != Some("EC")
            || k.get("crv").and_then(Value::as_str) != Some("P-256")
        {
            continue;
        }
        let coord = |name: &str| -> Result<Vec<u8>, String> {
            let s = k
                .get(name)
                .and_then(Value::as_str)
                .ok_or(format!("JWKS key without `{name}`"))?;
            URL_SAFE_NO_PAD
                .decode(s)
                .map_err(|e| format!("JWKS `{name}`: {e}"))
        };
        let (x, y) = (coord("x")?, coord("y")?);
        if x.len() != 32 || y.len() != 32 {
            return Err("JWKS: a P-256 coordinate is not 32 bytes".into());
        }
        let mut sec1 = vec![4u8];
        sec1.extend_from_slice(&x);
        sec1.extend_from_slice(&y);
        let key = VerifyingKey::from_sec1_bytes(&sec1).map_err(|e| format!("JWKS key: {e}"))?;
        let kid = k
            .get("kid")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        out.insert(kid, key);
    }
    if out.is_empty() {
        return Err("JWKS: no P-256 key".into());
    }
    Ok(out)
}

/// The verdict a token states: `accepted` when every EAR status in it (each appraisal in
/// `submods`, or a top-level `ear.status`) is `affirming` or `warning` (accepted, with
/// something to note, such as a TCB status the policy allows), `rejected` otherwise
/// (`contraindicated`, `none`).
fn token_class(claims: &Value) -> Option<String> {
    let mut statuses = Vec::new();
    if let Some(s) = claims.get("ear.status").and_then(Value::as_str) {
        statuses.push(s.to_owned());
    }
    if let Some(sub) = claims.get("submods").and_then(Value::as_object) {
        for m in sub.values() {
            if let Some(s) = m.get("ear.status").and_then(Value::as_str) {
                statuses.push(s.to_owned());
            }
        }
    }
    if statuses.is_empty() {
        return None;
    }
    Some(
        if statuses.iter().all(|s| s == "affirming" || s == "warning") {
            "accepted"
        } else {
            "rejected"
        }
        .to_owned(),
    )
}

#[derive(Default, serde::Serialize)]
pub(crate) struct TokenCheck {
    pub(crate) checked: u64,
    pub(crate) valid: u64,
    pub(crate) bad_format: u64,
    pub(crate) wrong_alg: u64,
    pub(crate) unknown_kid: u64,
    pub(crate) bad_signature: u64,
    pub(crate) verdict_mismatch: u64,
    pub(crate) nonce_mismatch: u64,
    pub(crate) distinct_kids: Vec<String>,
    pub(crate) first_problem: Option<String>,
}

fn check_token(keys: &HashMap<String, VerifyingKey>, s: &Sample, tc: &mut TokenCheck) {
    tc.checked += 1;
    let problem = |tc: &mut TokenCheck, what: &str| {
        if tc.first_problem.is_none() {
            tc.first_problem = Some(what.to_owned());
        }
    };
    let parts: Vec<&str> = s.token.split('.').collect();
    if parts.len() != 3 {
        tc.bad_format += 1;
        return problem(tc, "token is not header.payload.signature");
    }
    let decode = |p: &str| URL_SAFE_NO_PAD.decode(p).ok();
    let (Some(h), Some(p), Some(sig)) = (decode(parts[0]), decode(parts[1]), decode(parts[2]))
    else {
        tc.bad_format += 1;
        return problem(tc, &format!("token part is not base64url: {}", s.token));
    };
    let (Ok(header), Ok(claims)) = (
        serde_json::from_slice::<Value>(&h),
        serde_json::from_slice::<Value>(&p),
    ) else {
        tc.bad_format += 1;
        return problem(tc, "token header or payload is not JSON");
    };
    if header.get("alg").and_then(Value::as_str) != Some("ES256") {
        tc.wrong_alg += 1;
        return problem(tc, "token alg is not ES256");
    }
    let kid = header.get("kid").and_then(Value::as_str).unwrap_or("");
    let key = match keys.get(kid) {
        Some(k) => k,
        None if kid.is_empty() && keys.len() == 1 => keys.values().next().expect("one key"),
        None => {
            tc.unknown_kid += 1;
            return problem(tc, &format!("kid {kid:?} is not in the JWKS"));
        }
    };
    if !tc.distinct_kids.iter().any(|k| k == kid) {
        tc.distinct_kids.push(kid.to_owned());
    }
    let Ok(sig) = Signature::from_slice(&sig) else {
        tc.bad_signature += 1;
        return problem(tc, "signature is not 64 bytes r||s");
    };
    let signed = &s.token[..parts[0].len() + 1 + parts[1].len()];
    if key.verify(signed.as_bytes(), &sig).is_err() {
        tc.bad_signature += 1;
        return problem(tc, "ES256 signature does not verify");
    }
    match token_class(&claims) {
        Some(c) if c == s.class => {}
        other => {
            tc.verdict_mismatch += 1;
            return problem(
                tc,
                &format!(
                    "token verdict {other:?} but the answer said {:?}: {claims}",
                    s.class
                ),
            );
        }
    }
    if let Some(n) = &s.nonce {
        let found = ["eat_nonce", "nonce"]
            .iter()
            .filter_map(|k| claims.get(*k))
            .any(|v| match v {
                Value::String(t) => t == n,
                Value::Array(a) => a.iter().any(|t| t.as_str() == Some(n)),
                _ => false,
            });
        if !found {
            tc.nonce_mismatch += 1;
            return problem(tc, "the nonce sent is not in the token");
        }
    }
    tc.valid += 1;
}

/// The sampled tokens checked against the JWKS at `--jwks-url` (when given): the check, or
/// why it could not be made.
pub(crate) async fn check_tokens(sh: &Shared, samples: &[Sample]) -> (TokenCheck, Option<String>) {
    let mut tc = TokenCheck::default();
    let Some(j) = &sh.args.jwks_url else {
        return (tc, None);
    };
    match fetch_json(sh, j).await.and_then(|v| parse_jwks(&v)) {
        Ok(keys) => {
            for s in samples {
                check_token(&keys, s, &mut tc);
            }
            (tc, None)
        }
        Err(e) => (tc, Some(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Signer as _;
    use p256::ecdsa::SigningKey;
    use serde_json::json;

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[7u8; 32].into()).expect("a valid scalar")
    }

    fn jwks_of(k: &SigningKey, kid: &str) -> Value {
        let point = k.verifying_key().to_encoded_point(false);
        json!({"keys": [{
            "kty": "EC", "crv": "P-256", "kid": kid, "alg": "ES256",
            "x": URL_SAFE_NO_PAD.encode(point.x().expect("x")),
            "y": URL_SAFE_NO_PAD.encode(point.y().expect("y")),
        }]})
    }

    fn token(k: &SigningKey, kid: &str, claims: &Value) -> String {
        let h =
            URL_SAFE_NO_PAD.encode(json!({"alg": "ES256", "typ": "JWT", "kid": kid}).to_string());
        let p = URL_SAFE_NO_PAD.encode(claims.to_string());
        let sig: Signature = k.sign(format!("{h}.{p}").as_bytes());
        format!("{h}.{p}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
    }

    fn ear(status: &str, nonce: Option<&str>) -> Value {
        let mut c = json!({"iat": 1, "submods": {"sgx": {"ear.status": status}}});
        if let Some(n) = nonce {
            c["eat_nonce"] = json!(n);
        }
        c
    }

    fn check(
        keys: &HashMap<String, VerifyingKey>,
        token: String,
        class: &str,
        nonce: Option<&str>,
    ) -> TokenCheck {
        let mut tc = TokenCheck::default();
        let s = Sample {
            token,
            class: class.into(),
            nonce: nonce.map(str::to_owned),
        };
        check_token(keys, &s, &mut tc);
        tc
    }

    #[test]
    fn tokens_are_checked_against_the_jwks() {
        let k = key();
        let keys = parse_jwks(&jwks_of(&k, "k1")).unwrap();
        let good = token(&k, "k1", &ear("affirming", Some("n1")));
        assert_eq!(check(&keys, good.clone(), "accepted", Some("n1")).valid, 1);
        // `warning` is an acceptance too; `contraindicated` is a rejection.
        let warn = token(&k, "k1", &ear("warning", None));
        assert_eq!(check(&keys, warn, "accepted", None).valid, 1);
        let contra = token(&k, "k1", &ear("contraindicated", None));
        assert_eq!(check(&keys, contra.clone(), "rejected", None).valid, 1);
        assert_eq!(check(&keys, contra, "accepted", None).verdict_mismatch, 1);
        // The nonce that was sent must be in the token.
        assert_eq!(
            check(&keys, good.clone(), "accepted", Some("n2")).nonce_mismatch,
            1
        );
        // A changed payload, another key, an unknown kid.
        let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
        parts[1] = URL_SAFE_NO_PAD.encode(ear("affirming", Some("n1")).to_string() + " ");
        assert_eq!(
            check(&keys, parts.join("."), "accepted", Some("n1")).bad_signature,
            1
        );
        let other = SigningKey::from_bytes(&[9u8; 32].into()).unwrap();
        let forged = token(&other, "k1", &ear("affirming", None));
        assert_eq!(check(&keys, forged, "accepted", None).bad_signature, 1);
        let unknown = token(&k, "k2", &ear("affirming", None));
        assert_eq!(check(&keys, unknown, "accepted", None).unknown_kid, 1);
        assert_eq!(check(&keys, "a.b".into(), "accepted", None).bad_format, 1);
    }
}
