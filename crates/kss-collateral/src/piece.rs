//! The pieces of collateral, each fetched and cached on its own.

use kss_attest::collateral::PckCa;
use std::fmt;

/// One piece of DCAP collateral.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece {
    /// The TCB info of one FMSPC (`GET /tcb?fmspc=`).
    TcbInfo {
        /// The platform's FMSPC.
        fmspc: [u8; 6],
    },
    /// The identity of Intel's quoting enclave (`GET /qe/identity`).
    QeIdentity,
    /// The CRL of a PCK CA (`GET /pckcrl?ca=`).
    PckCrl {
        /// Which CA.
        ca: PckCa,
    },
    /// The Intel SGX Root CA CRL.
    RootCaCrl,
}

/// The `ca=` value of a PCK CA in the PCS API, and in cache file names.
pub fn ca_name(ca: PckCa) -> &'static str {
    match ca {
        PckCa::Processor => "processor",
        PckCa::Platform => "platform",
    }
}

impl Piece {
    /// The cache file name of this piece (`tcb-00A067110000.json`, `qe-identity.json`,
    /// `pckcrl-processor.json`, `rootcacrl.json`).
    pub fn file_name(&self) -> String {
        match self {
            Piece::TcbInfo { fmspc } => format!("tcb-{}.json", hex::encode_upper(fmspc)),
            Piece::QeIdentity => "qe-identity.json".into(),
            Piece::PckCrl { ca } => format!("pckcrl-{}.json", ca_name(*ca)),
            Piece::RootCaCrl => "rootcacrl.json".into(),
        }
    }

    /// The piece a cache file name stands for, if it is one of ours.
    pub fn from_file_name(name: &str) -> Option<Piece> {
        let stem = name.strip_suffix(".json")?;
        match stem {
            "qe-identity" => Some(Piece::QeIdentity),
            "rootcacrl" => Some(Piece::RootCaCrl),
            "pckcrl-processor" => Some(Piece::PckCrl {
                ca: PckCa::Processor,
            }),
            "pckcrl-platform" => Some(Piece::PckCrl {
                ca: PckCa::Platform,
            }),
            _ => {
                let hex_text = stem.strip_prefix("tcb-")?;
                let fmspc: [u8; 6] = hex::decode(hex_text).ok()?.try_into().ok()?;
                (hex::encode_upper(fmspc) == hex_text).then_some(Piece::TcbInfo { fmspc })
            }
        }
    }

    /// A short kind name: `tcb-info`, `qe-identity`, `pck-crl`, `root-ca-crl`.
    pub fn kind(&self) -> &'static str {
        match self {
            Piece::TcbInfo { .. } => "tcb-info",
            Piece::QeIdentity => "qe-identity",
            Piece::PckCrl { .. } => "pck-crl",
            Piece::RootCaCrl => "root-ca-crl",
        }
    }

    /// What selects this piece among its kind: the FMSPC, the CA, or `-`.
    pub fn selector(&self) -> String {
        match self {
            Piece::TcbInfo { fmspc } => hex::encode_upper(fmspc),
            Piece::PckCrl { ca } => ca_name(*ca).into(),
            Piece::QeIdentity | Piece::RootCaCrl => "-".into(),
        }
    }
}

impl fmt::Display for Piece {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Piece::TcbInfo { fmspc } => write!(f, "TCB info (FMSPC {})", hex::encode_upper(fmspc)),
            Piece::QeIdentity => f.write_str("QE identity"),
            Piece::PckCrl { ca } => write!(f, "PCK CRL ({} CA)", ca_name(*ca)),
            Piece::RootCaCrl => f.write_str("Root CA CRL"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_round_trip() {
        for p in [
            Piece::TcbInfo {
                fmspc: [0, 0xA0, 0x67, 0x11, 0, 0],
            },
            Piece::QeIdentity,
            Piece::PckCrl {
                ca: PckCa::Processor,
            },
            Piece::PckCrl {
                ca: PckCa::Platform,
            },
            Piece::RootCaCrl,
        ] {
            assert_eq!(Piece::from_file_name(&p.file_name()), Some(p), "{p}");
        }
        assert_eq!(Piece::from_file_name("tcb-00a067110000.json"), None);
        assert_eq!(Piece::from_file_name("tcb-00A0671100.json"), None);
        assert_eq!(Piece::from_file_name(".tmp-1-2-rootcacrl.json"), None);
    }
}
