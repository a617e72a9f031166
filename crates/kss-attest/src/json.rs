//! JSON renderings of REPORT bodies, quotes and PCK extensions (the schema of
//! `kss quote inspect --json`, documented in docs/quotes.md).
//!
//! Conventions:
//! - byte strings are lowercase hex; with [`ByteOrder::Stored`] in the order the bytes are
//!   stored in the structure, with [`ByteOrder::Intel`] reversed (the convention of Intel's
//!   QvE/QAL appraisal output, which prints byte arrays as little-endian numbers);
//! - bit fields (`misc_select`, `attributes.flags`, `attributes.xfrm`) are `"0x…"` strings
//!   (u64 values do not fit a JSON number exactly everywhere);
//! - counters (`isv_prod_id`, `isv_svn`, `config_svn`, versions, SVNs) are numbers;
//! - the 16-byte KSS IDs also appear as `<field>_high_low`: `{"high": "0x…", "low": "0x…"}`
//!   where `low` is bytes 0..8 and `high` bytes 8..16, each read as a little-endian u64 (the
//!   `ISVFAMILYID_H`/`_L` convention of the Intel SDK's Enclave.xml and of Occlum). This form
//!   does not depend on the byte order option.

use crate::pck::{pck_leaf_of_chain, SgxExtension};
use crate::quote::{Quote, QuoteBody, TdReport, TEE_TYPE_TDX};
use kss_types::{AttributeFlags, Id128, ReportBody};
use serde_json::{json, Map, Value};

/// How byte strings are written as hex.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ByteOrder {
    /// As stored in the structure (byte 0 first). The default.
    #[default]
    Stored,
    /// Reversed (last byte first), like Intel QvE/QAL output.
    Intel,
}

impl ByteOrder {
    /// Hex of `bytes` in this order.
    pub fn hex(self, bytes: &[u8]) -> String {
        match self {
            ByteOrder::Stored => hex::encode(bytes),
            ByteOrder::Intel => {
                let mut v = bytes.to_vec();
                v.reverse();
                hex::encode(v)
            }
        }
    }

    /// Lowercase name: `"stored"` or `"intel"`.
    pub fn name(self) -> &'static str {
        match self {
            ByteOrder::Stored => "stored",
            ByteOrder::Intel => "intel",
        }
    }
}

/// `{"high": "0x…", "low": "0x…"}` for a 16-byte KSS ID.
pub fn id_high_low_json(id: &Id128) -> Value {
    json!({
        "high": format!("{:#018x}", id.high()),
        "low": format!("{:#018x}", id.low()),
    })
}

/// Names of the set attribute flags, e.g. `["INIT", "MODE64BIT", "KSS"]`, plus `"0x…"` for
/// unknown bits.
pub fn attribute_flag_names(flags: AttributeFlags) -> Vec<String> {
    let mut names = Vec::new();
    let mut known = 0u64;
    for (flag, name) in AttributeFlags::NAMES {
        known |= flag.bits();
        if flags.contains(*flag) {
            names.push((*name).to_string());
        }
    }
    let unknown = flags.bits() & !known;
    if unknown != 0 {
        names.push(format!("{unknown:#x}"));
    }
    names
}

/// A REPORT body as JSON: `cpu_svn`, `misc_select`, `attributes` {`flags`, `xfrm`,
/// `flag_names`}, `mr_enclave`, `mr_signer`, `isv_prod_id`, `isv_svn`, `config_id`,
/// `config_svn`, `isv_family_id`, `isv_family_id_high_low`, `isv_ext_prod_id`,
/// `isv_ext_prod_id_high_low`, `report_data`, `debug`, `kss`.
pub fn report_body_json(body: &ReportBody, order: ByteOrder) -> Value {
    let flags = body.attributes.flags;
    json!({
        "cpu_svn": order.hex(&body.cpu_svn.0),
        "misc_select": format!("{:#x}", body.misc_select.0),
        "attributes": {
            "flags": format!("{:#x}", flags.bits()),
            "xfrm": format!("{:#x}", body.attributes.xfrm),
            "flag_names": attribute_flag_names(flags),
        },
        "mr_enclave": order.hex(&body.mr_enclave),
        "mr_signer": order.hex(&body.mr_signer),
        "isv_prod_id": body.isv_prod_id,
        "isv_svn": body.isv_svn,
        "config_id": order.hex(&body.config_id.0),
        "config_svn": body.config_svn,
        "isv_family_id": order.hex(&body.isv_family_id.0),
        "isv_family_id_high_low": id_high_low_json(&body.isv_family_id),
        "isv_ext_prod_id": order.hex(&body.isv_ext_prod_id.0),
        "isv_ext_prod_id_high_low": id_high_low_json(&body.isv_ext_prod_id),
        "report_data": order.hex(&body.report_data),
        "debug": flags.contains(AttributeFlags::DEBUG),
        "kss": flags.contains(AttributeFlags::KSS),
    })
}

