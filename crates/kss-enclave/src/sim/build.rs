//! ECREATE, EADD, EEXTEND and EINIT on the simulated CPU.

use super::cpu::{ssa_frame_bytes_needed, xfrm_problem, SimCpu};
use super::enclave::SimEnclave;
use super::measure::Measurement;
use super::memory::{Page, SparseMemory};
use super::signature;
use crate::error::{ErrorCode, Leaf, SgxError};
use kss_types::{
    AttributeFlags, EaddFlagsProblem, Secinfo, SecinfoFlags, Secs, Sigstruct, PAGE_SIZE,
};

const PAGE: u64 = PAGE_SIZE as u64;

/// An enclave between ECREATE and EINIT: its SECS, the measurement so far and the added pages.
#[derive(Debug, Clone)]
pub struct SimBuilder {
    cpu: SimCpu,
    secs: Secs,
    measurement: Measurement,
    memory: SparseMemory,
    initialized: bool,
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl SimCpu {
    /// ENCLS\[ECREATE\]: checks `secs` against the rules of `docs/sgx-reference.md` §3.2 and starts
    /// the measurement.
    ///
    /// Software-set fields are SIZE, BASEADDR, SSAFRAMESIZE, MISCSELECT, ATTRIBUTES, CONFIGID and
    /// CONFIGSVN. MRENCLAVE, MRSIGNER, ISVPRODID and ISVSVN are cleared, as hardware does.
    pub fn ecreate(&self, secs: &Secs) -> Result<SimBuilder, SgxError> {
        let gp = |rule, detail: String| Err(SgxError::fault(Leaf::Ecreate, rule, detail));
        if secs.size < 8192 || !secs.size.is_power_of_two() {
            return gp(
                "SECS.SIZE must be a power of two of at least 8192",
                format!("SIZE = {:#x}", secs.size),
            );
        }
        if secs.size.trailing_zeros() > u32::from(self.max_enclave_size_bits) {
            return gp(
                "SECS.SIZE exceeds the CPU's maximum enclave size (CPUID.(12H,0).EDX[15:8])",
                format!(
                    "SIZE = {:#x}, maximum 2^{}",
                    secs.size, self.max_enclave_size_bits
                ),
            );
        }
        if secs.base_addr & (secs.size - 1) != 0 {
            return gp(
                "SECS.BASEADDR must be naturally aligned to SIZE",
                format!("BASEADDR = {:#x}, SIZE = {:#x}", secs.base_addr, secs.size),
            );
        }
        if !secs.reserved_is_zero() {
            return gp(
                "SECS reserved fields must be zero",
                "a byte in 24..48, 96..128, 160..192 or 262..4096 is not zero".into(),
            );
        }
        let flags = secs.attributes.flags;
        if flags.contains(AttributeFlags::INIT) {
            return gp(
                "SECS.ATTRIBUTES.INIT must be 0 at ECREATE",
                format!("ATTRIBUTES.flags = {flags}"),
            );
        }
        if flags.contains(AttributeFlags::KSS) && !self.supports_kss() {
            return gp(
                "ATTRIBUTES.KSS is set but the CPU does not support KSS (CPUID.(12H,1).EAX[7] = 0)",
                format!("ATTRIBUTES.flags = {flags}"),
            );
        }
        let unsupported = flags.0 & !self.attributes_mask.flags.0;
        if unsupported != 0 {
            return gp(
                "SECS.ATTRIBUTES.flags must be a subset of CR_SGX_ATTRIBUTES_MASK",
                format!(
                    "ATTRIBUTES.flags = {flags}, unsupported bits {unsupported:#x}, CPU allows {:#x}",
                    self.attributes_mask.flags.0
                ),
            );
        }
        let xfrm = secs.attributes.xfrm;
        if xfrm & !self.attributes_mask.xfrm != 0 {
            return gp(
                "SECS.ATTRIBUTES.XFRM must be a subset of the CPU's XFRM mask",
                format!(
                    "XFRM = {xfrm:#x}, CPU allows {:#x}",
                    self.attributes_mask.xfrm
                ),
            );
        }
        if let Some(problem) = xfrm_problem(xfrm) {
            return gp(
                "SECS.ATTRIBUTES.XFRM must be a legal XCR0 value",
                format!("XFRM = {xfrm:#x}: {problem}"),
            );
        }
        let misc = secs.misc_select.0;
        if misc & !self.misc_select_mask != 0 {
            return gp(
                "SECS.MISCSELECT must be supported (CPUID.(12H,0).EBX)",
                format!(
                    "MISCSELECT = {misc:#x}, CPU supports {:#x}",
                    self.misc_select_mask
                ),
            );
        }
        let needed = ssa_frame_bytes_needed(xfrm, misc);
        if secs.ssa_frame_size == 0 || u64::from(secs.ssa_frame_size) * PAGE < needed {
            return gp(
                "SECS.SSAFRAMESIZE must hold XSAVE(XFRM) + MISC + GPR",
                format!(
                    "SSAFRAMESIZE = {} page(s), XFRM {xfrm:#x} and MISCSELECT {misc:#x} need {needed} bytes ({} page(s))",
                    secs.ssa_frame_size,
                    needed.div_ceil(PAGE)
                ),
            );
        }
        if (!secs.config_id.is_zero() || secs.config_svn != 0)
            && !flags.contains(AttributeFlags::KSS)
        {
            return gp(
                "CONFIGID or CONFIGSVN is nonzero but ATTRIBUTES.KSS is 0",
                format!(
                    "CONFIGSVN = {}, CONFIGID {} zero, ATTRIBUTES.flags = {flags}",
                    secs.config_svn,
                    if secs.config_id.is_zero() {
                        "is"
                    } else {
                        "is not"
                    }
                ),
            );
        }
        let mut secs = secs.clone();
        secs.mr_enclave = [0; 32];
        secs.mr_signer = [0; 32];
        secs.isv_prod_id = 0;
        secs.isv_svn = 0;
        Ok(SimBuilder {
            cpu: self.clone(),
            measurement: Measurement::ecreate(secs.ssa_frame_size, secs.size),
            secs,
            memory: SparseMemory::default(),
            initialized: false,
        })
    }
}

impl SimBuilder {
    /// The SECS as ECREATE accepted it (MRENCLAVE stays zero until EINIT).
    pub fn secs(&self) -> &Secs {
        &self.secs
    }

