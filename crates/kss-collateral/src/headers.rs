//! Issuer chains from response headers: URL-encoded PEM (`%2D%2D%2D%2D%2DBEGIN...`).

use percent_encoding::percent_decode;

/// Why a header value is not an issuer chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// URL-decoded, it is not UTF-8.
    #[error("the URL-decoded issuer chain is not UTF-8")]
    NotUtf8(#[source] std::str::Utf8Error),
    /// It holds no PEM certificate.
    #[error("the issuer chain header holds no PEM certificate")]
    NoPem,
}

/// The TCB info issuer chain header (v4), then its v3 name.
pub const TCB_INFO_ISSUER_CHAIN: &[&str] = &["TCB-Info-Issuer-Chain", "SGX-TCB-Info-Issuer-Chain"];
/// The QE identity issuer chain header.
pub const ENCLAVE_IDENTITY_ISSUER_CHAIN: &[&str] = &["SGX-Enclave-Identity-Issuer-Chain"];
/// The PCK CRL issuer chain header.
pub const PCK_CRL_ISSUER_CHAIN: &[&str] = &["SGX-PCK-CRL-Issuer-Chain"];

/// Decodes a header value into PEM text. It must be URL-encoded PEM (plain PEM is accepted
/// too) with at least one `CERTIFICATE` block. `Err` says what is wrong.
pub fn decode_pem_chain(value: &[u8]) -> Result<String, HeaderError> {
    let decoded = percent_decode(value)
        .decode_utf8()
        .map_err(HeaderError::NotUtf8)?;
    let text = decoded.trim();
    if !text.contains("-----BEGIN CERTIFICATE-----") || !text.contains("-----END CERTIFICATE-----")
    {
        return Err(HeaderError::NoPem);
    }
    let mut out = text.to_string();
    out.push('\n');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_encoded_pem() {
        let v = b"%2D%2D%2D%2D%2DBEGIN%20CERTIFICATE%2D%2D%2D%2D%2D%0AMIIB%2B%2F%3D%0A%2D%2D%2D%2D%2DEND%20CERTIFICATE%2D%2D%2D%2D%2D%0A";
        assert_eq!(
            decode_pem_chain(v).unwrap(),
            "-----BEGIN CERTIFICATE-----\nMIIB+/=\n-----END CERTIFICATE-----\n"
        );
        assert!(decode_pem_chain(b"garbage").is_err());
        assert!(decode_pem_chain(b"%FF%FE").is_err());
        let e = decode_pem_chain(b"garbage").unwrap_err();
        assert_eq!(
            e.to_string(),
            "the issuer chain header holds no PEM certificate"
        );
        let e = decode_pem_chain(b"%FF%FE").unwrap_err();
        assert_eq!(e.to_string(), "the URL-decoded issuer chain is not UTF-8");
        let cause = std::error::Error::source(&e);
        assert!(
            cause.is_some_and(|c| c.is::<std::str::Utf8Error>()),
            "{e:?}"
        );
    }
}
