//! The launch configuration (config ID and CONFIGSVN), parsed fail-closed.
//!
//! Occlum logs a warning and launches with a zero CONFIGID when `--config-id` is malformed; kss
//! refuses to launch instead. Every error says what was wrong with the value, how long it was
//! and what was expected; the caller adds which input (option) carried it.

use base64::Engine;
use kss_types::{ConfigId, KssConfig};

/// A launch argument kss cannot accept. The messages describe the value, not where it came
/// from: the caller (the CLI) prefixes the name of the option that carried it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LaunchError {
    /// The config ID is empty.
    #[error("the config ID is empty (expected 1 to 64 bytes)")]
    Empty,
    /// The text does not decode.
    #[error("cannot decode {len} characters as {}: {source}", source.encoding())]
    Undecodable {
        /// Length of the text (after removing whitespace).
        len: usize,
        /// The decoder's error.
        #[source]
        source: DecodeError,
    },
    /// Decoded to more than 64 bytes.
    #[error("the config ID is {len} bytes after decoding; CONFIGID holds at most 64 bytes")]
    TooLong {
        /// Decoded length.
        len: usize,
    },
    /// CONFIGSVN not a 16-bit number.
    #[error("'{text}' is not a number from 0 to 65535 (decimal or 0x hex)")]
    BadSvn {
        /// The text given.
        text: String,
    },
    /// KSS values for an enclave without KSS.
    #[error("{0} given, but this instance has \"enable_kss\": false, so its enclave has no CONFIGID/CONFIGSVN (ECREATE would fault)")]
    KssDisabled(KssValue),
}

/// Why config ID text did not decode: the decoder's own error.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    /// Not standard base64 (shown in words: the offending character and its position).
    #[error("{}", base64_why(.0))]
    Base64(#[from] base64::DecodeError),
    /// Not hex.
    #[error(transparent)]
    Hex(#[from] hex::FromHexError),
}

impl DecodeError {
    /// The encoding that was expected: `"base64"` or `"hex"`.
    pub fn encoding(&self) -> &'static str {
        match self {
            DecodeError::Base64(_) => "base64",
            DecodeError::Hex(_) => "hex",
        }
    }
}

/// A KSS launch value given for an enclave without KSS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KssValue {
    /// A config ID (in any of its forms).
    ConfigId,
    /// A CONFIGSVN.
    ConfigSvn,
}

impl std::fmt::Display for KssValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            KssValue::ConfigId => "a config ID was",
            KssValue::ConfigSvn => "a CONFIGSVN was",
        })
    }
}

fn finish(bytes: &[u8]) -> Result<ConfigId, LaunchError> {
    if bytes.is_empty() {
        return Err(LaunchError::Empty);
    }
    ConfigId::from_prefix(bytes).ok_or(LaunchError::TooLong { len: bytes.len() })
}

/// Decodes a config ID given as base64 (standard alphabet, padding optional; ASCII whitespace
/// anywhere is ignored, so line-wrapped `$(base64 file)` output works) and zero-pads it to 64
/// bytes.
pub fn config_id_from_base64(text: &str) -> Result<ConfigId, LaunchError> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if compact.is_empty() {
        return Err(LaunchError::Empty);
    }
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let bytes = engine
        .decode(compact.as_bytes())
        .map_err(|e| LaunchError::Undecodable {
            len: compact.len(),
            source: e.into(),
        })?;
    finish(&bytes)
}

/// A base64 decoding error in words: the offending character and its position (counted from 1
/// in the text without whitespace), not the decoder's byte value.
fn base64_why(e: &base64::DecodeError) -> String {
    let shown = |b: u8| match b {
        0x21..=0x7e => format!("'{}'", b as char),
        _ => format!("byte 0x{b:02x}"),
    };
    match *e {
        base64::DecodeError::InvalidByte(at, b) => format!(
            "character {} at position {} is not base64 (expected A-Z, a-z, 0-9, +, / and = padding at the end)",
            shown(b),
            at + 1
        ),
        base64::DecodeError::InvalidLastSymbol(at, b) => format!(
            "last character {} at position {} leaves bits over (the text is cut short or altered)",
            shown(b),
            at + 1
        ),
        base64::DecodeError::InvalidLength(_) => {
            "its length is not possible for base64 (one character too many or too few)".into()
        }
        base64::DecodeError::InvalidPadding => "the '=' padding is wrong".into(),
    }
}

/// Decodes a config ID given as hex (optional `0x`, whitespace ignored) and zero-pads it to 64
/// bytes.
pub fn config_id_from_hex(text: &str) -> Result<ConfigId, LaunchError> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let digits = compact
        .strip_prefix("0x")
        .or_else(|| compact.strip_prefix("0X"))
        .unwrap_or(&compact);
    if digits.is_empty() {
        return Err(LaunchError::Empty);
    }
    let bytes = hex::decode(digits).map_err(|e| LaunchError::Undecodable {
        len: digits.len(),
        source: e.into(),
    })?;
    finish(&bytes)
}

/// Takes a config ID given as raw bytes (a file's contents) and zero-pads it to 64 bytes.
pub fn config_id_from_raw(bytes: &[u8]) -> Result<ConfigId, LaunchError> {
    finish(bytes)
}

