//! `kss new` and `kss build`.
//!
//! `build` writes `build/enclave.sgxs`, `build/enclave.sig`, `build/Enclave.xml` and
//! `build/kss-build.json`. Every output is first written to a temporary file in `build/` and
//! synced, and only when all of them were produced is each renamed into place, so a failure
//! while producing them (bad key, full disk) leaves the previous build untouched and no partial
//! file behind. The renames are separate: each file is replaced atomically, in the order SGXS,
//! SIGSTRUCT, Enclave.xml, and the summary `kss-build.json` is written last.
//!
//! Whether a build still matches its instance ([`check_fresh`], [`check_build`], [`Staleness`])
//! is decided in the freshness module and re-exported here.

pub use crate::freshness::{check_build, check_fresh, MismatchWhy, Staleness, UnreadableCause};

use crate::config::{ConfigBinding, InstanceConfig, Metadata};
use crate::error::InstanceError;
use crate::freshness::{read_summary, same_enclave_parameters};
use crate::image::{self, ImageDigest};
use crate::layout::{Binding, EnclaveLayout};
use crate::summary::{build_summary, key};
use crate::{enclave_xml, paths};
use kss_types::Sigstruct;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// An instance directory.
#[derive(Debug, Clone)]
pub struct Instance {
    /// The directory.
    pub dir: PathBuf,
}

impl Instance {
    /// Opens an existing instance (it must contain Occlum.json).
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, InstanceError> {
        let dir = dir.into();
        if !dir.exists() {
            return Err(InstanceError::NoSuchDirectory(dir));
        }
        if !dir.join("Occlum.json").is_file() {
            return Err(InstanceError::NotAnInstance(dir));
        }
        Ok(Self { dir })
    }

    /// `DIR/Occlum.json`.
    pub fn config_path(&self) -> PathBuf {
        self.dir.join("Occlum.json")
    }

    /// `DIR/image`.
    pub fn image_dir(&self) -> PathBuf {
        self.dir.join("image")
    }

    /// `DIR/build`.
    pub fn build_dir(&self) -> PathBuf {
        self.dir.join("build")
    }

    /// `DIR/build/enclave.sgxs`.
    pub fn sgxs_path(&self) -> PathBuf {
        self.build_dir().join("enclave.sgxs")
    }

    /// `DIR/build/enclave.sig`.
    pub fn sig_path(&self) -> PathBuf {
        self.build_dir().join("enclave.sig")
    }

    /// `DIR/build/Enclave.xml`.
    pub fn enclave_xml_path(&self) -> PathBuf {
        self.build_dir().join("Enclave.xml")
    }

    /// `DIR/build/kss-build.json`.
    pub fn build_json_path(&self) -> PathBuf {
        self.build_dir().join("kss-build.json")
    }

    /// Reads Occlum.json bytes.
    pub fn read_config_bytes(&self) -> Result<Vec<u8>, InstanceError> {
        let p = self.config_path();
        kss_io::read_bounded(&p, kss_io::limits::CONFIG_JSON).map_err(|e| InstanceError::io(p, e))
    }

    /// Reads and validates Occlum.json.
    pub fn config(&self) -> Result<(InstanceConfig, Vec<u8>), InstanceError> {
        let bytes = self.read_config_bytes()?;
        Ok((InstanceConfig::parse(&bytes)?, bytes))
    }

    /// The image digest of `image/`.
    pub fn image_digest(&self) -> Result<ImageDigest, InstanceError> {
        image::digest_dir(&self.image_dir())
    }
}

