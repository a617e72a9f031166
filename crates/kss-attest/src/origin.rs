//! Whether a quote was produced by kss's simulation: its PCK certificate chain ends in a
//! simulated root CA of `kss-sim-qe`.
//!
//! This reads certificate names only and checks no signature. It is a mark for display
//! (`kss quote inspect` says "simulated (kss sim CA)") and for hints (`kss verify` points at
//! `kss sim-ca export`), never a trust decision: whether a chain is trusted is decided by the
//! verifier against its trust roots, and a simulated root is trusted only when given
//! explicitly.

use crate::pck::parse_pem_chain;
use der::asn1::{PrintableStringRef, Utf8StringRef};
use der::oid::ObjectIdentifier;
use x509_cert::name::Name;
use x509_cert::Certificate;

/// The organization (O) in the subject of every certificate of kss's simulated PCK CA.
pub const SIMULATION_ORGANIZATION: &str = "KSS Simulation (not Intel)";

/// OID of the organizationName attribute (2.5.4.10).
const ORGANIZATION: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.10");

/// The root of a chain as read from the quote: its self-issued certificate, or else its last.
fn chain_root(chain: &[Certificate]) -> Option<&Certificate> {
    chain
        .iter()
        .find(|c| c.tbs_certificate.subject == c.tbs_certificate.issuer)
        .or_else(|| chain.last())
}

/// The organization names (O) of `name`, as text (UTF-8 or printable strings).
fn organizations(name: &Name) -> Vec<String> {
    name.0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .filter(|atv| atv.oid == ORGANIZATION)
        .filter_map(|atv| {
            atv.value
                .decode_as::<Utf8StringRef<'_>>()
                .map(|s| s.as_str().to_string())
                .or_else(|_| {
                    atv.value
                        .decode_as::<PrintableStringRef<'_>>()
                        .map(|s| s.as_str().to_string())
                })
                .ok()
        })
        .collect()
}

/// True when the PEM certificate chain `pem` (certification data type 5) ends in a root whose
/// subject organization is [`SIMULATION_ORGANIZATION`]: a chain of kss's simulated PCK CA.
/// False for any other chain and for text that is no chain.
pub fn chain_ends_in_simulation_root(pem: &[u8]) -> bool {
    let Ok(chain) = parse_pem_chain(pem) else {
        return false;
    };
    chain_root(&chain).is_some_and(|root| {
        organizations(&root.tbs_certificate.subject)
            .iter()
            .any(|o| o == SIMULATION_ORGANIZATION)
    })
}

/// True when `quote` carries a PCK chain (certification data type 5, also inside type 6) that
/// ends in kss's simulated root CA ([`chain_ends_in_simulation_root`]).
pub fn quote_is_simulated(quote: &crate::Quote) -> bool {
    quote
        .pck_chain_pem()
        .is_some_and(chain_ends_in_simulation_root)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn testdata(p: &str) -> Vec<u8> {
        std::fs::read(format!("{}/../../testdata/{p}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    #[test]
    fn intel_chains_are_not_simulated() {
        let q = crate::Quote::parse(&testdata("phala-dcap-qvl/sgx_quote")).unwrap();
        assert!(q.pck_chain_pem().is_some());
        assert!(!quote_is_simulated(&q));
        assert!(!chain_ends_in_simulation_root(b"not a chain"));
        assert!(!chain_ends_in_simulation_root(b""));
    }

    #[test]
    fn the_root_is_found_whatever_the_order() {
        // The Intel chain of a real quote: its root names Intel, not the simulation.
        let q = crate::Quote::parse(&testdata("phala-dcap-qvl/sgx_quote")).unwrap();
        let chain = parse_pem_chain(q.pck_chain_pem().unwrap()).unwrap();
        let root = chain_root(&chain).unwrap();
        assert_eq!(
            organizations(&root.tbs_certificate.subject),
            ["Intel Corporation"]
        );
        let reversed: Vec<Certificate> = chain.iter().rev().cloned().collect();
        assert_eq!(chain_root(&reversed).unwrap(), root);
    }
}