/// A TD report as JSON (hex fields; RTMRs as a list).
pub fn td_report_json(td: &TdReport, order: ByteOrder) -> Value {
    let mut v = json!({
        "tee_tcb_svn": order.hex(&td.tee_tcb_svn),
        "mr_seam": order.hex(&td.mr_seam),
        "mr_signer_seam": order.hex(&td.mr_signer_seam),
        "seam_attributes": order.hex(&td.seam_attributes),
        "td_attributes": order.hex(&td.td_attributes),
        "xfam": order.hex(&td.xfam),
        "mr_td": order.hex(&td.mr_td),
        "mr_config_id": order.hex(&td.mr_config_id),
        "mr_owner": order.hex(&td.mr_owner),
        "mr_owner_config": order.hex(&td.mr_owner_config),
        "rtmr": td.rtmr.iter().map(|r| order.hex(r)).collect::<Vec<_>>(),
        "report_data": order.hex(&td.report_data),
    });
    if let (Some(svn2), Some(service), Some(map)) =
        (td.tee_tcb_svn2, td.mr_service_td, v.as_object_mut())
    {
        map.insert("tee_tcb_svn2".into(), Value::String(order.hex(&svn2)));
        map.insert("mr_service_td".into(), Value::String(order.hex(&service)));
    }
    v
}

/// The SGX extension of a PCK certificate as JSON: `fmspc`, `pce_id`, `pce_svn`,
/// `tcb_comp_svn` (16 numbers), `cpu_svn`, `ppid`, `sgx_type`, `sgx_type_name`,
/// `platform_instance_id` (or null), `configuration` (or null). Always stored byte order.
pub fn sgx_extension_json(ext: &SgxExtension) -> Value {
    json!({
        "fmspc": hex::encode(ext.fmspc),
        "pce_id": hex::encode(ext.pce_id),
        "pce_svn": ext.tcb.pce_svn,
        "tcb_comp_svn": ext.tcb.comp_svn.to_vec(),
        "cpu_svn": hex::encode(ext.tcb.cpu_svn),
        "ppid": hex::encode(ext.ppid),
        "sgx_type": ext.sgx_type,
        "sgx_type_name": ext.sgx_type_name(),
        "platform_instance_id": ext.platform_instance_id.map(hex::encode),
        "configuration": ext.configuration.map(|c| json!({
            "dynamic_platform": c.dynamic_platform,
            "cached_keys": c.cached_keys,
            "smt_enabled": c.smt_enabled,
        })),
    })
}

/// A whole quote as JSON. Keys: `tee` ("SGX"/"TDX"), `version`, `att_key_type`, `tee_type`,
/// `qe_svn`, `pce_svn`, `qe_vendor_id`, `user_data`, `report_body` (SGX, else null),
/// `td_report` (TDX, else null), `qe_report_body`, `isv_signature`, `attestation_key`,
/// `qe_report_signature`, `qe_auth_data`, `certification_data_type`,
/// `outer_certification_data_type` (6 or null), `certification_data_len`, `pck` (the parsed PCK
/// leaf SGX extension, or null), `pck_error` (why `pck` is null despite a type-5 chain, or null),
/// `quote_len`, `byte_order`. Header and report byte strings follow `order`; signatures, keys
/// and PCK fields are always in stored order.
pub fn quote_json(quote: &Quote, order: ByteOrder) -> Value {
    let h = &quote.header;
    let s = &quote.signature;
    let (pck, pck_error) = match quote.pck_chain_pem().map(pck_leaf_of_chain) {
        Some(Ok((_, ext))) => (sgx_extension_json(&ext), Value::Null),
        Some(Err(e)) => (Value::Null, Value::String(e.to_string())),
        None => (Value::Null, Value::Null),
    };
    let mut m = Map::new();
    let tee = if h.tee_type == TEE_TYPE_TDX {
        "TDX"
    } else {
        "SGX"
    };
    m.insert("tee".into(), json!(tee));
    m.insert("version".into(), json!(h.version));
    m.insert("att_key_type".into(), json!(h.att_key_type));
    m.insert("tee_type".into(), json!(h.tee_type));
    m.insert("qe_svn".into(), json!(h.qe_svn));
    m.insert("pce_svn".into(), json!(h.pce_svn));
    m.insert("qe_vendor_id".into(), json!(order.hex(&h.qe_vendor_id)));
    m.insert("user_data".into(), json!(order.hex(&h.user_data)));
    let (report, td) = match &quote.body {
        QuoteBody::Sgx(b) => (report_body_json(b, order), Value::Null),
        QuoteBody::Td10(t) | QuoteBody::Td15(t) => (Value::Null, td_report_json(t, order)),
    };
    m.insert("report_body".into(), report);
    m.insert("td_report".into(), td);
    m.insert(
        "qe_report_body".into(),
        report_body_json(&s.qe_report, order),
    );
    m.insert("isv_signature".into(), json!(hex::encode(s.isv_signature)));
    m.insert(
        "attestation_key".into(),
        json!(hex::encode(s.attestation_key)),
    );
    m.insert(
        "qe_report_signature".into(),
        json!(hex::encode(s.qe_report_signature)),
    );
    m.insert("qe_auth_data".into(), json!(hex::encode(&s.qe_auth_data)));
    m.insert(
        "certification_data_type".into(),
        json!(s.certification.cert_type),
    );
    m.insert(
        "outer_certification_data_type".into(),
        json!(s.outer_cert_type),
    );
    m.insert(
        "certification_data_len".into(),
        json!(s.certification.data.len()),
    );
    m.insert("pck".into(), pck);
    m.insert("pck_error".into(), pck_error);
    m.insert("quote_len".into(), json!(quote.raw().len()));
    m.insert("byte_order".into(), json!(order.name()));
    Value::Object(m)
}
