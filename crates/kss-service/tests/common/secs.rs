//! The KSS enclave the service tests and the endpoint benchmark serve (included by both).

use kss_types::{Attributes, ConfigId, Id128, Secs};

/// A KSS enclave's SECS (ISVFAMILYID, ISVEXTPRODID, CONFIGID set) with `config_svn`.
pub fn kss_secs(config_svn: u16) -> Secs {
    Secs {
        size: 1 << 20,
        base_addr: 1 << 32,
        ssa_frame_size: 1,
        attributes: Attributes::new(0x85, 0x3),
        mr_enclave: [0x11; 32],
        mr_signer: [0x22; 32],
        config_id: ConfigId([0x33; 64]),
        isv_prod_id: 7,
        isv_svn: 3,
        config_svn,
        isv_family_id: Id128::from_high_low(3, 4),
        isv_ext_prod_id: Id128::from_high_low(1, 2),
        ..Secs::default()
    }
}