/// Parses a CONFIGSVN: decimal or `0x` hex in 0..=65535.
pub fn config_svn(text: &str) -> Result<u16, LaunchError> {
    let t = text.trim();
    let v = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(h) if !h.is_empty() && h.len() <= 4 => u16::from_str_radix(h, 16).ok(),
        Some(_) => None,
        None if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) => t.parse::<u16>().ok(),
        None => None,
    };
    v.ok_or_else(|| LaunchError::BadSvn {
        text: text.to_string(),
    })
}

/// Combines the parsed options with the instance's KSS setting: values for a non-KSS enclave
/// are an error; a KSS enclave without them gets zeros.
pub fn launch_config(
    enable_kss: bool,
    config_id: Option<ConfigId>,
    config_svn: Option<u16>,
) -> Result<KssConfig, LaunchError> {
    if !enable_kss {
        if config_id.is_some() {
            return Err(LaunchError::KssDisabled(KssValue::ConfigId));
        }
        if config_svn.is_some() {
            return Err(LaunchError::KssDisabled(KssValue::ConfigSvn));
        }
    }
    Ok(KssConfig {
        config_id: config_id.unwrap_or(ConfigId::ZERO),
        config_svn: config_svn.unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_rules() {
        // 64 bytes, wrapped at 76 columns like `base64 64.bin` prints them.
        let raw: Vec<u8> = (0u8..64).collect();
        let b64 = base64::engine::general_purpose::STANDARD.encode(&raw);
        let wrapped = format!("{}\n{}\n", &b64[..76], &b64[76..]);
        assert_eq!(config_id_from_base64(&wrapped).unwrap().0.to_vec(), raw);
        // Short IDs are zero-padded.
        let id = config_id_from_base64("AQID").unwrap();
        assert_eq!(&id.0[..4], &[1, 2, 3, 0]);
        assert!(id.0[3..].iter().all(|b| *b == 0));
        // Padding optional.
        assert_eq!(
            config_id_from_base64("AQI").unwrap(),
            config_id_from_base64("AQI=").unwrap()
        );
        // Errors.
        assert_eq!(config_id_from_base64(" \n"), Err(LaunchError::Empty));
        let e = config_id_from_base64("not*base64").unwrap_err();
        assert!(
            matches!(
                e,
                LaunchError::Undecodable {
                    len: 10,
                    source: DecodeError::Base64(base64::DecodeError::InvalidByte(3, b'*'))
                }
            ),
            "{e}"
        );
        let worded = "character '*' at position 4 is not base64 (expected A-Z, a-z, 0-9, +, / \
                      and = padding at the end)";
        assert_eq!(
            e.to_string(),
            format!("cannot decode 10 characters as base64: {worded}")
        );
        // The cause chain keeps the decoder's own error under the worded one.
        let cause = std::error::Error::source(&e).unwrap();
        assert_eq!(cause.to_string(), worded);
        assert_eq!(
            std::error::Error::source(cause).map(|s| s.to_string()),
            Some("Invalid symbol 42, offset 3.".to_string())
        );
        let long = base64::engine::general_purpose::STANDARD.encode([7u8; 65]);
        assert_eq!(
            config_id_from_base64(&long),
            Err(LaunchError::TooLong { len: 65 })
        );
        assert!(config_id_from_base64(&long)
            .unwrap_err()
            .to_string()
            .contains("65 bytes"));
    }

    #[test]
    fn hex_and_raw_rules() {
        assert_eq!(&config_id_from_hex("0xAb01").unwrap().0[..3], &[0xab, 1, 0]);
        assert!(matches!(
            config_id_from_hex("abc"),
            Err(LaunchError::Undecodable { .. })
        ));
        assert!(matches!(
            config_id_from_hex(&"00".repeat(65)),
            Err(LaunchError::TooLong { len: 65, .. })
        ));
        assert!(matches!(config_id_from_hex("0x"), Err(LaunchError::Empty)));
        assert!(matches!(config_id_from_raw(&[]), Err(LaunchError::Empty)));
        assert_eq!(config_id_from_raw(&[9; 64]).unwrap().0, [9; 64]);
        assert!(config_id_from_raw(&[9; 65]).is_err());
    }

    #[test]
    fn svn_rules() {
        assert_eq!(config_svn("0x12ab").unwrap(), 0x12ab);
        assert_eq!(config_svn("65535").unwrap(), 65535);
        assert_eq!(config_svn("0").unwrap(), 0);
        for bad in ["65536", "-1", "0x10000", "0x", "", "12a", "1e3", "0x-1"] {
            assert!(config_svn(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn kss_gate() {
        assert!(launch_config(false, Some(ConfigId::ZERO), None).is_err());
        assert!(launch_config(false, None, Some(0)).is_err());
        assert_eq!(
            launch_config(false, None, None).unwrap(),
            KssConfig::default()
        );
        assert_eq!(
            launch_config(true, None, None).unwrap(),
            KssConfig::default()
        );
        let c = launch_config(true, Some(ConfigId([1; 64])), Some(5)).unwrap();
        assert_eq!((c.config_id.0[0], c.config_svn), (1, 5));
    }
}
