//! Stage 1, the quote: structure, attestation key type, QE vendor, the ISV signature and the QE
//! report's binding of the attestation key.

use crate::quote::{Quote, ATT_KEY_TYPE_ECDSA_P256, INTEL_QE_VENDOR_ID, TEE_TYPE_SGX};
use crate::verify::{Check, CheckId};
use crate::x509util::{key_from_xy, verify_p256_fixed};
use kss_types::ReportBody;
use sha2::{Digest, Sha256};

/// Checks the quote itself. Returns the enclave report body when the quote is one the
/// verifier handles (SGX, v3 or v4); `None` ends the verification.
pub(crate) fn check_quote(quote: &Quote, c: &mut Vec<Check>) -> Option<ReportBody> {
    let h = &quote.header;
    let body = match quote.report_body() {
        Some(b) if matches!(h.version, 3 | 4) && h.tee_type == TEE_TYPE_SGX => b.clone(),
        _ => {
            c.push(Check::fail(
                CheckId::QuoteStructure,
                format!(
                    "quote v{} with tee_type {:#x}: only SGX quotes v3 and v4 (tee_type 0) are verified",
                    h.version, h.tee_type
                ),
            ));
            return None;
        }
    };
    c.push(Check::pass(
        CheckId::QuoteStructure,
        format!("SGX quote v{}, {} bytes", h.version, quote.raw().len()),
    ));
    c.push(Check::from_bool(
        CheckId::QuoteAttKeyType,
        h.att_key_type == ATT_KEY_TYPE_ECDSA_P256,
        format!(
            "attestation key type {} (expected 2, ECDSA P-256)",
            h.att_key_type
        ),
    ));
    c.push(Check::from_bool(
        CheckId::QuoteQeVendorId,
        h.qe_vendor_id == INTEL_QE_VENDOR_ID,
        format!(
            "QE vendor ID {} (expected Intel's {})",
            hex::encode(h.qe_vendor_id),
            hex::encode(INTEL_QE_VENDOR_ID)
        ),
    ));
    let sig = &quote.signature;
    let att_key = key_from_xy(&sig.attestation_key);
    let isv_ok = verify_p256_fixed(&att_key, quote.signed_bytes(), &sig.isv_signature);
    c.push(Check::from_bool(
        CheckId::QuoteIsvSignature,
        isv_ok,
        if isv_ok {
            "the attestation key signed the quote header and enclave report".to_string()
        } else {
            "the quote signature over the header and enclave report is invalid: the quote was altered or not signed by its attestation key".to_string()
        },
    ));
    c.push(report_data_binding(quote));
    Some(body)
}

/// QE REPORTDATA must be SHA-256(attestation key || QE auth data) followed by 32 zero bytes.
fn report_data_binding(quote: &Quote) -> Check {
    let sig = &quote.signature;
    let mut hasher = Sha256::new();
    hasher.update(sig.attestation_key);
    hasher.update(&sig.qe_auth_data);
    let digest: [u8; 32] = hasher.finalize().into();
    let rd = &sig.qe_report.report_data;
    let bound = rd[..32] == digest && rd[32..] == [0u8; 32];
    Check::from_bool(
        CheckId::QeReportDataBinding,
        bound,
        if bound {
            "QE REPORTDATA = SHA-256(attestation key || QE auth data), then 32 zero bytes"
                .to_string()
        } else {
            format!(
                "QE REPORTDATA {} does not bind the attestation key: expected SHA-256(key || auth data) = {} followed by zeros",
                hex::encode(rd),
                hex::encode(digest)
            )
        },
    )
}