    /// MRENCLAVE of everything measured so far.
    pub fn mr_enclave(&self) -> [u8; 32] {
        self.measurement.value()
    }

    /// Number of pages added so far.
    pub fn page_count(&self) -> u64 {
        self.memory.page_count()
    }

    /// Number of added pages whose content is stored (not all zero).
    pub fn stored_page_count(&self) -> usize {
        self.memory.stored_page_count()
    }

    fn check_not_initialized(&self, leaf: Leaf) -> Result<(), SgxError> {
        if self.initialized {
            Err(SgxError::fault(
                leaf,
                "the enclave is already initialized (EINIT succeeded)",
                format!("{leaf} after EINIT"),
            ))
        } else {
            Ok(())
        }
    }

    /// ENCLS\[EADD\]: adds the page at `offset` (from BASEADDR) with `data` (`None` = zeros) and
    /// `secinfo`, and hashes the EADD block.
    pub fn eadd(
        &mut self,
        offset: u64,
        data: Option<&Page>,
        secinfo: &Secinfo,
    ) -> Result<(), SgxError> {
        self.check_not_initialized(Leaf::Eadd)?;
        let gp = |rule, detail: String| Err(SgxError::fault(Leaf::Eadd, rule, detail));
        if offset & (PAGE - 1) != 0 {
            return gp(
                "the page offset must be 4 KiB-aligned",
                format!("offset = {offset:#x}"),
            );
        }
        if offset >= self.secs.size {
            return gp(
                "the page must lie inside the enclave (offset < SECS.SIZE)",
                format!("offset = {offset:#x}, SIZE = {:#x}", self.secs.size),
            );
        }
        let index = offset / PAGE;
        if self.memory.is_added(index) {
            return gp(
                "the page is already added (its EPCM entry is valid)",
                format!("offset = {offset:#x}"),
            );
        }
        check_secinfo(secinfo)?;
        let bytes = secinfo.to_bytes();
        let mut first48 = [0u8; 48];
        first48.copy_from_slice(&bytes[..48]);
        self.measurement.eadd(offset, &first48);
        self.memory.add(index, data);
        Ok(())
    }

