//! The JSON bodies: the request body from `--body` or `--quote`, the nonce put into it, and
//! the verdict, token and nonce read from the answers.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hyper::body::Bytes;
use serde_json::Value;

use crate::args::Args;
use crate::Shared;

/// The verdict of a 200 answer: `accepted` / `rejected` from `verdict.accepted`, and the
/// token.
pub(crate) fn parse_answer(body: &[u8]) -> Option<(String, Option<String>)> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let accepted = v.get("verdict")?.get("accepted")?.as_bool()?;
    let token = v.get("token").and_then(Value::as_str).map(str::to_owned);
    Some((
        if accepted { "accepted" } else { "rejected" }.to_owned(),
        token,
    ))
}

pub(crate) fn parse_nonce(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    v.get("nonce")?.as_str().map(str::to_owned)
}

pub(crate) fn body_with_nonce(sh: &Shared, nonce: Option<&str>) -> Bytes {
    let mut v = sh.base_body.clone();
    if let (Some(n), Some(obj)) = (nonce, v.as_object_mut()) {
        obj.insert("nonce".into(), Value::String(n.to_owned()));
    }
    Bytes::from(serde_json::to_vec(&v).expect("JSON"))
}

/// The request body: `--body` as given, or `{"quote": base64, "policy_id"}` from `--quote`,
/// or nothing with `--get`.
pub(crate) fn base_body(args: &Args) -> Result<Value, String> {
    if let Some(path) = &args.body {
        let text = std::fs::read(path).map_err(|e| format!("--body {}: {e}", path.display()))?;
        return serde_json::from_slice(&text)
            .map_err(|e| format!("--body {}: not JSON: {e}", path.display()));
    }
    if let Some(path) = &args.quote {
        let quote = std::fs::read(path).map_err(|e| format!("--quote {}: {e}", path.display()))?;
        let body = QuoteBody {
            quote: STANDARD.encode(quote),
            policy_id: args.policy_id.as_deref(),
        };
        return serde_json::to_value(body).map_err(|e| format!("the request body: {e}"));
    }
    Ok(Value::Null)
}

/// The request body made from `--quote` and `--policy-id`.
#[derive(serde::Serialize)]
struct QuoteBody<'a> {
    /// The quote, base64.
    quote: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    policy_id: Option<&'a str>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::summary_args;

    /// The body made from `--quote` (and `--policy-id`), byte for byte.
    #[test]
    fn the_quote_body_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let q = dir.path().join("q.bin");
        std::fs::write(&q, [1, 2, 3]).unwrap();
        let q = q.to_str().unwrap();
        let mut args = summary_args(&[]);
        args.quote = Some(q.into());
        assert_eq!(base_body(&args).unwrap().to_string(), r#"{"quote":"AQID"}"#);
        args.policy_id = Some("p1".into());
        assert_eq!(
            base_body(&args).unwrap().to_string(),
            r#"{"quote":"AQID","policy_id":"p1"}"#
        );
    }

    #[test]
    fn answers_and_nonces_parse() {
        let (c, t) = parse_answer(br#"{"token":"a.b.c","verdict":{"accepted":false}}"#).unwrap();
        assert_eq!((c.as_str(), t.as_deref()), ("rejected", Some("a.b.c")));
        assert!(parse_answer(b"{}").is_none());
        assert_eq!(
            parse_nonce(br#"{"nonce":"x","expires_at":1}"#).as_deref(),
            Some("x")
        );
    }
}
