//! TDX TD report bodies (TDREPORT 1.0, 584 bytes, and 1.5, 648 bytes) as carried in DCAP v4/v5
//! quotes. kss does not appraise TDX; these types exist so a TDX quote is recognised and its key
//! fields can be shown instead of being rejected as garbage.

/// The key fields of a TD report body. Offsets are relative to the start of the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TdReport {
    /// TEE_TCB_SVN (16 bytes at 0).
    pub tee_tcb_svn: [u8; 16],
    /// MRSEAM (48 bytes at 16).
    pub mr_seam: [u8; 48],
    /// MRSIGNERSEAM (48 bytes at 64).
    pub mr_signer_seam: [u8; 48],
    /// SEAMATTRIBUTES (8 bytes at 112).
    pub seam_attributes: [u8; 8],
    /// TDATTRIBUTES (8 bytes at 120).
    pub td_attributes: [u8; 8],
    /// XFAM (8 bytes at 128).
    pub xfam: [u8; 8],
    /// MRTD (48 bytes at 136): the TD's build-time measurement.
    pub mr_td: [u8; 48],
    /// MRCONFIGID (48 bytes at 184).
    pub mr_config_id: [u8; 48],
    /// MROWNER (48 bytes at 232).
    pub mr_owner: [u8; 48],
    /// MROWNERCONFIG (48 bytes at 280).
    pub mr_owner_config: [u8; 48],
    /// RTMR0..3 (4 × 48 bytes at 328).
    pub rtmr: [[u8; 48]; 4],
    /// REPORTDATA (64 bytes at 520).
    pub report_data: [u8; 64],
    /// TEE_TCB_SVN2 (16 bytes at 584), TD 1.5 only.
    pub tee_tcb_svn2: Option<[u8; 16]>,
    /// MRSERVICETD (48 bytes at 600), TD 1.5 only.
    pub mr_service_td: Option<[u8; 48]>,
}

impl TdReport {
    /// Size of a TD 1.0 report body.
    pub const SIZE_10: usize = 584;
    /// Size of a TD 1.5 report body.
    pub const SIZE_15: usize = 648;

    /// Reads a TD report body of exactly [`Self::SIZE_10`] or [`Self::SIZE_15`] bytes; `None`
    /// for any other length.
    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        if b.len() != Self::SIZE_10 && b.len() != Self::SIZE_15 {
            return None;
        }
        let v15 = b.len() == Self::SIZE_15;
        Some(Self {
            tee_tcb_svn: arr(b, 0)?,
            mr_seam: arr(b, 16)?,
            mr_signer_seam: arr(b, 64)?,
            seam_attributes: arr(b, 112)?,
            td_attributes: arr(b, 120)?,
            xfam: arr(b, 128)?,
            mr_td: arr(b, 136)?,
            mr_config_id: arr(b, 184)?,
            mr_owner: arr(b, 232)?,
            mr_owner_config: arr(b, 280)?,
            rtmr: [arr(b, 328)?, arr(b, 376)?, arr(b, 424)?, arr(b, 472)?],
            report_data: arr(b, 520)?,
            tee_tcb_svn2: if v15 { Some(arr(b, 584)?) } else { None },
            mr_service_td: if v15 { Some(arr(b, 600)?) } else { None },
        })
    }
}

fn arr<const N: usize>(b: &[u8], off: usize) -> Option<[u8; N]> {
    let src = b.get(off..off.checked_add(N)?)?;
    let mut out = [0u8; N];
    out.copy_from_slice(src);
    Some(out)
}
