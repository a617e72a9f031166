//! The HTTP API (JSON in and out). See `docs/serve.md`.
//!
//! | route | answer |
//! |---|---|
//! | `POST /v1/attest` | `200 {"token", "verdict"}`; `400 {"error", "field"}`; `404` unknown policy; `413` body over 1 MiB; `415` not JSON; `503` saturated or timed out |
//! | `GET /v1/nonce` | `{"nonce", "expires_at"}` |
//! | `GET /.well-known/jwks.json` | the token signing key(s) |
//! | `GET /v1/policies`, `GET /v1/policies/{id}` | ids with SHA-256; one policy |
//! | `GET /healthz`, `GET /readyz`, `GET /metrics` | liveness, readiness, Prometheus text |

use crate::policies::DEFAULT_POLICY_ID;
use crate::request::{parse_attest_request, RequestError};
use crate::state::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use http_body_util::{BodyExt, Limited};
use serde::Serialize;
use std::sync::Arc;
use std::time::Instant;
use tracing::Instrument;

/// Largest request body accepted.
pub const MAX_BODY: usize = 1 << 20;

/// The request id header (echoed, or generated).
pub const REQUEST_ID: &str = "x-request-id";

/// Endpoint and result of a request, for metrics and logs (set by handlers as a response
/// extension).
#[derive(Clone, Copy, Debug)]
struct Outcome(&'static str);

fn json_response<T: Serialize>(status: StatusCode, body: &T) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        bytes,
    )
        .into_response()
}

fn with_outcome(mut r: Response, outcome: &'static str) -> Response {
    r.extensions_mut().insert(Outcome(outcome));
    r
}

/// An error response `{"error": …, "field": …}` with `status`.
fn error(status: StatusCode, err: RequestError, outcome: &'static str) -> Response {
    with_outcome(json_response(status, &err), outcome)
}

/// The router with every endpoint, the request-id/timeout/logging layer, and JSON 404/405.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/v1/attest", post(attest))
        .route("/v1/nonce", get(nonce))
        .route("/.well-known/jwks.json", get(jwks))
        .route("/v1/policies", get(policies))
        .route("/v1/policies/{id}", get(policy))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

async fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        RequestError::body("no such endpoint"),
        "not_found",
    )
}

async fn method_not_allowed() -> Response {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        RequestError::body("method not allowed on this endpoint"),
        "method_not_allowed",
    )
}

fn endpoint_of(path: &str) -> &'static str {
    match path {
        "/v1/attest" => "attest",
        "/v1/nonce" => "nonce",
        "/.well-known/jwks.json" => "jwks",
        "/v1/policies" => "policies",
        p if p.starts_with("/v1/policies/") => "policy",
        "/healthz" => "healthz",
        "/readyz" => "readyz",
        "/metrics" => "metrics",
        _ => "other",
    }
}

fn valid_request_id(v: &HeaderValue) -> Option<String> {
    let s = v.to_str().ok()?;
    (!s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')))
    .then(|| s.to_string())
}

/// Request id, span, time limit, metrics and one log line per request. Quote bytes and
/// secrets are never logged.
async fn observe(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(valid_request_id)
        .unwrap_or_else(|| state.next_request_id());
    let endpoint = endpoint_of(req.uri().path());
    let method = req.method().clone();
    let span = tracing::info_span!("request", id = %id, method = %method, endpoint);
    let limit = state.request_timeout;
    let mut resp = match tokio::time::timeout(limit, next.run(req).instrument(span.clone())).await {
        Ok(r) => r,
        Err(_) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            RequestError::body(format!(
                "the request took longer than {} s",
                limit.as_secs_f64()
            )),
            "timeout",
        ),
    };
    let outcome = resp
        .extensions()
        .get::<Outcome>()
        .map_or_else(|| status_outcome(resp.status()), |o| o.0);
    state.metrics.request(endpoint, outcome);
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(REQUEST_ID, v);
    }
    let _e = span.enter();
    tracing::info!(
        status = resp.status().as_u16(),
        result = outcome,
        ms = start.elapsed().as_secs_f64() * 1e3,
        "done"
    );
    resp
}

fn status_outcome(s: StatusCode) -> &'static str {
    match s.as_u16() {
        200..=299 => "ok",
        400 => "bad_request",
        404 => "not_found",
        413 => "too_large",
        415 => "unsupported_media_type",
        503 => "unavailable",
        _ => "error",
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}

/// Reads a body of at most [`MAX_BODY`] bytes; `Err` is the response to send.
async fn read_body(headers: &HeaderMap, body: Body) -> Result<Bytes, Response> {
    let too_large = || {
        error(
            StatusCode::PAYLOAD_TOO_LARGE,
            RequestError::body(format!("the body is larger than {MAX_BODY} bytes")),
            "too_large",
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY as u64) {
        return Err(too_large());
    }
    match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => Ok(b.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(too_large()),
        Err(e) => Err(error(
            StatusCode::BAD_REQUEST,
            RequestError::body(format!("the body could not be read: {e}")).caused_by(e),
            "bad_request",
        )),
    }
}

#[derive(Serialize)]
struct AttestResponse<'a> {
    token: &'a str,
    verdict: &'a serde_json::Value,
}

