//! Where collateral is fetched from: a PCCS or Intel's PCS, API v4.

use crate::piece::{ca_name, Piece};
use reqwest::Url;

/// Intel's Provisioning Certification Service.
pub const INTEL_PCS_URL: &str = "https://api.trustedservices.intel.com";

/// The Intel SGX Root CA CRL at the root certificate's CRL distribution point (DER). Intel's
/// PCS has no `rootcacrl` endpoint; a PCCS has.
pub const INTEL_ROOT_CA_CRL_URL: &str =
    "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der";

/// The API path every endpoint ends in.
pub const API_PATH: &str = "/sgx/certification/v4";

/// A PCS or PCCS, API v4.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `https://host:port[/prefix]/sgx/certification/v4`, no trailing slash.
    api: String,
    /// Where the Root CA CRL comes from; `None`: `{api}/rootcacrl` (a PCCS).
    root_ca_crl: Option<String>,
}

/// A URL that cannot name a PCS or PCCS.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{url}' is not a PCS/PCCS URL: {reason}")]
pub struct EndpointError {
    /// The URL as given.
    pub url: String,
    /// What is wrong with it.
    #[source]
    pub reason: EndpointProblem,
}

/// The URL parser's error (`url::ParseError`).
pub type UrlParseError = <Url as std::str::FromStr>::Err;

/// What is wrong with a PCS/PCCS URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointProblem {
    /// It is not a URL.
    #[error("{0}")]
    Url(#[source] UrlParseError),
    /// Neither http nor https.
    #[error("the scheme must be https or http")]
    Scheme,
    /// No host.
    #[error("no host")]
    NoHost,
    /// A query or fragment.
    #[error("a query or fragment is not allowed")]
    QueryOrFragment,
    /// A user name or password.
    #[error("credentials in the URL are not allowed")]
    Credentials,
    /// The path of an older API version.
    #[error(
        "only API version v4 is spoken: give the base URL or one ending in /sgx/certification/v4"
    )]
    OldApi,
}

impl Endpoint {
    /// Intel's PCS, with the Root CA CRL from its distribution point.
    pub fn intel_pcs() -> Self {
        Self::parse(INTEL_PCS_URL).unwrap_or_else(|_| Endpoint {
            api: format!("{INTEL_PCS_URL}{API_PATH}"),
            root_ca_crl: Some(INTEL_ROOT_CA_CRL_URL.into()),
        })
    }

