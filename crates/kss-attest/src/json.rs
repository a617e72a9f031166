//! JSON renderings of REPORT bodies, quotes and PCK extensions (the schema of
//! `kss quote inspect --json`, documented in docs/quotes.md), each a `Serialize` type whose
//! field order is the key order.
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
//!
//! REPORT bodies are rendered by [`crate::render::ReportBodyView`], the one renderer every
//! command uses for text and JSON.

use crate::origin::quote_is_simulated;
use crate::pck::{pck_leaf_of_chain, PlatformConfiguration, SgxExtension};
use crate::quote::{Quote, QuoteBody, TdReport, TEE_TYPE_TDX};
pub use crate::render::{attribute_flag_names, ByteOrder, IdHighLow, ReportBodyView};
use kss_types::{Id128, ReportBody};
use serde::Serialize;
use serde_json::Value;

/// `{"high": "0x…", "low": "0x…"}` for a 16-byte KSS ID.
pub fn id_high_low_json(id: &Id128) -> Value {
    serde_json::to_value(IdHighLow::new(id)).unwrap_or(Value::Null)
}

/// A REPORT body as JSON ([`ReportBodyView`]): `cpu_svn`, `misc_select`, `attributes`
/// {`flags`, `xfrm`, `flag_names`}, `mr_enclave`, `mr_signer`, `isv_prod_id`, `isv_svn`,
/// `config_id`, `config_svn`, `isv_family_id`, `isv_family_id_high_low`, `isv_ext_prod_id`,
/// `isv_ext_prod_id_high_low`, `report_data`, `debug`, `kss`.
pub fn report_body_json(body: &ReportBody, order: ByteOrder) -> Value {
    ReportBodyView::new(body, order).to_json()
}

/// A TD report (TDX quotes): hex fields, RTMRs as a list; `tee_tcb_svn2` and `mr_service_td`
/// only for TD report 1.5.
#[derive(Debug, Clone, Serialize)]
pub struct TdReportView {
    /// TEE_TCB_SVN.
    pub tee_tcb_svn: String,
    /// MRSEAM.
    pub mr_seam: String,
    /// MRSIGNERSEAM.
    pub mr_signer_seam: String,
    /// SEAMATTRIBUTES.
    pub seam_attributes: String,
    /// TDATTRIBUTES.
    pub td_attributes: String,
    /// XFAM.
    pub xfam: String,
    /// MRTD.
    pub mr_td: String,
    /// MRCONFIGID.
    pub mr_config_id: String,
    /// MROWNER.
    pub mr_owner: String,
    /// MROWNERCONFIG.
    pub mr_owner_config: String,
    /// RTMR0..3.
    pub rtmr: Vec<String>,
    /// REPORTDATA.
    pub report_data: String,
    /// TEE_TCB_SVN2 (TD report 1.5).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tee_tcb_svn2: Option<String>,
    /// MRSERVICETD (TD report 1.5).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mr_service_td: Option<String>,
}

impl TdReportView {
    /// The view of `td`, byte strings in `order`.
    pub fn new(td: &TdReport, order: ByteOrder) -> Self {
        // Both 1.5 fields or neither, as before.
        let (svn2, service) = match (td.tee_tcb_svn2, td.mr_service_td) {
            (Some(a), Some(b)) => (Some(order.hex(&a)), Some(order.hex(&b))),
            _ => (None, None),
        };
        TdReportView {
            tee_tcb_svn: order.hex(&td.tee_tcb_svn),
            mr_seam: order.hex(&td.mr_seam),
            mr_signer_seam: order.hex(&td.mr_signer_seam),
            seam_attributes: order.hex(&td.seam_attributes),
            td_attributes: order.hex(&td.td_attributes),
            xfam: order.hex(&td.xfam),
            mr_td: order.hex(&td.mr_td),
            mr_config_id: order.hex(&td.mr_config_id),
            mr_owner: order.hex(&td.mr_owner),
            mr_owner_config: order.hex(&td.mr_owner_config),
            rtmr: td.rtmr.iter().map(|r| order.hex(r)).collect(),
            report_data: order.hex(&td.report_data),
            tee_tcb_svn2: svn2,
            mr_service_td: service,
        }
    }
}

