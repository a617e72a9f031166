//! SECS (4096 bytes): the SGX Enclave Control Structure.

use crate::attributes::{Attributes, MiscSelect};
use crate::bytes::{arr, put, u16_at, u32_at, u64_at};
use crate::error::{check_len, LayoutError};
use crate::ids::{ConfigId, Id128};

/// Field offsets within the SECS.
pub mod offsets {
    /// SIZE (u64).
    pub const SIZE: usize = 0;
    /// BASEADDR (u64).
    pub const BASE_ADDR: usize = 8;
    /// SSAFRAMESIZE in pages (u32).
    pub const SSA_FRAME_SIZE: usize = 16;
    /// MISCSELECT (u32).
    pub const MISC_SELECT: usize = 20;
    /// Reserved, 24 bytes (newer SDMs: CET fields).
    pub const RESERVED1: usize = 24;
    /// ATTRIBUTES (16).
    pub const ATTRIBUTES: usize = 48;
    /// MRENCLAVE (32).
    pub const MR_ENCLAVE: usize = 64;
    /// Reserved, 32 bytes.
    pub const RESERVED2: usize = 96;
    /// MRSIGNER (32).
    pub const MR_SIGNER: usize = 128;
    /// Reserved, 32 bytes.
    pub const RESERVED3: usize = 160;
    /// CONFIGID (64), KSS.
    pub const CONFIG_ID: usize = 192;
    /// ISVPRODID (u16).
    pub const ISV_PROD_ID: usize = 256;
    /// ISVSVN (u16).
    pub const ISV_SVN: usize = 258;
    /// CONFIGSVN (u16), KSS.
    pub const CONFIG_SVN: usize = 260;
    /// ISVFAMILYID (16) where the Intel SDK simulator keeps it. Not architectural.
    pub const SIM_ISV_FAMILY_ID: usize = 262;
    /// ISVEXTPRODID (16) where the Intel SDK simulator keeps it. Not architectural.
    pub const SIM_ISV_EXT_PROD_ID: usize = 278;
    /// The rest of the reserved area.
    pub const RESERVED4: usize = 294;
}

/// The SGX Enclave Control Structure.
///
/// ISVFAMILYID and ISVEXTPRODID have no architectural SECS offset: EINIT copies them from the
/// SIGSTRUCT into an implementation-specific place. This type keeps them where the Intel SDK
/// simulator does (bytes 262 and 278), which is what kss's simulator uses; on hardware those
/// bytes are reserved and must be zero before ECREATE.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Secs {
    /// Enclave size in bytes: a power of two, at least 8192.
    pub size: u64,
    /// Enclave base address, naturally aligned to `size`.
    pub base_addr: u64,
    /// Size of one SSA frame, in pages.
    pub ssa_frame_size: u32,
    /// MISCSELECT.
    pub misc_select: MiscSelect,
    /// Bytes 24..48, reserved.
    pub reserved1: [u8; 24],
    /// ATTRIBUTES.
    pub attributes: Attributes,
    /// MRENCLAVE (set by hardware).
    pub mr_enclave: [u8; 32],
    /// Bytes 96..128, reserved.
    pub reserved2: [u8; 32],
    /// MRSIGNER (set by EINIT).
    pub mr_signer: [u8; 32],
    /// Bytes 160..192, reserved.
    pub reserved3: [u8; 32],
    /// CONFIGID (KSS; set by software before ECREATE).
    pub config_id: ConfigId,
    /// ISVPRODID (set by EINIT).
    pub isv_prod_id: u16,
    /// ISVSVN (set by EINIT).
    pub isv_svn: u16,
    /// CONFIGSVN (KSS; set by software before ECREATE).
    pub config_svn: u16,
    /// ISVFAMILYID, at the simulator's location (see the type docs).
    pub isv_family_id: Id128,
    /// ISVEXTPRODID, at the simulator's location (see the type docs).
    pub isv_ext_prod_id: Id128,
    /// Bytes 294..4096, reserved.
    pub reserved4: [u8; 3802],
}

