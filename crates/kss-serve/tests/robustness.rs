//! No panic and no hang on any request: garbage, truncated bodies, slow bodies, huge fields,
//! wrong content types, wrong methods, oversized bodies, raw bytes that are not HTTP. Every
//! error is JSON `{"error", "field"}`, and the service stays healthy afterwards.

mod common;

use common::*;
use proptest::prelude::*;
use serde_json::{json, Value};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Sends raw bytes, half-closes, and reads the whole answer (bounded in time).
async fn raw(host: &str, bytes: &[u8]) -> String {
    let mut tcp = TcpStream::connect(host).await.unwrap();
    // The service may answer and close before it has read the whole request (a 413 is decided
    // from the headers or the first MiB), so the rest of the write can fail with a broken pipe
    // or a reset. That is allowed HTTP behaviour; what is checked is the answer read below.
    let _ = tcp.write_all(bytes).await;
    let _ = tcp.shutdown().await;
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut out))
        .await
        .expect("the service answers or closes in time")
        .ok();
    String::from_utf8_lossy(&out).into_owned()
}

fn post(host: &str, content_type: Option<&str>, body: &[u8]) -> Vec<u8> {
    let mut req = format!("POST /v1/attest HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n");
    if let Some(ct) = content_type {
        req.push_str(&format!("content-type: {ct}\r\n"));
    }
    req.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
    let mut v = req.into_bytes();
    v.extend_from_slice(body);
    v
}

