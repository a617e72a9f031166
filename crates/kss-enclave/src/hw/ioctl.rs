//! The Linux SGX driver uAPI (`arch/x86/include/uapi/asm/sgx.h`): ioctl numbers computed with the
//! kernel's `_IOW`/`_IOWR` encoding, and the `#[repr(C)]` argument structs.

/// ioctl magic of the SGX driver.
pub const SGX_MAGIC: u32 = 0xA4;

const IOC_NRBITS: u32 = 8;
const IOC_TYPEBITS: u32 = 8;
const IOC_SIZEBITS: u32 = 14;
const IOC_NRSHIFT: u32 = 0;
const IOC_TYPESHIFT: u32 = IOC_NRSHIFT + IOC_NRBITS;
const IOC_SIZESHIFT: u32 = IOC_TYPESHIFT + IOC_TYPEBITS;
const IOC_DIRSHIFT: u32 = IOC_SIZESHIFT + IOC_SIZEBITS;
const IOC_WRITE: u32 = 1;
const IOC_READ: u32 = 2;

/// The kernel's `_IOC(dir, type, nr, size)`.
pub const fn ioc(dir: u32, ty: u32, nr: u32, size: usize) -> u32 {
    (dir << IOC_DIRSHIFT) | ((size as u32) << IOC_SIZESHIFT) | (ty << IOC_TYPESHIFT) | nr
}

/// `_IOW(type, nr, size)`: userspace writes the argument.
pub const fn iow(ty: u32, nr: u32, size: usize) -> u32 {
    ioc(IOC_WRITE, ty, nr, size)
}

/// `_IOWR(type, nr, size)`: the argument is read and written.
pub const fn iowr(ty: u32, nr: u32, size: usize) -> u32 {
    ioc(IOC_READ | IOC_WRITE, ty, nr, size)
}

/// `struct sgx_enclave_create`: the address of a 4096-byte SECS.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct SgxEnclaveCreate {
    /// Userspace address of the SECS.
    pub src: u64,
}

/// `struct sgx_enclave_add_pages` (48 bytes).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct SgxEnclaveAddPages {
    /// Userspace address of the page data (4 KiB-aligned).
    pub src: u64,
    /// Offset of the first page from the enclave base.
    pub offset: u64,
    /// Bytes to add: a nonzero multiple of 4096.
    pub length: u64,
    /// Userspace address of a 64-byte SECINFO.
    pub secinfo: u64,
    /// [`SGX_PAGE_MEASURE`] to EEXTEND every chunk.
    pub flags: u64,
    /// Output: bytes processed.
    pub count: u64,
}

/// `struct sgx_enclave_init`: the address of a 1808-byte SIGSTRUCT.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct SgxEnclaveInit {
    /// Userspace address of the SIGSTRUCT.
    pub sigstruct: u64,
}

/// `struct sgx_enclave_provision`: a file descriptor of `/dev/sgx_provision`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct SgxEnclaveProvision {
    /// The file descriptor.
    pub fd: u64,
}

/// ADD_PAGES flag: EEXTEND all 16 chunks of each page.
pub const SGX_PAGE_MEASURE: u64 = 0x01;

/// `SGX_IOC_ENCLAVE_CREATE` = `_IOW(0xA4, 0, struct sgx_enclave_create)`.
pub const SGX_IOC_ENCLAVE_CREATE: u32 = iow(SGX_MAGIC, 0, core::mem::size_of::<SgxEnclaveCreate>());
/// `SGX_IOC_ENCLAVE_ADD_PAGES` = `_IOWR(0xA4, 1, struct sgx_enclave_add_pages)`.
pub const SGX_IOC_ENCLAVE_ADD_PAGES: u32 =
    iowr(SGX_MAGIC, 1, core::mem::size_of::<SgxEnclaveAddPages>());
/// `SGX_IOC_ENCLAVE_INIT` = `_IOW(0xA4, 2, struct sgx_enclave_init)`.
pub const SGX_IOC_ENCLAVE_INIT: u32 = iow(SGX_MAGIC, 2, core::mem::size_of::<SgxEnclaveInit>());
/// `SGX_IOC_ENCLAVE_PROVISION` = `_IOW(0xA4, 3, struct sgx_enclave_provision)`.
pub const SGX_IOC_ENCLAVE_PROVISION: u32 =
    iow(SGX_MAGIC, 3, core::mem::size_of::<SgxEnclaveProvision>());

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ioctl_numbers_match_the_kernel_values() {
        assert_eq!(SGX_IOC_ENCLAVE_CREATE, 0x4008_A400);
        assert_eq!(SGX_IOC_ENCLAVE_ADD_PAGES, 0xC030_A401);
        assert_eq!(SGX_IOC_ENCLAVE_INIT, 0x4008_A402);
        assert_eq!(SGX_IOC_ENCLAVE_PROVISION, 0x4008_A403);
        // The other published numbers, from the same encoder.
        assert_eq!(ioc(0, SGX_MAGIC, 4, 0), 0x0000_A404);
        assert_eq!(iowr(SGX_MAGIC, 5, 40), 0xC028_A405);
        assert_eq!(iowr(SGX_MAGIC, 7, 24), 0xC018_A407);
    }

    #[test]
    fn struct_sizes_match_the_uapi() {
        assert_eq!(core::mem::size_of::<SgxEnclaveCreate>(), 8);
        assert_eq!(core::mem::size_of::<SgxEnclaveAddPages>(), 48);
        assert_eq!(core::mem::size_of::<SgxEnclaveInit>(), 8);
        assert_eq!(core::mem::size_of::<SgxEnclaveProvision>(), 8);
        assert_eq!(core::mem::offset_of!(SgxEnclaveAddPages, secinfo), 24);
        assert_eq!(core::mem::offset_of!(SgxEnclaveAddPages, count), 40);
    }
}
