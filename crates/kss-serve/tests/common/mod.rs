//! A service started in process on 127.0.0.1:0, an independent JWT check (jwt-compact, not the
//! jsonwebtoken that signs), and fixtures.
#![allow(dead_code)]

use kss_serve::client::{Client, Target};
use kss_serve::{AppState, CollateralConfig, ServeConfig, Server};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub const TESTDATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata");
pub const PHALA_QUOTE: &str = "phala-dcap-qvl/sgx_quote";
pub const PHALA_COLLATERAL: &str = "phala-dcap-qvl/sgx_quote_collateral.json";
/// The time SOURCES.md pins for the phala sample (2025-07-19T10:01:17Z).
pub const PHALA_AT: u64 = 1_752_919_277;
pub const NONCE_SECRET: &[u8] = b"a shared nonce secret for the replicas";

pub fn testdata(p: &str) -> PathBuf {
    Path::new(TESTDATA).join(p)
}

pub fn write_private(path: &Path, bytes: &[u8]) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, bytes).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// A running service and its files.
pub struct Svc {
    pub dir: tempfile::TempDir,
    pub state: Arc<AppState>,
    pub target: Target,
    pub client: Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<()>>,
}

/// What to start a service with.
pub struct Setup {
    pub collateral: PathBuf,
    pub at: Option<u64>,
    pub trust_roots: Vec<PathBuf>,
    pub policies: Vec<(&'static str, String)>,
    pub edit: Box<dyn FnOnce(&mut ServeConfig)>,
}

impl Setup {
    pub fn phala() -> Self {
        Self {
            collateral: testdata(PHALA_COLLATERAL),
            at: Some(PHALA_AT),
            trust_roots: vec![],
            policies: vec![(
                "lenient",
                r#"{"accepted_tcb_statuses": ["UpToDate", "ConfigurationAndSWHardeningNeeded"]}"#
                    .to_string(),
            )],
            edit: Box::new(|_| {}),
        }
    }
}

impl Svc {
    pub async fn start(setup: Setup) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("signing-key.pem");
        kss_serve::token::write_new_key(&key).unwrap();
        let secret = dir.path().join("nonce-secret");
        write_private(&secret, NONCE_SECRET);
        let pdir = dir.path().join("policies");
        std::fs::create_dir_all(&pdir).unwrap();
        for (id, text) in &setup.policies {
            std::fs::write(pdir.join(format!("{id}.json")), text).unwrap();
        }
        let mut config = ServeConfig::new(
            "127.0.0.1:0".parse().unwrap(),
            key,
            pdir,
            CollateralConfig::Fixed(setup.collateral),
        );
        config.at = setup.at;
        config.trust_roots = setup.trust_roots;
        config.nonce_secret_file = Some(secret);
        config.request_timeout = Duration::from_secs(5);
        (setup.edit)(&mut config);
        let state = Arc::new(AppState::new(&config).unwrap());
        let server = Server::bind(config.listen, state.clone(), None)
            .await
            .unwrap();
        let addr = server.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(server.serve(async move {
            let _ = rx.await;
        }));
        Self {
            dir,
            state,
            target: Target::parse(&format!("http://{addr}")).unwrap(),
            client: Client::new(None, Duration::from_secs(10)).unwrap(),
            stop: Some(tx),
            handle: Some(handle),
        }
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let (s, b) = self
            .client
            .request(&self.target, "GET", path, None)
            .await
            .unwrap();
        (s, serde_json::from_slice(&b).unwrap_or(Value::Null))
    }

    pub async fn post(&self, body: &Value) -> (u16, Value) {
        let (s, b) = self
            .client
            .request(
                &self.target,
                "POST",
                "/v1/attest",
                Some(serde_json::to_vec(body).unwrap().into()),
            )
            .await
            .unwrap();
        (
            s,
            serde_json::from_slice(&b)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&b))),
        )
    }

    /// Stops the service and waits until it has drained.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            tokio::time::timeout(Duration::from_secs(15), h)
                .await
                .expect("drains in time")
                .unwrap();
        }
    }

    pub fn trigger_stop(&mut self) -> Option<tokio::task::JoinHandle<()>> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        self.handle.take()
    }
}

pub fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Verifies a token against the service's JWKS with jwt-compact (p256), independently of the
/// jsonwebtoken/ring code that signed it; returns the claims with `iat` and `exp` put back.
pub fn verify_token(token: &str, jwks: &Value) -> Value {
    use jwt_compact::{alg::Es256, AlgorithmExt, UntrustedToken};
    use p256::elliptic_curve::sec1::EncodedPoint;
    let untrusted = UntrustedToken::new(token).expect("compact JWS");
    assert_eq!(untrusted.algorithm(), "ES256");
    let kid = untrusted.header().key_id.clone().expect("kid");
    let key = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .expect("kid in JWKS");
    assert_eq!(key["kty"], "EC");
    assert_eq!(key["crv"], "P-256");
    assert_eq!(key["alg"], "ES256");
    use base64::Engine as _;
    let d = |v: &Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(v.as_str().unwrap())
            .unwrap()
    };
    let (x, y) = (d(&key["x"]), d(&key["y"]));
    let point = EncodedPoint::<p256::NistP256>::from_affine_coordinates(
        x.as_slice().into(),
        y.as_slice().into(),
        false,
    );
    let vk = p256::ecdsa::VerifyingKey::from_encoded_point(&point).expect("P-256 point");
    let token = Es256
        .validator::<Value>(&vk)
        .validate(&untrusted)
        .expect("signature verifies");
    let c = token.claims();
    let exp = c.expiration.expect("exp").timestamp();
    let iat = c.issued_at.expect("iat").timestamp();
    assert!(exp > iat);
    assert!(exp > chrono_now(), "not expired");
    let mut claims = c.custom.clone();
    claims["iat"] = iat.into();
    claims["exp"] = exp.into();
    claims
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}
