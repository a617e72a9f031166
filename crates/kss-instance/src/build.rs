//! `kss new` and `kss build`.
//!
//! `build` writes `build/enclave.sgxs`, `build/enclave.sig`, `build/Enclave.xml` and
//! `build/kss-build.json`. Every output is first written to a temporary file in `build/` and
//! synced, and only when all of them were produced is each renamed into place, so a failure
//! while producing them (bad key, full disk) leaves the previous build untouched and no partial
//! file behind. The renames are separate: each file is replaced atomically, in the order SGXS,
//! SIGSTRUCT, Enclave.xml, and the summary `kss-build.json` is written last.

use crate::config::{ConfigBinding, InstanceConfig, Metadata};
use crate::error::InstanceError;
use crate::image::{self, ImageDigest};
use crate::layout::{Binding, EnclaveLayout};
use crate::{enclave_xml, paths};
use kss_types::{AttributeFlags, Sigstruct};
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

/// Keys of `build/kss-build.json` that later commands compare against the instance.
mod key {
    pub const CONFIG_BINDING: &str = "config_binding";
    pub const OCCLUM_JSON_SHA256: &str = "occlum_json_sha256";
    pub const ENCLAVE_PARAMETERS_SHA256: &str = "enclave_parameters_sha256";
    pub const IMAGE_DIGEST: &str = "image_digest";
    pub const MR_ENCLAVE: &str = "mr_enclave";
    pub const SGXS_SHA256: &str = "sgxs_sha256";
}

/// Why an instance's build cannot be used for it (see [`check_fresh`]).
#[derive(Debug, thiserror::Error)]
pub enum Staleness {
    /// There is no build summary: the instance was never built.
    #[error("{} is not built ({} is missing)", instance.display(), summary.display())]
    NotBuilt {
        /// The instance directory.
        instance: PathBuf,
        /// The summary file that is missing.
        summary: PathBuf,
    },
    /// The build summary exists but cannot be read as one.
    #[error("{}: {reason}", path.display())]
    Unreadable {
        /// The summary file (or the SGXS stream, when hashing it failed).
        path: PathBuf,
        /// What went wrong.
        #[source]
        reason: UnreadableCause,
    },
    /// Something the build measured or signed changed since.
    #[error(
        "{0} changed since the last `kss build`; the built enclave no longer matches the instance"
    )]
    Changed(&'static str),
    /// The image could not be digested to compare it.
    #[error(transparent)]
    Image(InstanceError),
    /// The files of `build/` are not of one build: `file` does not match the build record.
    #[error("{} does not belong to this build: {why}; the files of build/ must come from one `kss build`", file.display())]
    Mismatch {
        /// The file that does not match (`enclave.sig`, `enclave.sgxs` or `kss-build.json`).
        file: PathBuf,
        /// What differs.
        why: MismatchWhy,
    },
}

/// What differs between a file of `build/` and the build record ([`Staleness::Mismatch`]).
/// `recorded` is the record's value as written there (text, whatever it holds).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MismatchWhy {
    /// The SIGSTRUCT signs another enclave than the record's MRENCLAVE.
    #[error("it signs MRENCLAVE {}, the record {} names {recorded}", hex::encode(.signed), .record.display())]
    SignedEnclave {
        /// ENCLAVEHASH of the SIGSTRUCT.
        signed: [u8; 32],
        /// The build record.
        record: PathBuf,
        /// The record's `mr_enclave`.
        recorded: String,
    },
    /// The record is not a JSON object.
    #[error("it is not a JSON object")]
    NotAnObject,
    /// The record predates `sgxs_sha256`.
    #[error("it has no sgxs_sha256 (made by an older kss); run `kss build` again")]
    NoSgxsSha256,
    /// The SGXS file is not the one recorded.
    #[error("its SHA-256 is {}, the record {} names {recorded}", hex::encode(.actual), .record.display())]
    SgxsSha256 {
        /// SHA-256 of the SGXS file.
        actual: [u8; 32],
        /// The build record.
        record: PathBuf,
        /// The record's `sgxs_sha256`.
        recorded: String,
    },
    /// The SIGSTRUCT's signer is not the recorded MRSIGNER.
    #[error("it is signed by MRSIGNER {}, the record {} names {recorded}", hex::encode(.actual), .record.display())]
    Signer {
        /// MRSIGNER of the SIGSTRUCT.
        actual: [u8; 32],
        /// The build record.
        record: PathBuf,
        /// The record's `mr_signer`.
        recorded: String,
    },
    /// A field of the record differs from what a build of this instance records.
    #[error("its field \"{0}\" is not what kss build records for this instance")]
    Field(String),
}

