//! The Occlum.json model: KSS metadata and the resource limits the enclave layout needs.
//!
//! Parsing follows Occlum's RFC for KSS (occlum/occlum#589): `metadata.enable_kss`,
//! `metadata.family_id {high, low}` and `metadata.ext_prod_id {high, low}`, each half a 64-bit
//! hex integer with optional `0x`. Unlike Occlum, which panics on bad input, every bad value is
//! a [`ConfigError`] naming the JSON path, the value and what is expected.

use crate::error::{ConfigError, ConfigRule};
use crate::size::parse_size;
use kss_types::Id128;
use serde_json::{Map, Value};

/// How the app (Occlum.json + image/) is bound into the enclave identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConfigBinding {
    /// Config and image are measured into MRENCLAVE (the default).
    #[default]
    Mrenclave,
    /// The enclave is app-independent; config and image are bound through CONFIGID at launch.
    ConfigId,
}

impl ConfigBinding {
    /// The value written in Occlum.json.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mrenclave => "mrenclave",
            Self::ConfigId => "config_id",
        }
    }
}

/// `metadata` of Occlum.json.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// ISVPRODID.
    pub product_id: u16,
    /// ISVSVN.
    pub version_number: u16,
    /// Whether the enclave may be launched in debug mode.
    pub debuggable: bool,
    /// ATTRIBUTES.KSS: enables CONFIGID/CONFIGSVN and the KSS IDs.
    pub enable_kss: bool,
    /// ISVFAMILYID.
    pub family_id: Id128,
    /// ISVEXTPRODID.
    pub ext_prod_id: Id128,
    /// How the app is bound into the identity.
    pub config_binding: ConfigBinding,
}

/// `resource_limits` of Occlum.json, in bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceLimits {
    /// Number of enclave threads (TCS pages): `max_num_of_threads`.
    pub max_num_of_threads: u32,
    /// Per-thread stack: `kernel_space_stack_size`.
    pub kernel_space_stack_size: u64,
    /// Enclave heap: `kernel_space_heap_size`.
    pub kernel_space_heap_size: u64,
    /// User space (Occlum's reserved memory): `user_space_size`.
    pub user_space_size: u64,
}

impl Default for ResourceLimits {
    fn default() -> Self {
        Self {
            max_num_of_threads: 8,
            kernel_space_stack_size: 256 << 10,
            kernel_space_heap_size: 32 << 20,
            user_space_size: 256 << 20,
        }
    }
}

/// A validated Occlum.json.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceConfig {
    /// KSS and identity metadata.
    pub metadata: Metadata,
    /// Resource limits.
    pub resource_limits: ResourceLimits,
    /// Top-level keys that neither kss nor Occlum defines (reported, not fatal). Keys Occlum
    /// defines but kss does not use are accepted quietly (docs/build.md lists them).
    pub unused_keys: Vec<String>,
}

const USED_METADATA: &[&str] = &[
    "product_id",
    "version_number",
    "debuggable",
    "enable_kss",
    "family_id",
    "ext_prod_id",
    "config_binding",
];
const USED_LIMITS: &[&str] = &[
    "max_num_of_threads",
    "kernel_space_stack_size",
    "kernel_space_heap_size",
    "user_space_size",
];
/// Top-level keys of Occlum.json that kss does not use: accepted without a note.
const OCCLUM_TOP_LEVEL: &[&str] = &[
    "process",
    "entry_points",
    "env",
    "mount",
    "feature",
    "untrusted_unix_socks",
];
/// `metadata` keys Occlum defines that kss does not use.
const OCCLUM_METADATA: &[&str] = &["pkru", "amx", "enable_edmm"];
/// `resource_limits` keys Occlum defines that kss does not use.
const OCCLUM_LIMITS: &[&str] = &["user_space_max_size", "kernel_space_heap_max_size"];

