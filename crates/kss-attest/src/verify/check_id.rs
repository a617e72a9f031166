//! The names of the checks a verification reports.

macro_rules! check_ids {
    ($($(#[$doc:meta])* $variant:ident = $name:literal,)*) => {
        /// Identifies one check of a verification. Its JSON and text form is the dotted name
        /// ([`CheckId::as_str`]): the object checked, then the property, e.g. `pck.chain`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum CheckId {
            $($(#[$doc])* $variant,)*
        }

        impl CheckId {
            /// Every check, in the order a full verification runs them.
            pub const ALL: &'static [CheckId] = &[$(CheckId::$variant,)*];

            /// The dotted name, e.g. `"quote.isv_signature"`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(CheckId::$variant => $name,)*
                }
            }
        }
    };
}

check_ids! {
    /// The quote parses and is an SGX quote v3 or v4.
    QuoteStructure = "quote.structure",
    /// The attestation key type is ECDSA P-256.
    QuoteAttKeyType = "quote.att_key_type",
    /// The QE vendor ID is Intel's.
    QuoteQeVendorId = "quote.qe_vendor_id",
    /// The attestation key signed the header and enclave report.
    QuoteIsvSignature = "quote.isv_signature",
    /// The QE report data binds the attestation key and QE auth data.
    QeReportDataBinding = "qe.report_data_binding",
    /// The PCK chain leads to a trusted root.
    PckChain = "pck.chain",
    /// Every PCK chain certificate is valid at the verification time.
    PckValidity = "pck.validity",
    /// The PCK key signed the QE report.
    QeReportSignature = "qe.report_signature",
    /// The Root CA CRL is present, signed by a trusted root and current.
    CrlRoot = "crl.root",
    /// The PCK CRL is present, signed by the PCK's CA and current.
    CrlPck = "crl.pck",
    /// The PCK CRL issuer chain leads to a trusted root, is valid and not revoked.
    CrlPckIssuerChain = "crl.pck_issuer_chain",
    /// Neither the PCK certificate nor its CA is revoked.
    PckRevocation = "pck.revocation",
    /// The TCB info is signed by a TCB signing certificate of a trusted root.
    TcbInfoSignature = "tcb_info.signature",
    /// The signed TCB info parses.
    TcbInfoFormat = "tcb_info.format",
    /// The TCB info and its issuer chain are current and not revoked.
    TcbInfoValidity = "tcb_info.validity",
    /// The TCB info is an SGX TCB info.
    TcbInfoId = "tcb_info.id",
    /// The TCB info is for the PCK's FMSPC and PCE ID.
    TcbInfoFmspc = "tcb_info.fmspc",
    /// A TCB level of the TCB info matches the platform's TCB.
    TcbInfoLevel = "tcb_info.level",
    /// The QE identity is signed by a TCB signing certificate of a trusted root.
    QeIdentitySignature = "qe_identity.signature",
    /// The signed QE identity parses.
    QeIdentityFormat = "qe_identity.format",
    /// The QE identity and its issuer chain are current and not revoked.
    QeIdentityValidity = "qe_identity.validity",
    /// The QE is the enclave the QE identity describes.
    QeIdentityEnclave = "qe_identity.enclave",
    /// A level of the QE identity matches the QE's ISVSVN.
    QeIdentityLevel = "qe_identity.level",
    /// The combined TCB status is established and not Revoked.
    TcbStatus = "tcb.status",
    /// The enclave is not a debug enclave, or the policy allows debug.
    PolicyDebug = "policy.debug",
    /// MRENCLAVE is one the policy accepts.
    PolicyMrEnclave = "policy.mr_enclave",
    /// MRSIGNER is one the policy accepts.
    PolicyMrSigner = "policy.mr_signer",
    /// ISVPRODID is the policy's.
    PolicyIsvProdId = "policy.isv_prod_id",
    /// ISVSVN is at least the policy's minimum.
    PolicyIsvSvn = "policy.isv_svn",
    /// ISVFAMILYID is the policy's.
    PolicyIsvFamilyId = "policy.isv_family_id",
    /// ISVEXTPRODID is the policy's.
    PolicyIsvExtProdId = "policy.isv_ext_prod_id",
    /// CONFIGID is the policy's.
    PolicyConfigId = "policy.config_id",
    /// CONFIGSVN is at least the policy's minimum.
    PolicyConfigSvn = "policy.config_svn",
    /// The TCB status is one the policy accepts.
    PolicyTcbStatus = "policy.tcb_status",
    /// The QE TCB status is one the policy accepts.
    PolicyQeTcbStatus = "policy.qe_tcb_status",
    /// Every advisory is one the policy allows.
    PolicyAdvisoryIds = "policy.advisory_ids",
    /// The collateral is not older than the policy allows.
    PolicyCollateralAge = "policy.collateral_age",
    /// REPORTDATA starts with the policy's `report_data_prefix`.
    PolicyReportDataPrefix = "policy.report_data_prefix",
    /// REPORTDATA is exactly the 64 bytes the verifier expects (`kss verify --report-data`).
    ReportDataExact = "report_data.exact",
    /// REPORTDATA starts with the bytes the verifier expects (`kss verify --report-data`).
    ReportDataPrefix = "report_data.prefix",
    /// SHA-256 or SHA-512 of the runtime data a caller gave starts REPORTDATA (`kss serve`'s
    /// `runtime_data`, `kss verify --runtime-data`); only present when runtime data was given.
    ReportDataRuntimeData = "report_data.runtime_data",
}

impl std::fmt::Display for CheckId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

impl std::str::FromStr for CheckId {
    type Err = UnknownCheck;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownCheck(s.to_string()))
    }
}

/// A name that is no [`CheckId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no check is named {0:?}")]
pub struct UnknownCheck(pub String);

impl serde::Serialize for CheckId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl PartialEq<str> for CheckId {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for CheckId {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<CheckId> for &str {
    fn eq(&self, other: &CheckId) -> bool {
        *self == other.as_str()
    }
}
