//! Every validation rule: the error names the rule, the record index and the byte offset, and
//! the reader and the fast measurer agree.

use kss_sgxs::{measure_stream, tag, Record, SgxsError, SgxsReader, SgxsWriter, Violation};
use kss_types::SecinfoFlags;
use sha2::{Digest, Sha256};

fn header(t: u64, a: u64, b: u64) -> Vec<u8> {
    let mut h = vec![0u8; 64];
    h[0..8].copy_from_slice(&t.to_le_bytes());
    h[8..16].copy_from_slice(&a.to_le_bytes());
    h[16..24].copy_from_slice(&b.to_le_bytes());
    h
}

fn ecreate(ssa: u32, size: u64) -> Vec<u8> {
    let mut h = vec![0u8; 64];
    h[0..8].copy_from_slice(&tag::ECREATE.to_le_bytes());
    h[8..12].copy_from_slice(&ssa.to_le_bytes());
    h[12..20].copy_from_slice(&size.to_le_bytes());
    h
}

fn eadd(offset: u64, flags: u64) -> Vec<u8> {
    header(tag::EADD, offset, flags)
}

fn extend(t: u64, offset: u64, fill: u8) -> Vec<u8> {
    let mut r = header(t, offset, 0);
    r.extend_from_slice(&[fill; 256]);
    r
}

fn stream(parts: &[Vec<u8>]) -> Vec<u8> {
    parts.concat()
}

/// Checks that the reader and measure_stream both fail with the same error and returns it.
fn both_fail(bytes: &[u8]) -> SgxsError {
    let from_measure = measure_stream(bytes).unwrap_err();
    let from_reader = SgxsReader::new(bytes)
        .find_map(Result::err)
        .expect("reader accepted an invalid stream");
    assert_eq!(from_measure.to_string(), from_reader.to_string());
    from_measure
}

fn invalid_at(bytes: &[u8]) -> (u64, u64, Violation) {
    match both_fail(bytes) {
        SgxsError::Invalid {
            index,
            offset,
            violation,
        } => (index, offset, violation),
        other => panic!("expected a violation, got {other}"),
    }
}

#[test]
fn empty_stream() {
    assert!(matches!(both_fail(&[]), SgxsError::Empty));
}

#[test]
fn first_record_must_be_ecreate() {
    let (i, o, v) = invalid_at(&eadd(0, 0x203));
    assert_eq!((i, o), (0, 0));
    assert_eq!(
        v,
        Violation::FirstNotEcreate {
            found: "EADD".into()
        }
    );
}

#[test]
fn second_ecreate_rejected() {
    let s = stream(&[ecreate(1, 0x2000), eadd(0, 0x203), ecreate(1, 0x2000)]);
    let (i, o, v) = invalid_at(&s);
    assert_eq!((i, o), (2, 128));
    assert_eq!(v, Violation::RepeatedEcreate { found: "ECREATE" });
}

#[test]
fn unknown_tag_named() {
    let s = stream(&[
        ecreate(1, 0x2000),
        header(u64::from_le_bytes(*b"EREMOVE\0"), 0, 0),
    ]);
    let err = both_fail(&s);
    assert!(
        err.to_string().contains("record 1 at byte offset 0x40"),
        "{err}"
    );
    assert!(err.to_string().contains("\"EREMOVE.\""), "{err}");
}

#[test]
fn ecreate_size_and_ssa_checked() {
    assert_eq!(
        invalid_at(&ecreate(1, 0x3000)).2,
        Violation::BadSize { size: 0x3000 }
    );
    assert_eq!(
        invalid_at(&ecreate(1, 0x1000)).2,
        Violation::BadSize { size: 0x1000 }
    );
    assert_eq!(
        invalid_at(&ecreate(0, 0x2000)).2,
        Violation::ZeroSsaFrameSize
    );
}

#[test]
fn nonzero_padding_rejected() {
    let mut e = ecreate(1, 0x2000);
    e[40] = 7;
    assert_eq!(
        invalid_at(&e).2,
        Violation::NonZeroPadding {
            record: "ECREATE",
            byte: 40,
            value: 7,
            first_padding: 20
        }
    );
    let mut a = eadd(0, 0x203);
    a[24] = 1;
    let (i, o, v) = invalid_at(&stream(&[ecreate(1, 0x2000), a]));
    assert_eq!((i, o), (1, 64));
    assert!(matches!(
        v,
        Violation::NonZeroPadding {
            record: "EADD",
            byte: 24,
            ..
        }
    ));
    let mut x = extend(tag::EEXTEND, 0, 0);
    x[63] = 1;
    let v = invalid_at(&stream(&[ecreate(1, 0x2000), eadd(0, 0x203), x])).2;
    assert!(matches!(
        v,
        Violation::NonZeroPadding {
            record: "EEXTEND",
            byte: 63,
            ..
        }
    ));
}