    /// Reads a service URL: a base (`https://host:8081`, any path prefix) or one that already
    /// ends in `/sgx/certification/v4`. http and https are accepted; query, fragment and
    /// credentials are not. Intel's PCS host gets the Root CA CRL from its distribution point,
    /// any other host (a PCCS) from `…/rootcacrl`.
    pub fn parse(text: &str) -> Result<Self, EndpointError> {
        let err = |reason: EndpointProblem| EndpointError {
            url: text.to_string(),
            reason,
        };
        let url = Url::parse(text.trim()).map_err(|e| err(EndpointProblem::Url(e)))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(err(EndpointProblem::Scheme));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(err(EndpointProblem::NoHost));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(err(EndpointProblem::QueryOrFragment));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(err(EndpointProblem::Credentials));
        }
        let path = url.path().trim_end_matches('/');
        for old in [
            "/sgx/certification/v3",
            "/sgx/certification/v2",
            "/sgx/certification/v1",
        ] {
            if path.ends_with(old) {
                return Err(err(EndpointProblem::OldApi));
            }
        }
        let path = path.strip_suffix(API_PATH).unwrap_or(path);
        let mut base = url.clone();
        base.set_path("");
        let base = base.as_str().trim_end_matches('/').to_string();
        let api = format!("{base}{path}{API_PATH}");
        let root_ca_crl = (url.host_str() == Some("api.trustedservices.intel.com"))
            .then(|| INTEL_ROOT_CA_CRL_URL.to_string());
        Ok(Endpoint { api, root_ca_crl })
    }

    /// The same service with the Root CA CRL fetched from `url` (DER, PEM or hex) instead.
    pub fn with_root_ca_crl_url(mut self, url: impl Into<String>) -> Self {
        self.root_ca_crl = Some(url.into());
        self
    }

    /// The API base, ending in `/sgx/certification/v4`.
    pub fn api(&self) -> &str {
        &self.api
    }

    /// The URL of a piece.
    pub fn url_of(&self, piece: &Piece) -> String {
        let api = &self.api;
        match piece {
            Piece::TcbInfo { fmspc } => format!("{api}/tcb?fmspc={}", hex::encode_upper(fmspc)),
            Piece::QeIdentity => format!("{api}/qe/identity"),
            Piece::PckCrl { ca } => format!("{api}/pckcrl?ca={}&encoding=der", ca_name(*ca)),
            Piece::RootCaCrl => self
                .root_ca_crl
                .clone()
                .unwrap_or_else(|| format!("{api}/rootcacrl")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kss_attest::collateral::PckCa;

    #[test]
    fn bases_and_full_urls_normalise_alike() {
        for u in [
            "https://pccs.example:8081",
            "https://pccs.example:8081/",
            "https://pccs.example:8081/sgx/certification/v4",
            "https://pccs.example:8081/sgx/certification/v4/",
        ] {
            let e = Endpoint::parse(u).unwrap();
            assert_eq!(
                e.api(),
                "https://pccs.example:8081/sgx/certification/v4",
                "{u}"
            );
            assert_eq!(
                e.url_of(&Piece::RootCaCrl),
                "https://pccs.example:8081/sgx/certification/v4/rootcacrl"
            );
        }
        let e = Endpoint::parse("http://127.0.0.1:9/prefix/").unwrap();
        assert_eq!(e.api(), "http://127.0.0.1:9/prefix/sgx/certification/v4");
        assert_eq!(
            e.url_of(&Piece::TcbInfo {
                fmspc: [0, 0xa0, 0x67, 0x11, 0, 0]
            }),
            "http://127.0.0.1:9/prefix/sgx/certification/v4/tcb?fmspc=00A067110000"
        );
        assert_eq!(
            e.url_of(&Piece::PckCrl {
                ca: PckCa::Platform
            }),
            "http://127.0.0.1:9/prefix/sgx/certification/v4/pckcrl?ca=platform&encoding=der"
        );
    }

    #[test]
    fn intel_pcs_gets_the_root_crl_from_its_distribution_point() {
        let e = Endpoint::intel_pcs();
        assert_eq!(
            e.api(),
            "https://api.trustedservices.intel.com/sgx/certification/v4"
        );
        assert_eq!(e.url_of(&Piece::RootCaCrl), INTEL_ROOT_CA_CRL_URL);
        assert_eq!(
            e.url_of(&Piece::QeIdentity),
            format!("{}/qe/identity", e.api())
        );
    }

    #[test]
    fn bad_urls() {
        for u in [
            "ftp://h/",
            "pccs:8081",
            "https://h/sgx/certification/v3",
            "https://h/?x=1",
            "https://u:p@h/",
            "",
        ] {
            assert!(Endpoint::parse(u).is_err(), "{u}");
        }
    }

    #[test]
    fn unparsable_urls_say_why_in_exact_words() {
        let why = |u: &str| Endpoint::parse(u).unwrap_err().to_string();
        let e = Endpoint::parse("not a url").unwrap_err();
        let cause = std::error::Error::source(&e).and_then(std::error::Error::source);
        assert_eq!(
            cause
                .and_then(|c| c.downcast_ref::<UrlParseError>())
                .map(ToString::to_string),
            Some("relative URL without a base".to_string())
        );
        assert_eq!(
            why("not a url"),
            "'not a url' is not a PCS/PCCS URL: relative URL without a base"
        );
        assert_eq!(
            why("http://[::1"),
            "'http://[::1' is not a PCS/PCCS URL: invalid IPv6 address"
        );
        assert_eq!(
            why("ftp://h/"),
            "'ftp://h/' is not a PCS/PCCS URL: the scheme must be https or http"
        );
    }
}