/// Why a build file could not be read ([`Staleness::Unreadable`]).
#[derive(Debug, thiserror::Error)]
pub enum UnreadableCause {
    /// Reading failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The summary is not JSON.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

/// Whether the instance's last build still matches it: in MRENCLAVE mode, the same Occlum.json
/// bytes (`config_bytes`) and the same image digest; in CONFIGID mode, a CONFIGID-mode build of
/// the same enclave parameters (the app is bound at launch, so image changes do not matter).
pub fn check_fresh(
    inst: &Instance,
    config: &InstanceConfig,
    config_bytes: &[u8],
) -> Result<(), Staleness> {
    fresh(inst, config, config_bytes).map(|_| ())
}

/// [`check_fresh`], returning the build record and (MRENCLAVE mode) the image digest.
fn fresh(
    inst: &Instance,
    config: &InstanceConfig,
    config_bytes: &[u8],
) -> Result<(serde_json::Value, Option<ImageDigest>), Staleness> {
    let summary = read_summary(inst)?;
    let mut digest = None;
    let has = |k: &str, want: &str| summary[k].as_str() == Some(want);
    match config.metadata.config_binding {
        ConfigBinding::Mrenclave => {
            if !has(
                key::OCCLUM_JSON_SHA256,
                &hex::encode(Sha256::digest(config_bytes)),
            ) {
                return Err(Staleness::Changed("Occlum.json"));
            }
            let image = inst.image_digest().map_err(Staleness::Image)?;
            if !has(key::IMAGE_DIGEST, &hex::encode(image.digest)) {
                return Err(Staleness::Changed("image/"));
            }
            digest = Some(image);
        }
        ConfigBinding::ConfigId => {
            if !same_enclave_parameters(&summary, config) {
                return Err(Staleness::Changed(
                    "the enclave parameters (metadata or resource_limits)",
                ));
            }
        }
    }
    Ok((summary, digest))
}

/// Whether the files of `build/` are of one build that matches the instance: what
/// [`check_fresh`] checks, then the record (`kss-build.json`) against what a build of this instance records (every
/// field, so an edited record is refused), the SIGSTRUCT's ENCLAVEHASH and signer against the
/// record's MRENCLAVE and MRSIGNER, and the SGXS file's SHA-256 against the record's. Hashing
/// the SGXS reads it once; its measurement is then checked again by EINIT at launch.
pub fn check_build(
    inst: &Instance,
    config: &InstanceConfig,
    config_bytes: &[u8],
    sigstruct: &Sigstruct,
) -> Result<(), Staleness> {
    let (summary, image) = fresh(inst, config, config_bytes)?;
    let record = inst.build_json_path();
    let mismatch = |file: PathBuf, why: MismatchWhy| Err(Staleness::Mismatch { file, why });
    let recorded = |k: &str| summary[k].as_str().unwrap_or("").to_string();
    let sig_hash = hex::encode(sigstruct.enclave_hash);
    if sig_hash != recorded(key::MR_ENCLAVE) {
        return mismatch(
            inst.sig_path(),
            MismatchWhy::SignedEnclave {
                signed: sigstruct.enclave_hash,
                record,
                recorded: recorded(key::MR_ENCLAVE),
            },
        );
    }
    // What a build of this instance with this SIGSTRUCT records, field by field.
    let binding = match &image {
        Some(img) => Binding::Measured {
            occlum_json: config_bytes.to_vec(),
            image_digest: img.digest,
        },
        None => Binding::ConfigId {
            parameters: enclave_parameters(config),
        },
    };
    let size = EnclaveLayout::for_config(config, &binding)
        .map_err(Staleness::Image)?
        .size;
    let sgxs_sha256 = sha256_file(&inst.sgxs_path()).map_err(|e| Staleness::Unreadable {
        path: inst.sgxs_path(),
        reason: e.into(),
    })?;
    let expected = build_summary(
        config,
        config_bytes,
        image.as_ref(),
        &sigstruct.enclave_hash,
        &kss_sign::mr_signer(sigstruct),
        size,
        &sgxs_sha256,
    );
    // Strings, numbers and booleans: turning them into a `Value` cannot fail.
    let expected = serde_json::to_value(expected).unwrap_or_default();
    let (Some(want), Some(got)) = (expected.as_object(), summary.as_object()) else {
        return mismatch(record, MismatchWhy::NotAnObject);
    };
    if got.get(key::SGXS_SHA256) != want.get(key::SGXS_SHA256) {
        if got.get(key::SGXS_SHA256).is_none() {
            return mismatch(record, MismatchWhy::NoSgxsSha256);
        }
        return mismatch(
            inst.sgxs_path(),
            MismatchWhy::SgxsSha256 {
                actual: sgxs_sha256,
                record,
                recorded: recorded(key::SGXS_SHA256),
            },
        );
    }
    if got.get("mr_signer") != want.get("mr_signer") {
        return mismatch(
            inst.sig_path(),
            MismatchWhy::Signer {
                actual: kss_sign::mr_signer(sigstruct),
                record,
                recorded: recorded("mr_signer"),
            },
        );
    }
    let keys: std::collections::BTreeSet<&String> = want.keys().chain(got.keys()).collect();
    for k in keys {
        if want.get(k) != got.get(k) {
            return mismatch(record, MismatchWhy::Field(k.clone()));
        }
    }
    Ok(())
}

/// The SHA-256 of a file, read in 1 MiB blocks.
fn sha256_file(path: &Path) -> std::io::Result<[u8; 32]> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(h.finalize().into());
        }
        h.update(&buf[..n]);
    }
}

