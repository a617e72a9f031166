//! The wire protocol (version 1). Documented in `docs/service.md`.
//!
//! Every message is a frame: a little-endian `u32` length `N` (at most [`MAX_FRAME`]) followed by
//! `N` bytes. A connection carries any number of request/response pairs, in order.
//!
//! Request body: `op: u8` then the operands of the op, fixed-size:
//!
//! | op | name | operands | response payload |
//! |---|---|---|---|
//! | 1 | IDENTITY | — | REPORT body (384) of the enclave with zero REPORTDATA |
//! | 2 | TARGET_INFO | — | TARGETINFO (512) naming this enclave, CONFIGID/CONFIGSVN included |
//! | 3 | REPORT | TARGETINFO (512), REPORTDATA (64) | REPORT (432) |
//! | 4 | VERIFY_REPORT | REPORT (432) | empty: the MAC is valid for this enclave |
//! | 5 | GET_KEY | KEYREQUEST (512) | key (16) |
//! | 6 | QUOTE | REPORTDATA (64) | DCAP quote v3 |
//!
//! Response body: `status: u8` (0 = ok, 1 = error). On ok the payload follows; on error a
//! `u16` [`ErrorCode`] and a UTF-8 message.

use kss_types::{KeyRequest, Report, TargetInfo};

/// Largest frame accepted (quotes are a few KiB).
pub const MAX_FRAME: usize = 1 << 20;

/// Operation codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Op {
    /// The enclave's own REPORT body.
    Identity = 1,
    /// TARGETINFO of the enclave.
    TargetInfo = 2,
    /// EREPORT.
    Report = 3,
    /// Local attestation of a report targeted at this enclave.
    VerifyReport = 4,
    /// EGETKEY.
    GetKey = 5,
    /// DCAP quote from the quoting enclave.
    Quote = 6,
}

/// A decoded request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// IDENTITY.
    Identity,
    /// TARGET_INFO.
    TargetInfo,
    /// REPORT for a target with REPORTDATA.
    Report(Box<TargetInfo>, [u8; 64]),
    /// VERIFY_REPORT.
    VerifyReport(Box<Report>),
    /// GET_KEY.
    GetKey(Box<KeyRequest>),
    /// QUOTE with REPORTDATA.
    Quote([u8; 64]),
}

/// Error codes carried in error responses. Values of 0x20/0x40/0x100 are the SGX EGETKEY
/// status codes they stand for;
/// [`ErrorCode::InvalidAttribute`] stands for SGX_INVALID_ATTRIBUTE (2), renumbered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum ErrorCode {
    /// The request could not be decoded.
    BadRequest = 1,
    /// The instruction faulted (#GP): reserved bits, KSS gate, bad target...
    InvalidParameter = 2,
    /// The REPORT MAC does not verify.
    MacMismatch = 3,
    /// Not available in this mode (e.g. quotes without a quoting enclave).
    Unsupported = 4,
    /// Anything else.
    Internal = 5,
    /// SGX_INVALID_ATTRIBUTE (key not allowed for these attributes).
    InvalidAttribute = 6,
    /// SGX_INVALID_CPUSVN.
    InvalidCpuSvn = 0x20,
    /// SGX_INVALID_ISVSVN (ISVSVN or CONFIGSVN above the enclave's).
    InvalidIsvSvn = 0x40,
    /// SGX_INVALID_KEYNAME.
    InvalidKeyName = 0x100,
}

impl ErrorCode {
    /// Decodes a code; unknown values become [`ErrorCode::Internal`].
    pub fn from_u16(v: u16) -> Self {
        match v {
            1 => Self::BadRequest,
            2 => Self::InvalidParameter,
            3 => Self::MacMismatch,
            4 => Self::Unsupported,
            6 => Self::InvalidAttribute,
            0x20 => Self::InvalidCpuSvn,
            0x40 => Self::InvalidIsvSvn,
            0x100 => Self::InvalidKeyName,
            _ => Self::Internal,
        }
    }
}