/// The canonical, app-independent enclave parameters measured in CONFIGID mode: everything
/// that shapes the enclave (identity and limits) and nothing of the app.
pub fn enclave_parameters(config: &InstanceConfig) -> Vec<u8> {
    let m = &config.metadata;
    let r = &config.resource_limits;
    let mut p = b"kss-enclave-parameters-v1\0".to_vec();
    p.extend_from_slice(&m.product_id.to_le_bytes());
    p.extend_from_slice(&m.version_number.to_le_bytes());
    p.push(u8::from(m.debuggable));
    p.push(u8::from(m.enable_kss));
    p.extend_from_slice(&m.family_id.0);
    p.extend_from_slice(&m.ext_prod_id.0);
    p.extend_from_slice(&r.max_num_of_threads.to_le_bytes());
    p.extend_from_slice(&r.kernel_space_stack_size.to_le_bytes());
    p.extend_from_slice(&r.kernel_space_heap_size.to_le_bytes());
    p.extend_from_slice(&r.user_space_size.to_le_bytes());
    p
}

/// Creates a new instance: `dir/Occlum.json` (the template) and an empty `dir/image/`.
/// Refuses a directory that exists and is not empty.
pub fn new_instance(dir: &Path) -> Result<Instance, InstanceError> {
    if dir.exists() {
        let mut rd = std::fs::read_dir(dir).map_err(|e| InstanceError::io(dir, e))?;
        if rd.next().is_some() {
            return Err(InstanceError::NotEmpty(dir.to_path_buf()));
        }
    }
    std::fs::create_dir_all(dir.join("image/bin")).map_err(|e| InstanceError::io(dir, e))?;
    let mut text = serde_json::to_string_pretty(&crate::config::template()).unwrap_or_default();
    text.push('\n');
    write_atomic(&dir.join("Occlum.json"), text.as_bytes())?;
    Ok(Instance {
        dir: dir.to_path_buf(),
    })
}

/// How to build.
pub struct BuildOptions<'a> {
    /// PEM signing key; `None` uses the development key for debuggable instances.
    pub sign_key: Option<PathBuf>,
    /// Where the development key lives (default: [`paths::dev_key_path`]).
    pub dev_key: PathBuf,
    /// SIGSTRUCT DATE as BCD yyyymmdd (default: today, UTC).
    pub date: Option<u32>,
    /// Progress callback: (bytes of SGXS written, total).
    pub progress: Option<Box<dyn FnMut(u64, u64) + 'a>>,
}

impl Default for BuildOptions<'_> {
    fn default() -> Self {
        Self {
            sign_key: None,
            dev_key: paths::dev_key_path(),
            date: None,
            progress: None,
        }
    }
}

/// What a build produced.
#[derive(Debug, Clone)]
pub struct BuildReport {
    /// The instance.
    pub instance: PathBuf,
    /// MRENCLAVE.
    pub mr_enclave: [u8; 32],
    /// MRSIGNER.
    pub mr_signer: [u8; 32],
    /// The SIGSTRUCT in place after the build.
    pub sigstruct: Sigstruct,
    /// Image digest (MRENCLAVE mode; in CONFIGID mode the image is not part of the enclave).
    pub image: Option<ImageDigest>,
    /// The validated config.
    pub config: InstanceConfig,
    /// Enclave SIZE.
    pub enclave_size: u64,
    /// Pages added / measured.
    pub pages: (u64, u64),
    /// SGXS bytes.
    pub sgxs_len: u64,
    /// False when the existing SIGSTRUCT already matched and was kept as is.
    pub resigned: bool,
    /// False when the existing SGXS was kept (CONFIGID mode, unchanged parameters).
    pub remeasured: bool,
    /// True if the development key was created by this build.
    pub dev_key_created: bool,
    /// Path of the key chosen for this build (`--sign-key` or the development key). When the
    /// existing SIGSTRUCT was kept (`resigned` false) it was made by the same key.
    pub key_path: PathBuf,
}

