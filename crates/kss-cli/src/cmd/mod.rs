//! One module per command. Each has `Args` (or a `Command` enum) and `run`.

pub mod attest;
pub mod build;
pub mod collateral;
pub mod completions;
pub mod config_id;
pub mod detect;
pub mod enclave;
pub mod inspect_sealed;
pub mod inspect_sigstruct;
pub mod keygen;
pub mod man;
pub mod measure;
pub mod new;
pub mod policy;
pub mod policy_instance;
pub mod quote;
pub mod run;
pub mod serve;
pub mod sign;
pub mod sim_ca;
pub mod sim_quoting;
pub mod token;
pub mod verify;