/// Reads `build/kss-build.json`.
fn read_summary(inst: &Instance) -> Result<serde_json::Value, Staleness> {
    let path = inst.build_json_path();
    let text = match kss_io::read_bounded(&path, kss_io::limits::CONFIG_JSON) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Staleness::NotBuilt {
                instance: inst.dir.clone(),
                summary: path,
            })
        }
        Err(e) => {
            return Err(Staleness::Unreadable {
                path,
                reason: e.into(),
            })
        }
    };
    serde_json::from_slice(&text).map_err(|e| Staleness::Unreadable {
        path,
        reason: e.into(),
    })
}

/// Whether a build summary records a build in `config`'s binding mode from `config`'s enclave
/// parameters (what a CONFIGID-mode enclave is made of).
fn same_enclave_parameters(summary: &serde_json::Value, config: &InstanceConfig) -> bool {
    let params = hex::encode(Sha256::digest(enclave_parameters(config)));
    summary[key::CONFIG_BINDING].as_str() == Some(config.metadata.config_binding.as_str())
        && summary[key::ENCLAVE_PARAMETERS_SHA256].as_str() == Some(params.as_str())
}

/// `build/kss-build.json`, its fields in the order they are written. The names of the fields
/// that later commands compare are the [`key`] constants; the record is read back as JSON
/// (`serde_json::Value`) so that any field, known or not, can be compared and named.
#[derive(serde::Serialize)]
struct BuildSummary {
    format: &'static str,
    mr_enclave: String,
    mr_signer: String,
    isv_prod_id: u16,
    isv_svn: u16,
    debuggable: bool,
    enable_kss: bool,
    attributes_flags: String,
    isv_family_id: String,
    isv_ext_prod_id: String,
    config_binding: &'static str,
    occlum_json_sha256: String,
    enclave_parameters_sha256: String,
    enclave_size: u64,
    sgxs_sha256: String,
    /// MRENCLAVE mode only, like the two fields after it.
    #[serde(skip_serializing_if = "Option::is_none")]
    image_digest: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image_entries: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image_bytes: Option<u64>,
}

