//! `kss-loadtest`: the project's one load driver: a closed-loop HTTP/1.1 load generator (hyper)
//! for `kss serve` and for a cluster of replicas behind a load balancer.
//!
//! Each of `--connections` tasks keeps one keep-alive connection and sends `POST /v1/attest`
//! (the body from `--body`, or built from `--quote` and `--policy-id`) back to back, like
//! `wrk`; with `--get` it sends `GET` to the URL instead (e.g. `/healthz`). `https://` targets
//! are loaded through TLS with `--ca-cert`. Unlike a plain throughput tool it keeps what a
//! fault run needs:
//!
//! * every response's completion time, latency, HTTP status (a `503` from a saturated service
//!   is counted as `http_503`) or transport error (the driver never retries: a failure
//!   counted here is one a client saw);
//! * every verdict (`verdict.accepted` of the JSON answer), with the first and last time each
//!   kind was seen, so a policy reload shows how long old and new verdicts overlapped;
//! * a sample of the tokens (every `--token-every`-th answer), checked after the run against
//!   the JWKS fetched from `--jwks-url`: ES256 signature, a known `kid`, the token's verdict
//!   equal to the answer's, and the nonce that was sent.
//!
//! Targets are restricted to loopback addresses: this is a benchmark for one machine.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request, Uri};
use hyper_util::rt::TokioIo;
use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{Signature, VerifyingKey};
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, ServerName};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;

