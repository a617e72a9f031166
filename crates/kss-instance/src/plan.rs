//! The launch plan of `kss run`: everything decided before an enclave is created.
//!
//! [`plan`] turns an opened instance and the parsed launch arguments into a [`LaunchPlan`]:
//! the KSS configuration under the instance's binding mode, the freshness check of `build/`,
//! the SIGSTRUCT, the debug rule, the program resolved inside `image/` and the backend. Every
//! refusal is a [`PlanError`] variant that names no command-line flag; the caller maps it to its
//! messages and exit statuses. [`LaunchPlan::load`] then creates the enclave.

use crate::build::{check_build, Instance, Staleness};
use crate::config::{ConfigBinding, InstanceConfig};
use crate::error::InstanceError;
use crate::launch::{launch_config, LaunchError};
use kss_enclave::{BackendKind, ChosenBackend, Enclave, LoadError};
use kss_types::{AttributeFlags, ConfigId, KssConfig, LayoutError, Sigstruct};
use std::path::{Component, Path, PathBuf};

/// The launch arguments, already parsed.
#[derive(Debug, Clone)]
pub struct LaunchRequest<'a> {
    /// An explicit config ID, if one was given.
    pub config_id: Option<ConfigId>,
    /// An explicit CONFIGSVN, if one was given.
    pub config_svn: Option<u16>,
    /// A debug launch (ATTRIBUTES.DEBUG).
    pub debug: bool,
    /// The program, as named by the user (resolved inside `image/`).
    pub program: &'a Path,
    /// The backend to create the enclave with.
    pub backend: BackendKind,
}

/// What `kss run` will launch.
#[derive(Debug, Clone)]
pub struct LaunchPlan {
    /// CONFIGID and CONFIGSVN for the SECS.
    pub kss: KssConfig,
    /// The instance's SIGSTRUCT (`build/enclave.sig`).
    pub sigstruct: Sigstruct,
    /// A debug launch.
    pub debug: bool,
    /// The program's path inside `image/`.
    pub program: PathBuf,
    /// The SGXS stream to load (`build/enclave.sgxs`).
    pub sgxs_path: PathBuf,
    /// The backend.
    pub backend: BackendKind,
}

/// Why an instance cannot be launched as requested.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The launch configuration is invalid for this instance.
    #[error(transparent)]
    Launch(#[from] LaunchError),
    /// An explicit config ID for an instance whose config ID is computed (CONFIGID binding).
    #[error("this instance binds its app through CONFIGID (\"config_binding\": \"config_id\"), so kss computes the config ID from Occlum.json and image/; an explicit config ID is not allowed")]
    ExplicitConfigId,
    /// The CONFIGID binding could not be computed (Occlum.json or image/ unreadable).
    #[error(transparent)]
    Binding(InstanceError),
    /// `build/` is missing or does not match the instance.
    #[error(transparent)]
    Stale(#[from] Staleness),
    /// The SIGSTRUCT cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    SigstructUnreadable {
        /// `build/enclave.sig`.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The SIGSTRUCT is not one.
    #[error("{}: {source}", path.display())]
    SigstructInvalid {
        /// `build/enclave.sig`.
        path: PathBuf,
        /// Why it does not parse.
        #[source]
        source: LayoutError,
    },
    /// A debug launch of an enclave signed for production (DEBUG in its ATTRIBUTEMASK).
    #[error("this enclave is signed for production (DEBUG is in its ATTRIBUTEMASK)")]
    DebugNotAllowed,
    /// The program path leaves the image (`..`, or a symlink resolving outside it).
    #[error("program '{}' must be a path inside the image (no '..', no symlink leading out of it)", program.display())]
    ProgramOutsideImage {
        /// The program as given.
        program: PathBuf,
    },
    /// The program is not in the image.
    #[error("program '{}' not found in {} (looked for {})", program.display(), image.display(),
        candidates.iter().map(|c| c.display().to_string()).collect::<Vec<_>>().join(", "))]
    ProgramNotFound {
        /// The program as given.
        program: PathBuf,
        /// The image directory.
        image: PathBuf,
        /// Every path looked at.
        candidates: Vec<PathBuf>,
    },
}

