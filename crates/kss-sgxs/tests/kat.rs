//! Known-answer tests: the KAT stream of `docs/sgx-reference.md` §5.1 and the real Fortanix test
//! enclave.

use kss_sgxs::{measure_stream, Record, SgxsReader, SgxsWriter};
use kss_types::SecinfoFlags;
use sha2::Digest;

const TEST_ENCLAVE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../testdata/fortanix-rust-sgx/sgx_detect/test_enclave.sgxs"
);
const TEST_ENCLAVE_MRENCLAVE: &str =
    "784acfd7d5096a8f0fbd3265760bff21b120f62407a9a9e5ba31aa3c8ed198fc";
const KAT_MRENCLAVE: &str = "2e1025dddd5bfdbc1c085d15feb88f775ea90701d6038dae1aad0f7f66d7b151";

/// `docs/sgx-reference.md` §5.1: ECREATE(ssa=1, size=0x2000); EADD(0, TCS) unmeasured;
/// EADD(0x1000, RW) with 16 EEXTENDs of zeros.
fn kat_stream() -> (Vec<u8>, [u8; 32]) {
    let mut w = SgxsWriter::new(Vec::new(), 1, 0x2000).unwrap();
    w.add_page(0, SecinfoFlags(0x100), None).unwrap();
    w.add_page(0x1000, SecinfoFlags(0x203), Some(&[0u8; 4096]))
        .unwrap();
    assert_eq!(w.bytes_written(), 64 * 3 + 16 * 320);
    assert_eq!(w.records_written(), 19);
    w.finish().unwrap()
}

#[test]
fn kat_via_writer() {
    let (bytes, mr) = kat_stream();
    assert_eq!(hex::encode(mr), KAT_MRENCLAVE);
    // Independent check: the stream is exactly the hashed bytes.
    assert_eq!(hex::encode(sha2::Sha256::digest(&bytes)), KAT_MRENCLAVE);
}

#[test]
fn kat_via_reader_and_measure() {
    let (bytes, _) = kat_stream();
    let m = measure_stream(&bytes[..]).unwrap();
    assert_eq!(hex::encode(m.mr_enclave), KAT_MRENCLAVE);
    assert_eq!((m.size, m.ssa_frame_size), (0x2000, 1));
    assert_eq!(
        (m.records.eadd, m.records.eextend, m.records.unmeasured),
        (2, 16, 0)
    );
    assert_eq!(m.stream_bytes, bytes.len() as u64);

    let records: Vec<Record> = SgxsReader::new(&bytes[..])
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(records.len(), 19);
    assert_eq!(
        records[0],
        Record::Ecreate {
            ssa_frame_size: 1,
            size: 0x2000
        }
    );
    assert_eq!(
        records[1],
        Record::Eadd {
            offset: 0,
            flags: SecinfoFlags::TCS
        }
    );
    assert_eq!(
        records[18],
        Record::Eextend {
            offset: 0x1f00,
            data: Box::new([0; 256])
        }
    );
}

#[test]
fn fortanix_test_enclave_measures() {
    let bytes = std::fs::read(TEST_ENCLAVE).unwrap();
    let m = measure_stream(std::fs::File::open(TEST_ENCLAVE).unwrap()).unwrap();
    assert_eq!(hex::encode(m.mr_enclave), TEST_ENCLAVE_MRENCLAVE);
    assert_eq!(m.stream_bytes, 46720);
    let n = SgxsReader::new(&bytes[..]).filter(|r| r.is_ok()).count() as u64;
    assert_eq!(
        n,
        1 + m.records.eadd + m.records.eextend + m.records.unmeasured
    );
}

#[test]
fn fortanix_test_enclave_rewritten_by_writer_is_identical() {
    let bytes = std::fs::read(TEST_ENCLAVE).unwrap();
    let mut records = SgxsReader::new(&bytes[..]);
    let Some(Ok(Record::Ecreate {
        ssa_frame_size,
        size,
    })) = records.next()
    else {
        panic!("test enclave does not start with ECREATE")
    };
    let mut w = SgxsWriter::new(Vec::new(), ssa_frame_size, size).unwrap();
    for r in records {
        match r.unwrap() {
            Record::Eadd { offset, flags } => w.eadd(offset, flags).unwrap(),
            Record::Eextend { offset, data } => w.eextend(offset, &data).unwrap(),
            Record::Unmeasured { offset, data } => w.unmeasured(offset, &data).unwrap(),
            other => panic!("unexpected record {other:?}"),
        }
    }
    let (out, mr) = w.finish().unwrap();
    assert_eq!(out, bytes);
    assert_eq!(hex::encode(mr), TEST_ENCLAVE_MRENCLAVE);
}

/// The record headers are declared once (`kss_types::layout!`); these pin what the
/// declarations derive against the SGXS format (`docs/sgx-reference.md`) and the real stream.
#[test]
fn record_header_layouts_are_pinned() {
    use kss_sgxs::{eadd, extend, sizing, tag, EaddHeader, ExtendHeader, SizingHeader};
    assert_eq!(
        (SizingHeader::SIZE, EaddHeader::SIZE, ExtendHeader::SIZE),
        (64, 64, 64)
    );
    assert_eq!(
        (
            sizing::TAG,
            sizing::SSA_FRAME_SIZE,
            sizing::ENCLAVE_SIZE,
            sizing::PADDING
        ),
        (0, 8, 12, 20)
    );
    assert_eq!(
        (eadd::TAG, eadd::OFFSET, eadd::FLAGS, eadd::SECINFO_RESERVED),
        (0, 8, 16, 24)
    );
    assert_eq!((extend::TAG, extend::OFFSET, extend::PADDING), (0, 8, 16));

    // The real Fortanix test enclave: its first record is ECREATE(ssa 1, size 0x40000), then
    // EADD, then EEXTEND headers, each decoded through the declared layouts.
    let bytes = std::fs::read(TEST_ENCLAVE).unwrap();
    let ecreate = SizingHeader::from_bytes(&bytes[..64]).unwrap();
    assert_eq!(
        (ecreate.tag, ecreate.ssa_frame_size, ecreate.size),
        (tag::ECREATE, 1, 0x40000)
    );
    assert_eq!(ecreate.padding, [0; 44]);
    assert_eq!(ecreate.to_bytes()[..], bytes[..64]);
    let first_eadd = SizingHeader::SIZE;
    let e = EaddHeader::from_bytes(&bytes[first_eadd..first_eadd + 64]).unwrap();
    assert_eq!(e.tag, tag::EADD);
    assert_eq!(e.to_bytes()[..], bytes[first_eadd..first_eadd + 64]);
    match SgxsReader::new(&bytes[..]).next().unwrap().unwrap() {
        Record::Ecreate {
            ssa_frame_size,
            size,
        } => assert_eq!((ssa_frame_size, size), (1, 0x40000)),
        other => panic!("first record {other:?}"),
    }
    let mut r = SgxsReader::new(&bytes[..]);
    r.next();
    match r.next().unwrap().unwrap() {
        Record::Eadd { offset, flags } => {
            assert_eq!((offset, flags.0), (e.offset, e.flags));
        }
        other => panic!("second record {other:?}"),
    }
    assert!(SizingHeader::from_bytes(&bytes[..63]).is_err());
}
