//! Parsing of `POST /v1/attest` bodies. Every way a body can be wrong is a [`RequestError`]
//! naming the field; nothing here panics on any input (property-tested).

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;

/// Largest decoded quote accepted (a DCAP quote with its certification chain is ~5 KiB).
pub const MAX_QUOTE_BYTES: usize = 256 * 1024;
/// Largest decoded runtime data accepted.
pub const MAX_RUNTIME_DATA_BYTES: usize = 256 * 1024;
/// Longest nonce string accepted before it is even checked.
pub const MAX_NONCE_CHARS: usize = 256;

/// A parsed `POST /v1/attest` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttestRequest {
    /// The raw quote.
    pub quote: Vec<u8>,
    /// The policy id, when named.
    pub policy_id: Option<String>,
    /// The nonce, when given (not yet checked).
    pub nonce: Option<String>,
    /// The runtime data, when given.
    pub runtime_data: Option<Vec<u8>>,
}

/// A malformed request: the `400` body `{"error": …, "field": …}`. Equal when the body is.
#[derive(Debug, Clone, Serialize)]
pub struct RequestError {
    /// What is wrong.
    pub error: String,
    /// The field at fault (`null` when the body as a whole is wrong).
    pub field: Option<String>,
    /// The error behind `error`, when another error is (e.g. the JSON parser's); not part of
    /// the body. [`std::error::Error::source`] returns it.
    #[serde(skip)]
    pub cause: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl RequestError {
    /// An error about `field`.
    pub fn field(field: &str, error: impl Into<String>) -> Self {
        Self {
            error: error.into(),
            field: Some(field.to_string()),
            cause: None,
        }
    }

    /// An error about the whole body.
    pub fn body(error: impl Into<String>) -> Self {
        Self {
            error: error.into(),
            field: None,
            cause: None,
        }
    }

    /// The same error, with the error behind it kept as its cause.
    pub fn caused_by(self, cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self {
            cause: Some(Arc::from(cause.into())),
            ..self
        }
    }
}

impl PartialEq for RequestError {
    fn eq(&self, other: &Self) -> bool {
        self.error == other.error && self.field == other.field
    }
}

impl Eq for RequestError {}

impl std::fmt::Display for RequestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.error)
    }
}

impl std::error::Error for RequestError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause
            .as_deref()
            .map(|c| c as &(dyn std::error::Error + 'static))
    }
}

/// Decodes base64 in the standard or URL-safe alphabet, padded or not.
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let t = text.trim();
    STANDARD
        .decode(t)
        .or_else(|_| STANDARD_NO_PAD.decode(t))
        .or_else(|_| URL_SAFE.decode(t))
        .or_else(|_| URL_SAFE_NO_PAD.decode(t))
        .ok()
}

fn string_field<'a>(
    obj: &'a serde_json::Map<String, Value>,
    name: &str,
) -> Result<Option<&'a str>, RequestError> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(RequestError::field(
            name,
            format!("{name} must be a string"),
        )),
    }
}

fn base64_field(
    obj: &serde_json::Map<String, Value>,
    name: &str,
    max: usize,
) -> Result<Option<Vec<u8>>, RequestError> {
    let Some(text) = string_field(obj, name)? else {
        return Ok(None);
    };
    // Base64 grows by 4/3: refuse before decoding anything much larger than allowed.
    if text.len() > max / 3 * 4 + 8 {
        return Err(RequestError::field(
            name,
            format!("{name} is longer than {max} bytes"),
        ));
    }
    decode_base64(text)
        .map(Some)
        .ok_or_else(|| RequestError::field(name, format!("{name} is not valid base64")))
}