#[test]
fn eadd_rules() {
    let base = || vec![ecreate(1, 0x4000), eadd(0x1000, 0x203)];
    let with = |r: Vec<u8>| {
        let mut p = base();
        p.push(r);
        invalid_at(&stream(&p))
    };
    assert_eq!(
        with(eadd(0x2800, 0x203)),
        (2, 128, Violation::EaddMisaligned { offset: 0x2800 })
    );
    assert_eq!(
        with(eadd(0x1000, 0x203)).2,
        Violation::EaddNotIncreasing {
            offset: 0x1000,
            previous: 0x1000
        }
    );
    assert_eq!(
        with(eadd(0x0, 0x203)).2,
        Violation::EaddNotIncreasing {
            offset: 0,
            previous: 0x1000
        }
    );
    assert_eq!(
        with(eadd(0x4000, 0x203)).2,
        Violation::EaddBeyondSize {
            offset: 0x4000,
            size: 0x4000
        }
    );
    for flags in [0x101, 0x102, 0x104, 0x107] {
        let v = with(eadd(0x2000, flags)).2;
        assert!(matches!(v, Violation::EaddFlags { .. }), "{flags:#x}: {v}");
        assert!(v.to_string().contains("TCS"), "{v}");
    }
    assert!(matches!(
        with(eadd(0x2000, 0x303)).2,
        Violation::EaddFlags { .. }
    ));
    assert!(matches!(
        with(eadd(0x2000, 0x10203)).2,
        Violation::EaddFlags { .. }
    ));
}

#[test]
fn eadd_secinfo_rules_match_linux() {
    let with = |flags| invalid_at(&stream(&[ecreate(1, 0x4000), eadd(0x1000, flags)]));
    // W without R (also with X): Linux and the simulator refuse these pages, so a stream with
    // them can never load.
    for flags in [0x202, 0x206] {
        let (i, o, v) = with(flags);
        assert_eq!((i, o), (1, 64));
        assert_eq!(
            v,
            Violation::EaddFlags {
                offset: 0x1000,
                flags,
                reason: SecinfoFlags(flags).eadd_problem().unwrap().rule(),
            }
        );
        assert!(v.to_string().contains("W without R"), "{v}");
    }
    // EDMM state bits are not for EADD.
    for bit in [
        SecinfoFlags::PENDING,
        SecinfoFlags::MODIFIED,
        SecinfoFlags::PR,
    ] {
        let v = with(0x203 | bit.bits()).2;
        assert!(v.to_string().contains("EDMM-state"), "{v}");
    }
    // The writer refuses it too.
    let mut w = SgxsWriter::new(Vec::new(), 1, 0x4000).unwrap();
    let e = w.eadd(0x1000, SecinfoFlags(0x202)).unwrap_err();
    assert!(e.to_string().contains("W without R"), "{e}");
}

#[test]
fn extend_rules() {
    let s = stream(&[ecreate(1, 0x4000), extend(tag::EEXTEND, 0, 0)]);
    assert_eq!(
        invalid_at(&s).2,
        Violation::ExtendWithoutEadd {
            record: "EEXTEND",
            offset: 0
        }
    );
    let base = || {
        vec![
            ecreate(1, 0x4000),
            eadd(0x1000, 0x203),
            extend(tag::EEXTEND, 0x1100, 1),
        ]
    };
    let with = |r: Vec<u8>| {
        let mut p = base();
        p.push(r);
        invalid_at(&stream(&p))
    };
    assert_eq!(
        with(extend(tag::EEXTEND, 0x1180, 0)),
        (
            3,
            128 + 320,
            Violation::ExtendMisaligned {
                record: "EEXTEND",
                offset: 0x1180
            }
        )
    );
    assert_eq!(
        with(extend(tag::EEXTEND, 0x2000, 0)).2,
        Violation::ExtendOutsidePage {
            record: "EEXTEND",
            offset: 0x2000,
            page: 0x1000
        }
    );
    assert_eq!(
        with(extend(tag::UNMEASRD, 0x0f00, 0)).2,
        Violation::ExtendOutsidePage {
            record: "UNMEASRD",
            offset: 0x0f00,
            page: 0x1000
        }
    );
    assert_eq!(
        with(extend(tag::EEXTEND, 0x1100, 0)).2,
        Violation::ExtendRepeated {
            record: "EEXTEND",
            offset: 0x1100
        }
    );
    assert_eq!(
        with(extend(tag::UNMEASRD, 0x1100, 0)).2,
        Violation::ExtendRepeated {
            record: "UNMEASRD",
            offset: 0x1100
        }
    );
}

