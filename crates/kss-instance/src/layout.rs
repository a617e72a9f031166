//! The enclave memory layout of an instance and its canonical SGXS stream.
//!
//! From low to high addresses (offsets from the enclave base):
//!
//! | region | pages | SECINFO | measured |
//! |---|---|---|---|
//! | `runtime` | 1 | R+X | yes: a fixed marker page standing for the enclave runtime |
//! | `binding` | 1 + Occlum.json | R | yes: what binds the app (see [`Binding`]) |
//! | per thread: guard | 1 | — | not added |
//! | per thread: `stack` | stack / 4 KiB | R+W | yes (zero) |
//! | per thread: `tcs` | 1 | TCS | yes |
//! | per thread: `ssa` | NSSA × SSAFRAMESIZE | R+W | yes (zero) |
//! | `heap` | kernel heap / 4 KiB | R+W | no (EADD only) |
//! | `user_space` | user space / 4 KiB | R+W | no (EADD only) |
//!
//! SIZE is the next power of two at or above the end. Unmeasured pages cost one 64-byte EADD
//! record each, so a multi-GiB heap stays cheap.

use crate::config::{InstanceConfig, ResourceLimits};
use crate::error::{InstanceError, LayoutProblem};
use kss_sgxs::SgxsWriter;
use kss_types::SecinfoFlags;
use std::io::Write;

/// The largest enclave SIZE kss builds: 64 GiB. Unmeasured pages still cost a 64-byte EADD
/// record each in the SGXS stream, so this bounds `build/enclave.sgxs` to 1 GiB. (SGX itself
/// allows any power of two that fits the 64-bit address space the CPU implements.)
pub const MAX_ENCLAVE_SIZE: u64 = 64 << 30;

/// The largest value of one size field of `resource_limits` (`kernel_space_stack_size`,
/// `kernel_space_heap_size`, `user_space_size`): 32 GiB.
pub const MAX_SIZE_FIELD: u64 = 32 << 30;

/// Page size.
pub const PAGE: u64 = kss_sgxs::PAGE_SIZE;
/// SSA frames per thread (the Intel SDK uses 2).
pub const NSSA: u32 = 2;
/// SSA frame size in pages: enough for the legacy XSAVE area (XFRM 0x3) and the GPRs.
pub const SSA_FRAME_SIZE: u32 = 1;
/// Magic at the start of the binding page.
pub const BINDING_MAGIC: &[u8; 16] = b"KSS-BINDING-V1\0\0";
/// Magic at the start of the runtime page.
pub const RUNTIME_MAGIC: &[u8; 32] = b"KSS-SIMULATED-ENCLAVE-RUNTIME-V1";

/// What the measured binding region says about the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Binding {
    /// MRENCLAVE mode: the exact Occlum.json bytes and the image digest are measured.
    Measured {
        /// Occlum.json as stored.
        occlum_json: Vec<u8>,
        /// `kss-image-v1` digest of `image/`.
        image_digest: [u8; 32],
    },
    /// CONFIGID mode: only the app-independent enclave parameters are measured; the app is
    /// bound at launch through CONFIGID.
    ConfigId {
        /// Canonical encoding of the enclave parameters (limits, IDs, SVNs).
        parameters: Vec<u8>,
    },
}

impl Binding {
    /// The bytes of the binding region (before page padding).
    pub fn region_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(BINDING_MAGIC);
        match self {
            Binding::Measured {
                occlum_json,
                image_digest,
            } => {
                out.extend_from_slice(&1u32.to_le_bytes());
                out.extend_from_slice(&(occlum_json.len() as u64).to_le_bytes());
                out.extend_from_slice(image_digest);
                out.extend_from_slice(occlum_json);
            }
            Binding::ConfigId { parameters } => {
                out.extend_from_slice(&2u32.to_le_bytes());
                out.extend_from_slice(&(parameters.len() as u64).to_le_bytes());
                out.extend_from_slice(&[0u8; 32]);
                out.extend_from_slice(parameters);
            }
        }
        out
    }
}

