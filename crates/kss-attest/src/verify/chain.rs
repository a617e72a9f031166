//! The verified building blocks the stages share, and the verifier's caches of them: parsed
//! certificates, verified chains, the PCK chain with its SGX extension, CRLs, signed TCB info
//! and QE identity. Every cached entry expires with the certificates or CRL it depends on.

use super::cache::key;
use super::{Check, CheckId, Verifier};
use crate::collateral::{SignedForm, SignedJson};
use crate::dcap_time::format_rfc3339 as t;
use crate::pck::{
    parse_sgx_extension, pck_need_of_cert, PckError, PckNeed, PemChainError, SgxExtension,
    SGX_EXTENSION_OID,
};
use crate::x509util::{
    build_chain_by, pem_block_texts, verify_p256_fixed, Cert, Crl, P256Key, X509Error,
};
use std::sync::Arc;

/// A certificate chain that passed its signature checks, leaf first.
#[derive(Debug)]
pub(crate) struct VerifiedChain {
    pub(crate) certs: Vec<Arc<Cert>>,
}

impl VerifiedChain {
    pub(crate) fn valid_until(&self) -> u64 {
        self.certs.iter().map(|c| c.not_after).min().unwrap_or(0)
    }

    /// The first certificate not valid at `at`, described.
    pub(crate) fn invalid_at(&self, at: u64) -> Option<String> {
        self.certs.iter().find(|c| !c.valid_at(at)).map(|c| {
            let when = if at < c.not_before {
                "is not valid yet"
            } else {
                "has expired"
            };
            format!(
                "certificate \"{}\" {when} (valid {} to {}, checked at {})",
                c.subject_text(),
                t(c.not_before),
                t(c.not_after),
                t(at)
            )
        })
    }

    pub(crate) fn leaf(&self) -> Option<&Cert> {
        self.certs.first().map(|c| &**c)
    }
}

#[derive(Debug)]
pub(crate) struct VerifiedPck {
    pub(crate) chain: VerifiedChain,
    pub(crate) ext: SgxExtension,
}

#[derive(Debug)]
pub(crate) struct VerifiedSigned<T> {
    pub(crate) value: T,
    pub(crate) chain: VerifiedChain,
    /// True when the signature only verified over the compact re-serialization.
    pub(crate) compact: bool,
}

/// Where a signed collateral piece failed, and why.
pub(crate) struct PieceFailure {
    pub(crate) check: CheckId,
    pub(crate) reason: String,
}

