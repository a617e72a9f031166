//! The 64-byte blocks ECREATE, EADD and EEXTEND feed into MRENCLAVE (`docs/sgx-reference.md` §5.1).

use sha2::{Digest, Sha256};

/// The running MRENCLAVE: SHA-256 over 64-byte blocks, finalised by EINIT.
#[derive(Clone, Default)]
pub struct Measurement(Sha256);

impl core::fmt::Debug for Measurement {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Measurement(..)")
    }
}

impl Measurement {
    /// Hashes the ECREATE block: tag, SSAFRAMESIZE (u32), SIZE (u64), zeros.
    pub fn ecreate(ssa_frame_size: u32, size: u64) -> Self {
        let mut m = Self(Sha256::new());
        m.0.update(kss_sgxs::ecreate_block(ssa_frame_size, size));
        m
    }

    /// Hashes an EADD block: tag, page offset, the first 48 bytes of SECINFO.
    pub fn eadd(&mut self, offset: u64, secinfo_first_48: &[u8; 48]) {
        self.0
            .update(kss_sgxs::eadd_block(offset, secinfo_first_48));
    }

    /// Hashes an EEXTEND block and the 256 measured bytes.
    pub fn eextend(&mut self, offset: u64, data: &[u8; 256]) {
        self.0.update(kss_sgxs::eextend_block(offset));
        self.0.update(data);
    }

    /// The final MRENCLAVE (standard SHA-256 finalisation), leaving `self` usable.
    pub fn value(&self) -> [u8; 32] {
        self.0.clone().finalize().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kss_sgxs::tag;

    #[test]
    fn tags_spell_the_instruction_names() {
        assert_eq!(&tag::ECREATE.to_le_bytes(), b"ECREATE\0");
        assert_eq!(&tag::EADD.to_le_bytes(), b"EADD\0\0\0\0");
        assert_eq!(&tag::EEXTEND.to_le_bytes(), b"EEXTEND\0");
    }

    #[test]
    fn fact_sheet_measurement_kat() {
        // ECREATE(ssa 1, size 0x2000); EADD(0, TCS); EADD(0x1000, REG RW) + 16 zero EEXTENDs.
        let mut m = Measurement::ecreate(1, 0x2000);
        let mut tcs = [0u8; 48];
        tcs[..8].copy_from_slice(&0x100u64.to_le_bytes());
        m.eadd(0, &tcs);
        let mut rw = [0u8; 48];
        rw[..8].copy_from_slice(&0x203u64.to_le_bytes());
        m.eadd(0x1000, &rw);
        for i in 0..16u64 {
            m.eextend(0x1000 + i * 256, &[0; 256]);
        }
        assert_eq!(
            hex::encode(m.value()),
            "2e1025dddd5bfdbc1c085d15feb88f775ea90701d6038dae1aad0f7f66d7b151"
        );
    }
}