/// Builds an instance: measures it into `build/enclave.sgxs`, signs `build/enclave.sig`, writes
/// `build/Enclave.xml` and `build/kss-build.json`.
pub fn build(dir: &Path, mut opts: BuildOptions<'_>) -> Result<BuildReport, InstanceError> {
    let inst = Instance::open(dir)?;
    let (config, config_bytes) = inst.config()?;
    let mode = config.metadata.config_binding;
    // In CONFIGID mode the enclave does not depend on image/: it is not even read here.
    let image = match mode {
        ConfigBinding::Mrenclave => Some(inst.image_digest()?),
        ConfigBinding::ConfigId => None,
    };
    let binding = match &image {
        Some(img) => Binding::Measured {
            occlum_json: config_bytes.clone(),
            image_digest: img.digest,
        },
        None => Binding::ConfigId {
            parameters: enclave_parameters(&config),
        },
    };
    let layout = EnclaveLayout::for_config(&config, &binding)?;

    // Choose the key before the long part, so a missing key fails fast.
    let (key_path, dev_key_created) = match &opts.sign_key {
        Some(p) => (p.clone(), false),
        None if config.metadata.debuggable => {
            let created = ensure_dev_key(&opts.dev_key)?;
            (opts.dev_key.clone(), created)
        }
        None => return Err(InstanceError::ProductionKeyRequired),
    };
    let key = kss_sign::SigningKey::load(&key_path).map_err(|e| match e {
        kss_sign::KeyError::Io { source, .. } => InstanceError::io(&key_path, source),
        source => InstanceError::Key {
            path: key_path.clone(),
            source,
        },
    })?;

    // CONFIGID mode: an enclave built from the same parameters by the same key is reused as is.
    if mode == ConfigBinding::ConfigId {
        if let Some(report) = up_to_date(&inst, &config, &layout, &key, &key_path, opts.date) {
            return Ok(report);
        }
    }

    let written = write_build(
        &inst,
        &config,
        &config_bytes,
        image.as_ref(),
        &layout,
        &key,
        &mut opts,
    )?;
    Ok(BuildReport {
        instance: dir.to_path_buf(),
        mr_enclave: written.mr_enclave,
        mr_signer: written.mr_signer,
        sigstruct: written.sigstruct,
        image,
        config,
        enclave_size: layout.size,
        pages: (layout.pages(), layout.measured_pages()),
        sgxs_len: layout.sgxs_len(),
        resigned: written.resigned,
        remeasured: true,
        dev_key_created,
        key_path,
    })
}

/// Passes bytes to `inner` and hashes them.
struct HashingWriter<W> {
    inner: W,
    hash: Sha256,
}

impl<W: std::io::Write> std::io::Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// What [`write_build`] wrote.
struct Written {
    mr_enclave: [u8; 32],
    mr_signer: [u8; 32],
    sigstruct: Sigstruct,
    resigned: bool,
}