/// A decoded response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// Success with a payload.
    Ok(Vec<u8>),
    /// Failure.
    Err(ErrorCode, String),
}

/// Malformed protocol data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// Empty body.
    #[error("empty message")]
    Empty,
    /// Unknown op code.
    #[error("unknown operation {0}")]
    UnknownOp(u8),
    /// Operands of the wrong size.
    #[error("{op:?} needs {expected} bytes of operands, got {actual}")]
    Length {
        /// Operation.
        op: Op,
        /// Expected operand bytes.
        expected: usize,
        /// Given.
        actual: usize,
    },
    /// Bad status byte or truncated error.
    #[error("malformed response: {0}")]
    Response(&'static str),
    /// Frame too large.
    #[error("frame of {0} bytes exceeds the {MAX_FRAME}-byte limit")]
    FrameTooLarge(usize),
    /// A payload cannot be read as the SGX structure it should be.
    #[error("{0}")]
    Layout(#[from] kss_types::LayoutError),
}

impl Request {
    /// The op of this request.
    pub fn op(&self) -> Op {
        match self {
            Request::Identity => Op::Identity,
            Request::TargetInfo => Op::TargetInfo,
            Request::Report(..) => Op::Report,
            Request::VerifyReport(_) => Op::VerifyReport,
            Request::GetKey(_) => Op::GetKey,
            Request::Quote(_) => Op::Quote,
        }
    }

    /// Encodes the request body.
    pub fn encode(&self) -> Vec<u8> {
        let mut b = vec![self.op() as u8];
        match self {
            Request::Identity | Request::TargetInfo => {}
            Request::Report(t, d) => {
                b.extend_from_slice(&t.to_bytes());
                b.extend_from_slice(d);
            }
            Request::VerifyReport(r) => b.extend_from_slice(&r.to_bytes()),
            Request::GetKey(k) => b.extend_from_slice(&k.to_bytes()),
            Request::Quote(d) => b.extend_from_slice(d),
        }
        b
    }

    /// Decodes a request body; never panics.
    pub fn decode(body: &[u8]) -> Result<Self, ProtocolError> {
        let (&op, rest) = body.split_first().ok_or(ProtocolError::Empty)?;
        let need = |op: Op, n: usize| {
            if rest.len() == n {
                Ok(())
            } else {
                Err(ProtocolError::Length {
                    op,
                    expected: n,
                    actual: rest.len(),
                })
            }
        };
        let arr64 = |b: &[u8]| -> [u8; 64] {
            let mut a = [0u8; 64];
            a.copy_from_slice(b);
            a
        };
        Ok(match op {
            1 => {
                need(Op::Identity, 0)?;
                Request::Identity
            }
            2 => {
                need(Op::TargetInfo, 0)?;
                Request::TargetInfo
            }
            3 => {
                need(Op::Report, 576)?;
                let t = TargetInfo::from_bytes(&rest[..512])?;
                Request::Report(Box::new(t), arr64(&rest[512..]))
            }
            4 => {
                need(Op::VerifyReport, 432)?;
                Request::VerifyReport(Box::new(Report::from_bytes(rest)?))
            }
            5 => {
                need(Op::GetKey, 512)?;
                Request::GetKey(Box::new(KeyRequest::from_bytes(rest)?))
            }
            6 => {
                need(Op::Quote, 64)?;
                Request::Quote(arr64(rest))
            }
            other => return Err(ProtocolError::UnknownOp(other)),
        })
    }
}

impl Response {
    /// Encodes the response body.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Response::Ok(p) => {
                let mut b = Vec::with_capacity(1 + p.len());
                b.push(0);
                b.extend_from_slice(p);
                b
            }
            Response::Err(code, msg) => {
                let mut b = vec![1];
                b.extend_from_slice(&(*code as u16).to_le_bytes());
                b.extend_from_slice(msg.as_bytes());
                b
            }
        }
    }

    /// Decodes a response body; never panics.
    pub fn decode(body: &[u8]) -> Result<Self, ProtocolError> {
        match body.split_first() {
            None => Err(ProtocolError::Empty),
            Some((0, p)) => Ok(Response::Ok(p.to_vec())),
            Some((1, rest)) if rest.len() >= 2 => {
                let code = ErrorCode::from_u16(u16::from_le_bytes([rest[0], rest[1]]));
                Ok(Response::Err(
                    code,
                    String::from_utf8_lossy(&rest[2..]).into_owned(),
                ))
            }
            Some((1, _)) => Err(ProtocolError::Response("truncated error")),
            Some(_) => Err(ProtocolError::Response("unknown status byte")),
        }
    }
}

