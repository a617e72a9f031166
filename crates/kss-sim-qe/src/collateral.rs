//! Collateral for simulated quotes: TCB info v3, QE identity v2 and the two CRLs, signed by the
//! simulated CA, in dcap-qvl's `QuoteCollateralV3` JSON format (plus PCS-style raw files).

use super::{certs, store, SimError, SimQuotingEnclave};
use der::Encode;
use kss_attest::collateral::pcs_dir;
use kss_attest::format_rfc3339;
use p256::ecdsa::{Signature, SigningKey};
use std::path::{Path, PathBuf};

/// How long exported collateral stays valid: 30 days from `now`.
pub const COLLATERAL_VALIDITY_SECS: u64 = 30 * 86_400;

/// TCB evaluation data number of the simulated collateral.
pub const SIM_TCB_EVALUATION_DATA_NUMBER: u32 = 1;

/// Collateral for simulated quotes, valid `now..now + 30 days`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedCollateral {
    /// dcap-qvl `QuoteCollateralV3` JSON (what `collateral.json` holds).
    pub collateral_json: String,
    /// PEM of the simulated root CA (what `root.pem` holds): the trust anchor to pass
    /// explicitly to a verifier.
    pub root_pem: String,
    /// The signed TCB info body, exactly as signed.
    pub tcb_info: String,
    /// Hex r‖s signature of [`ExportedCollateral::tcb_info`] by the TCB signing key.
    pub tcb_info_signature: String,
    /// The signed QE identity body, exactly as signed.
    pub qe_identity: String,
    /// Hex r‖s signature of [`ExportedCollateral::qe_identity`] by the TCB signing key.
    pub qe_identity_signature: String,
    /// PEM issuer chain of TCB info and QE identity: TCB signing certificate, root.
    pub tcb_info_issuer_chain: String,
    /// PEM issuer chain of the PCK CRL: platform CA, root.
    pub pck_crl_issuer_chain: String,
    /// DER of the root CA CRL.
    pub root_crl_der: Vec<u8>,
    /// DER of the platform CA CRL (the PCK CRL).
    pub pck_crl_der: Vec<u8>,
    /// Files written by [`SimQuotingEnclave::export_collateral`] (empty from
    /// [`SimQuotingEnclave::collateral`]).
    pub files: Vec<PathBuf>,
}

fn sign_hex(key: &SigningKey, text: &str) -> String {
    let sig: Signature = ecdsa::signature::Signer::sign(key, text.as_bytes());
    hex::encode(sig.to_bytes())
}

fn svn_list(svns: &[u8; 16]) -> String {
    let items: Vec<String> = svns.iter().map(|s| format!("{{\"svn\":{s}}}")).collect();
    format!("[{}]", items.join(","))
}

/// `collateral.json`: dcap-qvl's `QuoteCollateralV3` fields in its order, then the PCK chain.
#[derive(serde::Serialize)]
struct CollateralJson<'a> {
    pck_crl_issuer_chain: &'a str,
    root_ca_crl: String,
    pck_crl: String,
    tcb_info_issuer_chain: &'a str,
    tcb_info: &'a str,
    tcb_info_signature: &'a str,
    qe_identity_issuer_chain: &'a str,
    qe_identity: &'a str,
    qe_identity_signature: &'a str,
    pck_certificate_chain: std::borrow::Cow<'a, str>,
}