/// Writes `build/`: the SGXS stream and MRENCLAVE in one pass, the SIGSTRUCT (kept when the
/// existing one already signs exactly this enclave), Enclave.xml and the build summary. Each file
/// is staged next to its destination and moved into place only when all are ready.
fn write_build(
    inst: &Instance,
    config: &InstanceConfig,
    config_bytes: &[u8],
    image: Option<&ImageDigest>,
    layout: &EnclaveLayout,
    key: &kss_sign::SigningKey,
    opts: &mut BuildOptions<'_>,
) -> Result<Written, InstanceError> {
    let build_dir = inst.build_dir();
    std::fs::create_dir_all(&build_dir).map_err(|e| InstanceError::io(&build_dir, e))?;
    let tmp = |suffix: &str| {
        kss_io::Staged::new_in(&build_dir, &format!(".kss-{suffix}-"), 0o644).map_err(io_err)
    };

    // 1. SGXS + MRENCLAVE in one pass (and the SGXS file's SHA-256, kept in the record).
    let sgxs_tmp = tmp("sgxs")?;
    let file = HashingWriter {
        inner: std::io::BufWriter::with_capacity(
            1 << 20,
            sgxs_tmp
                .file()
                .try_clone()
                .map_err(|e| InstanceError::io(sgxs_tmp.path(), e))?,
        ),
        hash: Sha256::new(),
    };
    let mut progress = opts.progress.take();
    let (file, mr_enclave) = layout
        .write_sgxs(file, |done, total| {
            if let Some(p) = progress.as_mut() {
                p(done, total)
            }
        })
        .map_err(|e| match e {
            InstanceError::SgxsWrite(source) => InstanceError::io(inst.sgxs_path(), source),
            e => e,
        })?;
    let sgxs_sha256: [u8; 32] = file.hash.finalize().into();
    let file = file
        .inner
        .into_inner()
        .map_err(|e| InstanceError::io(sgxs_tmp.path(), e.into_error()))?;
    file.sync_all()
        .map_err(|e| InstanceError::io(sgxs_tmp.path(), e))?;

    // 2. SIGSTRUCT (kept as is when the existing one already signs exactly this enclave).
    let date = opts.date.unwrap_or_else(kss_sign::today_bcd);
    let fresh = sign(&config.metadata, mr_enclave, key, date)?;
    let existing = kss_io::read_bounded(&inst.sig_path(), kss_io::limits::SIGSTRUCT)
        .ok()
        .and_then(|b| Sigstruct::from_bytes(&b).ok());
    let (sigstruct, resigned) = match existing {
        // Without an explicit date the existing signing date is kept; with one, it must match.
        Some(old)
            if same_except_date(&old, &fresh)
                && opts.date.unwrap_or(old.date) == old.date
                && kss_sign::verify(&old).is_ok() =>
        {
            (old, false)
        }
        _ => (fresh, true),
    };
    let mr_signer = kss_sign::mr_signer(&sigstruct);

    // 3. Enclave.xml and the build summary.
    let xml = enclave_xml::render(config);
    let summary = build_summary(
        config,
        config_bytes,
        image,
        &mr_enclave,
        &mr_signer,
        layout.size,
        &sgxs_sha256,
    );
    let mut summary = serde_json::to_string_pretty(&summary).unwrap_or_default();
    summary.push('\n');

    let xml_tmp = tmp("xml")?;
    xml_tmp.write_all_and_sync(xml.as_bytes()).map_err(io_err)?;
    let sum_tmp = tmp("json")?;
    sum_tmp
        .write_all_and_sync(summary.as_bytes())
        .map_err(io_err)?;
    let sig_tmp = if resigned {
        let t = tmp("sig")?;
        t.write_all_and_sync(&sigstruct.to_bytes())
            .map_err(io_err)?;
        Some(t)
    } else {
        None
    };

    // 4. Everything is ready: move each file into place (each rename is atomic on its own),
    //    the summary last.
    sgxs_tmp.commit(&inst.sgxs_path()).map_err(io_err)?;
    if let Some(t) = sig_tmp {
        t.commit(&inst.sig_path()).map_err(io_err)?;
    }
    xml_tmp.commit(&inst.enclave_xml_path()).map_err(io_err)?;
    sum_tmp.commit(&inst.build_json_path()).map_err(io_err)?;
    kss_io::sync_dir(&build_dir).map_err(io_err)?;
    Ok(Written {
        mr_enclave,
        mr_signer,
        sigstruct,
        resigned,
    })
}