/// Parses a request body (JSON).
pub fn parse_attest_request(body: &[u8]) -> Result<AttestRequest, RequestError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| RequestError::body(format!("the body is not valid JSON: {e}")).caused_by(e))?;
    let Value::Object(obj) = value else {
        return Err(RequestError::body("the body must be a JSON object"));
    };
    for key in obj.keys() {
        if !matches!(
            key.as_str(),
            "quote" | "policy_id" | "nonce" | "runtime_data"
        ) {
            return Err(RequestError::field(
                key,
                "unknown field (expected quote, policy_id, nonce, runtime_data)",
            ));
        }
    }
    let quote = base64_field(&obj, "quote", MAX_QUOTE_BYTES)?.ok_or_else(|| {
        RequestError::field("quote", "quote is required (base64 of the DCAP quote)")
    })?;
    if quote.is_empty() {
        return Err(RequestError::field("quote", "quote is empty"));
    }
    let policy_id = string_field(&obj, "policy_id")?
        .map(|id| {
            crate::policies::check_policy_id(id)
                .map(|()| id.to_string())
                .map_err(|r| {
                    RequestError::field("policy_id", format!("not a valid policy id: {r}"))
                })
        })
        .transpose()?;
    let nonce = string_field(&obj, "nonce")?
        .map(|n| {
            if n.is_empty() || n.len() > MAX_NONCE_CHARS {
                Err(RequestError::field(
                    "nonce",
                    "not a nonce issued by this service",
                ))
            } else {
                Ok(n.to_string())
            }
        })
        .transpose()?;
    let runtime_data = base64_field(&obj, "runtime_data", MAX_RUNTIME_DATA_BYTES)?;
    Ok(AttestRequest {
        quote,
        policy_id,
        nonce,
        runtime_data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn err(body: &str) -> RequestError {
        parse_attest_request(body.as_bytes()).unwrap_err()
    }

    #[test]
    fn good_and_bad_bodies() {
        let r = parse_attest_request(
            br#"{"quote": "AQID", "policy_id": "p1", "nonce": "n", "runtime_data": "aGk"}"#,
        )
        .unwrap();
        assert_eq!(r.quote, [1, 2, 3]);
        assert_eq!(r.policy_id.as_deref(), Some("p1"));
        assert_eq!(r.runtime_data.as_deref(), Some(&b"hi"[..]));
        assert_eq!(err("").field, None);
        let e = err("{");
        assert_eq!(
            e.error,
            "the body is not valid JSON: EOF while parsing an object at line 1 column 1"
        );
        let cause = std::error::Error::source(&e);
        assert!(cause.is_some_and(|c| c.is::<serde_json::Error>()), "{e:?}");
        // The cause is not part of the body.
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"error":"the body is not valid JSON: EOF while parsing an object at line 1 column 1","field":null}"#
        );
        assert_eq!(err("[]").field, None);
        assert_eq!(err("{}").field.as_deref(), Some("quote"));
        assert_eq!(err(r#"{"quote": 5}"#).field.as_deref(), Some("quote"));
        assert_eq!(err(r#"{"quote": "!!"}"#).field.as_deref(), Some("quote"));
        assert_eq!(err(r#"{"quote": ""}"#).field.as_deref(), Some("quote"));
        assert_eq!(
            err(r#"{"quote": "AQID", "extra": 1}"#).field.as_deref(),
            Some("extra")
        );
        assert_eq!(
            err(r#"{"quote": "AQID", "policy_id": "../etc"}"#)
                .field
                .as_deref(),
            Some("policy_id")
        );
        assert_eq!(
            err(r#"{"quote": "AQID", "runtime_data": []}"#)
                .field
                .as_deref(),
            Some("runtime_data")
        );
        let huge = format!(r#"{{"quote": "{}"}}"#, "A".repeat(MAX_QUOTE_BYTES * 2));
        assert!(err(&huge).error.contains("longer"));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_attest_request(&body);
        }

        #[test]
        fn arbitrary_json_objects_never_panic(
            quote in proptest::option::of(".{0,40}"),
            policy in proptest::option::of(".{0,70}"),
            nonce in proptest::option::of(".{0,300}"),
            rd in proptest::option::of("[A-Za-z0-9+/=_-]{0,40}"),
        ) {
            let mut m = serde_json::Map::new();
            if let Some(q) = quote { m.insert("quote".into(), q.into()); }
            if let Some(p) = policy { m.insert("policy_id".into(), p.into()); }
            if let Some(n) = nonce { m.insert("nonce".into(), n.into()); }
            if let Some(r) = rd { m.insert("runtime_data".into(), r.into()); }
            let body = serde_json::to_vec(&Value::Object(m)).unwrap();
            match parse_attest_request(&body) {
                Ok(r) => prop_assert!(!r.quote.is_empty()),
                Err(e) => prop_assert!(!e.error.is_empty()),
            }
        }

        #[test]
        fn valid_requests_round_trip(quote in proptest::collection::vec(any::<u8>(), 1..600),
                                     rd in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..100)),
                                     id in "[a-z0-9][a-z0-9._-]{0,20}") {
            let body = serde_json::json!({
                "quote": STANDARD.encode(&quote),
                "policy_id": id,
                "runtime_data": rd.as_ref().map(|r| URL_SAFE_NO_PAD.encode(r)),
            });
            let r = parse_attest_request(&serde_json::to_vec(&body).unwrap()).unwrap();
            prop_assert_eq!(r.quote, quote);
            prop_assert_eq!(r.runtime_data, rd);
            prop_assert_eq!(r.policy_id, Some(id));
        }
    }
}