/// Why a chain, the PCK chain or a CRL did not verify. Its text is the reason of the check
/// that failed (the stages render it there, and only on failure).
#[derive(Debug, thiserror::Error)]
pub(crate) enum ChainProblem {
    /// The PEM text or a certificate does not parse.
    #[error("{0}")]
    Certs(#[source] X509Error),
    /// The certificates do not lead to a trusted root.
    #[error("{what}: {source}")]
    Untrusted {
        /// Which chain.
        what: String,
        /// Why the chain could not be built.
        #[source]
        source: X509Error,
    },
    /// The quote carries no PCK chain and the collateral has none.
    #[error("the quote carries no PCK certificate chain (certification data type {cert_type}) and the collateral has no pck_chain")]
    NoPckChain {
        /// The quote's certification data type.
        cert_type: u16,
    },
    /// A verified PCK chain without certificates.
    #[error("PCK chain: empty")]
    EmptyPck,
    /// The PCK certificate's SGX extension is missing or malformed.
    #[error("PCK certificate SGX extension: {0}")]
    SgxExtension(#[source] PckError),
    /// A CRL does not parse.
    #[error("{0}")]
    Crl(#[source] X509Error),
    /// The Root CA CRL is not signed by a trusted root.
    #[error("the Root CA CRL (issuer \"{issuer}\") is not signed by a trusted root")]
    RootCrlUntrusted {
        /// The CRL's issuer.
        issuer: String,
    },
    /// A CRL not signed by the key it must be signed by.
    #[error("the {what} (issuer \"{issuer}\") signature is invalid")]
    CrlSignature {
        /// Which CRL.
        what: String,
        /// The CRL's issuer.
        issuer: String,
    },
}

/// The signed JSON pieces of collateral.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Piece {
    TcbInfo,
    QeIdentity,
}

impl Piece {
    fn cache_name(self) -> &'static str {
        match self {
            Piece::TcbInfo => "tcb_info",
            Piece::QeIdentity => "qe_identity",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Piece::TcbInfo => "TCB info",
            Piece::QeIdentity => "QE identity",
        }
    }

    fn checks(self) -> (CheckId, CheckId) {
        match self {
            Piece::TcbInfo => (CheckId::TcbInfoSignature, CheckId::TcbInfoFormat),
            Piece::QeIdentity => (CheckId::QeIdentitySignature, CheckId::QeIdentityFormat),
        }
    }
}

impl Verifier {
    /// Parses the certificates of a PEM chain, reusing certificates already parsed. They are
    /// cached under their PEM block text, so a certificate repeated across the chains of one
    /// collateral (the root is in all of them) is decoded and parsed once.
    pub(crate) fn certs(
        &self,
        pem: &[u8],
        what: &str,
        at: u64,
    ) -> Result<Vec<Arc<Cert>>, X509Error> {
        let pem = pem.strip_suffix(&[0]).unwrap_or(pem);
        let text = std::str::from_utf8(pem).map_err(|_| X509Error::NotUtf8Pem {
            what: what.to_string(),
        })?;
        let blocks = pem_block_texts(text, what)?;
        let mut out = Vec::new();
        for (i, block) in blocks.iter().enumerate() {
            if block.label != "CERTIFICATE" {
                continue;
            }
            let k = key("cert", &[block.body.as_bytes()]);
            let cert = match self.cache.get::<Cert>(&k, at) {
                Some(c) => c,
                None => {
                    let der = block.decode(what, i + 1)?;
                    let name = format!("{what}, certificate {}", out.len() + 1);
                    let c = Arc::new(Cert::from_der(&der, &name)?);
                    self.cache.put(k, c.clone(), c.not_after, at);
                    c
                }
            };
            out.push(cert);
        }
        if out.is_empty() {
            return Err(X509Error::Empty {
                what: what.to_string(),
            });
        }
        Ok(out)
    }

    /// True when `issuer_key` signed `cert`; positive results are remembered.
    pub(crate) fn signed_by(&self, cert: &Cert, issuer_key: &P256Key, at: u64) -> bool {
        let k = key("sig", &[cert.der(), issuer_key]);
        if self.cache.get::<()>(&k, at).is_some() {
            return true;
        }
        let ok = cert.is_signed_by(issuer_key);
        if ok {
            self.cache.put(k, Arc::new(()), cert.not_after, at);
        }
        ok
    }

    /// True when the PCK `leaf` signed the QE report. A QE signs the same report for every
    /// quote made with one attestation key, so positive results are remembered by content.
    pub(crate) fn qe_report_signed(&self, leaf: &Cert, report: &[u8], sig: &[u8], at: u64) -> bool {
        let k = key("qe-report", &[report, sig, &leaf.public_key]);
        if self.cache.get::<()>(&k, at).is_some() {
            return true;
        }
        let ok = verify_p256_fixed(&leaf.public_key, report, sig);
        if ok {
            self.cache.put(k, Arc::new(()), leaf.not_after, at);
        }
        ok
    }

    /// Orders and verifies parsed certificates up to a trusted root.
    fn ordered_chain(
        &self,
        certs: &[Arc<Cert>],
        what: &str,
        at: u64,
    ) -> Result<VerifiedChain, ChainProblem> {
        let refs: Vec<&Cert> = certs.iter().map(|c| &**c).collect();
        let idx = build_chain_by(&refs, &self.roots, &|c: &Cert, k: &P256Key| {
            self.signed_by(c, k, at)
        })
        .map_err(|source| ChainProblem::Untrusted {
            what: what.to_string(),
            source,
        })?;
        Ok(VerifiedChain {
            certs: idx.iter().filter_map(|&i| certs.get(i).cloned()).collect(),
        })
    }

