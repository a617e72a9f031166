//! CONFIGID binding: one pre-signed enclave for many apps, the app bound through CONFIGID.
//!
//! In `"config_binding": "config_id"` mode the enclave (SGXS and SIGSTRUCT) measures only the
//! app-independent enclave parameters, and `kss run` puts this digest into CONFIGID:
//!
//! ```text
//! CONFIGID = SHA-512( "kss-config-id-v1\0"
//!                     || SHA-256(canonical Occlum.json)
//!                     || kss-image-v1 digest of image/ )
//! ```
//!
//! The canonical Occlum.json is the parsed JSON re-serialized compactly with object keys
//! sorted by their UTF-8 bytes ([`canonical_config`] sorts them itself), so formatting changes
//! do not change CONFIGID but every value does. SHA-512 fills the 64 bytes of CONFIGID. A relying party recomputes the value
//! from the app it expects (`kss config-id DIR`, `kss policy from-instance DIR`) instead of
//! trusting the host.

use crate::build::Instance;
use crate::config::InstanceConfig;
use crate::error::{ConfigError, InstanceError};
use crate::image::ImageDigest;
use kss_types::ConfigId;
use sha2::{Digest, Sha256, Sha512};

/// Domain separator and version of the CONFIGID digest.
pub const CONFIG_ID_DOMAIN: &[u8] = b"kss-config-id-v1\0";

/// A computed CONFIGID and its inputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigIdDigest {
    /// The 64-byte CONFIGID.
    pub config_id: ConfigId,
    /// SHA-256 of the canonical Occlum.json.
    pub config_digest: [u8; 32],
    /// The image digest.
    pub image: ImageDigest,
}

/// The canonical form of Occlum.json: compact, object keys sorted by their UTF-8 bytes.
///
/// The sorting is done here, not left to serde_json's map type, so the result does not depend
/// on whether some crate in the build enabled serde_json's `preserve_order` feature.
pub fn canonical_config(config_bytes: &[u8]) -> Result<Vec<u8>, ConfigError> {
    let v: serde_json::Value = serde_json::from_slice(config_bytes).map_err(ConfigError::Json)?;
    let mut out = Vec::with_capacity(config_bytes.len());
    write_canonical(&v, &mut out)?;
    Ok(out)
}

fn write_canonical(v: &serde_json::Value, out: &mut Vec<u8>) -> Result<(), ConfigError> {
    use serde_json::Value;
    let scalar = |v: &Value, out: &mut Vec<u8>| -> Result<(), ConfigError> {
        serde_json::to_writer(&mut *out, v).map_err(ConfigError::Json)
    };
    match v {
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push(b'{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                scalar(&Value::String(k.clone()), out)?;
                out.push(b':');
                write_canonical(&map[k.as_str()], out)?;
            }
            out.push(b'}');
        }
        other => scalar(other, out)?,
    }
    Ok(())
}

/// CONFIGID from a config digest and an image digest.
pub fn config_id_from_parts(config_digest: &[u8; 32], image_digest: &[u8; 32]) -> ConfigId {
    let mut h = Sha512::new();
    h.update(CONFIG_ID_DOMAIN);
    h.update(config_digest);
    h.update(image_digest);
    ConfigId(h.finalize().into())
}

/// Computes the CONFIGID of an instance from exactly its Occlum.json bytes and image/.
pub fn config_id(
    inst: &Instance,
    _config: &InstanceConfig,
    config_bytes: &[u8],
) -> Result<ConfigIdDigest, InstanceError> {
    let canonical = canonical_config(config_bytes)?;
    let config_digest: [u8; 32] = Sha256::digest(&canonical).into();
    let image = inst.image_digest()?;
    Ok(ConfigIdDigest {
        config_id: config_id_from_parts(&config_digest, &image.digest),
        config_digest,
        image,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_form_ignores_formatting_only() {
        let a = canonical_config(br#"{ "b": 1, "a": {"y": [1, 2], "x": "s"} }"#).unwrap();
        let b = canonical_config(b"{\"a\":{\"x\":\"s\",\"y\":[1,2]},\n\"b\":1}").unwrap();
        assert_eq!(a, b);
        assert_eq!(a, br#"{"a":{"x":"s","y":[1,2]},"b":1}"#.to_vec());
        assert_ne!(
            a,
            canonical_config(br#"{"a":{"x":"s","y":[1,2]},"b":2}"#).unwrap()
        );
    }

    #[test]
    fn config_id_formula() {
        let c = [1u8; 32];
        let i = [2u8; 32];
        let mut h = Sha512::new();
        h.update(b"kss-config-id-v1\0");
        h.update(c);
        h.update(i);
        assert_eq!(
            config_id_from_parts(&c, &i).0,
            <[u8; 64]>::from(h.finalize())
        );
        assert_ne!(config_id_from_parts(&c, &i), config_id_from_parts(&i, &c));
    }
}
