//! [`SignOptions`]: the signed SIGSTRUCT fields, defaulting to the Intel SDK sign tool.

use crate::date::{BcdDate, DateError};
use crate::hex_lower;
use kss_types::{xfrm, AttributeFlags, Attributes, Id128};

/// Intel sign tool default ATTRIBUTES.flags for a 64-bit enclave: MODE64BIT.
pub const DEFAULT_ATTRIBUTES_FLAGS: u64 = AttributeFlags::MODE64BIT.0;
/// Intel sign tool default ATTRIBUTEMASK.flags: `~(DEBUG | 0x00FF000000000000)`, i.e. every
/// bit is checked except DEBUG and the SDK "non-check" bits 48..56.
pub const DEFAULT_ATTRIBUTE_MASK_FLAGS: u64 =
    !(AttributeFlags::DEBUG.0 | AttributeFlags::SDK_NON_CHECK.0);
/// Intel sign tool default ATTRIBUTES.xfrm: x87 | SSE.
pub const DEFAULT_XFRM: u64 = xfrm::LEGACY;
/// Intel sign tool default ATTRIBUTEMASK.xfrm (PKRU and AMX must be disabled).
pub const DEFAULT_XFRM_MASK: u64 = 0xFFFF_FFFF_FFFF_FF1B;
/// Intel sign tool default MISCMASK.
pub const DEFAULT_MISC_MASK: u32 = 0xFFFF_FFFF;

/// Options that cannot produce a loadable SIGSTRUCT.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OptionsError {
    /// ISVFAMILYID or ISVEXTPRODID set without KSS (the Intel sign tool's rule).
    #[error("KSS must be enabled if ISVEXTPRODID or ISVFAMILYID is set (ISVFAMILYID {}, ISVEXTPRODID {}); enable KSS (attribute 0x80)", hex_lower(&.family.0), hex_lower(&.ext_prod.0))]
    IdsWithoutKss {
        /// ISVFAMILYID (shown as hex in stored byte order).
        family: Id128,
        /// ISVEXTPRODID (shown as hex in stored byte order).
        ext_prod: Id128,
    },
    /// VENDOR not 0 or 0x8086 (EINIT and Linux reject others).
    #[error(
        "VENDOR {vendor:#x} is not allowed; EINIT accepts only 0 (non-Intel) or 0x8086 (Intel)"
    )]
    Vendor {
        /// The vendor given.
        vendor: u32,
    },
    /// A DATE that is not a real BCD date.
    #[error("DATE: {0}")]
    Date(#[from] DateError),
    /// ATTRIBUTES.INIT must be 0 (EINIT sets it).
    #[error("ATTRIBUTES flags {flags:#x} include INIT (0x1), which only EINIT may set")]
    InitAttribute {
        /// The flags given.
        flags: u64,
    },
}

/// Every field of a SIGSTRUCT that is signed, except ENCLAVEHASH.
///
/// [`SignOptions::default`] gives the Intel SGX SDK sign tool's defaults for a 64-bit enclave:
/// ATTRIBUTES 0x4 (MODE64BIT) with mask 0xFF00FFFFFFFFFFFD, XFRM 0x3 with mask
/// 0xFFFFFFFFFFFFFF1B, MISCSELECT 0 with MISCMASK 0xFFFFFFFF, VENDOR 0, DATE today (UTC),
/// ISVPRODID 0, ISVSVN 0, SWDEFINED 0 and zero KSS IDs.
///
/// `kss` and `disable_debug` are applied on top of `attributes`/`attribute_mask` when signing
/// (see [`SignOptions::resolved_attributes`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignOptions {
    /// VENDOR: 0 (non-Intel) or 0x8086 (Intel).
    pub vendor: u32,
    /// DATE as BCD `0xYYYYMMDD`; `None` means today (UTC) at signing time.
    pub date: Option<u32>,
    /// SWDEFINED (the SDK's `hw_version`).
    pub sw_defined: u32,
    /// MISCSELECT; stored as `misc_select & misc_mask`, like the SDK.
    pub misc_select: u32,
    /// MISCMASK.
    pub misc_mask: u32,
    /// ATTRIBUTES (before `kss`/`disable_debug` are applied).
    pub attributes: Attributes,
    /// ATTRIBUTEMASK (before `kss`/`disable_debug` are applied).
    pub attribute_mask: Attributes,
    /// ISVPRODID.
    pub isv_prod_id: u16,
    /// ISVSVN.
    pub isv_svn: u16,
    /// ISVFAMILYID (KSS).
    pub isv_family_id: Id128,
    /// ISVEXTPRODID (KSS).
    pub isv_ext_prod_id: Id128,
    /// Enable KSS: sets 0x80 in ATTRIBUTES and ATTRIBUTEMASK (SDK `EnableKSS`). A KSS-signed
    /// enclave only launches on CPUs with KSS.
    pub kss: bool,
    /// Production enclave: sets DEBUG (0x2) in ATTRIBUTEMASK and clears it in ATTRIBUTES (SDK
    /// `DisableDebug`).
    pub disable_debug: bool,
}