    /// ENCLS\[EEXTEND\]: hashes the EEXTEND block for `offset` and the 256 bytes of page content
    /// there.
    pub fn eextend(&mut self, offset: u64) -> Result<(), SgxError> {
        self.check_not_initialized(Leaf::Eextend)?;
        let gp = |rule, detail: String| Err(SgxError::fault(Leaf::Eextend, rule, detail));
        if offset & 0xFF != 0 {
            return gp(
                "the chunk offset must be 256-byte aligned",
                format!("offset = {offset:#x}"),
            );
        }
        let index = offset / PAGE;
        if offset >= self.secs.size || !self.memory.is_added(index) {
            return gp(
                "the chunk must lie in a page added with EADD",
                format!("offset = {offset:#x}, page {:#x} not added", index * PAGE),
            );
        }
        let chunk = ((offset % PAGE) / 256) as usize;
        let data = self.memory.chunk(index, chunk);
        self.measurement.eextend(offset, &data);
        Ok(())
    }

    /// ENCLS\[EINIT\]: the checks of `docs/sgx-reference.md` §4.3 in order, then commits the
    /// identity and sets INIT.
    ///
    /// | # | check | result |
    /// |---|---|---|
    /// | 1 | HEADER, HEADER2, VENDOR, EXPONENT, reserved bytes | SGX_INVALID_SIG_STRUCT |
    /// | 2 | RSA signature | SGX_INVALID_SIGNATURE |
    /// | 3 | ISVFAMILYID ≠ 0 without ATTRIBUTES.KSS | SGX_INVALID_SIG_STRUCT |
    /// | 3b | ISVEXTPRODID ≠ 0 without ATTRIBUTES.KSS (SDK-sim rule) | SGX_INVALID_SIG_STRUCT |
    /// | 4 | ENCLAVEHASH = MRENCLAVE | SGX_INVALID_MEASUREMENT |
    /// | 5 | EINITTOKEN_KEY needs MRSIGNER = IA32_SGXLEPUBKEYHASH | SGX_INVALID_ATTRIBUTE |
    /// | 6 | ATTRIBUTES and MISCSELECT under the SIGSTRUCT masks | SGX_INVALID_ATTRIBUTE |
    ///
    /// A failed EINIT leaves the builder unchanged (it can be retried); a successful one makes
    /// every later EADD, EEXTEND or EINIT on this builder fault.
    pub fn einit(&mut self, sig: &Sigstruct) -> Result<SimEnclave, SgxError> {
        self.check_not_initialized(Leaf::Einit)?;
        let fail = |code, detail: String| Err(SgxError::status(Leaf::Einit, code, detail));
        let secs = &self.secs;
        let kss = secs.attributes.flags.contains(AttributeFlags::KSS);
        if let Some(problem) = sig.structure_problem() {
            return fail(ErrorCode::InvalidSigStruct, problem.to_string());
        }
        if let Err(why) = signature::verify(sig) {
            return Err(SgxError::invalid_signature(why));
        }
        if !kss && !sig.isv_family_id.is_zero() {
            return fail(
                ErrorCode::InvalidSigStruct,
                format!(
                    "SIGSTRUCT.ISVFAMILYID = {} is nonzero but SECS.ATTRIBUTES.KSS is 0",
                    hex(&sig.isv_family_id.0)
                ),
            );
        }
        if !kss && !sig.isv_ext_prod_id.is_zero() {
            return fail(
                ErrorCode::InvalidSigStruct,
                format!(
                    "SIGSTRUCT.ISVEXTPRODID = {} is nonzero but SECS.ATTRIBUTES.KSS is 0",
                    hex(&sig.isv_ext_prod_id.0)
                ),
            );
        }
        let mr_enclave = self.measurement.value();
        if sig.enclave_hash != mr_enclave {
            return fail(
                ErrorCode::InvalidMeasurement,
                format!(
                    "SIGSTRUCT.ENCLAVEHASH = {} but the measured MRENCLAVE is {}",
                    hex(&sig.enclave_hash),
                    hex(&mr_enclave)
                ),
            );
        }
        let mr_signer = signature::mr_signer(sig);
        if secs
            .attributes
            .flags
            .contains(AttributeFlags::EINITTOKEN_KEY)
            && mr_signer != self.cpu.le_pubkey_hash
        {
            return fail(
                ErrorCode::InvalidAttribute,
                format!(
                    "ATTRIBUTES.EINITTOKEN_KEY is set but MRSIGNER {} is not IA32_SGXLEPUBKEYHASH {}",
                    hex(&mr_signer),
                    hex(&self.cpu.le_pubkey_hash)
                ),
            );
        }
        let mask = sig.attribute_mask;
        if secs.attributes.masked(mask) != sig.attributes.masked(mask) {
            return fail(
                ErrorCode::InvalidAttribute,
                format!(
                    "SECS.ATTRIBUTES (flags {:#x}, xfrm {:#x}) & ATTRIBUTEMASK (flags {:#x}, xfrm {:#x}) differs from SIGSTRUCT.ATTRIBUTES (flags {:#x}, xfrm {:#x}) & ATTRIBUTEMASK",
                    secs.attributes.flags.0,
                    secs.attributes.xfrm,
                    mask.flags.0,
                    mask.xfrm,
                    sig.attributes.flags.0,
                    sig.attributes.xfrm
                ),
            );
        }
        if secs.misc_select.0 & sig.misc_mask != sig.misc_select.0 & sig.misc_mask {
            return fail(
                ErrorCode::InvalidAttribute,
                format!(
                    "SECS.MISCSELECT {:#x} & MISCMASK {:#x} differs from SIGSTRUCT.MISCSELECT {:#x} & MISCMASK",
                    secs.misc_select.0, sig.misc_mask, sig.misc_select.0
                ),
            );
        }
        let mut secs = self.secs.clone();
        secs.mr_enclave = mr_enclave;
        secs.mr_signer = mr_signer;
        secs.isv_prod_id = sig.isv_prod_id;
        secs.isv_svn = sig.isv_svn;
        secs.isv_family_id = sig.isv_family_id;
        secs.isv_ext_prod_id = sig.isv_ext_prod_id;
        secs.attributes.flags = secs.attributes.flags.with(AttributeFlags::INIT);
        self.initialized = true;
        Ok(SimEnclave::from_initialized_secs(
            secs,
            self.cpu.clone(),
            self.memory.page_count(),
        ))
    }
}

/// EADD's SECINFO checks: the flag rules of [`SecinfoFlags::eadd_problem`] (REG or TCS, no
/// reserved flag bits, no EDMM state bits, TCS without permissions, W needs R), then reserved
/// bytes zero.
fn check_secinfo(secinfo: &Secinfo) -> Result<(), SgxError> {
    let gp = |rule, detail: String| Err(SgxError::fault(Leaf::Eadd, rule, detail));
    let flags = secinfo.flags.0;
    if let Some(problem) = secinfo.flags.eadd_problem() {
        let detail = match problem {
            EaddFlagsProblem::PageType => format!(
                "SECINFO.FLAGS = {flags:#x}, page type {}",
                (flags >> 8) & 0xFF
            ),
            EaddFlagsProblem::ReservedBits => format!(
                "SECINFO.FLAGS = {flags:#x}, bits {:#x}",
                flags & !(SecinfoFlags::RWX | SecinfoFlags::PAGE_TYPE).bits()
            ),
            _ => format!("SECINFO.FLAGS = {flags:#x}"),
        };
        return gp(problem.rule(), detail);
    }
    if secinfo.reserved != [0; 56] {
        return gp(
            "SECINFO bytes 8..64 are reserved and must be zero",
            format!("SECINFO.FLAGS = {flags:#x}"),
        );
    }
    Ok(())
}
