//! The one rendering of an SGX REPORT body, for people (text) and for programs (JSON).
//!
//! Every command that shows a REPORT body (`kss quote inspect`, `kss enclave identity`,
//! `kss enclave verify-report`, `kss verify`, `kss attest`) goes through [`ReportBodyView`]: it
//! is built once from the body, serialized as the JSON object, and printed as text from the
//! very same strings, so that the two forms cannot disagree. The format (docs/quotes.md,
//! "Report body"):
//!
//! - labels are the JSON keys (`mr_enclave`, `config_svn`, …), in the same order;
//! - byte strings are lowercase hex without `0x`; with [`ByteOrder::Stored`] in the order the
//!   bytes are stored in the structure, with [`ByteOrder::Intel`] reversed;
//! - bit fields (`misc_select`, `attributes.flags`, `attributes.xfrm`) are minimal `0x…` hex;
//! - SVNs and product IDs (`isv_prod_id`, `isv_svn`, `config_svn`) are decimal numbers;
//! - the 16-byte KSS IDs also as `{high, low}`, each `0x` and 16 hex digits: `low` is bytes
//!   0..8, `high` bytes 8..16, each read as a little-endian u64 (Enclave.xml's
//!   `ISVFAMILYID_H`/`_L`, Occlum's `{high, low}`); independent of the byte order;
//! - attribute flag names in square brackets joined by `|`: `[INIT|MODE64BIT|KSS]`.

use kss_types::{AttributeFlags, Id128, ReportBody};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

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

/// A 16-byte KSS ID as `{"high": "0x…", "low": "0x…"}` (16 hex digits each).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdHighLow {
    /// Bytes 8..16 as a little-endian u64.
    pub high: String,
    /// Bytes 0..8 as a little-endian u64.
    pub low: String,
}

impl IdHighLow {
    /// The halves of `id`.
    pub fn new(id: &Id128) -> Self {
        IdHighLow {
            high: format!("{:#018x}", id.high()),
            low: format!("{:#018x}", id.low()),
        }
    }
}

/// `hex  (high 0x…, low 0x…)`: a 16-byte KSS ID for people, its stored-order hex (or `hex` as
/// given) followed by its halves.
pub fn id_text(hex: &str, halves: &IdHighLow) -> String {
    format!("{hex}  (high {}, low {})", halves.high, halves.low)
}

/// `hex  (high 0x…, low 0x…)` of `id` in stored order: the text form of a KSS ID wherever one
/// is shown (report bodies, `kss build`).
pub fn id128_text(id: &Id128) -> String {
    id_text(&hex::encode(id.0), &IdHighLow::new(id))
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

/// ATTRIBUTES of a report body: `{"flags": "0x…", "xfrm": "0x…", "flag_names": [..]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributesView {
    /// ATTRIBUTES.FLAGS as minimal `0x…` hex.
    pub flags: String,
    /// ATTRIBUTES.XFRM as minimal `0x…` hex.
    pub xfrm: String,
    /// Names of the set flags ([`attribute_flag_names`]).
    pub flag_names: Vec<String>,
}

/// A REPORT body as shown by every kss command: serialize it for JSON, [`ReportBodyView::text`]
/// for people. Field order is the JSON key order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportBodyView {
    /// CPUSVN, hex.
    pub cpu_svn: String,
    /// MISCSELECT, `0x…`.
    pub misc_select: String,
    /// ATTRIBUTES.
    pub attributes: AttributesView,
    /// MRENCLAVE, hex.
    pub mr_enclave: String,
    /// MRSIGNER, hex.
    pub mr_signer: String,
    /// ISVPRODID.
    pub isv_prod_id: u16,
    /// ISVSVN.
    pub isv_svn: u16,
    /// CONFIGID (KSS), hex.
    pub config_id: String,
    /// CONFIGSVN (KSS).
    pub config_svn: u16,
    /// ISVFAMILYID (KSS), hex.
    pub isv_family_id: String,
    /// ISVFAMILYID as `{high, low}`.
    pub isv_family_id_high_low: IdHighLow,
    /// ISVEXTPRODID (KSS), hex.
    pub isv_ext_prod_id: String,
    /// ISVEXTPRODID as `{high, low}`.
    pub isv_ext_prod_id_high_low: IdHighLow,
    /// REPORTDATA, hex.
    pub report_data: String,
    /// ATTRIBUTES.DEBUG is set.
    pub debug: bool,
    /// ATTRIBUTES.KSS is set.
    pub kss: bool,
}