impl Default for SignOptions {
    fn default() -> Self {
        Self {
            vendor: 0,
            date: None,
            sw_defined: 0,
            misc_select: 0,
            misc_mask: DEFAULT_MISC_MASK,
            attributes: Attributes::new(DEFAULT_ATTRIBUTES_FLAGS, DEFAULT_XFRM),
            attribute_mask: Attributes::new(DEFAULT_ATTRIBUTE_MASK_FLAGS, DEFAULT_XFRM_MASK),
            isv_prod_id: 0,
            isv_svn: 0,
            isv_family_id: Id128::ZERO,
            isv_ext_prod_id: Id128::ZERO,
            kss: false,
            disable_debug: false,
        }
    }
}

impl SignOptions {
    /// The Intel sign tool defaults (same as [`Default`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets ISVPRODID.
    pub fn isv_prod_id(mut self, v: u16) -> Self {
        self.isv_prod_id = v;
        self
    }

    /// Sets ISVSVN.
    pub fn isv_svn(mut self, v: u16) -> Self {
        self.isv_svn = v;
        self
    }

    /// Enables or disables KSS.
    pub fn kss(mut self, on: bool) -> Self {
        self.kss = on;
        self
    }

    /// Sets ISVFAMILYID (requires KSS).
    pub fn isv_family_id(mut self, id: Id128) -> Self {
        self.isv_family_id = id;
        self
    }

    /// Sets ISVEXTPRODID (requires KSS).
    pub fn isv_ext_prod_id(mut self, id: Id128) -> Self {
        self.isv_ext_prod_id = id;
        self
    }

    /// Marks the enclave production-only (DEBUG checked and required to be 0).
    pub fn disable_debug(mut self, on: bool) -> Self {
        self.disable_debug = on;
        self
    }

    /// Sets DATE (BCD `0xYYYYMMDD`).
    pub fn date(mut self, bcd: u32) -> Self {
        self.date = Some(bcd);
        self
    }

    /// Sets ATTRIBUTES.flags and ATTRIBUTEMASK.flags.
    pub fn attribute_flags(mut self, flags: u64, mask: u64) -> Self {
        self.attributes.flags = AttributeFlags(flags);
        self.attribute_mask.flags = AttributeFlags(mask);
        self
    }

    /// Sets ATTRIBUTES.xfrm and ATTRIBUTEMASK.xfrm.
    pub fn xfrm(mut self, xfrm: u64, mask: u64) -> Self {
        self.attributes.xfrm = xfrm;
        self.attribute_mask.xfrm = mask;
        self
    }

    /// Sets MISCSELECT and MISCMASK.
    pub fn misc(mut self, select: u32, mask: u32) -> Self {
        self.misc_select = select;
        self.misc_mask = mask;
        self
    }

    /// Sets VENDOR.
    pub fn vendor(mut self, vendor: u32) -> Self {
        self.vendor = vendor;
        self
    }

    /// Sets SWDEFINED.
    pub fn sw_defined(mut self, v: u32) -> Self {
        self.sw_defined = v;
        self
    }

    /// ATTRIBUTES and ATTRIBUTEMASK as they will be signed: `kss` ORs 0x80 into both,
    /// `disable_debug` ORs DEBUG into the mask and clears it from the attributes.
    pub fn resolved_attributes(&self) -> (Attributes, Attributes) {
        let mut attributes = self.attributes;
        let mut mask = self.attribute_mask;
        if self.kss {
            attributes.flags = attributes.flags.with(AttributeFlags::KSS);
            mask.flags = mask.flags.with(AttributeFlags::KSS);
        }
        if self.disable_debug {
            attributes.flags = attributes.flags.without(AttributeFlags::DEBUG);
            mask.flags = mask.flags.with(AttributeFlags::DEBUG);
        }
        (attributes, mask)
    }

    /// The DATE that will be signed (today if unset), checked.
    pub fn resolved_date(&self) -> Result<u32, OptionsError> {
        match self.date {
            Some(bcd) => Ok(BcdDate::from_bcd(bcd)?.to_bcd()),
            None => Ok(crate::date::today_bcd()),
        }
    }

    /// Checks the rules the Intel sign tool and EINIT enforce on these fields.
    pub fn check(&self) -> Result<(), OptionsError> {
        let (attributes, _) = self.resolved_attributes();
        let kss = attributes.flags.contains(AttributeFlags::KSS);
        if !kss && (!self.isv_family_id.is_zero() || !self.isv_ext_prod_id.is_zero()) {
            return Err(OptionsError::IdsWithoutKss {
                family: self.isv_family_id,
                ext_prod: self.isv_ext_prod_id,
            });
        }
        if self.vendor != 0 && self.vendor != kss_types::Sigstruct::VENDOR_INTEL {
            return Err(OptionsError::Vendor {
                vendor: self.vendor,
            });
        }
        if attributes.flags.contains(AttributeFlags::INIT) {
            return Err(OptionsError::InitAttribute {
                flags: attributes.flags.0,
            });
        }
        self.resolved_date()?;
        Ok(())
    }
}
