//! The two places requests can go, parsed once at startup.
//!
//! An upstream is a base URL such as `http://127.0.0.1:8081` or
//! `https://vote-even.azurewebsites.net`. Parsing it here means the request path can only ever
//! produce a well-formed upstream URI, and the `Host` value is computed once instead of per request.

use http::uri::{Authority, PathAndQuery, Scheme};
use http::{HeaderValue, Uri};

use crate::clock::Parity;

/// One upstream vote-app instance.
#[derive(Debug, Clone)]
pub struct Upstream {
    /// Which minutes it serves; also its name in headers, logs and metrics.
    pub parity: Parity,
    /// The configured base URL, shown on `/router/status` (credentials are refused at parse time).
    pub url: Uri,
    /// `http` or `https`: the connector picks plain TCP or rustls from it.
    scheme: Scheme,
    /// `host[:port]` to connect to.
    authority: Authority,
    /// `scheme://authority`, what the connector needs; built once.
    origin: Uri,
    /// Path prefix the upstream is mounted under, without a trailing `/` (usually empty).
    base_path: String,
    /// The `Host` header upstream requests carry: App Service routes by it, so it must be the
    /// upstream's own name, never the client's.
    pub host: HeaderValue,
}

/// Why an upstream URL was refused; shown next to the variable name at startup.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UpstreamUrlError {
    /// Not a URI at all.
    #[error("not a valid URL")]
    Malformed,
    /// Only `http` and `https` upstreams can be proxied to.
    #[error("scheme must be http or https")]
    UnsupportedScheme,
    /// A URL without a host has nowhere to connect to.
    #[error("URL has no host")]
    MissingHost,
    /// `user:password@` would end up in logs and on `/router/status`; nothing here uses it.
    #[error("credentials in the URL are not supported")]
    Credentials,
    /// A query on the base URL has no meaning once the client's own query is appended.
    #[error("URL must not contain a query")]
    Query,
}

impl Upstream {
    /// Parses the base URL of the upstream serving `parity`.
    pub fn parse(parity: Parity, raw: &str) -> Result<Self, UpstreamUrlError> {
        let url: Uri = raw.trim().parse().map_err(|_| UpstreamUrlError::Malformed)?;
        let scheme = url.scheme().cloned().ok_or(UpstreamUrlError::UnsupportedScheme)?;
        if scheme != Scheme::HTTP && scheme != Scheme::HTTPS {
            return Err(UpstreamUrlError::UnsupportedScheme);
        }
        let authority = url.authority().cloned().ok_or(UpstreamUrlError::MissingHost)?;
        if authority.as_str().contains('@') {
            return Err(UpstreamUrlError::Credentials);
        }
        if authority.host().is_empty() {
            return Err(UpstreamUrlError::MissingHost);
        }
        if url.query().is_some() {
            return Err(UpstreamUrlError::Query);
        }
        let host =
            HeaderValue::from_str(authority.as_str()).map_err(|_| UpstreamUrlError::Malformed)?;
        let base_path = url.path().trim_end_matches('/').to_owned();
        let origin = Uri::builder()
            .scheme(scheme.clone())
            .authority(authority.clone())
            .path_and_query("/")
            .build()
            .map_err(|_| UpstreamUrlError::Malformed)?;
        Ok(Self { parity, url, scheme, authority, origin, base_path, host })
    }

    /// `scheme://authority`: where connections to this upstream go.
    pub fn origin(&self) -> &Uri {
        &self.origin
    }

    /// The URI a request for `path_and_query` (as the client sent it) is forwarded to.
    pub fn uri_for(&self, path_and_query: Option<&PathAndQuery>) -> Result<Uri, http::Error> {
        Uri::builder()
            .scheme(self.scheme.clone())
            .authority(self.authority.clone())
            .path_and_query(self.path_for(path_and_query)?)
            .build()
    }

    /// The request target sent on a connection to this upstream (origin form, `/path?query`).
    pub fn origin_form(&self, path_and_query: Option<&PathAndQuery>) -> Result<Uri, http::Error> {
        Ok(Uri::from(self.path_for(path_and_query)?))
    }

    /// The client's path and query under the upstream's base path.
    fn path_for(&self, path_and_query: Option<&PathAndQuery>) -> Result<PathAndQuery, http::Error> {
        Ok(match (self.base_path.is_empty(), path_and_query) {
            // The common case reuses the client's bytes without copying them.
            (true, Some(pq)) => pq.clone(),
            (true, None) => PathAndQuery::from_static("/"),
            (false, pq) => {
                let rest = pq.map_or("/", PathAndQuery::as_str);
                PathAndQuery::try_from(format!("{}{rest}", self.base_path))?
            }
        })
    }
}

/// Both upstreams, looked up by parity.
#[derive(Debug, Clone)]
pub struct Upstreams {
    /// Serves even UTC minutes.
    pub even: Upstream,
    /// Serves odd UTC minutes.
    pub odd: Upstream,
}

impl Upstreams {
    /// The upstream serving `parity`.
    pub fn get(&self, parity: Parity) -> &Upstream {
        match parity {
            Parity::Even => &self.even,
            Parity::Odd => &self.odd,
        }
    }
}

#[cfg(test)]
mod tests;
