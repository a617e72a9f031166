//! `kss inspect sealed FILE [--json]`: show the metadata of a sealed blob (no secrets).

use crate::error::{CliError, CliResult};
use crate::util::{print_json, read_file};
use kss_seal::{KeySourceError, SealError, SealedData, SealedInfo};
use std::path::PathBuf;
use std::process::ExitCode;

/// Show the metadata of a sealed blob (Intel SDK sgx_sealed_data_t layout) without unsealing it.
///
/// Prints who can unseal it (the key policy, by name and bits, and the preset it matches), the
/// ISVSVN, CONFIGSVN and CPUSVN it was sealed at (enclaves at these versions or newer can
/// unseal), the KEYID, the attribute and MISCSELECT masks, and the encrypted, AAD and total
/// sizes. Never prints the ciphertext, the tag or the AAD. Exits 2 if the file is not a
/// well-formed sealed blob.
#[derive(clap::Args)]
pub struct Args {
    /// The sealed file, as written by `kss enclave seal` or an Intel SGX SDK enclave.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Print the metadata as JSON on stdout instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Runs the command.
pub fn run(args: Args) -> CliResult {
    let bytes = read_file(&args.file, "sealed blob", kss_io::limits::SEALED)?;
    let sealed = SealedData::parse(&bytes).map_err(|e| {
        sealed_error(e).hint("the file must be a whole sgx_sealed_data_t blob: 560-byte header, then ciphertext and AAD")
            .input_name(args.file.display().to_string())
    })?;
    let info = sealed.inspect();
    if args.json {
        print_json(&info_json(&info));
    } else {
        println!("sealed blob:     {}", args.file.display());
        print!("{info}");
    }
    Ok(ExitCode::SUCCESS)
}

/// The JSON form of [`SealedInfo`] (keys in this order).
#[derive(serde::Serialize)]
struct SealedJson {
    key_policy: KeyPolicyJson,
    key_name: u16,
    key_name_text: String,
    isv_svn: u16,
    config_svn: u16,
    cpu_svn: String,
    key_id: String,
    attribute_mask: MaskJson,
    misc_mask: String,
    sizes: SizesJson,
    mac_only: bool,
}

/// The key policy of [`SealedJson`]: bits, names, the preset it matches, who can unseal.
#[derive(serde::Serialize)]
struct KeyPolicyJson {
    bits: String,
    names: String,
    preset: Option<&'static str>,
    who_can_unseal: String,
}

/// ATTRIBUTEMASK of [`SealedJson`], each half as `0x` and 16 hex digits.
#[derive(serde::Serialize)]
struct MaskJson {
    flags: String,
    xfrm: String,
}

/// Sizes of [`SealedJson`], in bytes.
#[derive(serde::Serialize)]
struct SizesJson {
    encrypted: usize,
    aad: usize,
    header: usize,
    total: usize,
}

/// The JSON form of [`SealedInfo`] (hex strings for byte fields, numbers for sizes).
pub fn info_json(info: &SealedInfo) -> serde_json::Value {
    let view = SealedJson {
        key_policy: KeyPolicyJson {
            bits: format!("{:#06x}", info.policy.0),
            names: info.policy_names(),
            preset: info.preset.map(|p| p.name()),
            who_can_unseal: info.who_can_unseal(),
        },
        key_name: info.key_name,
        key_name_text: info.key_name_text(),
        isv_svn: info.isv_svn,
        config_svn: info.config_svn,
        cpu_svn: info.cpu_svn_hex(),
        key_id: info.key_id_hex(),
        attribute_mask: MaskJson {
            flags: format!("{:#018x}", info.attribute_mask.flags.0),
            xfrm: format!("{:#018x}", info.attribute_mask.xfrm),
        },
        misc_mask: format!("{:#010x}", info.misc_mask),
        sizes: SizesJson {
            encrypted: info.encrypted_len,
            aad: info.aad_len,
            header: kss_seal::format::HEADER_SIZE,
            total: info.total_len,
        },
        mac_only: info.encrypted_len == 0,
    };
    serde_json::to_value(view).unwrap_or(serde_json::Value::Null)
}

/// Maps a sealing error to a CLI error: bad files, policies and sizes are input errors (exit 2),
/// a blob this enclave may not open is a rejection (exit 1), I/O and an unavailable enclave are
/// environment errors (exit 3). For use by every sealing command.
pub fn sealed_error(e: SealError) -> CliError {
    let message = e.to_string();
    match e {
        SealError::Io { .. } | SealError::KeySource(KeySourceError::Unavailable { .. }) => {
            CliError::environment(message)
        }
        SealError::MacMismatch { .. } => CliError::rejected(message).hint(
            "check that this enclave matches the blob's policy: `kss inspect sealed FILE` shows it",
        ),
        SealError::SvnTooLow { .. } | SealError::CpuSvnTooNew { .. } => CliError::rejected(message)
            .hint("run a version of the enclave (or platform) at least as new as the one that sealed the data"),
        SealError::KeySource(_) => CliError::rejected(message),
        SealError::UnknownPolicy { .. } | SealError::InvalidPolicy { .. } => CliError::input(message)
            .hint("policies: default, enclave, signer, config, family, product, or a list like mrsigner,configid"),
        _ => CliError::input(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kss_types::{KeyPolicy, KeyRequest};

    /// A hand-built blob: SEAL request with policy `family`, 5 encrypted + 3 AAD bytes.
    fn blob() -> Vec<u8> {
        let request = KeyRequest {
            key_name: 4,
            key_policy: KeyPolicy(0x16),
            isv_svn: 3,
            config_svn: 9,
            key_id: [0xAB; 32],
            misc_mask: 0xF000_0000,
            attribute_mask: kss_types::Attributes::new(0xFF00_0000_0000_000B, 0),
            ..KeyRequest::default()
        };
        let mut b = request.to_bytes().to_vec();
        b.extend_from_slice(&5u32.to_le_bytes());
        b.extend_from_slice(&[0; 12]);
        b.extend_from_slice(&8u32.to_le_bytes());
        b.extend_from_slice(&[0; 12]);
        b.extend_from_slice(&[0xCD; 16]);
        b.extend_from_slice(b"CIPHRaad");
        b
    }

    #[test]
    fn json_view_has_policy_svns_and_sizes() {
        let bytes = blob();
        let info = SealedData::parse(&bytes).unwrap().inspect();
        let v = info_json(&info);
        assert_eq!(v["key_policy"]["bits"], "0x0016");
        assert_eq!(v["key_policy"]["names"], "mrsigner,noisvprodid,isvfamilyid");
        assert_eq!(v["key_policy"]["preset"], "family");
        assert_eq!(v["isv_svn"], 3);
        assert_eq!(v["config_svn"], 9);
        assert_eq!(v["key_id"], "ab".repeat(32));
        assert_eq!(v["attribute_mask"]["flags"], "0xff0000000000000b");
        assert_eq!(v["sizes"]["encrypted"], 5);
        assert_eq!(v["sizes"]["aad"], 3);
        assert_eq!(v["sizes"]["total"], 568);
        // Bytes appear in JSON as hex: neither the ciphertext, the tag nor the AAD may.
        let json = v.to_string();
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        for secret in [&b"CIPHR"[..], &[0xCD; 16], b"aad"] {
            assert!(!json.contains(&hex(secret)), "{json}");
        }
    }

    #[test]
    fn run_reads_file_and_rejects_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.sealed");
        std::fs::write(&good, blob()).unwrap();
        assert!(run(Args {
            file: good,
            json: true
        })
        .is_ok());
        let bad = dir.path().join("bad.sealed");
        std::fs::write(&bad, &blob()[..300]).unwrap();
        let e = run(Args {
            file: bad,
            json: false,
        })
        .unwrap_err();
        assert_eq!(e.status, crate::error::status::INPUT);
        assert!(e.message.contains("300 bytes"), "{}", e.message);
        let missing = dir.path().join("missing");
        assert!(run(Args {
            file: missing,
            json: false
        })
        .is_err());
    }

    #[test]
    fn error_statuses() {
        let mac = sealed_error(SealError::MacMismatch {
            policy: KeyPolicy::MRSIGNER,
        });
        assert_eq!(mac.status, crate::error::status::REJECTED);
        let svn = sealed_error(SealError::SvnTooLow {
            field: "CONFIGSVN",
            sealed: 2,
            current: 1,
        });
        assert_eq!(svn.status, crate::error::status::REJECTED);
        let fmt = sealed_error(SealError::EmptyPlaintext);
        assert_eq!(fmt.status, crate::error::status::INPUT);
        let env = sealed_error(SealError::KeySource(KeySourceError::unavailable(
            std::io::Error::other("x"),
        )));
        assert_eq!(env.status, crate::error::status::ENVIRONMENT);
    }
}
