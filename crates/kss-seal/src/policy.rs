//! Which enclaves can unseal a blob: key policies, presets, the SDK default and its validity
//! rules.
//!
//! A seal key always mixes in the request's ISVSVN, CPUSVN, KEYID and the masked ATTRIBUTES and
//! MISCSELECT. The KEYPOLICY bits choose which identity values are mixed in as well:
//!
//! | bit | name | mixed in |
//! |---|---|---|
//! | 0x01 | `mrenclave` | MRENCLAVE: only this exact build |
//! | 0x02 | `mrsigner` | MRSIGNER: any enclave signed by the same key |
//! | 0x04 | `noisvprodid` | drop ISVPRODID (otherwise always mixed in) (KSS) |
//! | 0x08 | `configid` | CONFIGID and the request's CONFIGSVN (KSS) |
//! | 0x10 | `isvfamilyid` | ISVFAMILYID (KSS) |
//! | 0x20 | `isvextprodid` | ISVEXTPRODID (KSS) |

use crate::error::{PolicyTextProblem, SealError};
use kss_types::{AttributeFlags, Attributes, KeyPolicy, ReportBody};

/// `TSEAL_DEFAULT_FLAGSMASK` of the SDK: `~(0x00FFFFFFFFFFFFC0 | MODE64BIT | PROVISIONKEY |
/// EINITTOKEN_KEY)`, i.e. INIT, DEBUG, bit 3 and the top byte.
pub const DEFAULT_ATTRIBUTE_MASK: Attributes = Attributes::new(0xFF00_0000_0000_000B, 0);

/// `TSEAL_DEFAULT_MISCMASK` of the SDK: `~0x0FFFFFFF`.
pub const DEFAULT_MISC_MASK: u32 = 0xF000_0000;

/// The SDK's default KSS policy: MRSIGNER | CONFIGID | ISVFAMILYID | ISVEXTPRODID (0x3A).
pub const DEFAULT_KSS_POLICY: KeyPolicy = KeyPolicy(0x3A);

/// The policy `sgx_seal_data` uses for `identity`: MRSIGNER, or [`DEFAULT_KSS_POLICY`] when the
/// enclave has ATTRIBUTES.KSS.
pub fn default_policy(identity: &ReportBody) -> KeyPolicy {
    if identity.attributes.flags.contains(AttributeFlags::KSS) {
        DEFAULT_KSS_POLICY
    } else {
        KeyPolicy::MRSIGNER
    }
}

/// Named policies for common sharing patterns. ISVSVN (and, with CONFIGID, CONFIGSVN) always
/// work as "this version or newer"; masked ATTRIBUTES (e.g. DEBUG) must always match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Preset {
    /// `mrenclave`: only enclaves with exactly this MRENCLAVE (the same build). Any CONFIGID.
    Enclave,
    /// `mrsigner`: any enclave of the same signer and the same ISVPRODID.
    Signer,
    /// `mrsigner,configid`: same signer and ISVPRODID, and the same CONFIGID at this CONFIGSVN
    /// or above. Needs KSS.
    Config,
    /// `mrsigner,isvfamilyid,noisvprodid`: every product of the signer's product family (same
    /// ISVFAMILYID), whatever its ISVPRODID. Needs KSS.
    Family,
    /// `mrsigner,isvextprodid`: same signer, ISVPRODID and ISVEXTPRODID; siblings that share a
    /// 16-bit ISVPRODID but have another extended product ID cannot read it. Needs KSS.
    Product,
}

impl Preset {
    /// Every preset, in the order they are documented.
    pub const ALL: [Preset; 5] = [
        Preset::Enclave,
        Preset::Signer,
        Preset::Config,
        Preset::Family,
        Preset::Product,
    ];

    /// The KEYPOLICY bits.
    pub const fn policy(self) -> KeyPolicy {
        match self {
            Preset::Enclave => KeyPolicy::MRENCLAVE,
            Preset::Signer => KeyPolicy::MRSIGNER,
            Preset::Config => KeyPolicy(KeyPolicy::MRSIGNER.0 | KeyPolicy::CONFIGID.0),
            Preset::Family => KeyPolicy(
                KeyPolicy::MRSIGNER.0 | KeyPolicy::ISVFAMILYID.0 | KeyPolicy::NOISVPRODID.0,
            ),
            Preset::Product => KeyPolicy(KeyPolicy::MRSIGNER.0 | KeyPolicy::ISVEXTPRODID.0),
        }
    }