/// What a region's pages contain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// Measured pages of these bytes (zero-padded to whole pages).
    Bytes(Vec<u8>),
    /// Measured zero pages.
    Zero,
    /// A measured TCS page.
    Tcs {
        /// Offset of the thread's first SSA frame.
        ossa: u64,
        /// Entry point offset.
        oentry: u64,
    },
    /// Pages added (EADD) but not measured; contents are zero at launch.
    Unmeasured,
}

/// A run of pages with one SECINFO and content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    /// Name, for reports (`runtime`, `binding`, `stack`, `tcs`, `ssa`, `heap`, `user_space`).
    pub name: &'static str,
    /// Offset from the enclave base.
    pub offset: u64,
    /// Number of pages.
    pub pages: u64,
    /// SECINFO flags of every page.
    pub flags: SecinfoFlags,
    /// What the pages hold.
    pub content: Content,
}

/// The full layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnclaveLayout {
    /// SECS.SIZE.
    pub size: u64,
    /// SECS.SSAFRAMESIZE.
    pub ssa_frame_size: u32,
    /// Regions in increasing offset order.
    pub regions: Vec<Region>,
}

impl EnclaveLayout {
    /// Lays out an instance with the given limits and binding.
    pub fn new(limits: &ResourceLimits, binding: &Binding) -> Result<Self, InstanceError> {
        let mut regions = Vec::new();
        let mut at = 0u64;
        let push = |regions: &mut Vec<Region>, at: &mut u64, name, pages: u64, flags, content| {
            regions.push(Region {
                name,
                offset: *at,
                pages,
                flags,
                content,
            });
            *at += pages * PAGE;
        };
        push(
            &mut regions,
            &mut at,
            "runtime",
            1,
            SecinfoFlags::REG_RX,
            Content::Bytes(runtime_page()),
        );
        let b = binding.region_bytes();
        let bpages = (b.len() as u64).div_ceil(PAGE);
        push(
            &mut regions,
            &mut at,
            "binding",
            bpages,
            SecinfoFlags::REG_R,
            Content::Bytes(b),
        );
        let stack_pages = limits.kernel_space_stack_size / PAGE;
        let ssa_pages = u64::from(NSSA * SSA_FRAME_SIZE);
        for _ in 0..limits.max_num_of_threads {
            at += PAGE; // guard page, never added
            push(
                &mut regions,
                &mut at,
                "stack",
                stack_pages,
                SecinfoFlags::REG_RW,
                Content::Zero,
            );
            let ossa = at + PAGE;
            push(
                &mut regions,
                &mut at,
                "tcs",
                1,
                SecinfoFlags::TCS,
                Content::Tcs { ossa, oentry: 0 },
            );
            push(
                &mut regions,
                &mut at,
                "ssa",
                ssa_pages,
                SecinfoFlags::REG_RW,
                Content::Zero,
            );
        }
        at += PAGE; // guard below the heap
        let heap_pages = limits.kernel_space_heap_size / PAGE;
        push(
            &mut regions,
            &mut at,
            "heap",
            heap_pages,
            SecinfoFlags::REG_RW,
            Content::Unmeasured,
        );
        let user_pages = limits.user_space_size / PAGE;
        if user_pages > 0 {
            push(
                &mut regions,
                &mut at,
                "user_space",
                user_pages,
                SecinfoFlags::REG_RW,
                Content::Unmeasured,
            );
        }
        let size = at
            .max(2 * PAGE)
            .checked_next_power_of_two()
            .ok_or(InstanceError::Layout(LayoutProblem::SizeOverflow {
                bytes: at,
            }))?;
        if size > MAX_ENCLAVE_SIZE {
            return Err(InstanceError::Layout(LayoutProblem::TooLarge { size }));
        }
        Ok(Self {
            size,
            ssa_frame_size: SSA_FRAME_SIZE,
            regions,
        })
    }

    /// Lays out an instance from its config.
    pub fn for_config(config: &InstanceConfig, binding: &Binding) -> Result<Self, InstanceError> {
        Self::new(&config.resource_limits, binding)
    }

    /// Total pages added.
    pub fn pages(&self) -> u64 {
        self.regions.iter().map(|r| r.pages).sum()
    }

    /// Pages measured with EEXTEND.
    pub fn measured_pages(&self) -> u64 {
        self.regions
            .iter()
            .filter(|r| r.content != Content::Unmeasured)
            .map(|r| r.pages)
            .sum()
    }

