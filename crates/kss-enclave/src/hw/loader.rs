//! ECREATE / ADD_PAGES / INIT through `/dev/sgx_enclave`.

use super::ioctl::{
    SgxEnclaveAddPages, SgxEnclaveCreate, SgxEnclaveInit, SgxEnclaveProvision,
    SGX_IOC_ENCLAVE_ADD_PAGES, SGX_IOC_ENCLAVE_CREATE, SGX_IOC_ENCLAVE_INIT,
    SGX_IOC_ENCLAVE_PROVISION, SGX_PAGE_MEASURE,
};
use super::platform::{Platform, DEV_SGX_ENCLAVE, DEV_SGX_PROVISION};
use super::{HwError, KssNeed};
use crate::backend::{Backend, Enclave, EnclaveBuilder, EnclaveParams, PageSpec};
use crate::error::{KeyError, Leaf, SgxError};
use crate::loader::LoadError;
use kss_types::{AttributeFlags, KeyRequest, Report, Secinfo, Secs, Sigstruct, TargetInfo};
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use zeroize::Zeroizing;

/// The hardware backend: the in-kernel driver on a CPU with SGX and flexible launch control.
#[derive(Debug, Clone)]
pub struct HwBackend {
    platform: Platform,
}

impl HwBackend {
    /// Detects the platform; fails with [`HwError::Unavailable`] (naming every problem) if
    /// enclaves cannot be created here.
    pub fn new() -> Result<Self, HwError> {
        let platform = Platform::detect();
        let problems = platform.hardware_mode_problems();
        if problems.is_empty() {
            Ok(Self { platform })
        } else {
            Err(HwError::Unavailable { problems })
        }
    }

    /// A backend for an already probed platform (no checks until [`Backend::create`]).
    pub fn with_platform(platform: Platform) -> Self {
        Self { platform }
    }

    /// The platform this backend runs on.
    pub fn platform(&self) -> &Platform {
        &self.platform
    }

    /// The checks made before touching the driver: hardware mode available, KSS present if the
    /// enclave needs it, every requested ATTRIBUTES flag allowed by the CPU.
    pub fn preflight(&self, params: &EnclaveParams) -> Result<(), HwError> {
        let problems = self.platform.hardware_mode_problems();
        if !problems.is_empty() {
            return Err(HwError::Unavailable { problems });
        }
        let flags = params.attributes.flags;
        if !self.platform.kss() {
            if flags.contains(AttributeFlags::KSS) {
                return Err(HwError::KssUnsupported {
                    why: KssNeed::Attribute,
                });
            }
            if !params.kss.is_zero() {
                return Err(HwError::KssUnsupported {
                    why: KssNeed::LaunchConfig {
                        config_svn: params.kss.config_svn,
                        config_id_zero: params.kss.config_id.is_zero(),
                    },
                });
            }
        }
        if let Some(cpu) = &self.platform.cpu {
            let allowed = cpu.attributes_flags | AttributeFlags::INIT.0;
            let missing = flags.0 & !allowed;
            if missing != 0 {
                return Err(HwError::AttributesUnsupported {
                    requested: flags.0,
                    allowed: cpu.attributes_flags,
                    missing,
                });
            }
        }
        Ok(())
    }
}

/// A range of address space reserved (PROT_NONE) for the enclave, naturally aligned to its size.
#[derive(Debug)]
struct Reservation {
    base: usize,
    len: usize,
}

impl Reservation {
    fn new(size: u64) -> Result<Self, HwError> {
        let err = |source| HwError::Reserve { size, source };
        let len = usize::try_from(size)
            .ok()
            .filter(|l| l.checked_mul(2).is_some())
            .ok_or_else(|| err(io::Error::from(io::ErrorKind::InvalidInput)))?;
        // SAFETY: an anonymous, inaccessible, non-reserving mapping at an address the kernel
        // chooses; nothing is read or written through it.
        let start = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len * 2,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if start == libc::MAP_FAILED {
            return Err(err(io::Error::last_os_error()));
        }
        let start = start as usize;
        let base = (start + len - 1) & !(len - 1);
        // SAFETY: both ranges lie inside the mapping created above and are not used by anyone.
        unsafe {
            if base > start {
                libc::munmap(start as *mut libc::c_void, base - start);
            }
            let end = start + 2 * len;
            if end > base + len {
                libc::munmap((base + len) as *mut libc::c_void, end - (base + len));
            }
        }
        Ok(Self { base, len })
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the range this value owns.
        unsafe {
            libc::munmap(self.base as *mut libc::c_void, self.len);
        }
    }
}