/// A TD report as JSON ([`TdReportView`]).
pub fn td_report_json(td: &TdReport, order: ByteOrder) -> Value {
    serde_json::to_value(TdReportView::new(td, order)).unwrap_or(Value::Null)
}

/// The platform configuration entry of a PCK's SGX extension.
#[derive(Debug, Clone, Serialize)]
pub struct PlatformConfigurationView {
    /// Dynamic platform.
    pub dynamic_platform: Option<bool>,
    /// Cached keys.
    pub cached_keys: Option<bool>,
    /// SMT enabled.
    pub smt_enabled: Option<bool>,
}

impl From<PlatformConfiguration> for PlatformConfigurationView {
    fn from(c: PlatformConfiguration) -> Self {
        PlatformConfigurationView {
            dynamic_platform: c.dynamic_platform,
            cached_keys: c.cached_keys,
            smt_enabled: c.smt_enabled,
        }
    }
}

/// The SGX extension of a PCK certificate. Always stored byte order.
#[derive(Debug, Clone, Serialize)]
pub struct SgxExtensionView {
    /// FMSPC, hex.
    pub fmspc: String,
    /// PCE-ID, hex.
    pub pce_id: String,
    /// PCESVN.
    pub pce_svn: u16,
    /// The 16 TCB component SVNs.
    pub tcb_comp_svn: Vec<u8>,
    /// CPUSVN, hex.
    pub cpu_svn: String,
    /// PPID, hex.
    pub ppid: String,
    /// SGX type (0 Standard, 1 Scalable, 2 ScalableWithIntegrity).
    pub sgx_type: u8,
    /// The SGX type's name.
    pub sgx_type_name: &'static str,
    /// Platform instance ID, hex (platform-CA PCKs).
    pub platform_instance_id: Option<String>,
    /// Platform configuration (platform-CA PCKs).
    pub configuration: Option<PlatformConfigurationView>,
}

impl SgxExtensionView {
    /// The view of `ext`.
    pub fn new(ext: &SgxExtension) -> Self {
        SgxExtensionView {
            fmspc: hex::encode(ext.fmspc),
            pce_id: hex::encode(ext.pce_id),
            pce_svn: ext.tcb.pce_svn,
            tcb_comp_svn: ext.tcb.comp_svn.to_vec(),
            cpu_svn: hex::encode(ext.tcb.cpu_svn),
            ppid: hex::encode(ext.ppid),
            sgx_type: ext.sgx_type,
            sgx_type_name: ext.sgx_type_name(),
            platform_instance_id: ext.platform_instance_id.map(hex::encode),
            configuration: ext.configuration.map(PlatformConfigurationView::from),
        }
    }
}

/// The SGX extension of a PCK certificate as JSON ([`SgxExtensionView`]): `fmspc`, `pce_id`,
/// `pce_svn`, `tcb_comp_svn` (16 numbers), `cpu_svn`, `ppid`, `sgx_type`, `sgx_type_name`,
/// `platform_instance_id` (or null), `configuration` (or null).
pub fn sgx_extension_json(ext: &SgxExtension) -> Value {
    serde_json::to_value(SgxExtensionView::new(ext)).unwrap_or(Value::Null)
}

