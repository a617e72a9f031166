//! `kss-loadtest`: a closed-loop HTTP/1.1 load driver (hyper) for `kss serve` and a cluster of
//! replicas behind a load balancer.
//!
//! Each of `--connections` tasks keeps one keep-alive connection and sends `POST /v1/attest`
//! back to back, like `wrk`. Unlike a plain throughput tool it keeps what a fault run needs:
//!
//! * every response's completion time, latency, HTTP status or transport error (the driver
//!   never retries: a failure counted here is one a client saw);
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

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request, Uri};
use hyper_util::rt::TokioIo;
use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{Signature, VerifyingKey};
use serde_json::{json, Value};
use tokio::net::TcpStream;

#[derive(Parser, Debug)]
#[command(
    version,
    about = "Closed-loop load driver for kss serve (loopback targets only)"
)]
struct Args {
    /// The verification endpoint, e.g. http://127.0.0.1:8080/v1/attest (loopback only).
    #[arg(long)]
    url: String,
    /// A JSON request body: `{"quote": "<base64>", "policy_id": ...}`. With --nonce-every a
    /// fresh `nonce` is set in it.
    #[arg(long, value_name = "FILE")]
    body: PathBuf,
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

struct Shared {
    addr: SocketAddr,
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
    if uri.scheme_str() != Some("http") {
        return Err(format!("{uri}: only http:// URLs"));
    }
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
    Ok(SocketAddr::new(ip, uri.port_u16().unwrap_or(80)))
}

type Sender = SendRequest<Full<Bytes>>;

async fn connect(addr: SocketAddr) -> Result<Sender, Outcome> {
    let stream = match tokio::time::timeout(Duration::from_secs(2), TcpStream::connect(addr)).await
    {
        Ok(Ok(s)) => s,
        Ok(Err(_)) => return Err(Outcome::Connect),
        Err(_) => return Err(Outcome::Connect),
    };
    let _ = stream.set_nodelay(true);
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

async fn worker(sh: Arc<Shared>) -> WorkerOut {
    let mut out = WorkerOut::default();
    let timeout = Duration::from_secs_f64(sh.args.timeout);
    let mut sender: Option<Sender> = None;
    let mut nonce: Option<String> = None;
    let mut body = body_with_nonce(&sh, None);
    let mut sent_on_nonce = 0u64;
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
            match connect(sh.addr).await {
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
        if sh.args.nonce_every > 0 && (nonce.is_none() || sent_on_nonce >= sh.args.nonce_every) {
            let req = request(&sh, Method::GET, &sh.nonce_path, Bytes::new());
            match exchange(s, req, timeout).await {
                Ok((200, b)) => match parse_nonce(&b) {
                    Some(n) => {
                        body = body_with_nonce(&sh, Some(&n));
                        nonce = Some(n);
                        sent_on_nonce = 0;
                    }
                    None => {
                        push(&sh, &mut out, t0, Outcome::BadBody);
                        continue;
                    }
                },
                Ok((st, _)) => {
                    push(&sh, &mut out, t0, Outcome::Status(st));
                    continue;
                }
                Err(o) => {
                    sender = None;
                    push(&sh, &mut out, t0, o);
                    continue;
                }
            }
        }
        let t0 = Instant::now();
        let req = request(&sh, Method::POST, &sh.path, body.clone());
        sent_on_nonce += 1;
        match exchange(s, req, timeout).await {
            Ok((200, b)) => match parse_answer(&b) {
                Some((class, token)) => {
                    let idx = match out.classes.iter().position(|c| *c == class) {
                        Some(i) => i,
                        None => {
                            out.classes.push(class.clone());
                            out.classes.len() - 1
                        }
                    };
                    let recorded = push(&sh, &mut out, t0, Outcome::Ok(idx as u16));
                    ok_count += 1;
                    if recorded
                        && ok_count.is_multiple_of(sh.args.token_every.max(1))
                        && out.samples.len() < tokens_per_worker
                    {
                        if let Some(token) = token {
                            out.samples.push(Sample {
                                token,
                                class,
                                nonce: nonce.clone(),
                            });
                        }
                    }
                }
                None => {
                    keep_failure_body(&mut out, 200, &b);
                    push(&sh, &mut out, t0, Outcome::BadBody);
                }
            },
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
    let mut s = connect(addr)
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

async fn run(args: Args) -> Result<bool, String> {
    let uri: Uri = args.url.parse().map_err(|e| format!("{}: {e}", args.url))?;
    let addr = loopback_addr(&uri)?;
    let authority = uri.authority().map(|a| a.to_string()).unwrap_or_default();
    let path = uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or("/".into());
    let nonce_path = match &args.nonce_url {
        Some(u) => {
            let nu: Uri = u.parse().map_err(|e| format!("{u}: {e}"))?;
            if loopback_addr(&nu)? != addr {
                return Err("--nonce-url must be on the same host and port as --url".into());
            }
            nu.path_and_query()
                .map(|p| p.as_str().to_owned())
                .unwrap_or("/".into())
        }
        None => "/v1/nonce".into(),
    };
    let body_text = std::fs::read(&args.body).map_err(|e| format!("{:?}: {e}", args.body))?;
    let base_body: Value =
        serde_json::from_slice(&body_text).map_err(|e| format!("{:?}: {e}", args.body))?;
    if let Some(e) = &args.expect {
        if e != "accepted" && e != "rejected" {
            return Err("--expect is `accepted` or `rejected`".into());
        }
    }

    let start = Instant::now();
    let record_from = start + Duration::from_secs_f64(args.warmup);
    let deadline = record_from + Duration::from_secs_f64(args.duration);
    let started_unix_ms = unix_ms(SystemTime::now()) + (args.warmup * 1000.0) as u64;
    let connections = args.connections.max(1);
    let sh = Arc::new(Shared {
        addr,
        authority,
        path,
        nonce_path,
        base_body,
        record_from,
        deadline,
        issued: AtomicU64::new(0),
        args,
    });
    let handles: Vec<_> = (0..connections)
        .map(|_| tokio::spawn(worker(sh.clone())))
        .collect();
    // CPU used by the driver itself over the recorded part of the run.
    tokio::time::sleep_until(record_from.into()).await;
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

    // Merge.
    let mut lat_ok: Vec<u32> = Vec::new();
    let mut failures: BTreeMap<String, u64> = BTreeMap::new();
    let mut failure_times: Vec<(u64, String)> = Vec::new();
    let mut verdicts: BTreeMap<String, (u64, u64, u64)> = BTreeMap::new();
    let mut total = 0u64;
    let mut samples = Vec::new();
    let mut failure_bodies: Vec<String> = Vec::new();
    for o in &mut outs {
        for r in &o.records {
            total += 1;
            match r.outcome {
                Outcome::Ok(i) => {
                    lat_ok.push(r.lat_us);
                    let e =
                        verdicts
                            .entry(o.classes[i as usize].clone())
                            .or_insert((0, u64::MAX, 0));
                    e.0 += 1;
                    e.1 = e.1.min(r.t_us);
                    e.2 = e.2.max(r.t_us);
                }
                other => {
                    *failures.entry(other.name()).or_default() += 1;
                    failure_times.push((r.t_us, other.name()));
                }
            }
        }
        samples.append(&mut o.samples);
        for b in o.failure_bodies.drain(..) {
            if failure_bodies.len() < 10 && !failure_bodies.contains(&b) {
                failure_bodies.push(b);
            }
        }
    }
    lat_ok.sort_unstable();
    failure_times.sort();
    let ok = lat_ok.len() as u64;
    let failed: u64 = failures.values().sum();
    let mean = if lat_ok.is_empty() {
        0.0
    } else {
        lat_ok.iter().map(|&v| v as f64).sum::<f64>() / lat_ok.len() as f64
    };

    // Tokens.
    let mut tc = TokenCheck::default();
    let mut token_error = None;
    if let Some(j) = &sh.args.jwks_url {
        match fetch_json(&sh, j).await.and_then(|v| parse_jwks(&v)) {
            Ok(keys) => {
                for s in &samples {
                    check_token(&keys, s, &mut tc);
                }
            }
            Err(e) => token_error = Some(e),
        }
    }
    if let Some(p) = &sh.args.tokens_out {
        let text: String = samples.iter().map(|s| format!("{}\n", s.token)).collect();
        std::fs::write(p, text).map_err(|e| format!("{p:?}: {e}"))?;
    }

    let mut pass = true;
    let mut reasons = Vec::new();
    if let Some(exp) = &sh.args.expect {
        let wrong: u64 = verdicts
            .iter()
            .filter(|(k, _)| *k != exp)
            .map(|(_, v)| v.0)
            .sum();
        if wrong > 0 {
            pass = false;
            reasons.push(format!("{wrong} verdicts were not `{exp}`"));
        }
    }
    if let Some(m) = sh.args.max_failures {
        if failed > m {
            pass = false;
            reasons.push(format!("{failed} failed requests (allowed {m})"));
        }
    }
    if sh.args.jwks_url.is_some() {
        if let Some(e) = &token_error {
            pass = false;
            reasons.push(format!("token check impossible: {e}"));
        } else if tc.valid != tc.checked || tc.checked == 0 {
            pass = false;
            reasons.push(format!(
                "{} of {} sampled tokens failed the check",
                tc.checked - tc.valid,
                tc.checked
            ));
        }
    }

    let pct = |q| percentile(&lat_ok, q);
    let summary = json!({
        "label": sh.args.label,
        "url": sh.args.url,
        "connections": connections,
        "threads": sh.args.threads,
        "duration_s": elapsed,
        "warmup_s": sh.args.warmup,
        "started_unix_ms": started_unix_ms,
        "requests": total,
        "ok": ok,
        "failed": failed,
        "failures": failures,
        "failure_times_ms": failure_times.iter().take(200)
            .map(|(t, k)| json!([*t as f64 / 1000.0, k])).collect::<Vec<_>>(),
        "failure_bodies": failure_bodies,
        "rps": ok as f64 / elapsed,
        "driver_cpu_s": driver_cpu,
        "latency_us": {
            "p50": pct(0.50), "p90": pct(0.90), "p99": pct(0.99), "p999": pct(0.999),
            "max": lat_ok.last().copied().unwrap_or(0), "mean": mean.round(),
        },
        "verdicts": verdicts.iter().map(|(k, v)| (k.clone(), json!({
            "count": v.0,
            "first_ms": v.1 as f64 / 1000.0,
            "last_ms": v.2 as f64 / 1000.0,
        }))).collect::<serde_json::Map<_, _>>(),
        "tokens": {
            "sampled": samples.len(),
            "check": if sh.args.jwks_url.is_some() { serde_json::to_value(&tc).expect("json") } else { Value::Null },
            "error": token_error,
        },
        "pass": pass,
        "problems": reasons,
    });

    println!(
        "{}: {} requests in {:.1} s, {} ok ({:.0}/s), {} failed {:?}",
        sh.args.label,
        total,
        elapsed,
        ok,
        ok as f64 / elapsed,
        failed,
        failures
    );
    println!(
        "  latency (ok): p50 {:.2} ms  p99 {:.2} ms  p99.9 {:.2} ms  max {:.2} ms",
        pct(0.5) as f64 / 1000.0,
        pct(0.99) as f64 / 1000.0,
        pct(0.999) as f64 / 1000.0,
        lat_ok.last().copied().unwrap_or(0) as f64 / 1000.0
    );
    for (k, v) in &verdicts {
        println!(
            "  verdict {k}: {} (first at {:.3} s, last at {:.3} s)",
            v.0,
            v.1 as f64 / 1e6,
            v.2 as f64 / 1e6
        );
    }
    if sh.args.jwks_url.is_some() {
        match &token_error {
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
    for b in &failure_bodies {
        println!("  failed answer: {b}");
    }
    for r in &reasons {
        println!("  FAIL: {r}");
    }
    if let Some(p) = &sh.args.summary {
        std::fs::write(
            p,
            serde_json::to_string_pretty(&summary).expect("json") + "\n",
        )
        .map_err(|e| format!("{p:?}: {e}"))?;
    }
    Ok(pass)
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Signer as _;
    use p256::ecdsa::SigningKey;

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
            "https://127.0.0.1/",
        ] {
            assert!(loopback_addr(&bad.parse().unwrap()).is_err(), "{bad}");
        }
    }

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