    /// Exact size of the SGXS stream: 64 bytes per ECREATE/EADD, 320 per EEXTEND.
    pub fn sgxs_len(&self) -> u64 {
        64 + self.pages() * 64 + self.measured_pages() * 16 * 320
    }

    /// Writes the canonical SGXS stream and returns the writer and MRENCLAVE. `progress` is
    /// called with (bytes written, total bytes) every few thousand pages.
    pub fn write_sgxs<W: Write>(
        &self,
        out: W,
        mut progress: impl FnMut(u64, u64),
    ) -> Result<(W, [u8; 32]), InstanceError> {
        let total = self.sgxs_len();
        let err = |e: kss_sgxs::SgxsError| match e {
            kss_sgxs::SgxsError::Io { source, .. } => InstanceError::SgxsWrite(source),
            e => InstanceError::Sgxs(e),
        };
        // `new` rejects an invalid ECREATE with the SgxsError inside the io::Error (a layout bug,
        // not an output failure).
        let mut w = SgxsWriter::new(out, self.ssa_frame_size, self.size).map_err(|e| {
            match e.downcast::<kss_sgxs::SgxsError>() {
                Ok(invalid) => InstanceError::Sgxs(invalid),
                Err(e) => InstanceError::SgxsWrite(e),
            }
        })?;
        let zero = [0u8; 4096];
        let mut page = [0u8; 4096];
        let mut n = 0u64;
        for r in &self.regions {
            for i in 0..r.pages {
                let offset = r.offset + i * PAGE;
                let data: Option<&[u8; 4096]> = match &r.content {
                    Content::Unmeasured => None,
                    Content::Zero => Some(&zero),
                    Content::Bytes(b) => {
                        page.fill(0);
                        let start = (i * PAGE) as usize;
                        let end = (start + PAGE as usize).min(b.len());
                        if start < end {
                            page[..end - start].copy_from_slice(&b[start..end]);
                        }
                        Some(&page)
                    }
                    Content::Tcs { ossa, oentry } => {
                        page = tcs_page(*ossa, *oentry);
                        Some(&page)
                    }
                };
                w.add_page(offset, r.flags, data).map_err(err)?;
                n += 1;
                if n.is_multiple_of(4096) {
                    progress(w.bytes_written(), total);
                }
            }
        }
        let (out, mr) = w.finish().map_err(err)?;
        progress(total, total);
        Ok((out, mr))
    }

    /// MRENCLAVE without writing the stream anywhere.
    pub fn measure(&self) -> Result<[u8; 32], InstanceError> {
        Ok(self.write_sgxs(std::io::sink(), |_, _| {})?.1)
    }
}

fn runtime_page() -> Vec<u8> {
    let mut p = RUNTIME_MAGIC.to_vec();
    p.extend_from_slice(
        b"\0This page stands for the enclave runtime. In simulation the workload runs as a host \
process served by the kss enclave service; on hardware an enclave runtime would be loaded here.\0",
    );
    p
}