    /// Parses and verifies a PEM chain (cached).
    pub(crate) fn chain(
        &self,
        pem: &[u8],
        what: &str,
        at: u64,
    ) -> Result<Arc<VerifiedChain>, ChainProblem> {
        let k = key("chain", &[pem]);
        if let Some(c) = self.cache.get::<VerifiedChain>(&k, at) {
            return Ok(c);
        }
        let certs = self.certs(pem, what, at).map_err(ChainProblem::Certs)?;
        let chain = Arc::new(self.ordered_chain(&certs, what, at)?);
        self.cache.put(k, chain.clone(), chain.valid_until(), at);
        Ok(chain)
    }

    /// What collateral a quote with the PCK chain `pem` (PEM, any order) needs: the FMSPC,
    /// PCE ID and issuing CA of its PCK certificate. Nothing is verified (the verification
    /// does that); the certificates are parsed through this verifier's cache, so the
    /// verification that follows reuses them, and the answer itself is remembered: on a warm
    /// verifier this is one cache lookup.
    pub fn pck_need(&self, pem: &[u8], at: u64) -> Result<PckNeed, PckError> {
        let k = key("pck-need", &[pem]);
        if let Some(n) = self.cache.get::<PckNeed>(&k, at) {
            return Ok(*n);
        }
        let certs = self
            .certs(pem, "PCK chain", at)
            .map_err(|e| PckError::Pem(PemChainError::Certificate(e)))?;
        for c in &certs {
            if let Some(n) = pck_need_of_cert(c)? {
                self.cache.put(k, Arc::new(n), c.not_after, at);
                return Ok(n);
            }
        }
        Err(PckError::NotPck)
    }

    pub(crate) fn pck(&self, pem: &[u8], at: u64) -> Result<Arc<VerifiedPck>, ChainProblem> {
        let k = key("pck", &[pem]);
        if let Some(p) = self.cache.get::<VerifiedPck>(&k, at) {
            return Ok(p);
        }
        let certs = self
            .certs(pem, "PCK chain", at)
            .map_err(ChainProblem::Certs)?;
        let chain = self.ordered_chain(&certs, "PCK chain", at)?;
        let leaf = chain.leaf().ok_or(ChainProblem::EmptyPck)?;
        let ext = leaf
            .extension(&SGX_EXTENSION_OID)
            .ok_or(PckError::NotPck)
            .and_then(parse_sgx_extension)
            .map_err(ChainProblem::SgxExtension)?;
        let p = Arc::new(VerifiedPck { chain, ext });
        self.cache.put(k, p.clone(), p.chain.valid_until(), at);
        Ok(p)
    }

    pub(crate) fn root_crl(&self, bytes: &[u8], at: u64) -> Result<Arc<Crl>, ChainProblem> {
        let k = key("root-crl", &[bytes]);
        if let Some(c) = self.cache.get::<Crl>(&k, at) {
            return Ok(c);
        }
        let crl = Crl::parse(bytes, "Root CA CRL").map_err(ChainProblem::Crl)?;
        if !self.roots.iter().any(|r| crl.is_signed_by(r)) {
            return Err(ChainProblem::RootCrlUntrusted {
                issuer: crl.issuer_text(),
            });
        }
        let crl = Arc::new(crl);
        self.cache.put(k, crl.clone(), crl.next_update, at);
        Ok(crl)
    }

    pub(crate) fn signed_crl(
        &self,
        bytes: &[u8],
        signer: &P256Key,
        what: &str,
        at: u64,
    ) -> Result<Arc<Crl>, ChainProblem> {
        let k = key("crl", &[bytes, signer]);
        if let Some(c) = self.cache.get::<Crl>(&k, at) {
            return Ok(c);
        }
        let crl = Crl::parse(bytes, what).map_err(ChainProblem::Crl)?;
        if !crl.is_signed_by(signer) {
            return Err(ChainProblem::CrlSignature {
                what: what.to_string(),
                issuer: crl.issuer_text(),
            });
        }
        let crl = Arc::new(crl);
        self.cache.put(k, crl.clone(), crl.next_update, at);
        Ok(crl)
    }