impl ReportBodyView {
    /// The view of `body`, byte strings in `order`.
    pub fn new(body: &ReportBody, order: ByteOrder) -> Self {
        let flags = body.attributes.flags;
        ReportBodyView {
            cpu_svn: order.hex(&body.cpu_svn.0),
            misc_select: format!("{:#x}", body.misc_select.0),
            attributes: AttributesView {
                flags: format!("{:#x}", flags.bits()),
                xfrm: format!("{:#x}", body.attributes.xfrm),
                flag_names: attribute_flag_names(flags),
            },
            mr_enclave: order.hex(&body.mr_enclave),
            mr_signer: order.hex(&body.mr_signer),
            isv_prod_id: body.isv_prod_id,
            isv_svn: body.isv_svn,
            config_id: order.hex(&body.config_id.0),
            config_svn: body.config_svn,
            isv_family_id: order.hex(&body.isv_family_id.0),
            isv_family_id_high_low: IdHighLow::new(&body.isv_family_id),
            isv_ext_prod_id: order.hex(&body.isv_ext_prod_id.0),
            isv_ext_prod_id_high_low: IdHighLow::new(&body.isv_ext_prod_id),
            report_data: order.hex(&body.report_data),
            debug: flags.contains(AttributeFlags::DEBUG),
            kss: flags.contains(AttributeFlags::KSS),
        }
    }

    /// The JSON object (keys in field order).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// The text form: `title` on its own line, then one line per field, labelled with its JSON
    /// key; the KSS fields grouped and marked `*`; 64-byte values on two lines of 32 bytes.
    ///
    /// ```text
    /// ISV enclave report:
    ///     cpu_svn          0b0b1a18ffff04000000000000000000
    ///     misc_select      0x0
    ///     attributes       flags 0x5 [INIT|MODE64BIT], xfrm 0xe7
    ///     mr_enclave       33d8736d…
    ///     mr_signer        815f42f1…
    ///     isv_prod_id      0
    ///     isv_svn          0
    ///   KSS fields (ATTRIBUTES.KSS not set):
    ///   * config_id        0000…
    ///                      0000…
    ///   * config_svn       0
    ///   * isv_family_id    00000000000000000000000000000000  (high 0x0000000000000000, low 0x0000000000000000)
    ///   * isv_ext_prod_id  00000000000000000000000000000000  (high 0x0000000000000000, low 0x0000000000000000)
    ///     report_data      48656c6c…
    ///                      0000…
    ///     debug            no
    /// ```
    pub fn text(&self, title: &str) -> String {
        let mut out = String::new();
        let a = &self.attributes;
        let _ = writeln!(out, "{title}");
        let _ = writeln!(out, "    cpu_svn          {}", self.cpu_svn);
        let _ = writeln!(out, "    misc_select      {}", self.misc_select);
        let _ = writeln!(
            out,
            "    attributes       flags {} [{}], xfrm {}",
            a.flags,
            a.flag_names.join("|"),
            a.xfrm
        );
        let _ = writeln!(out, "    mr_enclave       {}", self.mr_enclave);
        let _ = writeln!(out, "    mr_signer        {}", self.mr_signer);
        let _ = writeln!(out, "    isv_prod_id      {}", self.isv_prod_id);
        let _ = writeln!(out, "    isv_svn          {}", self.isv_svn);
        let kss = if self.kss { "set" } else { "not set" };
        let _ = writeln!(out, "  KSS fields (ATTRIBUTES.KSS {kss}):");
        two_lines(&mut out, "  * config_id        ", &self.config_id);
        let _ = writeln!(out, "  * config_svn       {}", self.config_svn);
        let family = id_text(&self.isv_family_id, &self.isv_family_id_high_low);
        let _ = writeln!(out, "  * isv_family_id    {family}");
        let ext = id_text(&self.isv_ext_prod_id, &self.isv_ext_prod_id_high_low);
        let _ = writeln!(out, "  * isv_ext_prod_id  {ext}");
        two_lines(&mut out, "    report_data      ", &self.report_data);
        let debug = if self.debug {
            "YES (debug enclave: not for production)"
        } else {
            "no"
        };
        let _ = writeln!(out, "    debug            {debug}");
        out
    }
}