/// A whole quote, as `kss quote inspect --json` prints it. Header and report byte strings
/// follow the byte order; signatures, keys and PCK fields are always in stored order.
#[derive(Debug, Clone, Serialize)]
pub struct QuoteView {
    /// `"SGX"` or `"TDX"`.
    pub tee: &'static str,
    /// The PCK chain ends in kss's simulated root CA ([`crate::origin`]): a simulated quote.
    pub simulated: bool,
    /// Header: version.
    pub version: u16,
    /// Header: attestation key type.
    pub att_key_type: u16,
    /// Header: TEE type.
    pub tee_type: u32,
    /// Header: QE SVN.
    pub qe_svn: u16,
    /// Header: PCE SVN.
    pub pce_svn: u16,
    /// Header: QE vendor ID, hex.
    pub qe_vendor_id: String,
    /// Header: user data, hex.
    pub user_data: String,
    /// The ISV enclave's REPORT body (SGX quotes).
    pub report_body: Option<ReportBodyView>,
    /// The TD report (TDX quotes).
    pub td_report: Option<TdReportView>,
    /// The QE's REPORT body.
    pub qe_report_body: ReportBodyView,
    /// ISV signature r‖s, hex.
    pub isv_signature: String,
    /// Attestation key x‖y, hex.
    pub attestation_key: String,
    /// QE report signature r‖s, hex.
    pub qe_report_signature: String,
    /// QE authentication data, hex.
    pub qe_auth_data: String,
    /// Certification data type (the inner one for v4/v5).
    pub certification_data_type: u16,
    /// 6 for v4/v5 (the wrapper type), none for v3.
    pub outer_certification_data_type: Option<u16>,
    /// Bytes of certification data.
    pub certification_data_len: usize,
    /// The PCK leaf's SGX extension, when the quote carries a readable chain.
    pub pck: Option<SgxExtensionView>,
    /// Why `pck` is null although a type-5 chain is present.
    pub pck_error: Option<String>,
    /// Bytes of the quote proper.
    pub quote_len: usize,
    /// `"stored"` or `"intel"`.
    pub byte_order: &'static str,
}

impl QuoteView {
    /// The view of `quote`, header and report byte strings in `order`.
    pub fn new(quote: &Quote, order: ByteOrder) -> Self {
        let h = &quote.header;
        let s = &quote.signature;
        let (pck, pck_error) = match quote.pck_chain_pem().map(pck_leaf_of_chain) {
            Some(Ok((_, ext))) => (Some(SgxExtensionView::new(&ext)), None),
            Some(Err(e)) => (None, Some(e.to_string())),
            None => (None, None),
        };
        let (report_body, td_report) = match &quote.body {
            QuoteBody::Sgx(b) => (Some(ReportBodyView::new(b, order)), None),
            QuoteBody::Td10(t) | QuoteBody::Td15(t) => (None, Some(TdReportView::new(t, order))),
        };
        QuoteView {
            tee: if h.tee_type == TEE_TYPE_TDX {
                "TDX"
            } else {
                "SGX"
            },
            simulated: quote_is_simulated(quote),
            version: h.version,
            att_key_type: h.att_key_type,
            tee_type: h.tee_type,
            qe_svn: h.qe_svn,
            pce_svn: h.pce_svn,
            qe_vendor_id: order.hex(&h.qe_vendor_id),
            user_data: order.hex(&h.user_data),
            report_body,
            td_report,
            qe_report_body: ReportBodyView::new(&s.qe_report, order),
            isv_signature: hex::encode(s.isv_signature),
            attestation_key: hex::encode(s.attestation_key),
            qe_report_signature: hex::encode(s.qe_report_signature),
            qe_auth_data: hex::encode(&s.qe_auth_data),
            certification_data_type: s.certification.cert_type,
            outer_certification_data_type: s.outer_cert_type,
            certification_data_len: s.certification.data.len(),
            pck,
            pck_error,
            quote_len: quote.raw().len(),
            byte_order: order.name(),
        }
    }
}

/// A whole quote as JSON ([`QuoteView`]). Keys: `tee` ("SGX"/"TDX"), `simulated` (the PCK
/// chain ends in kss's simulated root CA), `version`, `att_key_type`, `tee_type`, `qe_svn`,
/// `pce_svn`, `qe_vendor_id`, `user_data`, `report_body` (SGX, else null), `td_report` (TDX,
/// else null), `qe_report_body`, `isv_signature`, `attestation_key`, `qe_report_signature`,
/// `qe_auth_data`, `certification_data_type`, `outer_certification_data_type` (6 or null),
/// `certification_data_len`, `pck` (the parsed PCK leaf SGX extension, or null), `pck_error`
/// (why `pck` is null despite a type-5 chain, or null), `quote_len`, `byte_order`.
pub fn quote_json(quote: &Quote, order: ByteOrder) -> Value {
    serde_json::to_value(QuoteView::new(quote, order)).unwrap_or(Value::Null)
}
