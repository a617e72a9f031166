//! An in-test PCCS: a small HTTP(S) server on 127.0.0.1 that serves real collateral with the
//! real PCS v4 paths and headers, counts requests, and can be told to misbehave.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The collateral one server serves, as the service sends it.
#[derive(Clone, Debug, Default)]
pub struct Fixture {
    /// FMSPC (upper-case hex) -> TCB info response body.
    pub tcb: HashMap<String, Vec<u8>>,
    pub tcb_chain: String,
    pub qe: Vec<u8>,
    pub qe_chain: String,
    /// "processor" / "platform" -> DER.
    pub pck_crl: HashMap<String, Vec<u8>>,
    pub pck_crl_chain: String,
    /// Root CA CRL DER (served as hex text, as a PCCS does).
    pub root_crl: Vec<u8>,
}

impl Fixture {
    /// From dcap-qvl JSON collateral, for a quote of `fmspc` whose PCK CA is `ca`.
    pub fn from_dcap_qvl(json: &[u8], fmspc: &str, ca: &str) -> Fixture {
        let v: serde_json::Value = serde_json::from_slice(json).expect("collateral JSON");
        let s = |k: &str| v[k].as_str().expect(k).to_string();
        let signed = |key: &str, body: &str, sig: &str| {
            format!(r#"{{"{key}":{body},"signature":"{sig}"}}"#).into_bytes()
        };
        Fixture {
            tcb: HashMap::from([(
                fmspc.to_uppercase(),
                signed("tcbInfo", &s("tcb_info"), &s("tcb_info_signature")),
            )]),
            tcb_chain: s("tcb_info_issuer_chain"),
            qe: signed(
                "enclaveIdentity",
                &s("qe_identity"),
                &s("qe_identity_signature"),
            ),
            qe_chain: s("qe_identity_issuer_chain"),
            pck_crl: HashMap::from([(ca.to_string(), hex::decode(s("pck_crl")).expect("hex"))]),
            pck_crl_chain: s("pck_crl_issuer_chain"),
            root_crl: hex::decode(s("root_ca_crl")).expect("hex"),
        }
    }
}

/// How the server answers.
#[derive(Clone, Debug, PartialEq)]
pub enum Mode {
    /// As a PCCS does.
    Normal,
    /// Waits this long before answering.
    Slow(Duration),
    /// Answers every request with this status.
    Status(u16),
    /// One byte of the TCB info body changed.
    TamperTcb,
    /// The TCB info answer has no issuer chain header.
    NoTcbChainHeader,
    /// The TCB info issuer chain header under its v3 name.
    V3HeaderNames,
}

struct State {
    fixture: Fixture,
    mode: Mode,
    requests: Vec<String>,
}

/// A running server. Stops when dropped.
pub struct Pccs {
    port: u16,
    tls: bool,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

impl Pccs {
    /// A plain HTTP server.
    pub fn start(fixture: Fixture) -> Pccs {
        Self::start_with(fixture, None)
    }

    /// An HTTPS server with this rustls configuration.
    pub fn start_tls(fixture: Fixture, tls: Arc<rustls::ServerConfig>) -> Pccs {
        Self::start_with(fixture, Some(tls))
    }

    fn start_with(fixture: Fixture, tls: Option<Arc<rustls::ServerConfig>>) -> Pccs {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let state = Arc::new(Mutex::new(State {
            fixture,
            mode: Mode::Normal,
            requests: Vec::new(),
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp, is_tls) = (state.clone(), stop.clone(), tls.is_some());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if sp.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let st = st.clone();
                let tls = tls.clone();
                std::thread::spawn(move || {
                    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
                    match tls {
                        None => serve(conn, &st),
                        Some(cfg) => {
                            let Ok(sc) = rustls::ServerConnection::new(cfg) else {
                                return;
                            };
                            serve(rustls::StreamOwned::new(sc, conn), &st);
                        }
                    }
                });
            }
        });
        Pccs {
            port,
            tls: is_tls,
            state,
            stop,
        }
    }

    /// The base URL (no API path).
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// Every request path so far.
    pub fn requests(&self) -> Vec<String> {
        self.state.lock().expect("lock").requests.clone()
    }

    /// The number of requests so far.
    pub fn count(&self) -> usize {
        self.state.lock().expect("lock").requests.len()
    }

    pub fn set_mode(&self, mode: Mode) {
        self.state.lock().expect("lock").mode = mode;
    }

    pub fn set_fixture(&self, fixture: Fixture) {
        self.state.lock().expect("lock").fixture = fixture;
    }
}

impl Drop for Pccs {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// URL-encodes everything but unreserved characters, as PCS does with its PEM headers.
pub fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn serve<S: Read + Write>(mut conn: S, state: &Mutex<State>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if buf.len() > 64 * 1024 {
            return;
        }
    }
    let head = String::from_utf8_lossy(&buf).into_owned();
    let target = head
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("/")
        .to_string();
    let (fixture, mode) = {
        let mut s = state.lock().expect("lock");
        s.requests.push(target.clone());
        (s.fixture.clone(), s.mode.clone())
    };
    if let Mode::Slow(d) = mode {
        std::thread::sleep(d);
    }
    let (status, headers, body) = match mode {
        Mode::Status(code) => (code, Vec::new(), b"{}".to_vec()),
        _ => answer(&fixture, &mode, &target),
    };
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    };
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let _ = conn.write_all(out.as_bytes());
    let _ = conn.write_all(&body);
    let _ = conn.flush();
}

type Answer = (u16, Vec<(String, String)>, Vec<u8>);

fn answer(f: &Fixture, mode: &Mode, target: &str) -> Answer {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let q: HashMap<&str, &str> = query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .collect();
    let not_found = || (404, Vec::new(), Vec::new());
    let Some(rest) = path.strip_prefix("/sgx/certification/v4/") else {
        return not_found();
    };
    let chain = |name: &str, pem: &str| vec![(name.to_string(), url_encode(pem))];
    match rest {
        "tcb" => {
            let fmspc = q.get("fmspc").map(|f| f.to_uppercase()).unwrap_or_default();
            let Some(body) = f.tcb.get(&fmspc) else {
                return not_found();
            };
            let mut body = body.clone();
            if *mode == Mode::TamperTcb {
                // The first digit of the body changes: still JSON, no longer what was signed.
                if let Some(i) = body.iter().position(u8::is_ascii_digit) {
                    body[i] = if body[i] == b'9' { b'8' } else { body[i] + 1 };
                }
            }
            let headers = match mode {
                Mode::NoTcbChainHeader => Vec::new(),
                Mode::V3HeaderNames => chain("SGX-TCB-Info-Issuer-Chain", &f.tcb_chain),
                _ => chain("TCB-Info-Issuer-Chain", &f.tcb_chain),
            };
            (200, headers, body)
        }
        "qe/identity" => (
            200,
            chain("SGX-Enclave-Identity-Issuer-Chain", &f.qe_chain),
            f.qe.clone(),
        ),
        "pckcrl" => match q.get("ca").and_then(|c| f.pck_crl.get(*c)) {
            Some(der) => (
                200,
                chain("SGX-PCK-CRL-Issuer-Chain", &f.pck_crl_chain),
                der.clone(),
            ),
            None => not_found(),
        },
        "rootcacrl" => (200, Vec::new(), hex::encode(&f.root_crl).into_bytes()),
        _ => not_found(),
    }
}