impl Default for Secs {
    fn default() -> Self {
        Self {
            size: 0,
            base_addr: 0,
            ssa_frame_size: 0,
            misc_select: MiscSelect(0),
            reserved1: [0; 24],
            attributes: Attributes::default(),
            mr_enclave: [0; 32],
            reserved2: [0; 32],
            mr_signer: [0; 32],
            reserved3: [0; 32],
            config_id: ConfigId::ZERO,
            isv_prod_id: 0,
            isv_svn: 0,
            config_svn: 0,
            isv_family_id: Id128::ZERO,
            isv_ext_prod_id: Id128::ZERO,
            reserved4: [0; 3802],
        }
    }
}

impl Secs {
    /// Encoded size.
    pub const SIZE: usize = 4096;

    /// True if every reserved byte is zero, counting the simulator's ISVFAMILYID and
    /// ISVEXTPRODID slots (which software must leave zero before ECREATE).
    pub fn reserved_is_zero(&self) -> bool {
        self.reserved1 == [0; 24]
            && self.reserved2 == [0; 32]
            && self.reserved3 == [0; 32]
            && self.isv_family_id.is_zero()
            && self.isv_ext_prod_id.is_zero()
            && self.reserved4.iter().all(|b| *b == 0)
    }

    /// Parses exactly 4096 bytes.
    pub fn from_bytes(b: &[u8]) -> Result<Self, LayoutError> {
        use offsets::*;
        check_len("SECS", b, Self::SIZE)?;
        Ok(Self {
            size: u64_at(b, SIZE),
            base_addr: u64_at(b, BASE_ADDR),
            ssa_frame_size: u32_at(b, SSA_FRAME_SIZE),
            misc_select: MiscSelect(u32_at(b, MISC_SELECT)),
            reserved1: arr(b, RESERVED1),
            attributes: Attributes::read(b, ATTRIBUTES),
            mr_enclave: arr(b, MR_ENCLAVE),
            reserved2: arr(b, RESERVED2),
            mr_signer: arr(b, MR_SIGNER),
            reserved3: arr(b, RESERVED3),
            config_id: ConfigId(arr(b, CONFIG_ID)),
            isv_prod_id: u16_at(b, ISV_PROD_ID),
            isv_svn: u16_at(b, ISV_SVN),
            config_svn: u16_at(b, CONFIG_SVN),
            isv_family_id: Id128(arr(b, SIM_ISV_FAMILY_ID)),
            isv_ext_prod_id: Id128(arr(b, SIM_ISV_EXT_PROD_ID)),
            reserved4: arr(b, RESERVED4),
        })
    }

    /// Encodes to 4096 bytes.
    pub fn to_bytes(&self) -> [u8; 4096] {
        use offsets::*;
        let mut b = [0u8; 4096];
        put(&mut b, SIZE, &self.size.to_le_bytes());
        put(&mut b, BASE_ADDR, &self.base_addr.to_le_bytes());
        put(&mut b, SSA_FRAME_SIZE, &self.ssa_frame_size.to_le_bytes());
        put(&mut b, MISC_SELECT, &self.misc_select.0.to_le_bytes());
        put(&mut b, RESERVED1, &self.reserved1);
        self.attributes.write(&mut b, ATTRIBUTES);
        put(&mut b, MR_ENCLAVE, &self.mr_enclave);
        put(&mut b, RESERVED2, &self.reserved2);
        put(&mut b, MR_SIGNER, &self.mr_signer);
        put(&mut b, RESERVED3, &self.reserved3);
        put(&mut b, CONFIG_ID, &self.config_id.0);
        put(&mut b, ISV_PROD_ID, &self.isv_prod_id.to_le_bytes());
        put(&mut b, ISV_SVN, &self.isv_svn.to_le_bytes());
        put(&mut b, CONFIG_SVN, &self.config_svn.to_le_bytes());
        put(&mut b, SIM_ISV_FAMILY_ID, &self.isv_family_id.0);
        put(&mut b, SIM_ISV_EXT_PROD_ID, &self.isv_ext_prod_id.0);
        put(&mut b, RESERVED4, &self.reserved4);
        b
    }
}
