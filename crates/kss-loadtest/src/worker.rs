//! The closed-loop worker: one keep-alive connection sending requests back to back until the
//! deadline, fetching nonces, and recording each outcome and a sample of the tokens.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::body::Bytes;
use hyper::Method;

use crate::body::{body_with_nonce, parse_answer, parse_nonce};
use crate::conn::{connect, exchange, request, Sender};
use crate::record::{Outcome, Record, Sample, WorkerOut};
use crate::Shared;

/// A connection's nonce: the current one, the body that carries it, and how many requests
/// have used it.
struct NonceState {
    nonce: Option<String>,
    body: Bytes,
    used: u64,
}

pub(crate) async fn worker(sh: Arc<Shared>) -> WorkerOut {
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