/// Why the planned enclave could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// The SGXS stream cannot be opened.
    #[error("cannot open {}: {source}", path.display())]
    Open {
        /// `build/enclave.sgxs`.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// ECREATE/EADD/EEXTEND/EINIT (or the stream) refused it.
    #[error(transparent)]
    Load(#[from] LoadError),
}

/// Plans the launch of `inst` (whose parsed Occlum.json is `config`, read as `config_bytes`).
///
/// In order: the KSS configuration (explicit values, or the computed config ID under CONFIGID
/// binding), the SIGSTRUCT, the freshness of `build/` and the agreement of its files
/// ([`check_build`]), the debug rule, then the program. Nothing is created.
pub fn plan(
    inst: &Instance,
    config: &InstanceConfig,
    config_bytes: &[u8],
    req: LaunchRequest<'_>,
) -> Result<LaunchPlan, PlanError> {
    let meta = &config.metadata;
    let config_id = match meta.config_binding {
        ConfigBinding::Mrenclave => req.config_id,
        ConfigBinding::ConfigId => {
            if req.config_id.is_some() {
                return Err(PlanError::ExplicitConfigId);
            }
            let binding = crate::binding::config_id(inst, config, config_bytes)
                .map_err(PlanError::Binding)?;
            Some(binding.config_id)
        }
    };
    let kss = launch_config(meta.enable_kss, config_id, req.config_svn)?;
    let sigstruct = match read_sigstruct(&inst.sig_path()) {
        Ok(s) => s,
        // A missing or stale build is the better message.
        Err(e) => {
            crate::build::check_fresh(inst, config, config_bytes)?;
            return Err(e);
        }
    };
    check_build(inst, config, config_bytes, &sigstruct)?;
    if req.debug
        && sigstruct
            .attribute_mask
            .flags
            .contains(AttributeFlags::DEBUG)
        && !sigstruct.attributes.flags.contains(AttributeFlags::DEBUG)
    {
        return Err(PlanError::DebugNotAllowed);
    }
    let program = resolve_program(&inst.image_dir(), req.program)?;
    Ok(LaunchPlan {
        kss,
        sigstruct,
        debug: req.debug,
        program,
        sgxs_path: inst.sgxs_path(),
        backend: req.backend,
    })
}

fn read_sigstruct(path: &Path) -> Result<Sigstruct, PlanError> {
    let bytes = kss_io::read_bounded(path, kss_io::limits::SIGSTRUCT).map_err(|source| {
        PlanError::SigstructUnreadable {
            path: path.to_path_buf(),
            source,
        }
    })?;
    Sigstruct::from_bytes(&bytes).map_err(|source| PlanError::SigstructInvalid {
        path: path.to_path_buf(),
        source,
    })
}

impl LaunchPlan {
    /// Loads the planned enclave into `backend` (opened from [`LaunchPlan::backend`]).
    pub fn load(&self, backend: &ChosenBackend) -> Result<Box<dyn Enclave>, CreateError> {
        let f = std::fs::File::open(&self.sgxs_path).map_err(|source| CreateError::Open {
            path: self.sgxs_path.clone(),
            source,
        })?;
        // SgxsReader buffers the file itself; a second buffer would copy every byte twice.
        Ok(backend.load(f, &self.kss, &self.sigstruct, self.debug)?)
    }
}

/// Resolves `program` inside `image` (Occlum semantics: `/bin/app` is `image/bin/app`; a bare
/// name is looked up in `image/bin/` first), refusing paths that leave the image: `..` in the
/// name, and any path whose real path (every symlink resolved) is outside the image's real path.
/// Returns that real path.
pub fn resolve_program(image: &Path, program: &Path) -> Result<PathBuf, PlanError> {
    let mut rel = PathBuf::new();
    let bare = program.components().count() == 1 && !program.has_root();
    for c in program.components() {
        match c {
            Component::RootDir | Component::CurDir => {}
            Component::Normal(p) => rel.push(p),
            Component::ParentDir | Component::Prefix(_) => {
                return Err(PlanError::ProgramOutsideImage {
                    program: program.to_path_buf(),
                })
            }
        }
    }
    let candidates = if bare {
        vec![Path::new("bin").join(&rel), rel]
    } else {
        vec![rel]
    };
    let real_image = image.canonicalize().ok();
    for c in &candidates {
        let full = image.join(c);
        if full.is_file() {
            let real = full.canonicalize().ok();
            return match (real, &real_image) {
                (Some(real), Some(root)) if real.starts_with(root) => Ok(real),
                _ => Err(PlanError::ProgramOutsideImage {
                    program: program.to_path_buf(),
                }),
            };
        }
    }
    Err(PlanError::ProgramNotFound {
        program: program.to_path_buf(),
        image: image.to_path_buf(),
        candidates: candidates.iter().map(|c| image.join(c)).collect(),
    })
}
