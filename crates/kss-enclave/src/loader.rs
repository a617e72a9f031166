//! Loading an SGXS stream into any [`Backend`]: ECREATE from the stream's ECREATE record and the
//! SIGSTRUCT, one EADD (+ EEXTENDs) per page, EINIT.

use crate::backend::{Backend, EnclaveBuilder, EnclaveParams, PageSpec};
use crate::error::SgxError;
use crate::hw::HwError;
use kss_sgxs::{Record, SgxsError, SgxsReader};
use kss_types::{KssConfig, SecinfoFlags, Sigstruct};
use std::io::Read;

/// Why an enclave could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The SGXS stream is unreadable or not canonical.
    #[error("SGXS stream: {0}")]
    Sgxs(#[from] SgxsError),
    /// The SGXS stream is valid but cannot be loaded as given.
    #[error("SGXS stream: record {index}: {problem}")]
    Unloadable {
        /// 0-based record index.
        index: u64,
        /// What cannot be done and why.
        problem: Unloadable,
    },
    /// A (simulated or real) SGX instruction failed.
    #[error(transparent)]
    Sgx(#[from] SgxError),
    /// The hardware backend failed (device, ioctl, mmap, CPU support).
    #[error(transparent)]
    Hw(#[from] HwError),
}

/// Why a valid SGXS stream cannot be loaded as given ([`LoadError::Unloadable`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Unloadable {
    /// An UNSIZED record: the enclave size is still to be patched in.
    #[error("UNSIZED record: the enclave size is not final")]
    Unsized,
    /// A page before any ECREATE.
    #[error("no ECREATE record before the first page")]
    NoEcreate,
    /// An EEXTEND or UNMEASRD record before any EADD.
    #[error("chunk record before any EADD")]
    ChunkBeforeEadd,
    /// A chunk record outside the page of the preceding EADD.
    #[error("chunk at {offset:#x} is not a 256-byte chunk of the page added at {page:#x}")]
    ChunkOutsidePage {
        /// The chunk's offset.
        offset: u64,
        /// The page's offset.
        page: u64,
    },
    /// An EEXTEND after a later chunk of its page (the loader measures in ascending order).
    #[error(
        "EEXTEND at {offset:#x} comes after a later chunk of page {page:#x}; \
         chunks must be measured in ascending order"
    )]
    OutOfOrder {
        /// The chunk's offset.
        offset: u64,
        /// The page's offset.
        page: u64,
    },
}

impl LoadError {
    /// The instruction error, if that is what failed.
    pub fn sgx(&self) -> Option<&SgxError> {
        match self {
            LoadError::Sgx(e) => Some(e),
            _ => None,
        }
    }
}

/// The page being assembled from an EADD record and the EEXTEND/UNMEASRD records after it.
struct PendingPage {
    offset: u64,
    secinfo: SecinfoFlags,
    data: Option<Box<[u8; 4096]>>,
    measured_chunks: u16,
}

impl PendingPage {
    fn spec(&self) -> PageSpec<'_> {
        PageSpec {
            offset: self.offset,
            secinfo: self.secinfo,
            data: self.data.as_deref(),
            measured_chunks: self.measured_chunks,
        }
    }

    /// Stores a chunk's data; only non-zero data allocates the page buffer.
    fn put(&mut self, chunk: usize, bytes: &[u8; 256]) {
        if self.data.is_none() && bytes.iter().all(|b| *b == 0) {
            return;
        }
        let page = self.data.get_or_insert_with(|| Box::new([0u8; 4096]));
        if let Some(dst) = page.get_mut(chunk * 256..chunk * 256 + 256) {
            dst.copy_from_slice(bytes);
        }
    }
}

/// Loads the SGXS stream `sgxs` into `backend` and initializes it with `sig`.
///
/// SECS: SIZE and SSAFRAMESIZE from the stream's ECREATE record, ATTRIBUTES and MISCSELECT from
/// `sig` (as the Intel SDK loader does), CONFIGID and CONFIGSVN from `kss`, BASEADDR chosen by
/// the backend. Within a page, EEXTENDs must come in ascending chunk order (what every SGXS
/// writer and the Linux driver produce); anything else is reported as
/// [`LoadError::Unloadable`]. Cost is proportional to the records: EADD-only pages (heap)
/// allocate nothing.
pub fn load_sgxs<B: Backend>(
    backend: &B,
    sgxs: impl Read,
    kss: &KssConfig,
    sig: &Sigstruct,
) -> Result<<B::Builder as EnclaveBuilder>::Enclave, LoadError> {
    load_sgxs_with(backend, sgxs, kss, sig, false)
}