/// `label` and the first 64 hex digits of `hex`, then the rest aligned under them.
fn two_lines(out: &mut String, label: &str, hex: &str) {
    let split = hex.len().min(64);
    let (first, rest) = hex.split_at(split);
    let _ = writeln!(out, "{label}{first}");
    if !rest.is_empty() {
        let _ = writeln!(out, "{:width$}{rest}", "", width = label.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kss_types::{Attributes, ConfigId, CpuSvn, MiscSelect};

    fn body() -> ReportBody {
        let mut family = [0u8; 16];
        family[0] = 0x04;
        family[8] = 0x03;
        ReportBody {
            cpu_svn: CpuSvn([0x11; 16]),
            misc_select: MiscSelect(1),
            attributes: Attributes::new(0x87, 0x3),
            mr_enclave: [0xab; 32],
            config_id: ConfigId([0xc0; 64]),
            config_svn: 0x12ab,
            isv_prod_id: 7,
            isv_family_id: Id128(family),
            report_data: [0x5a; 64],
            ..ReportBody::default()
        }
    }

    #[test]
    fn text_and_json_show_the_same_values() {
        let v = ReportBodyView::new(&body(), ByteOrder::Stored);
        let t = v.text("T:");
        assert!(t.starts_with("T:\n    cpu_svn          11111111111111111111111111111111\n"));
        assert!(t.contains("\n    misc_select      0x1\n"), "{t}");
        assert!(
            t.contains("\n    attributes       flags 0x87 [INIT|DEBUG|MODE64BIT|KSS], xfrm 0x3\n"),
            "{t}"
        );
        assert!(t.contains("\n  KSS fields (ATTRIBUTES.KSS set):\n"), "{t}");
        assert!(t.contains("\n  * config_svn       4779\n"), "{t}");
        assert!(t.contains(&format!(
            "\n  * config_id        {}\n                     {}\n",
            "c0".repeat(32),
            "c0".repeat(32)
        )));
        assert!(
            t.contains("\n  * isv_family_id    04000000000000000300000000000000  (high 0x0000000000000003, low 0x0000000000000004)\n"),
            "{t}"
        );
        assert!(t.ends_with("\n    debug            YES (debug enclave: not for production)\n"));
        let j = v.to_json();
        assert_eq!(j["config_svn"], 4779);
        assert_eq!(j["misc_select"], "0x1");
        assert_eq!(j["attributes"]["flags"], "0x87");
        assert_eq!(j["isv_family_id_high_low"]["high"], "0x0000000000000003");
        let keys: Vec<&str> = j.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "cpu_svn",
                "misc_select",
                "attributes",
                "mr_enclave",
                "mr_signer",
                "isv_prod_id",
                "isv_svn",
                "config_id",
                "config_svn",
                "isv_family_id",
                "isv_family_id_high_low",
                "isv_ext_prod_id",
                "isv_ext_prod_id_high_low",
                "report_data",
                "debug",
                "kss"
            ]
        );
        // The JSON reads back into the same view, so a client renders the service's answer
        // with the same text.
        let back: ReportBodyView = serde_json::from_value(j).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn intel_order_reverses_byte_strings_only() {
        let v = ReportBodyView::new(&body(), ByteOrder::Intel);
        assert_eq!(v.isv_family_id, "00000000000000030000000000000004");
        assert_eq!(v.isv_family_id_high_low.low, "0x0000000000000004");
        assert_eq!(v.config_svn, 0x12ab);
    }

    #[test]
    fn unknown_flags_and_id_text() {
        assert_eq!(
            attribute_flag_names(AttributeFlags(0x1_0000_0001)),
            ["INIT", "0x100000000"]
        );
        let mut id = [0u8; 16];
        id[0] = 2;
        id[8] = 1;
        assert_eq!(
            id128_text(&Id128(id)),
            "02000000000000000100000000000000  (high 0x0000000000000001, low 0x0000000000000002)"
        );
    }
}