#[derive(Parser, Debug)]
#[command(
    version,
    about = "Closed-loop load driver for kss serve (loopback targets only)"
)]
struct Args {
    /// The verification endpoint, e.g. http://127.0.0.1:8080/v1/attest (loopback only;
    /// https:// needs --ca-cert).
    #[arg(long)]
    url: String,
    /// A JSON request body: `{"quote": "<base64>", "policy_id": ...}`. With --nonce-every a
    /// fresh `nonce` is set in it.
    #[arg(long, value_name = "FILE", required_unless_present_any = ["quote", "get"], conflicts_with_all = ["quote", "get"])]
    body: Option<PathBuf>,
    /// A quote file (binary): the body is `{"quote": "<base64>"}`, plus `policy_id`.
    #[arg(long, value_name = "FILE", conflicts_with = "get")]
    quote: Option<PathBuf>,
    /// The `policy_id` sent with --quote.
    #[arg(long, value_name = "ID", requires = "quote")]
    policy_id: Option<String>,
    /// Send `GET` to --url instead of attesting (e.g. /healthz): a 200 counts as `ok`, the
    /// body is not read as a verdict; no nonces, verdicts or tokens.
    #[arg(long, conflicts_with_all = ["expect", "jwks_url", "nonce_every", "nonce_url", "tokens_out"])]
    get: bool,
    /// The CA certificate (PEM) an https:// target's certificate must chain to.
    #[arg(long, value_name = "PEM")]
    ca_cert: Option<PathBuf>,
    /// Concurrent connections (one request in flight on each).
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Worker threads of the driver's runtime.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Seconds of recorded load (after the warm-up).
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Seconds of unrecorded load first (warms connections and the replicas' caches).
    #[arg(long, default_value_t = 0.0)]
    warmup: f64,
    /// Stop after this many requests in all (warm-up included).
    #[arg(long, default_value_t = 2_000_000)]
    max_requests: u64,
    /// Fetch a new nonce every N requests on each connection and send it (0: no nonce).
    #[arg(long, default_value_t = 0)]
    nonce_every: u64,
    /// Where nonces come from (default: /v1/nonce on the --url host).
    #[arg(long)]
    nonce_url: Option<String>,
    /// Fetch this JWKS after the run and check the sampled tokens against it.
    #[arg(long)]
    jwks_url: Option<String>,
    /// Keep every N-th token (per connection) for the check.
    #[arg(long, default_value_t = 5)]
    token_every: u64,
    /// Keep at most this many tokens in all.
    #[arg(long, default_value_t = 100_000)]
    token_cap: usize,
    /// Every verdict must be this (`accepted` or `rejected`); otherwise exit 1.
    #[arg(long)]
    expect: Option<String>,
    /// Exit 1 if more requests than this failed.
    #[arg(long)]
    max_failures: Option<u64>,
    /// With --jwks-url: exit 1 unless at least this many tokens were checked (and all valid).
    #[arg(long, default_value_t = 1)]
    min_tokens: u64,
    /// Per-request timeout, seconds.
    #[arg(long, default_value_t = 10.0)]
    timeout: f64,
    /// Write the summary as JSON here.
    #[arg(long, value_name = "FILE")]
    summary: Option<PathBuf>,
    /// Write the sampled tokens here, one per line.
    #[arg(long, value_name = "FILE")]
    tokens_out: Option<PathBuf>,
    /// A name for this run in the output.
    #[arg(long, default_value = "run")]
    label: String,
}

/// What became of one request.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
enum Outcome {
    /// 200 with a parsable answer; the verdict class index (per worker).
    Ok(u16),
    /// 200 whose body was not the expected JSON.
    BadBody,
    /// Any other HTTP status.
    Status(u16),
    /// The TCP connection could not be made.
    Connect,
    /// The connection closed before a whole response arrived.
    Closed,
    /// No response within --timeout.
    Timeout,
    /// Another transport error.
    Io,
}

impl Outcome {
    fn name(self) -> String {
        match self {
            Outcome::Ok(_) => "ok".into(),
            Outcome::BadBody => "bad_body".into(),
            Outcome::Status(s) => format!("http_{s}"),
            Outcome::Connect => "connect_error".into(),
            Outcome::Closed => "connection_closed".into(),
            Outcome::Timeout => "timeout".into(),
            Outcome::Io => "io_error".into(),
        }
    }
}

struct Record {
    /// Completion time, microseconds since the recorded run began.
    t_us: u64,
    lat_us: u32,
    outcome: Outcome,
}

struct Sample {
    token: String,
    class: String,
    nonce: Option<String>,
}

#[derive(Default)]
struct WorkerOut {
    records: Vec<Record>,
    classes: Vec<String>,
    samples: Vec<Sample>,
    /// The first few bodies of failed answers (non-200, or a 200 that did not parse).
    failure_bodies: Vec<String>,
}

/// TLS for an https:// target: the connector and the name the certificate must carry.
type Tls = (TlsConnector, ServerName<'static>);

struct Shared {
    addr: SocketAddr,
    tls: Option<Tls>,
    authority: String,
    path: String,
    nonce_path: String,
    base_body: Value,
    record_from: Instant,
    deadline: Instant,
    issued: AtomicU64,
    args: Args,
}

fn loopback_addr(uri: &Uri) -> Result<SocketAddr, String> {
    let default_port = match uri.scheme_str() {
        Some("http") => 80,
        Some("https") => 443,
        _ => return Err(format!("{uri}: only http:// and https:// URLs")),
    };
    let host = uri.host().ok_or_else(|| format!("{uri}: no host"))?;
    let ip: IpAddr = if host == "localhost" {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .map_err(|_| format!("{uri}: the host must be a loopback IP address or localhost"))?
    };
    if !ip.is_loopback() {
        return Err(format!(
            "{uri}: {ip} is not a loopback address; this driver only loads this machine"
        ));
    }
    Ok(SocketAddr::new(ip, uri.port_u16().unwrap_or(default_port)))
}

/// The rustls crypto provider: ring, as `kss serve` uses (rustls deprecates it only for
/// lacking post-quantum key exchange, which a loopback benchmark does not need).
#[allow(deprecated)]
fn ring_provider() -> Arc<tokio_rustls::rustls::crypto::CryptoProvider> {
    Arc::new(tokio_rustls::rustls::crypto::ring::default_provider())
}

/// TLS for `uri` when it is https://: a client that trusts only the CA certificates in
/// `ca_cert`. `None` for http://.
fn tls_for(uri: &Uri, ca_cert: Option<&std::path::Path>) -> Result<Option<Tls>, String> {
    if uri.scheme_str() != Some("https") {
        return Ok(None);
    }
    let path = ca_cert.ok_or_else(|| format!("{uri}: an https:// URL needs --ca-cert PEM"))?;
    let at = |e: &dyn std::fmt::Display| format!("--ca-cert {}: {e}", path.display());
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(path).map_err(|e| at(&e))? {
        roots.add(cert.map_err(|e| at(&e))?).map_err(|e| at(&e))?;
    }
    if roots.is_empty() {
        return Err(at(&"no certificate in the file"));
    }
    let provider = ring_provider();
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let host = uri
        .host()
        .unwrap_or_default()
        .trim_start_matches('[')
        .trim_end_matches(']');
    let name = ServerName::try_from(host.to_owned()).map_err(|e| format!("{uri}: {e}"))?;
    Ok(Some((TlsConnector::from(Arc::new(config)), name)))
}

type Sender = SendRequest<Full<Bytes>>;

async fn connect(addr: SocketAddr, tls: Option<&Tls>) -> Result<Sender, Outcome> {
    let stream = match tokio::time::timeout(Duration::from_secs(2), TcpStream::connect(addr)).await
    {
        Ok(Ok(s)) => s,
        Ok(Err(_)) => return Err(Outcome::Connect),
        Err(_) => return Err(Outcome::Connect),
    };
    let _ = stream.set_nodelay(true);
    match tls {
        None => handshake(stream).await,
        Some((connector, name)) => {
            let secured = tokio::time::timeout(
                Duration::from_secs(2),
                connector.connect(name.clone(), stream),
            )
            .await
            .map_err(|_| Outcome::Connect)?
            .map_err(|_| Outcome::Connect)?;
            handshake(secured).await
        }
    }
}

async fn handshake<S>(stream: S) -> Result<Sender, Outcome>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|_| Outcome::Connect)?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

fn classify_error(e: &hyper::Error) -> Outcome {
    if e.is_incomplete_message() || e.is_canceled() || e.is_closed() {
        Outcome::Closed
    } else {
        Outcome::Io
    }
}

/// One request on `sender`; the body of a 200 answer comes back with it.
async fn exchange(
    sender: &mut Sender,
    req: Request<Full<Bytes>>,
    timeout: Duration,
) -> Result<(u16, Bytes), Outcome> {
    let fut = async {
        let resp = sender
            .send_request(req)
            .await
            .map_err(|e| classify_error(&e))?;
        let status = resp.status().as_u16();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| classify_error(&e))?
            .to_bytes();
        Ok((status, body))
    };
    match tokio::time::timeout(timeout, fut).await {
        Ok(r) => r,
        Err(_) => Err(Outcome::Timeout),
    }
}