/// Like [`load_sgxs`], with `debug` choosing a debug launch: ATTRIBUTES.DEBUG is set in the SECS
/// the way `sgx_create_enclave(debug = 1)` does. EINIT still compares the attributes under the
/// SIGSTRUCT's ATTRIBUTEMASK, so a production-signed enclave (DEBUG in the mask) refuses it.
pub fn load_sgxs_with<B: Backend>(
    backend: &B,
    sgxs: impl Read,
    kss: &KssConfig,
    sig: &Sigstruct,
    debug: bool,
) -> Result<<B::Builder as EnclaveBuilder>::Enclave, LoadError> {
    let mut reader = SgxsReader::new(sgxs);
    let mut builder = None;
    let mut pending: Option<PendingPage> = None;
    let mut index = 0u64;
    for record in reader.by_ref() {
        let record = record?;
        match record {
            Record::Ecreate {
                ssa_frame_size,
                size,
            } => {
                let mut params = EnclaveParams::from_sigstruct(size, ssa_frame_size, sig, *kss);
                if debug {
                    params.attributes.flags = params
                        .attributes
                        .flags
                        .with(kss_types::AttributeFlags::DEBUG);
                }
                builder = Some(backend.create(&params)?);
            }
            Record::Unsized { .. } => {
                return Err(LoadError::Unloadable {
                    index,
                    problem: Unloadable::Unsized,
                })
            }
            Record::Eadd { offset, flags } => {
                let b = builder.as_mut().ok_or_else(|| no_ecreate(index))?;
                if let Some(p) = pending.take() {
                    b.add_page(&p.spec())?;
                }
                pending = Some(PendingPage {
                    offset,
                    secinfo: flags,
                    data: None,
                    measured_chunks: 0,
                });
            }
            Record::Eextend { offset, data } => {
                let p = chunk_page(&mut pending, index)?;
                let chunk = chunk_index(p, offset, index)?;
                if u32::from(p.measured_chunks) >> chunk != 0 {
                    return Err(LoadError::Unloadable {
                        index,
                        problem: Unloadable::OutOfOrder {
                            offset,
                            page: p.offset,
                        },
                    });
                }
                p.measured_chunks |= 1 << chunk;
                p.put(chunk, &data);
            }
            Record::Unmeasured { offset, data } => {
                let p = chunk_page(&mut pending, index)?;
                let chunk = chunk_index(p, offset, index)?;
                p.put(chunk, &data);
            }
        }
        index += 1;
    }
    let mut b = builder.ok_or_else(|| no_ecreate(index))?;
    if let Some(p) = pending.take() {
        b.add_page(&p.spec())?;
    }
    b.init(sig)
}

fn chunk_page(
    pending: &mut Option<PendingPage>,
    index: u64,
) -> Result<&mut PendingPage, LoadError> {
    pending.as_mut().ok_or(LoadError::Unloadable {
        index,
        problem: Unloadable::ChunkBeforeEadd,
    })
}

fn chunk_index(page: &PendingPage, offset: u64, index: u64) -> Result<usize, LoadError> {
    match offset.checked_sub(page.offset) {
        Some(delta) if delta < 4096 && delta & 0xFF == 0 => Ok((delta / 256) as usize),
        _ => Err(LoadError::Unloadable {
            index,
            problem: Unloadable::ChunkOutsidePage {
                offset,
                page: page.offset,
            },
        }),
    }
}

fn no_ecreate(index: u64) -> LoadError {
    LoadError::Unloadable {
        index,
        problem: Unloadable::NoEcreate,
    }
}

/// Which backend runs an enclave: the one place where kss chooses between the simulator and
/// the hardware driver at run time.
#[derive(Debug, Clone)]
pub enum BackendKind {
    /// The simulator on this CPU model.
    Sim(crate::sim::SimCpu),
    /// The Linux in-kernel driver (fails with [`HwError::Unavailable`] where it cannot work).
    Hw,
}

impl BackendKind {
    /// Opens the chosen backend. The simulator always opens; the hardware backend detects the
    /// platform first and fails with [`HwError::Unavailable`] naming every problem.
    pub fn open(&self) -> Result<ChosenBackend, HwError> {
        Ok(match self {
            BackendKind::Sim(cpu) => ChosenBackend::Sim(crate::sim::SimBackend::new(cpu.clone())),
            BackendKind::Hw => ChosenBackend::Hw(crate::hw::HwBackend::new()?),
        })
    }
}

/// An opened backend of either kind, from [`BackendKind::open`].
#[derive(Debug)]
pub enum ChosenBackend {
    /// The simulator.
    Sim(crate::sim::SimBackend),
    /// The Linux in-kernel driver.
    Hw(crate::hw::HwBackend),
}

impl ChosenBackend {
    /// Loads `sgxs` with [`load_sgxs_with`] and returns the enclave behind the [`crate::Enclave`]
    /// trait, ready to be shared by a multi-threaded service.
    pub fn load(
        &self,
        sgxs: impl Read,
        kss: &KssConfig,
        sig: &Sigstruct,
        debug: bool,
    ) -> Result<Box<dyn crate::Enclave>, LoadError> {
        Ok(match self {
            ChosenBackend::Sim(b) => Box::new(load_sgxs_with(b, sgxs, kss, sig, debug)?),
            ChosenBackend::Hw(b) => Box::new(load_sgxs_with(b, sgxs, kss, sig, debug)?),
        })
    }
}