/// A TCS page: OSSA at +16, NSSA at +28, OENTRY at +32, FSLIMIT/GSLIMIT at +64/+68.
pub fn tcs_page(ossa: u64, oentry: u64) -> [u8; 4096] {
    let mut p = [0u8; 4096];
    p[16..24].copy_from_slice(&ossa.to_le_bytes());
    p[28..32].copy_from_slice(&NSSA.to_le_bytes());
    p[32..40].copy_from_slice(&oentry.to_le_bytes());
    p[64..68].copy_from_slice(&0xFFFu32.to_le_bytes());
    p[68..72].copy_from_slice(&0xFFFu32.to_le_bytes());
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding() -> Binding {
        Binding::Measured {
            occlum_json: b"{}".to_vec(),
            image_digest: [9; 32],
        }
    }

    #[test]
    fn default_layout_shape() {
        let l = EnclaveLayout::new(&ResourceLimits::default(), &binding()).unwrap();
        assert!(l.size.is_power_of_two());
        let end = l.regions.last().map(|r| r.offset + r.pages * PAGE).unwrap();
        assert!(end <= l.size && end > l.size / 2);
        assert_eq!(l.regions.iter().filter(|r| r.name == "tcs").count(), 8);
        // Offsets strictly increase and never overlap.
        for w in l.regions.windows(2) {
            assert!(w[0].offset + w[0].pages * PAGE <= w[1].offset);
        }
        // Each TCS points at the SSA region that follows it.
        for (i, r) in l.regions.iter().enumerate() {
            if let Content::Tcs { ossa, .. } = r.content {
                assert_eq!(l.regions[i + 1].name, "ssa");
                assert_eq!(l.regions[i + 1].offset, ossa);
            }
        }
    }

    #[test]
    fn stream_length_and_measurement_agree() {
        let limits = ResourceLimits {
            max_num_of_threads: 2,
            kernel_space_stack_size: 8192,
            kernel_space_heap_size: 16384,
            user_space_size: 0,
        };
        let l = EnclaveLayout::new(&limits, &binding()).unwrap();
        let (bytes, mr) = l.write_sgxs(Vec::new(), |_, _| {}).unwrap();
        assert_eq!(bytes.len() as u64, l.sgxs_len());
        use sha2::Digest;
        assert_eq!(
            <[u8; 32]>::from(sha2::Sha256::digest(&bytes)),
            mr,
            "SHA-256(SGXS) = MRENCLAVE"
        );
        assert_eq!(l.measure().unwrap(), mr);
    }

    /// A full disk while writing is an I/O error (an environment problem), not an SGXS error
    /// about the input, wherever in the stream it happens: the first buffered flush, a later
    /// one, or the final one.
    #[test]
    fn output_failure_is_an_io_error() {
        const ENOSPC: i32 = 28;
        struct FullDisk(usize);
        impl std::io::Write for FullDisk {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                if self.0 < buf.len() {
                    return Err(std::io::Error::from_raw_os_error(ENOSPC));
                }
                self.0 -= buf.len();
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let limits = ResourceLimits {
            // Measured stacks: 3 x 256 pages, about 4 MB of stream.
            max_num_of_threads: 3,
            kernel_space_stack_size: 1 << 20,
            kernel_space_heap_size: 16384,
            user_space_size: 0,
        };
        let l = EnclaveLayout::new(&limits, &binding()).unwrap();
        let len = usize::try_from(l.sgxs_len()).unwrap();
        assert!(len > 3 << 20, "several buffered flushes: {len}");
        for room in [0, (1 << 20) + 1, (2 << 20) + 1, len - 1] {
            match l.write_sgxs(FullDisk(room), |_, _| {}) {
                Err(InstanceError::SgxsWrite(e)) => assert_eq!(e.raw_os_error(), Some(ENOSPC)),
                Err(e) => panic!("room {room}: expected SgxsWrite, got {e:?}"),
                Ok(_) => panic!("room {room}: the write cannot succeed"),
            }
        }
        assert!(
            l.write_sgxs(FullDisk(len), |_, _| {}).is_ok(),
            "exactly enough room"
        );
    }

    #[test]
    fn binding_changes_measurement() {
        let limits = ResourceLimits {
            max_num_of_threads: 1,
            ..ResourceLimits::default()
        };
        let a = EnclaveLayout::new(&limits, &binding())
            .unwrap()
            .measure()
            .unwrap();
        let other = Binding::Measured {
            occlum_json: b"{ }".to_vec(),
            image_digest: [9; 32],
        };
        let b = EnclaveLayout::new(&limits, &other)
            .unwrap()
            .measure()
            .unwrap();
        let third = Binding::Measured {
            occlum_json: b"{}".to_vec(),
            image_digest: [8; 32],
        };
        let c = EnclaveLayout::new(&limits, &third)
            .unwrap()
            .measure()
            .unwrap();
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_ne!(b, c);
    }

    #[test]
    fn huge_heap_is_records_only() {
        let limits = ResourceLimits {
            user_space_size: 4 << 30,
            ..ResourceLimits::default()
        };
        let l = EnclaveLayout::new(&limits, &binding()).unwrap();
        assert_eq!(l.size, 8 << 30);
        // 1M unmeasured pages at 64 bytes each, plus the measured part.
        assert!(l.sgxs_len() < 80 << 20, "{}", l.sgxs_len());
    }
}
