//! Identity values: the 16-byte KSS IDs, the 64-byte CONFIGID, CPUSVN and the launch config.

use crate::bytes::arr;

/// A 16-byte identity: ISVFAMILYID or ISVEXTPRODID.
///
/// The byte order follows the Intel sign tool (`ISVFAMILYID_L`/`_H` in Enclave.xml) and Occlum's
/// `{high, low}`: `low` fills bytes 0..8 as a little-endian u64 and `high` fills bytes 8..16.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Id128(pub [u8; 16]);

impl Id128 {
    /// All zeros.
    pub const ZERO: Self = Self([0; 16]);

    /// Builds the ID from its two 64-bit halves (`low` → bytes 0..8, `high` → bytes 8..16).
    pub const fn from_high_low(high: u64, low: u64) -> Self {
        let l = low.to_le_bytes();
        let h = high.to_le_bytes();
        Self([
            l[0], l[1], l[2], l[3], l[4], l[5], l[6], l[7], h[0], h[1], h[2], h[3], h[4], h[5],
            h[6], h[7],
        ])
    }

    /// Bytes 8..16 read as a little-endian u64.
    pub fn high(&self) -> u64 {
        u64::from_le_bytes(arr(&self.0, 8))
    }

    /// Bytes 0..8 read as a little-endian u64.
    pub fn low(&self) -> u64 {
        u64::from_le_bytes(arr(&self.0, 0))
    }

    /// True when every byte is zero.
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 16]
    }
}

/// CONFIGID: 64 bytes chosen by whoever launches a KSS enclave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConfigId(pub [u8; 64]);

impl ConfigId {
    /// All zeros (what an enclave launched without a configuration gets).
    pub const ZERO: Self = Self([0; 64]);

    /// True when every byte is zero.
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 64]
    }

    /// Zero-pads up to 64 bytes; `None` if `bytes` is longer than 64.
    pub fn from_prefix(bytes: &[u8]) -> Option<Self> {
        if bytes.len() > 64 {
            return None;
        }
        let mut id = [0u8; 64];
        id[..bytes.len()].copy_from_slice(bytes);
        Some(Self(id))
    }
}

impl Default for ConfigId {
    fn default() -> Self {
        Self::ZERO
    }
}

/// CPUSVN: the 16-byte security version of the CPU's TCB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CpuSvn(pub [u8; 16]);

crate::layout::newtype_field!(Id128 => [u8; 16], ConfigId => [u8; 64], CpuSvn => [u8; 16]);

crate::layout::layout! {
    /// The KSS launch configuration: what the host puts into SECS.CONFIGID and SECS.CONFIGSVN
    /// before ECREATE. Encoded like the SDK's packed `sgx_kss_config_t` (66 bytes).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct KssConfig("sgx_kss_config_t", 66, mod kss_config_offsets) {
        /// CONFIGID.
        pub config_id: ConfigId => CONFIG_ID,
        /// CONFIGSVN.
        pub config_svn: u16 => CONFIG_SVN,
    }
}

impl KssConfig {
    /// True for the zero configuration.
    pub fn is_zero(&self) -> bool {
        self.config_id.is_zero() && self.config_svn == 0
    }
}