fn request(sh: &Shared, method: Method, path: &str, body: Bytes) -> Request<Full<Bytes>> {
    let mut b = Request::builder()
        .method(method)
        .uri(path)
        .header(hyper::header::HOST, sh.authority.as_str());
    if !body.is_empty() {
        b = b.header(hyper::header::CONTENT_TYPE, "application/json");
    }
    b.body(Full::new(body)).expect("a valid request")
}

/// The verdict of a 200 answer: `accepted` / `rejected` from `verdict.accepted`, and the
/// token.
fn parse_answer(body: &[u8]) -> Option<(String, Option<String>)> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let accepted = v.get("verdict")?.get("accepted")?.as_bool()?;
    let token = v.get("token").and_then(Value::as_str).map(str::to_owned);
    Some((
        if accepted { "accepted" } else { "rejected" }.to_owned(),
        token,
    ))
}

fn parse_nonce(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    v.get("nonce")?.as_str().map(str::to_owned)
}

fn body_with_nonce(sh: &Shared, nonce: Option<&str>) -> Bytes {
    let mut v = sh.base_body.clone();
    if let (Some(n), Some(obj)) = (nonce, v.as_object_mut()) {
        obj.insert("nonce".into(), Value::String(n.to_owned()));
    }
    Bytes::from(serde_json::to_vec(&v).expect("JSON"))
}

/// A connection's nonce: the current one, the body that carries it, and how many requests
/// have used it.
struct NonceState {
    nonce: Option<String>,
    body: Bytes,
    used: u64,
}

async fn worker(sh: Arc<Shared>) -> WorkerOut {
    let mut out = WorkerOut::default();
    let timeout = Duration::from_secs_f64(sh.args.timeout);
    let mut sender: Option<Sender> = None;
    let mut ns = NonceState {
        nonce: None,
        body: if sh.args.get {
            Bytes::new()
        } else {
            body_with_nonce(&sh, None)
        },
        used: 0,
    };
    let mut ok_count = 0u64;
    let tokens_per_worker = sh.args.token_cap.div_ceil(sh.args.connections.max(1));
    loop {
        let now = Instant::now();
        if now >= sh.deadline || sh.issued.fetch_add(1, Ordering::Relaxed) >= sh.args.max_requests {
            break;
        }
        // A connection that the other side closed while idle is replaced silently, as any
        // client pool does; a connection that cannot be made is a failed request.
        if let Some(s) = sender.as_mut() {
            if s.ready().await.is_err() {
                sender = None;
            }
        }
        let t0 = Instant::now();
        if sender.is_none() {
            match connect(sh.addr, sh.tls.as_ref()).await {
                Ok(s) => sender = Some(s),
                Err(o) => {
                    push(&sh, &mut out, t0, o);
                    // Do not spin while nothing listens.
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    continue;
                }
            }
        }
        let s = sender.as_mut().expect("connected");
        if sh.args.nonce_every > 0 && (ns.nonce.is_none() || ns.used >= sh.args.nonce_every) {
            if let Err((o, broken)) = refresh_nonce(&sh, s, &mut ns, timeout).await {
                if broken {
                    sender = None;
                }
                push(&sh, &mut out, t0, o);
                continue;
            }
        }
        let t0 = Instant::now();
        let method = if sh.args.get {
            Method::GET
        } else {
            Method::POST
        };
        let req = request(&sh, method, &sh.path, ns.body.clone());
        ns.used += 1;
        match exchange(s, req, timeout).await {
            Ok((200, b)) => {
                let answer = if sh.args.get {
                    Some(("answered".to_owned(), None))
                } else {
                    parse_answer(&b)
                };
                let Some((class, token)) = answer else {
                    keep_failure_body(&mut out, 200, &b);
                    push(&sh, &mut out, t0, Outcome::BadBody);
                    continue;
                };
                let idx = class_index(&mut out.classes, &class);
                let recorded = push(&sh, &mut out, t0, Outcome::Ok(idx));
                ok_count += 1;
                if recorded
                    && ok_count.is_multiple_of(sh.args.token_every.max(1))
                    && out.samples.len() < tokens_per_worker
                {
                    if let Some(token) = token {
                        out.samples.push(Sample {
                            token,
                            class,
                            nonce: ns.nonce.clone(),
                        });
                    }
                }
            }
            Ok((st, b)) => {
                keep_failure_body(&mut out, st, &b);
                push(&sh, &mut out, t0, Outcome::Status(st));
            }
            Err(o) => {
                sender = None;
                push(&sh, &mut out, t0, o);
            }
        }
    }
    out
}