fn build_summary(
    config: &InstanceConfig,
    config_bytes: &[u8],
    image: Option<&ImageDigest>,
    mr_enclave: &[u8; 32],
    mr_signer: &[u8; 32],
    size: u64,
    sgxs_sha256: &[u8; 32],
) -> BuildSummary {
    let m = &config.metadata;
    let mut attrs = AttributeFlags::MODE64BIT;
    if m.enable_kss {
        attrs |= AttributeFlags::KSS;
    }
    BuildSummary {
        format: "kss-build-v1",
        mr_enclave: hex::encode(mr_enclave),
        mr_signer: hex::encode(mr_signer),
        isv_prod_id: m.product_id,
        isv_svn: m.version_number,
        debuggable: m.debuggable,
        enable_kss: m.enable_kss,
        attributes_flags: format!("{:#x}", attrs.bits()),
        isv_family_id: hex::encode(m.family_id.0),
        isv_ext_prod_id: hex::encode(m.ext_prod_id.0),
        config_binding: m.config_binding.as_str(),
        occlum_json_sha256: hex::encode(Sha256::digest(config_bytes)),
        enclave_parameters_sha256: hex::encode(Sha256::digest(enclave_parameters(config))),
        enclave_size: size,
        sgxs_sha256: hex::encode(sgxs_sha256),
        image_digest: image.map(|i| hex::encode(i.digest)),
        image_entries: image.map(|i| i.entries),
        image_bytes: image.map(|i| i.bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mismatch_messages_name_both_values() {
        let record = PathBuf::from("app/build/kss-build.json");
        let why = MismatchWhy::SignedEnclave {
            signed: [0xab; 32],
            record: record.clone(),
            recorded: "00ff".into(),
        };
        assert_eq!(
            why.to_string(),
            format!(
                "it signs MRENCLAVE {}, the record app/build/kss-build.json names 00ff",
                "ab".repeat(32)
            )
        );
        let e = Staleness::Mismatch {
            file: "app/build/enclave.sgxs".into(),
            why: MismatchWhy::SgxsSha256 {
                actual: [1; 32],
                record: record.clone(),
                recorded: "x".into(),
            },
        };
        assert_eq!(
            e.to_string(),
            format!(
                "app/build/enclave.sgxs does not belong to this build: its SHA-256 is {}, the \
                 record app/build/kss-build.json names x; the files of build/ must come from one \
                 `kss build`",
                "01".repeat(32)
            )
        );
        assert_eq!(
            MismatchWhy::Field("size".into()).to_string(),
            "its field \"size\" is not what kss build records for this instance"
        );
    }

    #[test]
    fn an_unreadable_summary_keeps_the_json_error() {
        let json = serde_json::from_slice::<serde_json::Value>(b"{").unwrap_err();
        let text = json.to_string();
        let e = Staleness::Unreadable {
            path: "s.json".into(),
            reason: json.into(),
        };
        assert_eq!(e.to_string(), format!("s.json: {text}"));
        let cause = std::error::Error::source(&e).expect("a cause");
        assert!(matches!(
            cause.downcast_ref::<UnreadableCause>(),
            Some(UnreadableCause::Json(j)) if j.is_eof()
        ));
        assert!(matches!(
            e,
            Staleness::Unreadable {
                reason: UnreadableCause::Json(_),
                ..
            }
        ));
    }
}