/// Refuses a key of a section kss owns that is neither kss's nor Occlum's, naming the nearest
/// valid key.
fn check_section_keys(
    section: &'static str,
    m: &Map<String, Value>,
    used: &[&'static str],
    occlum: &[&'static str],
) -> Result<(), ConfigError> {
    for key in m.keys() {
        if used.contains(&key.as_str()) || occlum.contains(&key.as_str()) {
            continue;
        }
        let nearest = used
            .iter()
            .chain(occlum)
            .min_by_key(|k| edit_distance(k, key))
            .copied()
            .unwrap_or("");
        return Err(ConfigError::UnknownKey {
            section,
            key: key.clone(),
            nearest,
            valid: used.iter().chain(occlum).copied().collect(),
        });
    }
    Ok(())
}

/// Levenshtein distance, for "did you mean".
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

impl InstanceConfig {
    /// Parses and validates Occlum.json bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self, ConfigError> {
        let root: Value = serde_json::from_slice(bytes).map_err(ConfigError::Json)?;
        let root = root
            .as_object()
            .ok_or_else(|| ConfigError::value("(top level)", &root, "expected a JSON object"))?;
        let mut unused = Vec::new();
        for key in root.keys() {
            if key != "metadata"
                && key != "resource_limits"
                && !OCCLUM_TOP_LEVEL.contains(&key.as_str())
            {
                unused.push(key.clone());
            }
        }
        let empty = Map::new();
        let meta = object(root, "metadata", "metadata")?.unwrap_or(&empty);
        let limits = object(root, "resource_limits", "resource_limits")?.unwrap_or(&empty);
        check_section_keys("metadata", meta, USED_METADATA, OCCLUM_METADATA)?;
        check_section_keys("resource_limits", limits, USED_LIMITS, OCCLUM_LIMITS)?;

        let metadata = Metadata {
            product_id: u16_field(meta, "metadata.product_id", "product_id")?.unwrap_or(0),
            version_number: u16_field(meta, "metadata.version_number", "version_number")?
                .unwrap_or(0),
            debuggable: bool_field(meta, "metadata.debuggable", "debuggable")?.unwrap_or(true),
            enable_kss: bool_field(meta, "metadata.enable_kss", "enable_kss")?.unwrap_or(false),
            family_id: id_field(meta, "metadata.family_id", "family_id")?,
            ext_prod_id: id_field(meta, "metadata.ext_prod_id", "ext_prod_id")?,
            config_binding: binding_field(meta)?,
        };
        if !metadata.enable_kss
            && (!metadata.family_id.is_zero() || !metadata.ext_prod_id.is_zero())
        {
            return Err(ConfigError::Rule(ConfigRule::IdsNeedKss));
        }
        if metadata.config_binding == ConfigBinding::ConfigId && !metadata.enable_kss {
            return Err(ConfigError::Rule(ConfigRule::ConfigIdBindingNeedsKss));
        }

        let d = ResourceLimits::default();
        let threads = match limits.get("max_num_of_threads") {
            None => d.max_num_of_threads,
            Some(v) => match v.as_u64() {
                Some(n) if (1..=4096).contains(&n) => n as u32,
                _ => {
                    return Err(ConfigError::value(
                        "resource_limits.max_num_of_threads",
                        v,
                        "expected an integer from 1 to 4096",
                    ))
                }
            },
        };
        let size = |key: &str, default: u64, min: u64| -> Result<u64, ConfigError> {
            let path = format!("resource_limits.{key}");
            match limits.get(key) {
                None => Ok(default),
                Some(v) => {
                    let n = parse_size(&path, v)?;
                    if !n.is_multiple_of(4096) || n < min {
                        Err(ConfigError::value(
                            &path,
                            v,
                            &format!(
                                "expected a multiple of 4KB of at least {}",
                                crate::size::format_size(min)
                            ),
                        ))
                    } else if n > crate::layout::MAX_SIZE_FIELD {
                        Err(ConfigError::value(
                            &path,
                            v,
                            &format!(
                                "expected at most {} (the largest enclave kss builds is {})",
                                crate::size::format_size(crate::layout::MAX_SIZE_FIELD),
                                crate::size::format_size(crate::layout::MAX_ENCLAVE_SIZE)
                            ),
                        ))
                    } else {
                        Ok(n)
                    }
                }
            }
        };
        let resource_limits = ResourceLimits {
            max_num_of_threads: threads,
            kernel_space_stack_size: size(
                "kernel_space_stack_size",
                d.kernel_space_stack_size,
                8192,
            )?,
            kernel_space_heap_size: size("kernel_space_heap_size", d.kernel_space_heap_size, 4096)?,
            user_space_size: size("user_space_size", d.user_space_size, 0)?,
        };
        unused.sort();
        Ok(Self {
            metadata,
            resource_limits,
            unused_keys: unused,
        })
    }
}

fn object<'a>(
    parent: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<&'a Map<String, Value>>, ConfigError> {
    match parent.get(key) {
        None => Ok(None),
        Some(v) => v
            .as_object()
            .map(Some)
            .ok_or_else(|| ConfigError::value(path, v, "expected a JSON object")),
    }
}

fn u16_field(m: &Map<String, Value>, path: &str, key: &str) -> Result<Option<u16>, ConfigError> {
    let Some(v) = m.get(key) else { return Ok(None) };
    let n = match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => parse_uint(s),
        _ => None,
    };
    match n {
        Some(n) if n <= 0xFFFF => Ok(Some(n as u16)),
        _ => Err(ConfigError::value(
            path,
            v,
            "expected an integer from 0 to 65535",
        )),
    }
}

fn parse_uint(s: &str) -> Option<u64> {
    let s = s.trim();
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

fn bool_field(m: &Map<String, Value>, path: &str, key: &str) -> Result<Option<bool>, ConfigError> {
    match m.get(key) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(v) => Err(ConfigError::value(path, v, "expected true or false")),
    }
}