fn status_and_json(answer: &str) -> (u16, Value) {
    let status = answer
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {answer:?}"));
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or("");
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_json_errors_and_the_service_survives() {
    let mut setup = Setup::phala();
    setup.edit = Box::new(|c| c.request_timeout = Duration::from_millis(1500));
    let svc = Svc::start(setup).await;
    let host = svc.target.authority();
    let quote = b64(&std::fs::read(testdata(PHALA_QUOTE)).unwrap());

    // (content type, body, expected status, expected field)
    type Case<'a> = (Option<&'a str>, Vec<u8>, u16, Option<&'a str>);
    let cases: Vec<Case> = vec![
        (Some("application/json"), b"".to_vec(), 400, None),
        (Some("application/json"), b"{".to_vec(), 400, None),
        (
            Some("application/json"),
            b"\xff\xfe\x00garbage".to_vec(),
            400,
            None,
        ),
        (Some("application/json"), b"[1,2,3]".to_vec(), 400, None),
        (Some("application/json"), b"null".to_vec(), 400, None),
        (Some("application/json"), b"{}".to_vec(), 400, Some("quote")),
        (
            Some("application/json"),
            br#"{"quote": null}"#.to_vec(),
            400,
            Some("quote"),
        ),
        (
            Some("application/json"),
            br#"{"quote": {"a": 1}}"#.to_vec(),
            400,
            Some("quote"),
        ),
        (
            Some("application/json"),
            br#"{"quote": "%%%"}"#.to_vec(),
            400,
            Some("quote"),
        ),
        (
            Some("application/json"),
            format!(r#"{{"quote": "{quote}", "policy_id": 7}}"#).into_bytes(),
            400,
            Some("policy_id"),
        ),
        (
            Some("application/json"),
            format!(
                r#"{{"quote": "{quote}", "policy_id": "{}"}}"#,
                "p".repeat(5000)
            )
            .into_bytes(),
            400,
            Some("policy_id"),
        ),
        (
            Some("application/json"),
            format!(
                r#"{{"quote": "{quote}", "nonce": "{}"}}"#,
                "n".repeat(100_000)
            )
            .into_bytes(),
            400,
            Some("nonce"),
        ),
        (
            Some("application/json"),
            format!(
                r#"{{"quote": "{quote}", "runtime_data": "{}"}}"#,
                "A".repeat(600_000)
            )
            .into_bytes(),
            400,
            Some("runtime_data"),
        ),
        (
            Some("application/json"),
            format!(r#"{{"quote": "{}"}}"#, "A".repeat(900_000)).into_bytes(),
            400,
            Some("quote"),
        ),
        (
            Some("application/json"),
            format!(r#"{{"quote": "{quote}", "surprise": true}}"#).into_bytes(),
            400,
            Some("surprise"),
        ),
        (
            Some("application/json"),
            format!(r#"{{"quote": "{quote}""#).into_bytes(),
            400,
            None,
        ),
        (
            Some("text/plain"),
            format!(r#"{{"quote": "{quote}"}}"#).into_bytes(),
            415,
            Some("content-type"),
        ),
        (
            Some("application/x-www-form-urlencoded"),
            b"quote=abc".to_vec(),
            415,
            Some("content-type"),
        ),
        (
            None,
            format!(r#"{{"quote": "{quote}"}}"#).into_bytes(),
            415,
            Some("content-type"),
        ),
        (
            Some("application/json"),
            vec![b' '; (1 << 20) + 1],
            413,
            None,
        ),
    ];
    for (ct, body, want, field) in cases {
        let answer = raw(&host, &post(&host, ct, &body)).await;
        let (status, v) = status_and_json(&answer);
        let shown = String::from_utf8_lossy(&body[..body.len().min(60)]).into_owned();
        assert_eq!(status, want, "{ct:?} {shown}: {answer:.300}");
        assert!(v["error"].is_string(), "{shown}: {answer:.300}");
        assert_eq!(v["field"].as_str(), field, "{shown}: {v}");
    }

    // A body announced larger than 1 MiB is refused before it is sent.
    let head = format!("POST /v1/attest HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\ncontent-length: 5000000\r\n\r\n{{");
    let (status, _) = status_and_json(&raw(&host, head.as_bytes()).await);
    assert_eq!(status, 413);
    // Chunked and over the limit.
    let mut chunked = format!("POST /v1/attest HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n").into_bytes();
    for _ in 0..20 {
        chunked.extend_from_slice(format!("{:x}\r\n", 64 * 1024).as_bytes());
        chunked.extend(std::iter::repeat_n(b' ', 64 * 1024));
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let (status, _) = status_and_json(&raw(&host, &chunked).await);
    assert_eq!(status, 413);

    // A truncated body (the client stops sending): the request times out, no hang.
    let body = format!(r#"{{"quote": "{quote}"}}"#);
    let mut tcp = TcpStream::connect(&host).await.unwrap();
    let head = format!("POST /v1/attest HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n", body.len());
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp.write_all(&body.as_bytes()[..body.len() / 2])
        .await
        .unwrap();
    let mut out = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut out))
        .await
        .expect("answered within the request timeout")
        .unwrap();
    let (status, v) = status_and_json(&String::from_utf8_lossy(&out[..n]));
    assert_eq!(status, 503, "{v}");
    assert!(v["error"].as_str().unwrap().contains("longer than"), "{v}");

    // A truncated body followed by EOF.
    let answer = raw(
        &host,
        &post(&host, Some("application/json"), body.as_bytes())[..head.len() + 10],
    )
    .await;
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 400"),
        "{answer:.200}"
    );

    // Not HTTP at all, bad methods and paths.
    for junk in [
        &b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"[..],
        b"GET\r\n\r\n",
        b"\r\n\r\n\r\n",
        b"HELLO WORLD HTTP/9.9\r\n\r\n",
    ] {
        let answer = raw(&host, junk).await;
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 4"),
            "{answer:.200}"
        );
    }
    let (s, v) = svc.get("/v1/attest").await;
    assert_eq!((s, v["error"].is_string()), (405, true));
    let (s, v) = svc.get("/nope").await;
    assert_eq!((s, v["error"].is_string()), (404, true));
    let answer = raw(
        &host,
        format!("DELETE /v1/nonce HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n\r\n")
            .as_bytes(),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 405"), "{answer:.200}");
    // A huge header.
    let answer = raw(
        &host,
        format!(
            "GET /healthz HTTP/1.1\r\nhost: {host}\r\nx-big: {}\r\n\r\n",
            "b".repeat(2 << 20)
        )
        .as_bytes(),
    )
    .await;
    assert!(
        answer.is_empty()
            || answer.starts_with("HTTP/1.1 431")
            || answer.starts_with("HTTP/1.1 400"),
        "{answer:.200}"
    );
    // A request id is echoed when sane, replaced when not.
    let answer = raw(&host, format!("GET /healthz HTTP/1.1\r\nhost: {host}\r\nx-request-id: abc-123\r\nconnection: close\r\n\r\n").as_bytes()).await;
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("x-request-id: abc-123"),
        "{answer}"
    );
    let answer = raw(&host, format!("GET /healthz HTTP/1.1\r\nhost: {host}\r\nx-request-id: <script>\r\nconnection: close\r\n\r\n").as_bytes()).await;
    assert!(!answer.contains("<script>"), "{answer}");

    // Still healthy, and a good request still works.
    assert_eq!(svc.get("/healthz").await.0, 200);
    let (s, r) = svc.post(&json!({"quote": quote})).await;
    assert_eq!(s, 200, "{r}");
    svc.stop().await;
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Random bytes as a body, random content types: always an answer, never a 5xx but the
    /// documented ones, and the service keeps serving.
    #[test]
    fn random_bodies_never_break_the_service(
        bodies in proptest::collection::vec(
            (proptest::collection::vec(any::<u8>(), 0..300), prop_oneof![
                Just("application/json"), Just("text/plain"), Just("application/json; charset=utf-8"), Just("")
            ]),
            1..6
        )
    ) {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(async {
            let svc = shared_service().await;
            let host = svc.0.clone();
            for (body, ct) in &bodies {
                let ct = (!ct.is_empty()).then_some(*ct);
                let answer = raw(&host, &post(&host, ct, body)).await;
                let (status, v) = status_and_json(&answer);
                prop_assert!(matches!(status, 200 | 400 | 415), "{status} {answer:.200}");
                if status != 200 {
                    prop_assert!(v["error"].is_string());
                }
            }
            let answer = raw(&host, format!("GET /healthz HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n\r\n").as_bytes()).await;
            prop_assert!(answer.starts_with("HTTP/1.1 200"));
            Ok(())
        })?;
    }
}

/// One service for all proptest cases, on its own runtime thread.
async fn shared_service() -> &'static (String,) {
    static SVC: std::sync::OnceLock<(String,)> = std::sync::OnceLock::new();
    if let Some(s) = SVC.get() {
        return s;
    }
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let svc = Svc::start(Setup::phala()).await;
            tx.send(svc.target.authority()).unwrap();
            // Serve until the test process exits.
            std::future::pending::<()>().await;
            drop(svc);
        });
    });
    let host = rx.recv().unwrap();
    SVC.get_or_init(|| (host,))
}
