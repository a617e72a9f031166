//! Bounded reads stay bounded: endless and huge inputs are refused after `limit + 1` bytes,
//! and the process's peak resident memory (VmHWM, Linux) does not grow with the input.

use proptest::prelude::*;
use std::io::Read;

/// Peak resident set size in KiB (`VmHWM` of /proc/self/status), on Linux.
fn peak_rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn endless_and_huge_sparse_inputs_cost_only_the_limit() {
    let before = peak_rss_kib();
    let d = tempfile::tempdir().unwrap();
    // A 64 GiB sparse file: reading it to its end would need 64 GiB.
    let sparse = d.path().join("sparse");
    std::fs::File::create(&sparse)
        .unwrap()
        .set_len(64 << 30)
        .unwrap();
    for limit in [
        kss_io::limits::CONFIG_ID,
        kss_io::limits::SIGSTRUCT,
        kss_io::limits::QUOTE,
        kss_io::limits::COLLATERAL,
        kss_io::limits::POLICY,
        kss_io::limits::KEY,
    ] {
        for p in [std::path::Path::new("/dev/zero"), sparse.as_path()] {
            let e = kss_io::read_bounded(p, limit).unwrap_err();
            assert_eq!(
                e.kind(),
                std::io::ErrorKind::FileTooLarge,
                "{}",
                p.display()
            );
            assert!(
                e.to_string().contains(&format!("{limit}-byte limit")),
                "{e}"
            );
        }
    }
    if let (Some(before), Some(after)) = (before, peak_rss_kib()) {
        // The largest limit here is 8 MiB; allow for the Vec's doubling and the test harness.
        assert!(
            after.saturating_sub(before) < 32 * 1024,
            "peak RSS grew by {} KiB",
            after - before
        );
    }
}

/// An endless reader (what a pipe from `yes` looks like).
struct Endless;
impl Read for Endless {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        buf.fill(b'y');
        Ok(buf.len())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn exactly_the_limit_is_accepted_and_one_more_refused(limit in 0u64..100_000, extra in 0u64..3) {
        let data = vec![7u8; (limit + extra) as usize];
        let r = kss_io::read_bounded_from(&data[..], limit);
        if extra == 0 {
            prop_assert_eq!(r.unwrap().len() as u64, limit);
        } else {
            prop_assert_eq!(r.unwrap_err().kind(), std::io::ErrorKind::FileTooLarge);
        }
        let e = kss_io::read_bounded_from(Endless, limit).unwrap_err();
        prop_assert_eq!(e.kind(), std::io::ErrorKind::FileTooLarge);
    }
}
