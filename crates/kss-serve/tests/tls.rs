//! HTTPS with `--tls-cert/--tls-key` (rustls): a client that trusts the service's CA attests
//! through it; a client that does not trust it fails the handshake; a readable TLS key is
//! refused.

mod common;

use common::*;
use kss_serve::client::{Client, Target};
use kss_serve::{AppState, CollateralConfig, ServeConfig, Server};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let server_key = rcgen::KeyPair::generate().unwrap();
    let server_params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    let issuer = rcgen::Issuer::from_params(&ca_params, &ca_key);
    let server_cert = server_params.signed_by(&server_key, &issuer).unwrap();
    let (cert_pem, key_pem, ca_pem) = (
        dir.path().join("server.pem"),
        dir.path().join("server.key"),
        dir.path().join("ca.pem"),
    );
    std::fs::write(&cert_pem, server_cert.pem()).unwrap();
    std::fs::write(&ca_pem, ca.pem()).unwrap();
    std::fs::write(&key_pem, server_key.serialize_pem()).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key_pem, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = kss_serve::server::tls_acceptor(&cert_pem, &key_pem)
            .err()
            .expect("a readable TLS key is refused")
            .to_string();
        assert!(e.contains("chmod 600"), "{e}");
    }
    write_private(&key_pem, server_key.serialize_pem().as_bytes());
    let tls = kss_serve::server::tls_acceptor(&cert_pem, &key_pem).unwrap();

    let sign = dir.path().join("sign.pem");
    kss_serve::token::write_new_key(&sign).unwrap();
    let pdir = dir.path().join("policies");
    std::fs::create_dir_all(&pdir).unwrap();
    let mut config = ServeConfig::new(
        "127.0.0.1:0".parse().unwrap(),
        sign,
        pdir,
        CollateralConfig::Fixed(testdata(PHALA_COLLATERAL)),
    );
    config.at = Some(PHALA_AT);
    let state = Arc::new(AppState::new(&config).unwrap());
    let server = Server::bind(config.listen, state, Some(tls)).await.unwrap();
    let port = server.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(server.serve(async move {
        let _ = rx.await;
    }));

    let target = Target::parse(&format!("https://localhost:{port}")).unwrap();
    let client = Client::new(Some(&ca_pem), Duration::from_secs(10)).unwrap();
    let quote = std::fs::read(testdata(PHALA_QUOTE)).unwrap();
    let body = serde_json::to_vec(&json!({"quote": b64(&quote)})).unwrap();
    let (s, b) = client
        .request(&target, "POST", "/v1/attest", Some(body.into()))
        .await
        .unwrap();
    assert_eq!(s, 200);
    let answer: serde_json::Value = serde_json::from_slice(&b).unwrap();
    let (_, jwks) = client
        .request(&target, "GET", "/.well-known/jwks.json", None)
        .await
        .unwrap();
    let claims = verify_token(
        answer["token"].as_str().unwrap(),
        &serde_json::from_slice(&jwks).unwrap(),
    );
    assert_eq!(claims["submods"]["sgx"]["ear.status"], "contraindicated");

    // A client that trusts another CA does not get through; plain HTTP gets no answer.
    let other = dir.path().join("other.pem");
    let other_key = rcgen::KeyPair::generate().unwrap();
    let other_ca = ca_params.self_signed(&other_key).unwrap();
    std::fs::write(&other, other_ca.pem()).unwrap();
    let stranger = Client::new(Some(&other), Duration::from_secs(5)).unwrap();
    assert!(stranger
        .request(&target, "GET", "/healthz", None)
        .await
        .is_err());
    let plain = Target::parse(&format!("http://localhost:{port}")).unwrap();
    let r = client.request(&plain, "GET", "/healthz", None).await;
    assert!(r.is_err() || r.unwrap().0 != 200);

    let _ = tx.send(());
    tokio::time::timeout(Duration::from_secs(15), handle)
        .await
        .unwrap()
        .unwrap();
}