#[test]
fn truncation_is_named() {
    let good = stream(&[
        ecreate(1, 0x2000),
        eadd(0, 0x203),
        extend(tag::EEXTEND, 0, 9),
    ]);
    // Trailing partial header.
    let mut s = good.clone();
    s.extend_from_slice(&[0u8; 10]);
    match both_fail(&s) {
        SgxsError::Truncated {
            index,
            offset,
            part,
            available,
            ..
        } => {
            assert_eq!((index, offset, part, available), (3, 448, "header", 10));
        }
        other => panic!("{other}"),
    }
    // EEXTEND data cut short.
    match both_fail(&good[..good.len() - 100]) {
        SgxsError::Truncated {
            index,
            offset,
            part,
            needed,
            available,
        } => {
            assert_eq!(
                (index, offset, part, needed, available),
                (2, 192, "EEXTEND data", 256, 156)
            );
        }
        other => panic!("{other}"),
    }
}

#[test]
fn unsized_cannot_be_measured_but_can_be_read() {
    let mut u = ecreate(1, 0x1234);
    u[0..8].copy_from_slice(&tag::UNSIZED.to_le_bytes());
    let s = stream(&[u, eadd(0, 0x203)]);
    let err = measure_stream(&s[..]).unwrap_err();
    assert!(matches!(
        err,
        SgxsError::Unsized {
            ssa_frame_size: 1,
            size_offset: 0x1234
        }
    ));
    assert!(err.to_string().contains("UNSIZED"));
    let records: Vec<_> = SgxsReader::new(&s[..]).collect::<Result<_, _>>().unwrap();
    assert_eq!(
        records[0],
        Record::Unsized {
            ssa_frame_size: 1,
            size_offset: 0x1234
        }
    );
}

#[test]
fn unmeasured_records_are_not_hashed() {
    let measured = [
        ecreate(1, 0x2000),
        eadd(0, 0x203),
        extend(tag::EEXTEND, 0, 1),
    ];
    let s = stream(&[
        measured[0].clone(),
        measured[1].clone(),
        extend(tag::UNMEASRD, 0x100, 5),
        measured[2].clone(),
        extend(tag::UNMEASRD, 0x200, 6),
    ]);
    let m = measure_stream(&s[..]).unwrap();
    assert_eq!(
        m.mr_enclave,
        <[u8; 32]>::from(Sha256::digest(stream(&measured)))
    );
    assert_eq!((m.records.eextend, m.records.unmeasured), (1, 2));
}

/// More than two 4 MiB read blocks, with UNMEASRD records (header and data) straddling block
/// boundaries: the fast path must hash exactly the measured records.
#[test]
fn large_stream_with_unmeasured_chunks_matches_reference() {
    let mut w = SgxsWriter::new(Vec::new(), 2, 1 << 30).unwrap();
    let mut reference = Sha256::new();
    reference.update(ecreate(2, 1 << 30));
    for p in 0..3000u64 {
        let off = p * 4096;
        w.eadd(off, SecinfoFlags::REG_RW).unwrap();
        reference.update(eadd(off, 0x203));
        for c in 0..16u64 {
            let fill = (p * 16 + c) as u8;
            if (p * 16 + c) % 7 == 3 {
                w.unmeasured(off + c * 256, &[fill; 256]).unwrap();
            } else if (p + c) % 5 != 0 {
                w.eextend(off + c * 256, &[fill; 256]).unwrap();
                reference.update(extend(tag::EEXTEND, off + c * 256, fill));
            }
        }
    }
    let (bytes, writer_mr) = w.finish().unwrap();
    assert!(bytes.len() > 8 << 20, "{} bytes", bytes.len());
    let expected: [u8; 32] = reference.finalize().into();
    assert_eq!(writer_mr, expected);
    let m = measure_stream(&bytes[..]).unwrap();
    assert_eq!(m.mr_enclave, expected);
    assert_eq!(m.stream_bytes, bytes.len() as u64);
    assert_eq!(m.records.eadd, 3000);
}

#[test]
fn writer_rejects_what_the_reader_rejects() {
    assert!(SgxsWriter::new(Vec::new(), 1, 0x3000).is_err());
    let mut w = SgxsWriter::new(Vec::new(), 1, 0x4000).unwrap();
    w.eadd(0x1000, SecinfoFlags::REG_RW).unwrap();
    let e = w.eadd(0x1000, SecinfoFlags::REG_RW).unwrap_err();
    assert_eq!(e.to_string(), "invalid SGXS: record 2 at byte offset 0x80: EADD offset 0x1000 is not above the previous EADD offset 0x1000; pages must be added in strictly increasing order");
    assert!(w.eadd(0x2000, SecinfoFlags(0x107)).is_err());
    assert!(w.eextend(0x2000, &[0; 256]).is_err());
    w.eextend(0x1000, &[0; 256]).unwrap();
    assert!(w.eextend(0x1000, &[0; 256]).is_err());
    // Rejected records leave no trace.
    let (bytes, _) = w.finish().unwrap();
    assert_eq!(bytes.len(), 64 + 64 + 320);
    measure_stream(&bytes[..]).unwrap();
}