/// Fetches a new nonce on `s` and puts it in the body. On failure: the outcome, and whether
/// the connection is broken.
async fn refresh_nonce(
    sh: &Shared,
    s: &mut Sender,
    ns: &mut NonceState,
    timeout: Duration,
) -> Result<(), (Outcome, bool)> {
    let req = request(sh, Method::GET, &sh.nonce_path, Bytes::new());
    match exchange(s, req, timeout).await {
        Ok((200, b)) => {
            let n = parse_nonce(&b).ok_or((Outcome::BadBody, false))?;
            ns.body = body_with_nonce(sh, Some(&n));
            ns.nonce = Some(n);
            ns.used = 0;
            Ok(())
        }
        Ok((st, _)) => Err((Outcome::Status(st), false)),
        Err(o) => Err((o, true)),
    }
}

/// The index of a verdict class in this worker's list (added when new).
fn class_index(classes: &mut Vec<String>, class: &str) -> u16 {
    match classes.iter().position(|c| c == class) {
        Some(i) => i as u16,
        None => {
            classes.push(class.to_owned());
            (classes.len() - 1) as u16
        }
    }
}

fn keep_failure_body(out: &mut WorkerOut, status: u16, body: &[u8]) {
    if out.failure_bodies.len() < 3 {
        let text = String::from_utf8_lossy(&body[..body.len().min(400)]);
        out.failure_bodies.push(format!("HTTP {status}: {text}"));
    }
}

/// Records a finished request unless it finished during the warm-up; says whether it did.
fn push(sh: &Shared, out: &mut WorkerOut, t0: Instant, outcome: Outcome) -> bool {
    let end = Instant::now();
    if end < sh.record_from {
        return false;
    }
    out.records.push(Record {
        t_us: end.duration_since(sh.record_from).as_micros() as u64,
        lat_us: end.duration_since(t0).as_micros().min(u32::MAX as u128) as u32,
        outcome,
    });
    true
}

fn percentile(sorted: &[u32], q: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

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
struct TokenCheck {
    checked: u64,
    valid: u64,
    bad_format: u64,
    wrong_alg: u64,
    unknown_kid: u64,
    bad_signature: u64,
    verdict_mismatch: u64,
    nonce_mismatch: u64,
    distinct_kids: Vec<String>,
    first_problem: Option<String>,
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

async fn fetch_json(sh: &Shared, url: &str) -> Result<Value, String> {
    let uri: Uri = url.parse().map_err(|e| format!("{url}: {e}"))?;
    let addr = loopback_addr(&uri)?;
    let tls = tls_for(&uri, sh.args.ca_cert.as_deref())?;
    let mut s = connect(addr, tls.as_ref())
        .await
        .map_err(|_| format!("{url}: cannot connect"))?;
    let path = uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or("/".into());
    let req = request(sh, Method::GET, &path, Bytes::new());
    match exchange(&mut s, req, Duration::from_secs(10)).await {
        Ok((200, b)) => serde_json::from_slice(&b).map_err(|e| format!("{url}: {e}")),
        Ok((st, _)) => Err(format!("{url}: HTTP {st}")),
        Err(o) => Err(format!("{url}: {}", o.name())),
    }
}

/// CPU seconds (user + system) this process has used, from /proc/self/stat (Linux; USER_HZ
/// is 100 on every Linux ABI). `None` elsewhere.
fn own_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may contain spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap_or_default().as_millis() as u64
}

fn main() -> ExitCode {
    let args = Args::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()
        .expect("tokio runtime");
    match rt.block_on(run(args)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("kss-loadtest: {e}");
            ExitCode::from(2)
        }
    }
}

