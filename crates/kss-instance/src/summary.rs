//! The build record `build/kss-build.json`: its fields in the order they are written
//! ([`BuildSummary`]), their values for a build ([`build_summary`]), and the names of the fields
//! that later commands compare ([`key`]).

use crate::build::enclave_parameters;
use crate::config::InstanceConfig;
use crate::image::ImageDigest;
use kss_types::AttributeFlags;
use sha2::{Digest, Sha256};

/// Keys of `build/kss-build.json` that later commands compare against the instance.
pub(crate) mod key {
    pub const CONFIG_BINDING: &str = "config_binding";
    pub const OCCLUM_JSON_SHA256: &str = "occlum_json_sha256";
    pub const ENCLAVE_PARAMETERS_SHA256: &str = "enclave_parameters_sha256";
    pub const IMAGE_DIGEST: &str = "image_digest";
    pub const MR_ENCLAVE: &str = "mr_enclave";
    pub const SGXS_SHA256: &str = "sgxs_sha256";
}

/// `build/kss-build.json`, its fields in the order they are written. The names of the fields
/// that later commands compare are the [`key`] constants; the record is read back as JSON
/// (`serde_json::Value`) so that any field, known or not, can be compared and named.
#[derive(serde::Serialize)]
pub(crate) struct BuildSummary {
    format: &'static str,
    mr_enclave: String,
    mr_signer: String,
    isv_prod_id: u16,
    isv_svn: u16,
    debuggable: bool,
    enable_kss: bool,
    attributes_flags: String,
    isv_family_id: String,
    isv_ext_prod_id: String,
    config_binding: &'static str,
    occlum_json_sha256: String,
    enclave_parameters_sha256: String,
    enclave_size: u64,
    sgxs_sha256: String,
    /// MRENCLAVE mode only, like the two fields after it.
    #[serde(skip_serializing_if = "Option::is_none")]
    image_digest: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image_entries: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image_bytes: Option<u64>,
}

/// The record of a build of `config` (with `config_bytes`, and `image` in MRENCLAVE mode): the
/// signed MRENCLAVE and MRSIGNER, the enclave size and the SGXS file's SHA-256.
pub(crate) fn build_summary(
    config: &InstanceConfig,
    config_bytes: &[u8],
    image: Option<&ImageDigest>,
    mr_enclave: &[u8; 32],
    mr_signer: &[u8; 32],
    size: u64,
    sgxs_sha256: &[u8; 32],
) -> BuildSummary {
    let m = &config.metadata;
    let mut attrs = AttributeFlags::MODE64BIT;
    if m.enable_kss {
        attrs |= AttributeFlags::KSS;
    }
    BuildSummary {
        format: "kss-build-v1",
        mr_enclave: hex::encode(mr_enclave),
        mr_signer: hex::encode(mr_signer),
        isv_prod_id: m.product_id,
        isv_svn: m.version_number,
        debuggable: m.debuggable,
        enable_kss: m.enable_kss,
        attributes_flags: format!("{:#x}", attrs.bits()),
        isv_family_id: hex::encode(m.family_id.0),
        isv_ext_prod_id: hex::encode(m.ext_prod_id.0),
        config_binding: m.config_binding.as_str(),
        occlum_json_sha256: hex::encode(Sha256::digest(config_bytes)),
        enclave_parameters_sha256: hex::encode(Sha256::digest(enclave_parameters(config))),
        enclave_size: size,
        sgxs_sha256: hex::encode(sgxs_sha256),
        image_digest: image.map(|i| hex::encode(i.digest)),
        image_entries: image.map(|i| i.entries),
        image_bytes: image.map(|i| i.bytes),
    }
}
