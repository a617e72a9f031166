//! SECS (4096 bytes): the SGX Enclave Control Structure.

use crate::attributes::{Attributes, MiscSelect};
use crate::ids::{ConfigId, Id128};

crate::layout::layout! {
    /// The SGX Enclave Control Structure.
    ///
    /// ISVFAMILYID and ISVEXTPRODID have no architectural SECS offset: EINIT copies them from the
    /// SIGSTRUCT into an implementation-specific place. This type keeps them where the Intel SDK
    /// simulator does (bytes 262 and 278), which is what kss's simulator uses; on hardware those
    /// bytes are reserved and must be zero before ECREATE.
    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
    pub struct Secs("SECS", 4096, mod offsets) {
        /// Enclave size in bytes: a power of two, at least 8192.
        pub size: u64 => SIZE,
        /// Enclave base address, naturally aligned to `size`.
        pub base_addr: u64 => BASE_ADDR,
        /// Size of one SSA frame, in pages.
        pub ssa_frame_size: u32 => SSA_FRAME_SIZE,
        /// MISCSELECT.
        pub misc_select: MiscSelect => MISC_SELECT,
        /// Bytes 24..48, reserved (newer SDMs: CET fields).
        pub reserved1: [u8; 24] => RESERVED1,
        /// ATTRIBUTES.
        pub attributes: Attributes => ATTRIBUTES,
        /// MRENCLAVE (set by hardware).
        pub mr_enclave: [u8; 32] => MR_ENCLAVE,
        /// Bytes 96..128, reserved.
        pub reserved2: [u8; 32] => RESERVED2,
        /// MRSIGNER (set by EINIT).
        pub mr_signer: [u8; 32] => MR_SIGNER,
        /// Bytes 160..192, reserved.
        pub reserved3: [u8; 32] => RESERVED3,
        /// CONFIGID (KSS; set by software before ECREATE).
        pub config_id: ConfigId => CONFIG_ID,
        /// ISVPRODID (set by EINIT).
        pub isv_prod_id: u16 => ISV_PROD_ID,
        /// ISVSVN (set by EINIT).
        pub isv_svn: u16 => ISV_SVN,
        /// CONFIGSVN (KSS; set by software before ECREATE).
        pub config_svn: u16 => CONFIG_SVN,
        /// ISVFAMILYID, at the simulator's location (see the type docs). Not architectural.
        pub isv_family_id: Id128 => SIM_ISV_FAMILY_ID,
        /// ISVEXTPRODID, at the simulator's location (see the type docs). Not architectural.
        pub isv_ext_prod_id: Id128 => SIM_ISV_EXT_PROD_ID,
        /// Bytes 294..4096, reserved.
        pub reserved4: [u8; 3802] => RESERVED4,
    }
}

impl Default for Secs {
    fn default() -> Self {
        Self::ZEROED
    }
}

impl Secs {
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
}