    /// Verifies a signed JSON piece (TCB info or QE identity) and its issuer chain (cached).
    /// A failure's reason is the text of its typed cause, written here.
    pub(crate) fn signed_piece<T: Send + Sync + 'static, E: std::fmt::Display>(
        &self,
        piece: &SignedJson,
        chain_pem: &[u8],
        piece_kind: Piece,
        at: u64,
        parse: impl Fn(&str) -> Result<T, E>,
    ) -> Result<Arc<VerifiedSigned<T>>, PieceFailure> {
        let (sig_check, format_check) = piece_kind.checks();
        let label = piece_kind.label();
        let k = key(
            piece_kind.cache_name(),
            &[&piece.body, &piece.signature, chain_pem],
        );
        if let Some(p) = self.cache.get::<VerifiedSigned<T>>(&k, at) {
            return Ok(p);
        }
        let fail = |reason: String| PieceFailure {
            check: sig_check,
            reason,
        };
        let chain = self
            .chain(chain_pem, &format!("{label} issuer chain"), at)
            .map_err(|e| fail(e.to_string()))?;
        let leaf = chain
            .leaf()
            .ok_or_else(|| fail(format!("{label} issuer chain is empty")))?;
        let form = piece.signed_form(&leaf.public_key).ok_or_else(|| {
            fail(format!(
                "the {label} signature is invalid: the {label} was altered or not signed by \"{}\"",
                leaf.subject_text()
            ))
        })?;
        let text = piece.text().map_err(|e| fail(e.to_string()))?;
        let value = parse(text).map_err(|e| PieceFailure {
            check: format_check,
            reason: e.to_string(),
        })?;
        let valid_until = chain.valid_until();
        let out = Arc::new(VerifiedSigned {
            value,
            chain: VerifiedChain {
                certs: chain.certs.clone(),
            },
            compact: form == SignedForm::Compact,
        });
        self.cache.put(k, out.clone(), valid_until, at);
        Ok(out)
    }
}

/// The first non-root certificate of `chain` listed in the root CRL, described.
pub(crate) fn revoked_in(chain: &VerifiedChain, root_crl: Option<&Crl>) -> Option<String> {
    let crl = root_crl?;
    chain
        .certs
        .iter()
        .filter(|c| !c.is_self_issued())
        .find(|c| crl.revokes(c.serial()))
        .map(|c| {
            format!(
                "certificate \"{}\" is revoked (listed in the Root CA CRL)",
                c.subject_text()
            )
        })
}

/// The validity check of a signed piece: its issue date and nextUpdate, then its issuer
/// chain's validity and revocation.
pub(crate) fn piece_window(
    name: CheckId,
    what: &str,
    (issue, next): (u64, u64),
    chain: &VerifiedChain,
    root_crl: Option<&Crl>,
    at: u64,
) -> Check {
    if at < issue {
        Check::fail(
            name,
            format!(
                "{what} issue date {} is in the future at {}",
                t(issue),
                t(at)
            ),
        )
    } else if at > next {
        Check::fail(
            name,
            format!(
                "{what} expired at its nextUpdate {} (checked at {})",
                t(next),
                t(at)
            ),
        )
    } else if let Some(r) = chain.invalid_at(at) {
        Check::fail(name, format!("{what} issuer chain: {r}"))
    } else if let Some(r) = revoked_in(chain, root_crl) {
        Check::fail(name, format!("{what} issuer chain: {r}"))
    } else {
        Check::pass(name, format!("{what} valid {} to {}", t(issue), t(next)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn chain_problems_keep_their_cause() {
        let v = Verifier::default();
        let e = v.root_crl(b"not a crl", 0).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Root CA CRL: not valid DER: neither DER, PEM nor hex: Odd number of digits"
        );
        let x509 = e.source().and_then(|s| s.downcast_ref::<X509Error>());
        assert_eq!(x509.map(ToString::to_string), Some(e.to_string()));
        let e = v.pck(b"no pem", 0).unwrap_err();
        assert!(matches!(e, ChainProblem::Certs(_)), "{e:?}");
        assert!(e.source().is_some_and(|s| s.is::<X509Error>()));
    }
}
