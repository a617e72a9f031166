//! Property tests: random input never panics; writer → reader → measure round-trips.

use kss_sgxs::{measure_stream, Record, SgxsError, SgxsReader, SgxsWriter};
use kss_types::SecinfoFlags;
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Page {
    gap: u64,
    tcs: bool,
    perms: u64,
    /// Per chunk: 0 = absent, 1 = EEXTEND, 2 = UNMEASRD.
    chunks: Vec<u8>,
    fill: u8,
}

fn page() -> impl Strategy<Value = Page> {
    (
        0u64..4,
        any::<bool>(),
        // R, RW, X, RX, RWX: the permissions EADD accepts (W needs R).
        prop::sample::select(&[1u64, 3, 4, 5, 7][..]),
        prop::collection::vec(0u8..3, 16),
        any::<u8>(),
    )
        .prop_map(|(gap, tcs, perms, chunks, fill)| Page {
            gap,
            tcs,
            perms,
            chunks,
            fill,
        })
}

fn build(pages: &[Page]) -> (Vec<u8>, [u8; 32], Vec<Record>) {
    let mut w = SgxsWriter::new(Vec::new(), 1, 1 << 20).unwrap();
    let mut expected = vec![Record::Ecreate {
        ssa_frame_size: 1,
        size: 1 << 20,
    }];
    let mut off = 0u64;
    for p in pages {
        off += p.gap * 4096;
        let flags = if p.tcs {
            SecinfoFlags::TCS
        } else {
            SecinfoFlags(0x200 | p.perms)
        };
        w.eadd(off, flags).unwrap();
        expected.push(Record::Eadd { offset: off, flags });
        for (i, &c) in p.chunks.iter().enumerate() {
            let o = off + i as u64 * 256;
            let data = Box::new([p.fill.wrapping_add(i as u8); 256]);
            match c {
                1 => {
                    w.eextend(o, &data).unwrap();
                    expected.push(Record::Eextend { offset: o, data });
                }
                2 => {
                    w.unmeasured(o, &data).unwrap();
                    expected.push(Record::Unmeasured { offset: o, data });
                }
                _ => {}
            }
        }
        off += 4096;
    }
    let (bytes, mr) = w.finish().unwrap();
    (bytes, mr, expected)
}

proptest! {
    #[test]
    fn writer_reader_round_trip(pages in prop::collection::vec(page(), 0..12)) {
        let (bytes, mr, expected) = build(&pages);
        let records: Vec<Record> = SgxsReader::new(&bytes[..]).collect::<Result<_, _>>().unwrap();
        prop_assert_eq!(records, expected);
        let m = measure_stream(&bytes[..]).unwrap();
        prop_assert_eq!(m.mr_enclave, mr);
        prop_assert_eq!(m.stream_bytes, bytes.len() as u64);
    }

    #[test]
    fn truncation_never_panics_and_is_reported(pages in prop::collection::vec(page(), 1..6), cut in any::<prop::sample::Index>()) {
        let (bytes, _, _) = build(&pages);
        let n = cut.index(bytes.len());
        let short = &bytes[..n];
        let result = measure_stream(short);
        let reader_ok = SgxsReader::new(short).all(|r| r.is_ok());
        prop_assert_eq!(result.is_ok(), reader_ok);
        if n == 0 {
            prop_assert!(matches!(result, Err(SgxsError::Empty)));
        } else if let Err(e) = result {
            prop_assert!(matches!(e, SgxsError::Truncated { .. }), "{}", e);
        }
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = measure_stream(&bytes[..]);
        for r in SgxsReader::new(&bytes[..]) {
            let _ = r;
        }
    }

    #[test]
    fn mutated_streams_never_panic_and_agree(pages in prop::collection::vec(page(), 1..6), at in any::<prop::sample::Index>(), value in any::<u8>()) {
        let (mut bytes, _, _) = build(&pages);
        let i = at.index(bytes.len());
        bytes[i] = value;
        let fast = measure_stream(&bytes[..]).map_err(|e| e.to_string());
        let slow = SgxsReader::new(&bytes[..]).find_map(Result::err).map(|e| e.to_string());
        match (fast, slow) {
            (Ok(_), None) => {}
            (Err(a), Some(b)) => prop_assert_eq!(a, b),
            (a, b) => prop_assert!(false, "measure {:?} vs reader {:?}", a, b),
        }
    }
}