impl SimQuotingEnclave {
    /// TCB info v3 (id "SGX") for the simulated FMSPC: the simulated platform's TCB is
    /// `UpToDate`; an older level (all components 0, PCESVN − 1) is `OutOfDate`.
    fn tcb_info_text(&self, now: u64) -> String {
        let p = &self.platform;
        let issue = format_rfc3339(now);
        let next = format_rfc3339(now + COLLATERAL_VALIDITY_SECS);
        let tcb_date = format_rfc3339(p.created - p.created % 86_400);
        format!(
            concat!(
                "{{\"id\":\"SGX\",\"version\":3,\"issueDate\":\"{issue}\",",
                "\"nextUpdate\":\"{next}\",\"fmspc\":\"{fmspc}\",\"pceId\":\"{pceid}\",",
                "\"tcbType\":0,\"tcbEvaluationDataNumber\":{eval},\"tcbLevels\":[",
                "{{\"tcb\":{{\"sgxtcbcomponents\":{comps},\"pcesvn\":{pcesvn}}},",
                "\"tcbDate\":\"{date}\",\"tcbStatus\":\"UpToDate\"}},",
                "{{\"tcb\":{{\"sgxtcbcomponents\":{zero},\"pcesvn\":{old_pcesvn}}},",
                "\"tcbDate\":\"{date}\",\"tcbStatus\":\"OutOfDate\",",
                "\"advisoryIDs\":[\"KSS-SIM-SA-00001\"]}}]}}"
            ),
            issue = issue,
            next = next,
            fmspc = hex::encode_upper(p.fmspc),
            pceid = hex::encode_upper(p.pce_id),
            eval = SIM_TCB_EVALUATION_DATA_NUMBER,
            comps = svn_list(&p.comp_svn),
            pcesvn = p.pce_svn,
            zero = svn_list(&[0; 16]),
            old_pcesvn = p.pce_svn.saturating_sub(1),
            date = tcb_date,
        )
    }

    /// QE identity v2 (id "QE") for the simulated QE: its ISVSVN is `UpToDate`, ISVSVN 0 is
    /// `OutOfDate`.
    fn qe_identity_text(&self, now: u64) -> String {
        let p = &self.platform;
        let tcb_date = format_rfc3339(p.created - p.created % 86_400);
        format!(
            concat!(
                "{{\"id\":\"QE\",\"version\":2,\"issueDate\":\"{issue}\",",
                "\"nextUpdate\":\"{next}\",\"tcbEvaluationDataNumber\":{eval},",
                "\"miscselect\":\"00000000\",\"miscselectMask\":\"FFFFFFFF\",",
                "\"attributes\":\"11000000000000000000000000000000\",",
                "\"attributesMask\":\"FBFFFFFFFFFFFFFF0000000000000000\",",
                "\"mrsigner\":\"{mrsigner}\",\"isvprodid\":{prod},\"tcbLevels\":[",
                "{{\"tcb\":{{\"isvsvn\":{svn}}},\"tcbDate\":\"{date}\",\"tcbStatus\":\"UpToDate\"}},",
                "{{\"tcb\":{{\"isvsvn\":0}},\"tcbDate\":\"{date}\",\"tcbStatus\":\"OutOfDate\",",
                "\"advisoryIDs\":[\"KSS-SIM-SA-00002\"]}}]}}"
            ),
            issue = format_rfc3339(now),
            next = format_rfc3339(now + COLLATERAL_VALIDITY_SECS),
            eval = SIM_TCB_EVALUATION_DATA_NUMBER,
            mrsigner = hex::encode_upper(p.qe_mr_signer),
            prod = p.qe_isv_prod_id,
            svn = p.qe_isv_svn,
            date = tcb_date,
        )
    }