async fn attest(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    if !is_json(&parts.headers) {
        return error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            RequestError::field("content-type", "the body must be application/json"),
            "unsupported_media_type",
        );
    }
    let bytes = match read_body(&parts.headers, body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let request = match parse_attest_request(&bytes) {
        Ok(r) => r,
        Err(e) => return error(StatusCode::BAD_REQUEST, e, "bad_request"),
    };
    if let Some(n) = &request.nonce {
        if let Err(e) = state.nonces().check(n, kss_attest::now()) {
            return error(
                StatusCode::BAD_REQUEST,
                RequestError::field("nonce", e.to_string()),
                "bad_nonce",
            );
        }
    }
    let id = request.policy_id.as_deref().unwrap_or(DEFAULT_POLICY_ID);
    let Some(policy) = state.policies().get(id).cloned() else {
        return error(
            StatusCode::NOT_FOUND,
            RequestError::field("policy_id", format!("unknown policy \"{id}\"")),
            "unknown_policy",
        );
    };
    // Admission: a bounded number of attestations in the service at once; beyond that the
    // answer is an immediate 503, not a queue.
    let Ok(slot) = state.attest_slots.clone().try_acquire_owned() else {
        let mut r = error(
            StatusCode::SERVICE_UNAVAILABLE,
            RequestError::body("the service is saturated; retry shortly"),
            "overloaded",
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return r;
    };
    // At most `workers` verifications run at once, each on a blocking thread, so the async
    // workers never block. Waiting here is bounded by the admission limit above.
    let Ok(worker) = state.workers.clone().acquire_owned().await else {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            RequestError::body("the service is shutting down"),
            "unavailable",
        );
    };
    let st = state.clone();
    let result = tokio::task::spawn_blocking(move || {
        let _held = (slot, worker);
        st.attest(
            &request.quote,
            &policy,
            request.nonce,
            request.runtime_data.as_deref(),
        )
    })
    .await;
    match result {
        Ok(Ok(outcome)) => {
            tracing::debug!(status = outcome.status.as_str(), "attested");
            let r = json_response(
                StatusCode::OK,
                &AttestResponse {
                    token: &outcome.token,
                    verdict: &outcome.verdict,
                },
            );
            with_outcome(r, outcome.status.as_str())
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "attestation failed");
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                RequestError::body(format!("attestation could not be completed: {e}")).caused_by(e),
                "error",
            )
        }
        Err(_) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            RequestError::body("internal error"),
            "error",
        ),
    }
}

#[derive(Serialize)]
struct NonceResponse {
    nonce: String,
    expires_at: u64,
}

async fn nonce(State(state): State<Arc<AppState>>) -> Response {
    let (nonce, expires_at) = state.nonces().issue(kss_attest::now());
    let mut r = json_response(StatusCode::OK, &NonceResponse { nonce, expires_at });
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

async fn jwks(State(state): State<Arc<AppState>>) -> Response {
    json_response(StatusCode::OK, &state.signer().jwks())
}

async fn policies(State(state): State<Arc<AppState>>) -> Response {
    let set = state.policies();
    json_response(StatusCode::OK, &set.listing())
}

async fn policy(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    let set = state.policies();
    match set.get(&id) {
        Some(p) => json_response(StatusCode::OK, &p.detail()),
        None => error(
            StatusCode::NOT_FOUND,
            RequestError::field("id", "unknown policy"),
            "unknown_policy",
        ),
    }
}

/// The body of `GET /healthz`: `{"status": "ok"}`.
#[derive(Serialize)]
struct Health {
    status: &'static str,
}

/// The body of `GET /readyz`: `{"ready": true}`, or `{"ready": false, "reason": …}`.
#[derive(Serialize)]
struct Readiness {
    ready: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
}

async fn healthz() -> Response {
    json_response(StatusCode::OK, &Health { status: "ok" })
}

async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    if state.is_ready() {
        json_response(
            StatusCode::OK,
            &Readiness {
                ready: true,
                reason: None,
            },
        )
    } else {
        json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &Readiness {
                ready: false,
                reason: Some("draining"),
            },
        )
    }
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let set = state.policies();
    let text = state.metrics.render(&[
        (
            "kss_policies_loaded",
            "Policies in force.",
            set.len() as f64,
        ),
        (
            "kss_verifier_cache_entries",
            "Entries in the warm verifier's cache.",
            state.verifier_cache_len() as f64,
        ),
        (
            "kss_ready",
            "1 when ready to serve, 0 while draining.",
            if state.is_ready() { 1.0 } else { 0.0 },
        ),
    ]);
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4"),
        )],
        text,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The body as `json_response` sends it.
    fn text<T: Serialize>(v: &T) -> String {
        serde_json::to_string(v).unwrap()
    }

    #[test]
    fn health_and_readiness_bodies() {
        assert_eq!(text(&Health { status: "ok" }), r#"{"status":"ok"}"#);
        let ready = Readiness {
            ready: true,
            reason: None,
        };
        assert_eq!(text(&ready), r#"{"ready":true}"#);
        let draining = Readiness {
            ready: false,
            reason: Some("draining"),
        };
        assert_eq!(text(&draining), r#"{"ready":false,"reason":"draining"}"#);
    }
}
