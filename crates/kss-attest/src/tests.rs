//! Tests that need the crate's internals (the X.509 parser, the JSON slicer, the time parser).

mod verify_collateral;
mod verify_parts;
mod verify_proptest;
mod x509_shallow_parse;
