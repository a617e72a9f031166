//! What a worker hands back: the outcome and timing of each request, the sampled tokens and
//! the first bodies of failed answers.

/// What became of one request.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub(crate) enum Outcome {
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
    pub(crate) fn name(self) -> String {
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

pub(crate) struct Record {
    /// Completion time, microseconds since the recorded run began.
    pub(crate) t_us: u64,
    pub(crate) lat_us: u32,
    pub(crate) outcome: Outcome,
}

pub(crate) struct Sample {
    pub(crate) token: String,
    pub(crate) class: String,
    pub(crate) nonce: Option<String>,
}

#[derive(Default)]
pub(crate) struct WorkerOut {
    pub(crate) records: Vec<Record>,
    pub(crate) classes: Vec<String>,
    pub(crate) samples: Vec<Sample>,
    /// The first few bodies of failed answers (non-200, or a 200 that did not parse).
    pub(crate) failure_bodies: Vec<String>,
}