/// Parses one half of a 16-byte ID: a 64-bit hex integer, `0x` optional, 1 to 16 digits.
pub fn parse_hex_u64(path: &str, v: &Value) -> Result<u64, ConfigError> {
    let s = v.as_str().ok_or_else(|| {
        ConfigError::value(
            path,
            v,
            "expected a hex string such as \"0x1a2b\" (64-bit, 0x optional)",
        )
    })?;
    let digits = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    if digits.is_empty() {
        return Err(ConfigError::value(
            path,
            v,
            "expected 1 to 16 hex digits after the optional 0x",
        ));
    }
    if digits.len() > 16 {
        return Err(ConfigError::value(
            path,
            v,
            &format!(
                "{} hex digits is more than 64 bits (at most 16 hex digits)",
                digits.len()
            ),
        ));
    }
    if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ConfigError::value(
            path,
            v,
            "expected only hex digits 0-9, a-f after the optional 0x",
        ));
    }
    u64::from_str_radix(digits, 16)
        .map_err(|_| ConfigError::value(path, v, "expected a 64-bit hex integer"))
}

fn id_field(m: &Map<String, Value>, path: &str, key: &str) -> Result<Id128, ConfigError> {
    let Some(v) = m.get(key) else {
        return Ok(Id128::ZERO);
    };
    let obj = v.as_object().ok_or_else(|| {
        ConfigError::value(
            path,
            v,
            "expected an object {\"high\": \"0x..\", \"low\": \"0x..\"}",
        )
    })?;
    for k in obj.keys() {
        if k != "high" && k != "low" {
            return Err(ConfigError::value(
                &format!("{path}.{k}"),
                &obj[k],
                "unknown key (expected only \"high\" and \"low\")",
            ));
        }
    }
    let half = |name: &str| -> Result<u64, ConfigError> {
        let p = format!("{path}.{name}");
        match obj.get(name) {
            Some(v) => parse_hex_u64(&p, v),
            None => Err(ConfigError::value(path, v, &format!("missing \"{name}\""))),
        }
    };
    Ok(Id128::from_high_low(half("high")?, half("low")?))
}

fn binding_field(m: &Map<String, Value>) -> Result<ConfigBinding, ConfigError> {
    match m.get("config_binding") {
        None => Ok(ConfigBinding::Mrenclave),
        Some(Value::String(s)) if s == "mrenclave" => Ok(ConfigBinding::Mrenclave),
        Some(Value::String(s)) if s == "config_id" => Ok(ConfigBinding::ConfigId),
        Some(v) => Err(ConfigError::value(
            "metadata.config_binding",
            v,
            "expected \"mrenclave\" (default) or \"config_id\"",
        )),
    }
}

/// The Occlum.json that `kss new` writes: Occlum's template keys, KSS off, and limits sized so
/// that a simulated launch stays fast.
pub fn template() -> impl serde::Serialize {
    let zero = TemplateId {
        high: "0x0",
        low: "0x0",
    };
    Template {
        resource_limits: TemplateLimits {
            kernel_space_heap_size: "32MB",
            kernel_space_stack_size: "256KB",
            user_space_size: "256MB",
            max_num_of_threads: 8,
        },
        process: TemplateProcess {
            default_stack_size: "4MB",
            default_heap_size: "32MB",
            default_mmap_size: "100MB",
        },
        entry_points: ["/bin"],
        env: TemplateEnv {
            default: ["OCCLUM=yes"],
            untrusted: ["EXAMPLE"],
        },
        metadata: TemplateMetadata {
            product_id: 0,
            version_number: 0,
            debuggable: true,
            enable_kss: false,
            family_id: zero,
            ext_prod_id: zero,
            config_binding: ConfigBinding::Mrenclave.as_str(),
        },
    }
}

// The template's sections, each with its keys in the order `kss new` writes them (its bytes are
// measured into MRENCLAVE, see tests/json_order.rs).

#[derive(serde::Serialize)]
struct Template {
    resource_limits: TemplateLimits,
    process: TemplateProcess,
    entry_points: [&'static str; 1],
    env: TemplateEnv,
    metadata: TemplateMetadata,
}

#[derive(serde::Serialize)]
struct TemplateLimits {
    kernel_space_heap_size: &'static str,
    kernel_space_stack_size: &'static str,
    user_space_size: &'static str,
    max_num_of_threads: u32,
}

#[derive(serde::Serialize)]
struct TemplateProcess {
    default_stack_size: &'static str,
    default_heap_size: &'static str,
    default_mmap_size: &'static str,
}

#[derive(serde::Serialize)]
struct TemplateEnv {
    default: [&'static str; 1],
    untrusted: [&'static str; 1],
}

#[derive(serde::Serialize)]
struct TemplateMetadata {
    product_id: u16,
    version_number: u16,
    debuggable: bool,
    enable_kss: bool,
    family_id: TemplateId,
    ext_prod_id: TemplateId,
    config_binding: &'static str,
}

/// An `Id128` as Occlum.json writes it: two hex halves.
#[derive(Clone, Copy, serde::Serialize)]
struct TemplateId {
    high: &'static str,
    low: &'static str,
}
