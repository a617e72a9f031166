//! The quote and PCK-extension parsers never panic: random bytes, every truncation of real
//! quotes, and single-byte mutations of real quotes (rendering to JSON included).

use kss_attest::json::{quote_json, ByteOrder};
use kss_attest::pck::parse_sgx_extension;
use kss_attest::quote::{Quote, QuoteError};
use proptest::prelude::*;

const TESTDATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata");

const QUOTES: &[&str] = &[
    "phala-dcap-qvl/sgx_quote",
    "phala-dcap-qvl/tdx_quote",
    "phala-dcap-qvl/tdx_quote_outdated",
    "aggregion-occlum-sgx-quote/quote.raw",
    "intel-qvl-sampledata/quote.dat",
    "fortanix-rust-sgx/dcap-ql/quote_raw_tcb.bin",
    "oasis-core/quote_v4_tdx_ecdsa_p256.bin",
];

fn load(rel: &str) -> Vec<u8> {
    std::fs::read(format!("{TESTDATA}/{rel}")).unwrap()
}

fn real_quotes() -> Vec<Vec<u8>> {
    QUOTES.iter().map(|q| load(q)).collect()
}

/// Parses and, on success, renders (which also parses the PCK chain): neither may panic.
fn exercise(bytes: &[u8]) -> Result<(), QuoteError> {
    let q = Quote::parse_allow_trailing(bytes)?;
    let _ = quote_json(&q, ByteOrder::Intel);
    Quote::parse(bytes).map(|_| ())
}

#[test]
fn every_truncation_of_real_quotes_is_an_error() {
    for (name, q) in QUOTES.iter().zip(real_quotes()) {
        // phala's TDX v4 sample has trailing bytes; use the quote proper.
        let len = Quote::parse_allow_trailing(&q).unwrap().raw().len();
        for cut in 0..len {
            let err = exercise(&q[..cut]).expect_err(name);
            assert!(
                !matches!(err, QuoteError::TrailingBytes { .. }),
                "{name} cut at {cut}: {err}"
            );
        }
    }
}

#[test]
fn error_messages_name_field_and_offset() {
    let q = load("phala-dcap-qvl/sgx_quote");
    let err = Quote::parse(&q[..500]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "quote: field `signature_data` at offset 436 needs 4164 bytes but only 64 remain (the quote or its enclosing length field is too short)"
    );
    let mut bad = q.clone();
    bad[0] = 9;
    assert_eq!(
        Quote::parse(&bad).unwrap_err().to_string(),
        "quote: field `version` at offset 0 is 9; expected 3, 4 or 5"
    );
    // certification data type at 1014 + 32 = 1046 set to 6 in a v3 quote.
    let mut bad = q.clone();
    bad[1046] = 6;
    assert_eq!(
        Quote::parse(&bad).unwrap_err(),
        QuoteError::BadCertificationType {
            field: "certification_data_type",
            offset: 1046,
            value: 6,
            expected: "1..=5 (PPID or PCK certificate data)"
        }
    );
    // signature_data_len one larger than the content: the quote is one byte short.
    let mut bad = q.clone();
    bad[432] += 1;
    assert!(matches!(
        Quote::parse(&bad).unwrap_err(),
        QuoteError::Truncated {
            field: "signature_data",
            offset: 436,
            ..
        }
    ));
    // ... and with one byte appended, the nested data ends one byte early.
    bad.push(0);
    assert_eq!(
        Quote::parse(&bad).unwrap_err(),
        QuoteError::LengthMismatch {
            field: "signature_data_len",
            offset: 432,
            declared: 4165,
            actual: 4164
        }
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = exercise(&bytes);
        let _ = parse_sgx_extension(&bytes);
    }

    #[test]
    fn random_bytes_behind_a_valid_header_never_panic(
        version in 3u16..=5,
        tee in prop_oneof![Just(0u32), Just(0x81u32)],
        tail in proptest::collection::vec(any::<u8>(), 0..1600),
    ) {
        let mut q = Vec::new();
        q.extend_from_slice(&version.to_le_bytes());
        q.extend_from_slice(&2u16.to_le_bytes());
        q.extend_from_slice(&tee.to_le_bytes());
        q.extend_from_slice(&[0u8; 40]);
        q.extend_from_slice(&tail);
        let _ = exercise(&q);
    }

    #[test]
    fn single_byte_mutations_never_panic(
        which in 0..QUOTES.len(),
        pos in any::<prop::sample::Index>(),
        value in any::<u8>(),
    ) {
        let mut q = load(QUOTES[which]);
        let i = pos.index(q.len());
        q[i] = value;
        let _ = exercise(&q);
    }

    #[test]
    fn length_field_mutations_never_panic(
        which in 0..QUOTES.len(),
        field in prop_oneof![Just(432usize), Just(1012), Just(1016), Just(1018), Just(1048), Just(1020)],
        value in any::<u32>(),
    ) {
        let mut q = load(QUOTES[which]);
        if field + 4 <= q.len() {
            q[field..field + 4].copy_from_slice(&value.to_le_bytes());
        }
        let _ = exercise(&q);
    }

    #[test]
    fn sgx_extension_mutations_never_panic(
        pos in any::<prop::sample::Index>(),
        value in any::<u8>(),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut der = load("automata-dcap-rs/sgx_x509_extension.der");
        let i = pos.index(der.len());
        der[i] = value;
        let _ = parse_sgx_extension(&der);
        let c = cut.index(der.len());
        let _ = parse_sgx_extension(&der[..c]);
    }
}