/// The request body: `--body` as given, or `{"quote": base64, "policy_id"}` from `--quote`,
/// or nothing with `--get`.
fn base_body(args: &Args) -> Result<Value, String> {
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

/// Reads and checks the arguments into the state every worker shares.
fn setup(args: Args) -> Result<Shared, String> {
    let uri: Uri = args.url.parse().map_err(|e| format!("{}: {e}", args.url))?;
    let addr = loopback_addr(&uri)?;
    let tls = tls_for(&uri, args.ca_cert.as_deref())?;
    let authority = uri.authority().map(|a| a.to_string()).unwrap_or_default();
    let path = uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or("/".into());
    let nonce_path = match &args.nonce_url {
        Some(u) => {
            let nu: Uri = u.parse().map_err(|e| format!("{u}: {e}"))?;
            if loopback_addr(&nu)? != addr || nu.scheme() != uri.scheme() {
                return Err(
                    "--nonce-url must be on the same scheme, host and port as --url".into(),
                );
            }
            nu.path_and_query()
                .map(|p| p.as_str().to_owned())
                .unwrap_or("/".into())
        }
        None => "/v1/nonce".into(),
    };
    let base_body = base_body(&args)?;
    if let Some(e) = &args.expect {
        if e != "accepted" && e != "rejected" {
            return Err("--expect is `accepted` or `rejected`".into());
        }
    }
    let start = Instant::now();
    let record_from = start + Duration::from_secs_f64(args.warmup);
    let deadline = record_from + Duration::from_secs_f64(args.duration);
    Ok(Shared {
        addr,
        tls,
        authority,
        path,
        nonce_path,
        base_body,
        record_from,
        deadline,
        issued: AtomicU64::new(0),
        args,
    })
}

/// Every worker's records, merged.
#[derive(Default)]
struct Merged {
    total: u64,
    /// Latencies of the `ok` answers, sorted.
    lat_ok: Vec<u32>,
    failures: BTreeMap<String, u64>,
    failure_times: Vec<(u64, String)>,
    /// Verdict -> (count, first, last completion time in µs).
    verdicts: BTreeMap<String, (u64, u64, u64)>,
    samples: Vec<Sample>,
    failure_bodies: Vec<String>,
}

fn merge(outs: Vec<WorkerOut>) -> Merged {
    let mut m = Merged::default();
    for mut o in outs {
        for r in &o.records {
            m.total += 1;
            match r.outcome {
                Outcome::Ok(i) => {
                    m.lat_ok.push(r.lat_us);
                    let e =
                        m.verdicts
                            .entry(o.classes[i as usize].clone())
                            .or_insert((0, u64::MAX, 0));
                    e.0 += 1;
                    e.1 = e.1.min(r.t_us);
                    e.2 = e.2.max(r.t_us);
                }
                other => {
                    *m.failures.entry(other.name()).or_default() += 1;
                    m.failure_times.push((r.t_us, other.name()));
                }
            }
        }
        m.samples.append(&mut o.samples);
        for b in o.failure_bodies.drain(..) {
            if m.failure_bodies.len() < 10 && !m.failure_bodies.contains(&b) {
                m.failure_bodies.push(b);
            }
        }
    }
    m.lat_ok.sort_unstable();
    m.failure_times.sort();
    m
}

/// The sampled tokens checked against the JWKS at `--jwks-url` (when given): the check, or
/// why it could not be made.
async fn check_tokens(sh: &Shared, samples: &[Sample]) -> (TokenCheck, Option<String>) {
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

/// What fails the run: verdicts other than `--expect`, more failures than `--max-failures`,
/// a token that fails its check (or no token checked at all).
fn problems(sh: &Shared, m: &Merged, tc: &TokenCheck, token_error: Option<&str>) -> Vec<String> {
    let mut reasons = Vec::new();
    if let Some(exp) = &sh.args.expect {
        let wrong: u64 = m
            .verdicts
            .iter()
            .filter(|(k, _)| *k != exp)
            .map(|(_, v)| v.0)
            .sum();
        if wrong > 0 {
            reasons.push(format!("{wrong} verdicts were not `{exp}`"));
        }
    }
    let failed: u64 = m.failures.values().sum();
    if let Some(max) = sh.args.max_failures {
        if failed > max {
            reasons.push(format!("{failed} failed requests (allowed {max})"));
        }
    }
    if sh.args.jwks_url.is_some() {
        if let Some(e) = token_error {
            reasons.push(format!("token check impossible: {e}"));
        } else {
            if tc.valid != tc.checked {
                reasons.push(format!(
                    "{} of {} sampled tokens failed the check",
                    tc.checked - tc.valid,
                    tc.checked
                ));
            }
            if tc.checked < sh.args.min_tokens {
                reasons.push(format!(
                    "only {} tokens checked against the JWKS, at least {} required",
                    tc.checked, sh.args.min_tokens
                ));
            }
        }
    }
    reasons
}

async fn run(args: Args) -> Result<bool, String> {
    let started_unix_ms = unix_ms(SystemTime::now()) + (args.warmup * 1000.0) as u64;
    let connections = args.connections.max(1);
    let sh = Arc::new(setup(args)?);
    let handles: Vec<_> = (0..connections)
        .map(|_| tokio::spawn(worker(sh.clone())))
        .collect();
    // CPU used by the driver itself over the recorded part of the run.
    tokio::time::sleep_until(sh.record_from.into()).await;
    let cpu_at_start = own_cpu_seconds();
    let mut outs = Vec::with_capacity(connections);
    for h in handles {
        outs.push(h.await.map_err(|e| format!("worker: {e}"))?);
    }
    let end = Instant::now();
    let driver_cpu = own_cpu_seconds()
        .zip(cpu_at_start)
        .map(|(b, a)| ((b - a) * 100.0).round() / 100.0);
    let elapsed = end
        .duration_since(sh.record_from)
        .as_secs_f64()
        .max(1e-9)
        .min(sh.args.duration.max(1e-9) + sh.args.timeout);
    let m = merge(outs);
    let (tc, token_error) = check_tokens(&sh, &m.samples).await;
    if let Some(p) = &sh.args.tokens_out {
        let text: String = m.samples.iter().map(|s| format!("{}\n", s.token)).collect();
        std::fs::write(p, text).map_err(|e| format!("{}: {e}", p.display()))?;
    }
    let reasons = problems(&sh, &m, &tc, token_error.as_deref());
    let run = RunFacts {
        connections,
        elapsed,
        started_unix_ms,
        driver_cpu,
    };
    print_report(&sh, &m, &tc, token_error.as_deref(), &reasons, &run);
    if let Some(p) = &sh.args.summary {
        let summary = summary_json(&sh.args, &m, &tc, token_error.as_deref(), &reasons, &run);
        std::fs::write(
            p,
            serde_json::to_string_pretty(&summary).expect("json") + "\n",
        )
        .map_err(|e| format!("{}: {e}", p.display()))?;
    }
    Ok(reasons.is_empty())
}

/// Facts of the run besides the records.
struct RunFacts {
    connections: usize,
    elapsed: f64,
    started_unix_ms: u64,
    driver_cpu: Option<f64>,
}

/// The JSON summary (`--summary`), its fields in output order.
#[derive(serde::Serialize)]
struct Summary<'a> {
    label: &'a str,
    url: &'a str,
    connections: usize,
    threads: usize,
    duration_s: f64,
    warmup_s: f64,
    started_unix_ms: u64,
    requests: u64,
    ok: u64,
    failed: u64,
    failures: &'a BTreeMap<String, u64>,
    /// The first 200 failures: `[completion time in ms, kind]`.
    failure_times_ms: Vec<(f64, &'a str)>,
    failure_bodies: &'a [String],
    rps: f64,
    driver_cpu_s: Option<f64>,
    latency_us: LatencySummary,
    verdicts: BTreeMap<&'a str, VerdictSummary>,
    tokens: TokenSummary<'a>,
    pass: bool,
    problems: &'a [String],
}

/// Latency percentiles of the `ok` answers, in µs.
#[derive(serde::Serialize)]
struct LatencySummary {
    p50: u32,
    p90: u32,
    p99: u32,
    p999: u32,
    max: u32,
    mean: f64,
}

/// One verdict's count and first and last completion time (ms).
#[derive(serde::Serialize)]
struct VerdictSummary {
    count: u64,
    first_ms: f64,
    last_ms: f64,
}

/// The tokens sampled and, with --jwks-url, how their check went.
#[derive(serde::Serialize)]
struct TokenSummary<'a> {
    sampled: usize,
    check: Option<&'a TokenCheck>,
    error: Option<&'a str>,
}

fn summary_json<'a>(
    args: &'a Args,
    m: &'a Merged,
    tc: &'a TokenCheck,
    token_error: Option<&'a str>,
    reasons: &'a [String],
    run: &RunFacts,
) -> Summary<'a> {
    let lat = &m.lat_ok;
    let ok = lat.len() as u64;
    let mean = if lat.is_empty() {
        0.0
    } else {
        lat.iter().map(|&v| v as f64).sum::<f64>() / lat.len() as f64
    };
    let ms = |us: u64| us as f64 / 1000.0;
    Summary {
        label: &args.label,
        url: &args.url,
        connections: run.connections,
        threads: args.threads,
        duration_s: run.elapsed,
        warmup_s: args.warmup,
        started_unix_ms: run.started_unix_ms,
        requests: m.total,
        ok,
        failed: m.failures.values().sum::<u64>(),
        failures: &m.failures,
        failure_times_ms: m
            .failure_times
            .iter()
            .take(200)
            .map(|(t, k)| (ms(*t), k.as_str()))
            .collect(),
        failure_bodies: &m.failure_bodies,
        rps: ok as f64 / run.elapsed,
        driver_cpu_s: run.driver_cpu,
        latency_us: LatencySummary {
            p50: percentile(lat, 0.50),
            p90: percentile(lat, 0.90),
            p99: percentile(lat, 0.99),
            p999: percentile(lat, 0.999),
            max: lat.last().copied().unwrap_or(0),
            mean: mean.round(),
        },
        verdicts: m
            .verdicts
            .iter()
            .map(|(k, v)| {
                let times = VerdictSummary {
                    count: v.0,
                    first_ms: ms(v.1),
                    last_ms: ms(v.2),
                };
                (k.as_str(), times)
            })
            .collect(),
        tokens: TokenSummary {
            sampled: m.samples.len(),
            check: args.jwks_url.is_some().then_some(tc),
            error: token_error,
        },
        pass: reasons.is_empty(),
        problems: reasons,
    }
}

