//! The service end to end on a loopback port: verdicts for a real quote (fixed collateral, time
//! pinned) and a simulated KSS quote, tokens checked against the JWKS with an independent JWT
//! library, nonces, runtime data, policies and reloads, saturation, draining.

mod common;

use common::*;
use kss_attest::collateral::Collateral;
use kss_attest::json::{report_body_json, ByteOrder};
use kss_attest::policy::Policy;
use kss_attest::tcb::TcbStatus;
use kss_attest::verify::{trust_root_key, Verifier};
use kss_serve::appraise::verdict_json;
use kss_sim_qe::SimQuotingEnclave;
use serde_json::{json, Value};
use sha2::Digest;
use std::time::Duration;

fn phala_quote() -> Vec<u8> {
    std::fs::read(testdata(PHALA_QUOTE)).unwrap()
}

/// What `kss verify --json` printed before the service existed: a verifier built with the
/// policy itself.
fn reference_verdict(
    quote: &[u8],
    collateral: &std::path::Path,
    roots: &[std::path::PathBuf],
    policy: Policy,
    at: u64,
) -> Value {
    let c = Collateral::from_path(collateral).unwrap();
    let v = if roots.is_empty() {
        Verifier::new(policy)
    } else {
        let keys = roots
            .iter()
            .map(|p| trust_root_key(&std::fs::read(p).unwrap(), "root").unwrap())
            .collect();
        Verifier::with_trust_roots(keys, policy)
    };
    verdict_json(&v.verify(quote, &c, at))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_quote_verdicts_and_tokens() {
    let svc = Svc::start(Setup::phala()).await;
    let quote = phala_quote();
    let (_, jwks) = svc.get("/.well-known/jwks.json").await;

    // Default policy (UpToDate only): a 200 with a token saying it was rejected.
    let (s, r) = svc.post(&json!({"quote": b64(&quote)})).await;
    assert_eq!(s, 200, "{r}");
    let reference = reference_verdict(
        &quote,
        &testdata(PHALA_COLLATERAL),
        &[],
        Policy::default(),
        PHALA_AT,
    );
    assert_eq!(r["verdict"], reference, "verdict = kss verify --json");
    assert_eq!(r["verdict"]["accepted"], false);
    let claims = verify_token(r["token"].as_str().unwrap(), &jwks);
    let sgx = &claims["submods"]["sgx"];
    assert_eq!(claims["eat_profile"], "tag:github.com,2023:veraison/ear");
    assert_eq!(claims["ear.verifier-id"]["developer"], "kss");
    assert!(claims.get("eat_nonce").is_none());
    assert_eq!(sgx["ear.status"], "contraindicated");
    let ev = &sgx["ear.veraison.annotated-evidence"];
    assert_eq!(ev["first_failed_check"]["name"], "policy.tcb_status");
    assert_eq!(ev["tcb_status"], "ConfigurationAndSWHardeningNeeded");
    assert_eq!(
        ev["advisory_ids"],
        json!(["INTEL-SA-00289", "INTEL-SA-00615"])
    );
    assert_eq!(ev["verified_at"], PHALA_AT);
    let q = kss_attest::quote::Quote::parse(&quote).unwrap();
    assert_eq!(
        ev["report_body"],
        report_body_json(q.report_body().unwrap(), ByteOrder::Stored),
        "report_body = kss quote inspect --json"
    );
    let col: Value =
        serde_json::from_slice(&std::fs::read(testdata(PHALA_COLLATERAL)).unwrap()).unwrap();
    let tcb_body = col["tcb_info"].as_str().unwrap();
    assert_eq!(
        ev["collateral_sha256"]["tcb_info"],
        hex::encode(sha2::Sha256::digest(tcb_body.as_bytes()))
    );
    let (_, listing) = svc.get("/v1/policies").await;
    let default_sha = listing["policies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "default")
        .unwrap()["sha256"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        sgx["ear.appraisal-policy-id"],
        format!("default@sha256:{default_sha}")
    );

    // A policy that accepts this TCB status: accepted with advisories = warning.
    let (s, r) = svc
        .post(&json!({"quote": b64(&quote), "policy_id": "lenient"}))
        .await;
    assert_eq!(s, 200);
    let lenient = Policy::default().with_accepted_tcb_statuses(vec![
        TcbStatus::UpToDate,
        TcbStatus::ConfigurationAndSWHardeningNeeded,
    ]);
    assert_eq!(
        r["verdict"],
        reference_verdict(&quote, &testdata(PHALA_COLLATERAL), &[], lenient, PHALA_AT)
    );
    assert_eq!(r["verdict"]["accepted"], true);
    let claims = verify_token(r["token"].as_str().unwrap(), &jwks);
    let sgx = &claims["submods"]["sgx"];
    assert_eq!(sgx["ear.status"], "warning");
    assert!(sgx["ear.veraison.annotated-evidence"]
        .get("first_failed_check")
        .is_none());
    let lenient_sha = hex::encode(sha2::Sha256::digest(
        Setup::phala().policies[0].1.as_bytes(),
    ));
    assert_eq!(
        sgx["ear.appraisal-policy-id"],
        format!("lenient@sha256:{lenient_sha}")
    );

    // A tampered quote fails verification: still 200, contraindicated, the check named.
    let mut bad = quote.clone();
    bad[48 + 100] ^= 1;
    let (s, r) = svc
        .post(&json!({"quote": b64(&bad), "policy_id": "lenient"}))
        .await;
    assert_eq!(s, 200);
    let claims = verify_token(r["token"].as_str().unwrap(), &jwks);
    let ev = &claims["submods"]["sgx"]["ear.veraison.annotated-evidence"];
    assert_eq!(ev["first_failed_check"]["name"], "quote.isv_signature");
    // Bytes that are no quote at all: 200, contraindicated, no report body.
    let (s, r) = svc.post(&json!({"quote": b64(b"not a quote")})).await;
    assert_eq!(s, 200);
    let claims = verify_token(r["token"].as_str().unwrap(), &jwks);
    assert_eq!(claims["submods"]["sgx"]["ear.status"], "contraindicated");
    assert_eq!(
        claims["submods"]["sgx"]["ear.veraison.annotated-evidence"]["first_failed_check"]["name"],
        "quote.structure"
    );

    // Metrics saw it.
    let (s, text) = svc
        .client
        .request(&svc.target, "GET", "/metrics", None)
        .await
        .unwrap();
    assert_eq!(s, 200);
    let text = String::from_utf8(text.to_vec()).unwrap();
    assert!(
        text.contains("kss_requests_total{endpoint=\"attest\",result=\"contraindicated\"} 3"),
        "{text}"
    );
    assert!(
        text.contains("kss_requests_total{endpoint=\"attest\",result=\"warning\"} 1"),
        "{text}"
    );
    assert!(text.contains("kss_verification_seconds_count 4"), "{text}");
    assert!(text.contains("kss_collateral_cache_hits_total 4"), "{text}");
    svc.stop().await;
}

/// A simulated KSS quote (made by the simulated QE, as `kss run` does), verified against the
/// simulation root: affirming; runtime data bound by SHA-256 or SHA-512, or rejected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulated_kss_quote_and_runtime_data() {
    let tmp = tempfile::tempdir().unwrap();
    let qe = SimQuotingEnclave::load_or_create(&tmp.path().join("sim-ca")).unwrap();
    let now = kss_attest::now();
    qe.export_collateral(&tmp.path().join("export"), now - 60)
        .unwrap();
    let runtime = b"the workload's TLS public key";
    let mut body = kss_types::ReportBody::default();
    body.attributes.flags = kss_types::AttributeFlags::INIT
        | kss_types::AttributeFlags::MODE64BIT
        | kss_types::AttributeFlags::KSS;
    body.config_svn = 0x12ab;
    body.config_id.0[..3].copy_from_slice(&[0xc0, 0xff, 0xee]);
    body.isv_family_id = kss_types::Id128::from_high_low(3, 4);
    body.report_data[..32].copy_from_slice(&sha2::Sha256::digest(runtime));
    let q256 = qe.quote(&body).unwrap();
    body.report_data
        .copy_from_slice(&sha2::Sha512::digest(runtime));
    let q512 = qe.quote(&body).unwrap();

    let root = tmp.path().join("export/root.pem");
    let mut setup = Setup::phala();
    setup.collateral = tmp.path().join("export/collateral.json");
    setup.at = None;
    setup.trust_roots = vec![root.clone()];
    setup.policies = vec![(
        "kss",
        r#"{"isv_family_id": {"high": "0x3", "low": "0x4"}, "min_config_svn": 4779, "config_id": "c0ffee"}"#.into(),
    )];
    let svc = Svc::start(setup).await;
    let (_, jwks) = svc.get("/.well-known/jwks.json").await;

    let (s, r) = svc
        .post(&json!({"quote": b64(&q256), "policy_id": "kss", "runtime_data": b64(runtime)}))
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["verdict"]["accepted"], true, "{r}");
    let checks = r["verdict"]["checks"].as_array().unwrap();
    assert!(checks
        .iter()
        .any(|c| c["name"] == "policy.config_svn" && c["outcome"] == "pass"));
    let rd = checks
        .iter()
        .find(|c| c["name"] == "report_data.runtime_data")
        .unwrap();
    assert_eq!(rd["outcome"], "pass");
    assert!(rd["reason"].as_str().unwrap().contains("SHA-256"));
    let claims = verify_token(r["token"].as_str().unwrap(), &jwks);
    let sgx = &claims["submods"]["sgx"];
    assert_eq!(sgx["ear.status"], "affirming");
    let ev = &sgx["ear.veraison.annotated-evidence"];
    assert_eq!(ev["runtime_data_hash"], "sha256");
    assert_eq!(ev["report_body"]["config_svn"], 0x12ab);
    assert_eq!(
        ev["report_body"]["isv_family_id"],
        "04000000000000000300000000000000"
    );

    // Without runtime data the verdict is the plain `kss verify` verdict (no extra check).
    let (_, r) = svc
        .post(&json!({"quote": b64(&q256), "policy_id": "kss"}))
        .await;
    let kss_policy = Policy::from_json(
        r#"{"isv_family_id": {"high": "0x3", "low": "0x4"}, "min_config_svn": 4779, "config_id": "c0ffee"}"#,
        "kss",
    )
    .unwrap();
    let reference = reference_verdict(
        &q256,
        &tmp.path().join("export/collateral.json"),
        std::slice::from_ref(&root),
        kss_policy,
        r["verdict"]["at"].as_u64().unwrap(),
    );
    assert_eq!(r["verdict"], reference);

    // SHA-512 binding.
    let (_, r) = svc
        .post(&json!({"quote": b64(&q512), "policy_id": "kss", "runtime_data": b64(runtime)}))
        .await;
    let claims = verify_token(r["token"].as_str().unwrap(), &jwks);
    assert_eq!(
        claims["submods"]["sgx"]["ear.veraison.annotated-evidence"]["runtime_data_hash"],
        "sha512"
    );
    // Other runtime data: rejected with that reason.
    let (s, r) = svc
        .post(&json!({"quote": b64(&q256), "policy_id": "kss", "runtime_data": b64(b"other")}))
        .await;
    assert_eq!(s, 200);
    assert_eq!(r["verdict"]["accepted"], false);
    let claims = verify_token(r["token"].as_str().unwrap(), &jwks);
    let ev = &claims["submods"]["sgx"]["ear.veraison.annotated-evidence"];
    assert_eq!(claims["submods"]["sgx"]["ear.status"], "contraindicated");
    assert_eq!(ev["first_failed_check"]["name"], "report_data.runtime_data");
    assert!(ev.get("runtime_data_hash").is_none());
    svc.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nonces_round_trip_and_foreign_or_expired_ones_are_refused() {
    let svc = Svc::start(Setup::phala()).await;
    let quote = phala_quote();
    let (_, jwks) = svc.get("/.well-known/jwks.json").await;
    let (s, n) = svc.get("/v1/nonce").await;
    assert_eq!(s, 200);
    let nonce = n["nonce"].as_str().unwrap().to_string();
    assert!(n["expires_at"].as_u64().unwrap() > kss_attest::now());
    let (s, r) = svc
        .post(&json!({"quote": b64(&quote), "nonce": nonce}))
        .await;
    assert_eq!(s, 200, "{r}");
    let claims = verify_token(r["token"].as_str().unwrap(), &jwks);
    assert_eq!(claims["eat_nonce"], nonce.as_str());

    // Another replica with the same secret issued it: accepted.
    let replica =
        kss_serve::nonce::NonceKey::new(zeroize::Zeroizing::new(NONCE_SECRET.to_vec()), 300)
            .unwrap();
    let (other, _) = replica.issue(kss_attest::now());
    let (s, _) = svc
        .post(&json!({"quote": b64(&quote), "nonce": other}))
        .await;
    assert_eq!(s, 200);
    // Expired (issued 10 minutes ago with a 5 minute lifetime).
    let (old, _) = replica.issue(kss_attest::now() - 600);
    let (s, r) = svc.post(&json!({"quote": b64(&quote), "nonce": old})).await;
    assert_eq!(s, 400);
    assert_eq!(r["field"], "nonce");
    assert!(r["error"].as_str().unwrap().contains("expired"), "{r}");
    // Issued under another secret, or made up.
    let stranger = kss_serve::nonce::NonceKey::random(300);
    for n in [
        stranger.issue(kss_attest::now()).0,
        "hello-nonce".to_string(),
    ] {
        let (s, r) = svc.post(&json!({"quote": b64(&quote), "nonce": n})).await;
        assert_eq!(s, 400, "{r}");
        assert_eq!(r["field"], "nonce");
        assert!(
            r["error"].as_str().unwrap().contains("not a nonce issued"),
            "{r}"
        );
    }
    svc.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policies_listing_detail_unknown_and_reload() {
    let svc = Svc::start(Setup::phala()).await;
    let quote = phala_quote();
    let (s, l) = svc.get("/v1/policies").await;
    assert_eq!(s, 200);
    let ids: Vec<&str> = l["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["default", "lenient"]);
    let (s, d) = svc.get("/v1/policies/lenient").await;
    assert_eq!(s, 200);
    assert_eq!(
        d["policy"]["accepted_tcb_statuses"],
        json!(["UpToDate", "ConfigurationAndSWHardeningNeeded"])
    );
    assert_eq!(svc.get("/v1/policies/nope").await.0, 404);
    let (s, r) = svc
        .post(&json!({"quote": b64(&quote), "policy_id": "nope"}))
        .await;
    assert_eq!(s, 404);
    assert_eq!(r["field"], "policy_id");

    // A new policy appears on reload; a bad one is refused and the old set stays.
    let pdir = svc.dir.path().join("policies");
    std::fs::write(pdir.join("new.json"), r#"{"allow_debug": true}"#).unwrap();
    assert_eq!(svc.state.reload_policies().unwrap(), 3);
    assert_eq!(svc.get("/v1/policies/new").await.0, 200);
    std::fs::write(pdir.join("broken.json"), r#"{"min_config_svn": "lots"}"#).unwrap();
    std::fs::write(pdir.join("newer.json"), r#"{}"#).unwrap();
    let e = svc.state.reload_policies().unwrap_err().to_string();
    assert!(e.contains("broken.json"), "{e}");
    assert_eq!(
        svc.get("/v1/policies/newer").await.0,
        404,
        "nothing of the refused set"
    );
    assert_eq!(
        svc.get("/v1/policies/new").await.0,
        200,
        "the old set stays"
    );
    // The built-in default gives way to default.json.
    std::fs::remove_file(pdir.join("broken.json")).unwrap();
    std::fs::write(
        pdir.join("default.json"),
        Setup::phala().policies[0].1.as_bytes(),
    )
    .unwrap();
    svc.state.reload_policies().unwrap();
    let (_, r) = svc.post(&json!({"quote": b64(&quote)})).await;
    assert_eq!(r["verdict"]["accepted"], true);
    svc.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_and_drain() {
    let mut svc = Svc::start(Setup::phala()).await;
    assert_eq!(svc.get("/healthz").await.0, 200);
    assert_eq!(svc.get("/readyz").await, (200, json!({"ready": true})));

    // A request in flight when the stop comes: its body arrives after the stop, and it still
    // gets its answer; then the service has stopped accepting.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let body = serde_json::to_vec(&json!({"quote": b64(&phala_quote())})).unwrap();
    let host = svc.target.authority();
    let mut tcp = tokio::net::TcpStream::connect(&host).await.unwrap();
    let head = format!(
        "POST /v1/attest HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp.write_all(&body[..10]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let handle = svc.trigger_stop().unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(svc.state.is_draining());
    assert!(
        tokio::net::TcpStream::connect(&host).await.is_err(),
        "no new connections"
    );
    tcp.write_all(&body[10..]).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut answer))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    tokio::time::timeout(Duration::from_secs(10), handle)
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saturation_answers_503_at_once() {
    let mut setup = Setup::phala();
    setup.edit = Box::new(|c| {
        c.max_in_flight = 1;
        c.workers = 1;
    });
    let svc = std::sync::Arc::new(Svc::start(setup).await);
    let body = serde_json::to_vec(&json!({"quote": b64(&phala_quote())})).unwrap();
    let mut tasks = Vec::new();
    for _ in 0..48 {
        let svc = svc.clone();
        let body = body.clone();
        tasks.push(tokio::spawn(async move {
            let t = std::time::Instant::now();
            let (s, b) = svc
                .client
                .request(&svc.target, "POST", "/v1/attest", Some(body.into()))
                .await
                .unwrap();
            (s, b, t.elapsed())
        }));
    }
    let mut by = std::collections::BTreeMap::new();
    for t in tasks {
        let (s, b, _) = t.await.unwrap();
        if s == 503 {
            let v: Value = serde_json::from_slice(&b).unwrap();
            assert!(v["error"].as_str().unwrap().contains("saturated"));
        }
        *by.entry(s).or_insert(0) += 1;
    }
    assert!(by.keys().all(|s| *s == 200 || *s == 503), "{by:?}");
    assert!(by.get(&200).copied().unwrap_or(0) >= 1, "{by:?}");
    assert!(by.get(&503).copied().unwrap_or(0) >= 1, "{by:?}");
    assert_eq!(svc.get("/healthz").await.0, 200);
}