/// In CONFIGID mode: the existing build, if it was made in CONFIGID mode from these enclave
/// parameters and this key, its files verify, and its SIGSTRUCT carries `date` when one was
/// asked for. (An MRENCLAVE-mode build records the same enclave parameters but measures the
/// app, so it is never reused.)
fn up_to_date(
    inst: &Instance,
    config: &InstanceConfig,
    layout: &EnclaveLayout,
    key: &kss_sign::SigningKey,
    key_path: &Path,
    date: Option<u32>,
) -> Option<BuildReport> {
    let summary = read_summary(inst).ok()?;
    // A record without the SGXS hash (an older kss) is rebuilt, so `kss run` can check it.
    if !same_enclave_parameters(&summary, config) || !summary[key::SGXS_SHA256].is_string() {
        return None;
    }
    let sig = Sigstruct::from_bytes(
        &kss_io::read_bounded(&inst.sig_path(), kss_io::limits::SIGSTRUCT).ok()?,
    )
    .ok()?;
    if date.is_some_and(|d| d != sig.date) {
        return None;
    }
    kss_sign::verify(&sig).ok()?;
    let mr_signer = kss_sign::mr_signer(&sig);
    if mr_signer != key.mr_signer()
        || hex::encode(sig.enclave_hash) != summary[key::MR_ENCLAVE].as_str()?
    {
        return None;
    }
    let sgxs_len = std::fs::metadata(inst.sgxs_path()).ok()?.len();
    if sgxs_len != layout.sgxs_len() {
        return None;
    }
    Some(BuildReport {
        instance: inst.dir.clone(),
        mr_enclave: sig.enclave_hash,
        mr_signer,
        sigstruct: sig,
        image: None,
        config: config.clone(),
        enclave_size: layout.size,
        pages: (layout.pages(), layout.measured_pages()),
        sgxs_len,
        resigned: false,
        remeasured: false,
        dev_key_created: false,
        key_path: key_path.to_path_buf(),
    })
}

/// The SIGSTRUCT for an instance's metadata and MRENCLAVE, with the Intel sign tool's defaults:
/// MODE64BIT; KSS (0x80) in attributes and mask when `enable_kss`; DEBUG in the mask when not
/// debuggable; xfrm 0x3/0xFFFFFFFFFFFFFF1B; MISCSELECT 0/0xFFFFFFFF.
pub fn sign(
    meta: &Metadata,
    mr_enclave: [u8; 32],
    key: &kss_sign::SigningKey,
    date: u32,
) -> Result<Sigstruct, InstanceError> {
    let o = kss_sign::SignOptions::new()
        .date(date)
        .isv_prod_id(meta.product_id)
        .isv_svn(meta.version_number)
        .kss(meta.enable_kss)
        .isv_family_id(meta.family_id)
        .isv_ext_prod_id(meta.ext_prod_id)
        .disable_debug(!meta.debuggable);
    kss_sign::sign(&o, &mr_enclave, key).map_err(InstanceError::Sign)
}

fn same_except_date(a: &Sigstruct, b: &Sigstruct) -> bool {
    let mut a = a.clone();
    a.date = b.date;
    a.signature = b.signature;
    a.q1 = b.q1;
    a.q2 = b.q2;
    a == *b
}

/// Creates the development key if it does not exist yet; returns true if it was created.
pub fn ensure_dev_key(path: &Path) -> Result<bool, InstanceError> {
    if path.exists() {
        return Ok(false);
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        // The kss home: private to its owner (0700) whatever the umask.
        kss_io::create_private_dir_all(parent).map_err(|e| InstanceError::io(parent, e))?;
    }
    let key = kss_sign::SigningKey::generate_os().map_err(InstanceError::KeyGen)?;
    let pem = key.to_pkcs8_pem().map_err(InstanceError::KeyGen)?;
    write_private(path, pem.as_bytes())?;
    Ok(true)
}

/// Writes a private key (or other secret) to a new file `path` with mode 0600, atomically and
/// durably: a temporary file in the same directory that is 0600 before anything is written to
/// it, fsync, rename without replacing, fsync of the directory.
///
/// Never replaces an existing file: if `path` exists (also when it appears while writing) the
/// result is [`InstanceError::Io`] for `path` with [`std::io::ErrorKind::AlreadyExists`], and the
/// existing file is left untouched.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), InstanceError> {
    kss_io::write_new(path, bytes, 0o600, ".kss-key-").map_err(io_err)
}

/// A failed write of `kss-io`, as an [`InstanceError::Io`] for the path it concerns.
fn io_err(e: kss_io::WriteError) -> InstanceError {
    InstanceError::io(e.path, e.source)
}

/// Atomic, durable write of a file (mode 0644): a temporary file in the same directory, fsync,
/// rename, fsync of the directory. A crash leaves the old file or the new one, never a part.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), InstanceError> {
    kss_io::write_atomic(path, bytes, 0o644).map_err(io_err)
}