fn print_report(
    sh: &Shared,
    m: &Merged,
    tc: &TokenCheck,
    token_error: Option<&str>,
    reasons: &[String],
    run: &RunFacts,
) {
    let lat = &m.lat_ok;
    let ok = lat.len() as u64;
    let ms = |us: u32| us as f64 / 1000.0;
    println!(
        "{}: {} requests in {:.1} s, {} ok ({:.0}/s), {} failed {:?}",
        sh.args.label,
        m.total,
        run.elapsed,
        ok,
        ok as f64 / run.elapsed,
        m.failures.values().sum::<u64>(),
        m.failures
    );
    println!(
        "  latency (ok): p50 {:.2} ms  p99 {:.2} ms  p99.9 {:.2} ms  max {:.2} ms",
        ms(percentile(lat, 0.5)),
        ms(percentile(lat, 0.99)),
        ms(percentile(lat, 0.999)),
        ms(lat.last().copied().unwrap_or(0))
    );
    for (k, v) in &m.verdicts {
        println!(
            "  verdict {k}: {} (first at {:.3} s, last at {:.3} s)",
            v.0,
            v.1 as f64 / 1e6,
            v.2 as f64 / 1e6
        );
    }
    if sh.args.jwks_url.is_some() {
        match token_error {
            Some(e) => println!("  tokens: not checked: {e}"),
            None => println!(
                "  tokens: {} of {} sampled valid against the JWKS (kids {:?}){}",
                tc.valid,
                tc.checked,
                tc.distinct_kids,
                tc.first_problem
                    .as_ref()
                    .map(|p| format!("; first problem: {p}"))
                    .unwrap_or_default()
            ),
        }
    }
    for b in &m.failure_bodies {
        println!("  failed answer: {b}");
    }
    for r in reasons {
        println!("  FAIL: {r}");
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

    #[test]
    fn only_loopback_targets() {
        for ok in [
            "http://127.0.0.1:8080/v1/attest",
            "http://localhost:1/",
            "http://[::1]:9/",
        ] {
            assert!(loopback_addr(&ok.parse().unwrap()).is_ok(), "{ok}");
        }
        for bad in [
            "http://10.0.0.1:80/",
            "http://192.168.1.1/",
            "http://example.com/",
            "https://10.0.0.1/",
            "ftp://127.0.0.1/",
        ] {
            assert!(loopback_addr(&bad.parse().unwrap()).is_err(), "{bad}");
        }
        // https:// on loopback: port 443 by default, and only with a CA to trust.
        let tls: Uri = "https://127.0.0.1/v1/attest".parse().unwrap();
        assert_eq!(loopback_addr(&tls).unwrap().port(), 443);
        let e = tls_for(&tls, None).err().unwrap();
        assert_eq!(
            e,
            "https://127.0.0.1/v1/attest: an https:// URL needs --ca-cert PEM"
        );
        assert!(tls_for(&"http://127.0.0.1/".parse().unwrap(), None)
            .unwrap()
            .is_none());
    }

    fn summary_args(extra: &[&str]) -> Args {
        let mut argv = vec![
            "kss-loadtest",
            "--url",
            "http://127.0.0.1:1/v1/attest",
            "--quote",
            "q.bin",
            "--label",
            "pin",
        ];
        argv.extend_from_slice(extra);
        Args::try_parse_from(argv).expect("arguments")
    }

    /// The exact bytes of the summary: key order, nesting, number forms and `null`s.
    #[test]
    fn the_summary_bytes() {
        let mut m = Merged {
            total: 5,
            lat_ok: vec![1000, 2000, 3000],
            ..Merged::default()
        };
        m.failures.insert("status 500".into(), 2);
        m.failure_times = vec![(1500, "status 500".into()), (2500, "timeout".into())];
        m.failure_bodies = vec!["oops".into()];
        m.verdicts.insert("affirming".into(), (3, 1200, 4700));
        let mut tc = TokenCheck {
            checked: 2,
            valid: 1,
            ..TokenCheck::default()
        };
        tc.distinct_kids.push("k1".into());
        let run = RunFacts {
            connections: 4,
            elapsed: 2.0,
            started_unix_ms: 1_700_000_000_000,
            driver_cpu: None,
        };
        let reasons = vec!["2 failed".to_string()];
        let args = summary_args(&[]);
        let v = summary_json(&args, &m, &tc, Some("bad"), &reasons, &run);
        let text = serde_json::to_string_pretty(&v).unwrap() + "\n";
        assert_eq!(text, SUMMARY_BYTES);
        let args = summary_args(&["--jwks-url", "http://127.0.0.1:1/jwks"]);
        let run = RunFacts {
            driver_cpu: Some(0.25),
            ..run
        };
        let empty = Merged::default();
        let v = summary_json(&args, &empty, &tc, None, &[], &run);
        let text = serde_json::to_string_pretty(&v).unwrap() + "\n";
        assert_eq!(text, SUMMARY_WITH_JWKS_BYTES);
    }

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

    const SUMMARY_BYTES: &str = r#"{
  "label": "pin",
  "url": "http://127.0.0.1:1/v1/attest",
  "connections": 4,
  "threads": 1,
  "duration_s": 2.0,
  "warmup_s": 0.0,
  "started_unix_ms": 1700000000000,
  "requests": 5,
  "ok": 3,
  "failed": 2,
  "failures": {
    "status 500": 2
  },
  "failure_times_ms": [
    [
      1.5,
      "status 500"
    ],
    [
      2.5,
      "timeout"
    ]
  ],
  "failure_bodies": [
    "oops"
  ],
  "rps": 1.5,
  "driver_cpu_s": null,
  "latency_us": {
    "p50": 2000,
    "p90": 3000,
    "p99": 3000,
    "p999": 3000,
    "max": 3000,
    "mean": 2000.0
  },
  "verdicts": {
    "affirming": {
      "count": 3,
      "first_ms": 1.2,
      "last_ms": 4.7
    }
  },
  "tokens": {
    "sampled": 0,
    "check": null,
    "error": "bad"
  },
  "pass": false,
  "problems": [
    "2 failed"
  ]
}
"#;
    const SUMMARY_WITH_JWKS_BYTES: &str = r#"{
  "label": "pin",
  "url": "http://127.0.0.1:1/v1/attest",
  "connections": 4,
  "threads": 1,
  "duration_s": 2.0,
  "warmup_s": 0.0,
  "started_unix_ms": 1700000000000,
  "requests": 0,
  "ok": 0,
  "failed": 0,
  "failures": {},
  "failure_times_ms": [],
  "failure_bodies": [],
  "rps": 0.0,
  "driver_cpu_s": 0.25,
  "latency_us": {
    "p50": 0,
    "p90": 0,
    "p99": 0,
    "p999": 0,
    "max": 0,
    "mean": 0.0
  },
  "verdicts": {},
  "tokens": {
    "sampled": 0,
    "check": {
      "checked": 2,
      "valid": 1,
      "bad_format": 0,
      "wrong_alg": 0,
      "unknown_kid": 0,
      "bad_signature": 0,
      "verdict_mismatch": 0,
      "nonce_mismatch": 0,
      "distinct_kids": [
        "k1"
      ],
      "first_problem": null
    },
    "error": null
  },
  "pass": true,
  "problems": []
}
"#;

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<u32> = (1..=1000).collect();
        assert_eq!(percentile(&v, 0.5), 500);
        assert_eq!(percentile(&v, 0.99), 990);
        assert_eq!(percentile(&v, 0.999), 999);
        assert_eq!(percentile(&[], 0.5), 0);
        assert_eq!(percentile(&[3], 0.999), 3);
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