    /// The name used on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            Preset::Enclave => "enclave",
            Preset::Signer => "signer",
            Preset::Config => "config",
            Preset::Family => "family",
            Preset::Product => "product",
        }
    }

    /// Who can unseal, in plain words.
    pub const fn description(self) -> &'static str {
        match self {
            Preset::Enclave => "only this exact enclave build (same MRENCLAVE), whatever its CONFIGID",
            Preset::Signer => "any enclave from the same signer with the same ISVPRODID",
            Preset::Config => "same signer and ISVPRODID, launched with the same CONFIGID at this CONFIGSVN or above",
            Preset::Family => "every product of the same signer and ISVFAMILYID, whatever its ISVPRODID",
            Preset::Product => "same signer, ISVPRODID and ISVEXTPRODID (not sibling products with another extended product ID)",
        }
    }

    /// Looks a preset up by name (case-insensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(name.trim()))
    }

    /// The preset whose bits are exactly `policy`, if any.
    pub fn from_policy(policy: KeyPolicy) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.policy() == policy)
    }
}

/// Parses a `--policy` value: `default` (→ `None`: the SDK default for the enclave), a preset
/// name (`enclave`, `signer`, `config`, `family`, `product`), or a comma-separated list of
/// policy names such as `mrsigner,configid`. Validity against an enclave is checked when
/// sealing.
pub fn parse_policy(text: &str) -> Result<Option<KeyPolicy>, SealError> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("default") {
        return Ok(None);
    }
    if let Some(p) = Preset::from_name(t) {
        return Ok(Some(p.policy()));
    }
    let unknown = |problem| SealError::UnknownPolicy {
        text: text.to_string(),
        problem,
    };
    let policy = KeyPolicy::parse_list(t)
        .map_err(|e| unknown(PolicyTextProblem::UnknownName(e.0.to_string())))?;
    if policy.is_empty() {
        return Err(unknown(PolicyTextProblem::Empty));
    }
    Ok(Some(policy))
}

/// How to seal: the key policy and which attribute and MISCSELECT bits the key depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealOptions {
    /// KEYPOLICY; `None` uses [`default_policy`] for the sealing enclave.
    pub policy: Option<KeyPolicy>,
    /// ATTRIBUTEMASK of the request (default [`DEFAULT_ATTRIBUTE_MASK`]).
    pub attribute_mask: Attributes,
    /// MISCMASK of the request (default [`DEFAULT_MISC_MASK`]).
    pub misc_mask: u32,
}

impl Default for SealOptions {
    fn default() -> Self {
        Self {
            policy: None,
            attribute_mask: DEFAULT_ATTRIBUTE_MASK,
            misc_mask: DEFAULT_MISC_MASK,
        }
    }
}

impl SealOptions {
    /// Default masks with an explicit policy.
    pub fn with_policy(policy: KeyPolicy) -> Self {
        Self {
            policy: Some(policy),
            ..Self::default()
        }
    }

    /// Default masks with a preset's policy.
    pub fn with_preset(preset: Preset) -> Self {
        Self::with_policy(preset.policy())
    }
}

/// Checks the SDK's sealing rules (`sgx_seal_data_ex` and `sgx_get_key`) for `policy` and
/// `attribute_mask` on the enclave `identity`.
pub fn validate(
    policy: KeyPolicy,
    attribute_mask: Attributes,
    identity: &ReportBody,
) -> Result<(), SealError> {
    if let Some(rule) = broken_bits_rule(policy) {
        return Err(SealError::invalid_policy(
            policy,
            match rule {
                BitsRule::DefinedBitsOnly => "only bits 0x3F are defined (mrenclave, mrsigner, noisvprodid, configid, isvfamilyid, isvextprodid)",
                BitsRule::HasIdentity => "it must include mrenclave or mrsigner",
            },
        ));
    }
    if policy.intersects(KeyPolicy::KSS_BITS)
        && !identity.attributes.flags.contains(AttributeFlags::KSS)
    {
        return Err(SealError::invalid_policy(
            policy,
            "noisvprodid, configid, isvfamilyid and isvextprodid need an enclave with ATTRIBUTES.KSS, and this one has none",
        ));
    }
    let needed = AttributeFlags::INIT.with(AttributeFlags::DEBUG);
    if !attribute_mask.flags.contains(needed) {
        return Err(SealError::InvalidAttributeMask {
            flags: attribute_mask.flags.0,
        });
    }
    Ok(())
}

/// A rule every KEYPOLICY must meet whatever the enclave; [`validate`] and the blob parser each
/// word their own error from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BitsRule {
    /// Only the six bits 0x3F are defined.
    DefinedBitsOnly,
    /// `mrenclave` or `mrsigner` must be set.
    HasIdentity,
}

/// The first [`BitsRule`] `policy` breaks, if any.
pub(crate) fn broken_bits_rule(policy: KeyPolicy) -> Option<BitsRule> {
    if policy.reserved_bits() != 0 {
        Some(BitsRule::DefinedBitsOnly)
    } else if !policy.intersects(KeyPolicy(KeyPolicy::MRENCLAVE.0 | KeyPolicy::MRSIGNER.0)) {
        Some(BitsRule::HasIdentity)
    } else {
        None
    }
}