/// Writes one frame.
pub fn write_frame(w: &mut impl std::io::Write, body: &[u8]) -> std::io::Result<()> {
    let len = u32::try_from(body.len()).map_err(|_| std::io::Error::other("frame too large"))?;
    // The body may carry key bytes (GET_KEY): the copy is wiped when dropped.
    let mut buf = zeroize::Zeroizing::new(Vec::with_capacity(4 + body.len()));
    buf.extend_from_slice(&len.to_le_bytes());
    buf.extend_from_slice(body);
    w.write_all(&buf)?;
    w.flush()
}

/// Reads one frame; `Ok(None)` on a clean end of stream before a frame starts.
pub fn read_frame(r: &mut impl std::io::Read) -> std::io::Result<Option<Vec<u8>>> {
    let mut len = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        let n = r.read(&mut len[got..])?;
        if n == 0 {
            return if got == 0 {
                Ok(None)
            } else {
                Err(std::io::ErrorKind::UnexpectedEof.into())
            };
        }
        got += n;
    }
    let len = u32::from_le_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            ProtocolError::FrameTooLarge(len),
        ));
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body)?;
    Ok(Some(body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn round_trips() {
        let reqs = [
            Request::Identity,
            Request::TargetInfo,
            Request::Report(Box::default(), [7; 64]),
            Request::VerifyReport(Box::default()),
            Request::GetKey(Box::new(KeyRequest {
                key_name: 4,
                ..KeyRequest::default()
            })),
            Request::Quote([9; 64]),
        ];
        for r in reqs {
            assert_eq!(Request::decode(&r.encode()).unwrap(), r);
        }
        for r in [
            Response::Ok(vec![1, 2, 3]),
            Response::Err(ErrorCode::InvalidIsvSvn, "too high".into()),
        ] {
            assert_eq!(Response::decode(&r.encode()).unwrap(), r);
        }
        assert_eq!(Request::encode(&Request::Quote([0; 64])).len(), 65);
        assert_eq!(Request::decode(&[9]), Err(ProtocolError::UnknownOp(9)));
        assert!(matches!(
            Request::decode(&[5, 0, 0]),
            Err(ProtocolError::Length { expected: 512, .. })
        ));
    }

    #[test]
    fn frames() {
        let mut buf = Vec::new();
        write_frame(&mut buf, b"abc").unwrap();
        assert_eq!(buf, [3, 0, 0, 0, b'a', b'b', b'c']);
        let mut r = &buf[..];
        assert_eq!(read_frame(&mut r).unwrap().unwrap(), b"abc");
        assert!(read_frame(&mut r).unwrap().is_none());
        let mut short = &buf[..5];
        assert!(read_frame(&mut short).is_err());
        let huge = (MAX_FRAME as u32 + 1).to_le_bytes();
        assert!(read_frame(&mut &huge[..]).is_err());
    }

    proptest! {
        #[test]
        fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..700)) {
            let _ = Request::decode(&bytes);
            let _ = Response::decode(&bytes);
            let _ = read_frame(&mut &bytes[..]);
        }
    }
}