/// One page of source data, 4 KiB-aligned as ADD_PAGES requires.
#[repr(C, align(4096))]
struct AlignedPage([u8; 4096]);

/// A SECINFO, 64-byte aligned like the architectural structure.
#[repr(C, align(64))]
struct AlignedSecinfo([u8; 64]);

/// Issues `request` with `arg`, retrying on EINTR.
fn ioctl<T>(file: &File, request: u32, arg: &mut T) -> io::Result<()> {
    loop {
        // SAFETY: `arg` is a live #[repr(C)] struct whose size is the one encoded in `request`
        // (pinned by the ioctl tests); every address inside it points to memory that outlives
        // the call. The kernel reads (and for ADD_PAGES writes `count` in) only that struct.
        let rc = unsafe { libc::ioctl(file.as_raw_fd(), request as _, arg as *mut T) };
        if rc != -1 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// An enclave between SGX_IOC_ENCLAVE_CREATE and SGX_IOC_ENCLAVE_INIT.
#[derive(Debug)]
pub struct HwBuilder {
    file: File,
    reservation: Reservation,
    secs: Secs,
}

impl Backend for HwBackend {
    type Builder = HwBuilder;

    fn name(&self) -> &'static str {
        "hw"
    }

    fn create(&self, params: &EnclaveParams) -> Result<HwBuilder, LoadError> {
        self.preflight(params)?;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(DEV_SGX_ENCLAVE)
            .map_err(|source| HwError::Open {
                path: DEV_SGX_ENCLAVE,
                source,
            })?;
        let reservation = Reservation::new(params.size)?;
        let secs = params.secs(reservation.base as u64);
        let secs_bytes = Box::new(AlignedPage(secs.to_bytes()));
        let mut arg = SgxEnclaveCreate {
            src: secs_bytes.0.as_ptr() as u64,
        };
        ioctl(&file, SGX_IOC_ENCLAVE_CREATE, &mut arg).map_err(|source| {
            let hint = match source.raw_os_error() {
                Some(libc::EINVAL) => Some("the kernel rejected SIZE or BASEADDR"),
                Some(libc::EIO) => Some(
                    "ECREATE faulted: ATTRIBUTES, XFRM, MISCSELECT, SSAFRAMESIZE or the KSS \
                     fields are not accepted by this CPU",
                ),
                Some(libc::ENOMEM) => Some("out of EPC or memory"),
                _ => None,
            };
            HwError::Ioctl {
                ioctl: "SGX_IOC_ENCLAVE_CREATE",
                source,
                hint,
            }
        })?;
        Ok(HwBuilder {
            file,
            reservation,
            secs,
        })
    }
}

impl EnclaveBuilder for HwBuilder {
    type Enclave = HwEnclave;

    fn add_page(&mut self, page: &PageSpec<'_>) -> Result<(), LoadError> {
        let flags = match page.measured_chunks {
            0 => 0,
            0xFFFF => SGX_PAGE_MEASURE,
            chunks => {
                return Err(HwError::PartialMeasurement {
                    offset: page.offset,
                    chunks,
                }
                .into())
            }
        };
        let src = Box::new(AlignedPage(page.data.copied().unwrap_or([0; 4096])));
        let secinfo = Box::new(AlignedSecinfo(Secinfo::new(page.secinfo).to_bytes()));
        let mut done = 0u64;
        while done < 4096 {
            let mut arg = SgxEnclaveAddPages {
                src: src.0.as_ptr() as u64 + done,
                offset: page.offset + done,
                length: 4096 - done,
                secinfo: secinfo.0.as_ptr() as u64,
                flags,
                count: 0,
            };
            let result = ioctl(&self.file, SGX_IOC_ENCLAVE_ADD_PAGES, &mut arg);
            done += arg.count;
            if let Err(source) = result {
                if source.kind() == io::ErrorKind::WouldBlock && arg.count > 0 {
                    continue;
                }
                let hint = match source.raw_os_error() {
                    Some(libc::EACCES) => {
                        Some("the source memory is not executable-mappable (noexec mount?)")
                    }
                    Some(libc::EINVAL) => Some("offset or SECINFO rejected by the driver"),
                    Some(libc::EIO) => Some("EADD or EEXTEND faulted"),
                    _ => None,
                };
                return Err(HwError::Ioctl {
                    ioctl: "SGX_IOC_ENCLAVE_ADD_PAGES",
                    source,
                    hint,
                }
                .into());
            }
        }
        Ok(())
    }

    fn init(self, sig: &Sigstruct) -> Result<HwEnclave, LoadError> {
        if self
            .secs
            .attributes
            .flags
            .contains(AttributeFlags::PROVISION_KEY)
        {
            let provision = File::open(DEV_SGX_PROVISION).map_err(|source| HwError::Open {
                path: DEV_SGX_PROVISION,
                source,
            })?;
            let mut arg = SgxEnclaveProvision {
                fd: provision.as_raw_fd() as u64,
            };
            ioctl(&self.file, SGX_IOC_ENCLAVE_PROVISION, &mut arg).map_err(|source| {
                HwError::Ioctl {
                    ioctl: "SGX_IOC_ENCLAVE_PROVISION",
                    source,
                    hint: None,
                }
            })?;
        }
        let sig_bytes = Box::new(sig.to_bytes());
        let mut arg = SgxEnclaveInit {
            sigstruct: sig_bytes.as_ptr() as u64,
        };
        ioctl(&self.file, SGX_IOC_ENCLAVE_INIT, &mut arg).map_err(|source| {
            let hint = match source.raw_os_error() {
                Some(libc::EPERM) => Some(
                    "EINIT returned an error code: the signature, ENCLAVEHASH or ATTRIBUTES do \
                     not match (run the same enclave in simulation mode to see which)",
                ),
                Some(libc::EACCES) => {
                    Some("ATTRIBUTES outside what the driver allows this enclave")
                }
                Some(libc::EINVAL) => {
                    Some("the driver rejected the SIGSTRUCT (VENDOR or reserved ATTRIBUTES bits)")
                }
                _ => None,
            };
            HwError::Ioctl {
                ioctl: "SGX_IOC_ENCLAVE_INIT",
                source,
                hint,
            }
        })?;
        let mut secs = self.secs;
        secs.mr_enclave = sig.enclave_hash;
        secs.mr_signer = crate::sim::mr_signer(sig);
        secs.isv_prod_id = sig.isv_prod_id;
        secs.isv_svn = sig.isv_svn;
        secs.isv_family_id = sig.isv_family_id;
        secs.isv_ext_prod_id = sig.isv_ext_prod_id;
        secs.attributes.flags = secs.attributes.flags.with(AttributeFlags::INIT);
        Ok(HwEnclave {
            _file: self.file,
            _reservation: self.reservation,
            secs,
        })
    }
}

/// An enclave initialized by the driver. Its identity is what EINIT accepted (EINIT only
/// succeeds when MRENCLAVE equals ENCLAVEHASH). Dropping it closes the enclave file, which
/// destroys the enclave, and releases the address range.
#[derive(Debug)]
pub struct HwEnclave {
    _file: File,
    _reservation: Reservation,
    secs: Secs,
}

impl HwEnclave {
    /// BASEADDR of the enclave.
    pub fn base_addr(&self) -> u64 {
        self.secs.base_addr
    }
}

const NEEDS_RUNTIME: &str = "ENCLU instructions execute inside the enclave, which needs an \
    enclave runtime (EENTER through the vDSO); kss's hardware backend only creates, loads and \
    initializes enclaves. Use simulation mode for reports and keys";

impl Enclave for HwEnclave {
    fn backend_name(&self) -> &'static str {
        "hw"
    }

    fn secs(&self) -> &Secs {
        &self.secs
    }

    fn report(&self, _target: &TargetInfo, _report_data: &[u8; 64]) -> Result<Report, SgxError> {
        Err(SgxError::Unsupported {
            leaf: Leaf::Ereport,
            reason: NEEDS_RUNTIME.into(),
        })
    }

    fn verify_report(&self, _report: &Report) -> Result<(), SgxError> {
        Err(SgxError::Unsupported {
            leaf: Leaf::Egetkey,
            reason: NEEDS_RUNTIME.into(),
        })
    }

    fn get_key(&self, _request: &KeyRequest) -> Result<Zeroizing<[u8; 16]>, KeyError> {
        Err(SgxError::Unsupported {
            leaf: Leaf::Egetkey,
            reason: NEEDS_RUNTIME.into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservation_is_naturally_aligned() {
        for size in [0x2000u64, 1 << 20, 1 << 30] {
            let r = Reservation::new(size).unwrap();
            assert_eq!(r.base as u64 % size, 0, "size {size:#x}");
            assert_eq!(r.len as u64, size);
        }
    }

    #[test]
    fn aligned_buffers_are_aligned() {
        let p = Box::new(AlignedPage([0; 4096]));
        assert_eq!(p.0.as_ptr() as usize % 4096, 0);
        let s = Box::new(AlignedSecinfo([0; 64]));
        assert_eq!(s.0.as_ptr() as usize % 64, 0);
    }
}
