//! File input and output shared by the kss crates: one bounded read ([`read_bounded`]: every
//! input format has a size limit, enforced while reading), one durable atomic write (a temporary
//! file in the same directory with its final mode, fsync, rename, fsync of the directory; the
//! temporary file does not outlive a kill, see [`Staged`]) and one resolution of the per-user
//! kss home directory (created private, 0700).
#![deny(missing_docs)]

mod home;
mod read;
mod staged;
mod sweep;
mod write;

pub use home::{create_private_dir_all, kss_home};
pub use read::{limits, read_bounded, read_bounded_from, read_bounded_string, too_large};
pub use staged::{Staged, StagedDir};
pub use sweep::{current_uid, process_alive, sweep_stale};
pub use write::{parent_dir, sync_dir, write_atomic, write_atomic_prefixed, write_new, WriteError};
