//! A secret-free view of a sealed blob's metadata.

use crate::error::{policy_names, to_hex};
use crate::format::SealedData;
use crate::policy::Preset;
use kss_types::{Attributes, CpuSvn, KeyName, KeyPolicy};
use std::fmt;

/// What [`SealedData::inspect`] shows: who can unseal the blob and how big it is. Holds no
/// ciphertext, tag or AAD content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedInfo {
    /// KEYPOLICY bits.
    pub policy: KeyPolicy,
    /// The preset with exactly these bits, if any.
    pub preset: Option<Preset>,
    /// KEYNAME (4 = SEAL).
    pub key_name: u16,
    /// ISVSVN the key was derived for (enclaves at this ISVSVN or above can unseal).
    pub isv_svn: u16,
    /// CONFIGSVN the key was derived for (binding only with the `configid` policy).
    pub config_svn: u16,
    /// CPUSVN the key was derived for.
    pub cpu_svn: CpuSvn,
    /// KEYID (random per blob; public).
    pub key_id: [u8; 32],
    /// ATTRIBUTEMASK.
    pub attribute_mask: Attributes,
    /// MISCMASK.
    pub misc_mask: u32,
    /// Encrypted length (0 for an AAD-only MAC blob).
    pub encrypted_len: usize,
    /// AAD length.
    pub aad_len: usize,
    /// Total blob length.
    pub total_len: usize,
}

impl SealedInfo {
    pub(crate) fn from_sealed(s: &SealedData<'_>) -> Self {
        let r = &s.key_request;
        Self {
            policy: r.key_policy,
            preset: Preset::from_policy(r.key_policy),
            key_name: r.key_name,
            isv_svn: r.isv_svn,
            config_svn: r.config_svn,
            cpu_svn: r.cpu_svn,
            key_id: r.key_id,
            attribute_mask: r.attribute_mask,
            misc_mask: r.misc_mask,
            encrypted_len: s.encrypted_len(),
            aad_len: s.aad_len(),
            total_len: s.total_len(),
        }
    }

    /// The policy as names, e.g. `mrsigner,configid`.
    pub fn policy_names(&self) -> String {
        policy_names(self.policy)
    }

    /// The key name as text (`SEAL` or the number).
    pub fn key_name_text(&self) -> String {
        match KeyName::from_u16(self.key_name) {
            Some(KeyName::Seal) => "SEAL".to_string(),
            Some(other) => format!("{other:?}"),
            None => self.key_name.to_string(),
        }
    }

    /// CPUSVN as hex.
    pub fn cpu_svn_hex(&self) -> String {
        to_hex(&self.cpu_svn.0)
    }

    /// KEYID as hex.
    pub fn key_id_hex(&self) -> String {
        to_hex(&self.key_id)
    }

    /// Who can unseal, in words (from the preset, or built from the bits).
    pub fn who_can_unseal(&self) -> String {
        if let Some(p) = self.preset {
            return p.description().to_string();
        }
        if self.policy == crate::policy::DEFAULT_KSS_POLICY {
            return "SDK default for KSS enclaves: same signer, ISVPRODID, ISVFAMILYID, ISVEXTPRODID and CONFIGID (at this CONFIGSVN or above)".to_string();
        }
        let p = self.policy;
        let mut parts = Vec::new();
        if p.contains(KeyPolicy::MRENCLAVE) {
            parts.push("same MRENCLAVE");
        }
        if p.contains(KeyPolicy::MRSIGNER) {
            parts.push("same signer");
        }
        if !p.contains(KeyPolicy::NOISVPRODID) {
            parts.push("same ISVPRODID");
        }
        if p.contains(KeyPolicy::CONFIGID) {
            parts.push("same CONFIGID at this CONFIGSVN or above");
        }
        if p.contains(KeyPolicy::ISVFAMILYID) {
            parts.push("same ISVFAMILYID");
        }
        if p.contains(KeyPolicy::ISVEXTPRODID) {
            parts.push("same ISVEXTPRODID");
        }
        parts.join(", ")
    }
}

impl fmt::Display for SealedInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let preset = self.preset.map(|p| format!(" (preset {})", p.name()));
        writeln!(
            f,
            "key policy:      {:#06x} {}{}",
            self.policy.0,
            self.policy_names(),
            preset.unwrap_or_default()
        )?;
        writeln!(f, "who can unseal:  {}", self.who_can_unseal())?;
        writeln!(
            f,
            "key name:        {} ({})",
            self.key_name_text(),
            self.key_name
        )?;
        writeln!(f, "ISVSVN:          {} (this or newer)", self.isv_svn)?;
        writeln!(f, "CONFIGSVN:       {}", self.config_svn)?;
        writeln!(f, "CPUSVN:          {}", self.cpu_svn_hex())?;
        writeln!(f, "KEYID:           {}", self.key_id_hex())?;
        writeln!(
            f,
            "attribute mask:  flags {:#018x} xfrm {:#018x}",
            self.attribute_mask.flags.0, self.attribute_mask.xfrm
        )?;
        writeln!(f, "misc mask:       {:#010x}", self.misc_mask)?;
        writeln!(
            f,
            "sizes:           encrypted {} + aad {} + header 560 = total {}{}",
            self.encrypted_len,
            self.aad_len,
            self.total_len,
            if self.encrypted_len == 0 {
                " (AAD-only MAC)"
            } else {
                ""
            }
        )
    }
}