    /// Builds collateral valid from `now` (Unix seconds) for 30 days, without writing files.
    pub fn collateral(&self, now: u64) -> Result<ExportedCollateral, SimError> {
        let der_fail = |e: der::Error| SimError::build("CRL", e);
        let next = now + COLLATERAL_VALIDITY_SECS;
        let root_crl = certs::crl(certs::ROOT_SUBJECT, &self.root.key, 1, now, next)?
            .to_der()
            .map_err(der_fail)?;
        let pck_crl = certs::crl(
            certs::PLATFORM_CA_SUBJECT,
            &self.platform_ca.key,
            1,
            now,
            next,
        )?
        .to_der()
        .map_err(der_fail)?;
        let root_pem = certs::to_pem(&self.root.cert)?;
        let ca_chain = format!("{}{}", certs::to_pem(&self.platform_ca.cert)?, root_pem);
        let tcb_chain = format!("{}{}", certs::to_pem(&self.tcb_signing.cert)?, root_pem);
        let tcb_info = self.tcb_info_text(now);
        let tcb_info_signature = sign_hex(&self.tcb_signing.key, &tcb_info);
        let qe_identity = self.qe_identity_text(now);
        let qe_identity_signature = sign_hex(&self.tcb_signing.key, &qe_identity);
        let collateral = CollateralJson {
            pck_crl_issuer_chain: &ca_chain,
            root_ca_crl: hex::encode(&root_crl),
            pck_crl: hex::encode(&pck_crl),
            tcb_info_issuer_chain: &tcb_chain,
            tcb_info: &tcb_info,
            tcb_info_signature: &tcb_info_signature,
            qe_identity_issuer_chain: &tcb_chain,
            qe_identity: &qe_identity,
            qe_identity_signature: &qe_identity_signature,
            pck_certificate_chain: String::from_utf8_lossy(self.pck_chain_text()),
        };
        let collateral_json = serde_json::to_string_pretty(&collateral)
            .map_err(|e| SimError::build("collateral.json", e))?;
        Ok(ExportedCollateral {
            collateral_json,
            root_pem,
            tcb_info,
            tcb_info_signature,
            qe_identity,
            qe_identity_signature,
            tcb_info_issuer_chain: tcb_chain,
            pck_crl_issuer_chain: ca_chain,
            root_crl_der: root_crl,
            pck_crl_der: pck_crl,
            files: Vec::new(),
        })
    }

    /// The PEM chain of the quotes' certification data, without its trailing NUL.
    fn pck_chain_text(&self) -> &[u8] {
        self.chain_pem.strip_suffix(&[0]).unwrap_or(&self.chain_pem)
    }

    /// Writes collateral valid from `now` for 30 days into `dir` (created if needed), each file
    /// atomically: `root.pem`, `collateral.json` (dcap-qvl format), and a raw PCS directory
    /// that [`kss_attest::collateral::Collateral::from_path`] reads (the names of
    /// [`pcs_dir`]): `tcb_info.json` (`{"tcbInfo":…,"signature":…}`), `qe_identity.json`
    /// (`{"enclaveIdentity":…,"signature":…}`), their issuer chain
    /// `tcb_info_issuer_chain.pem` and `qe_identity_issuer_chain.pem`, `pck_crl.der` with
    /// `pck_crl_issuer_chain.pem`, `root_ca_crl.der` and `pck_chain.pem` (ten files; each CRL
    /// once).
    pub fn export_collateral(&self, dir: &Path, now: u64) -> Result<ExportedCollateral, SimError> {
        let mut c = self.collateral(now)?;
        std::fs::create_dir_all(dir).map_err(|e| SimError::Io {
            path: dir.to_path_buf(),
            action: "create directory",
            source: e,
        })?;
        let tcb_raw = format!(
            "{{\"tcbInfo\":{},\"signature\":\"{}\"}}",
            c.tcb_info, c.tcb_info_signature
        );
        let qe_raw = format!(
            "{{\"enclaveIdentity\":{},\"signature\":\"{}\"}}",
            c.qe_identity, c.qe_identity_signature
        );
        let files: [(&str, &[u8]); 10] = [
            ("root.pem", c.root_pem.as_bytes()),
            ("collateral.json", c.collateral_json.as_bytes()),
            (pcs_dir::TCB_INFO, tcb_raw.as_bytes()),
            (
                pcs_dir::TCB_INFO_ISSUER_CHAIN,
                c.tcb_info_issuer_chain.as_bytes(),
            ),
            (pcs_dir::QE_IDENTITY, qe_raw.as_bytes()),
            (
                pcs_dir::QE_IDENTITY_ISSUER_CHAIN,
                c.tcb_info_issuer_chain.as_bytes(),
            ),
            (pcs_dir::PCK_CRL_DER, &c.pck_crl_der),
            (
                pcs_dir::PCK_CRL_ISSUER_CHAIN,
                c.pck_crl_issuer_chain.as_bytes(),
            ),
            (pcs_dir::ROOT_CA_CRL_DER, &c.root_crl_der),
            (pcs_dir::PCK_CHAIN, self.pck_chain_text()),
        ];
        let mut written = Vec::new();
        for (name, bytes) in files {
            store::write_atomic(dir, name, bytes)?;
            written.push(dir.join(name));
        }
        c.files = written;
        Ok(c)
    }
}
