//! Browser-facing protections: security headers on every response, refusal of cross-origin
//! POSTs, and the admin-token check for resets.

use std::future::{self, Ready};
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use futures_util::future::Either;
use tower::{Layer, Service};

use crate::error::{AppError, HtmlError};
use crate::i18n::Lang;
use crate::secret::Secret;

/// Headers added to every response. The page loads only its own stylesheet, icon, manifest and
/// live-results script (no inline code), which opens only its own stream, so the content
/// security policy allows nothing else.
pub const SECURITY_HEADERS: [(HeaderName, &str); 6] = [
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; \
         img-src 'self'; manifest-src 'self'; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::REFERRER_POLICY, "no-referrer"),
    (HeaderName::from_static("cross-origin-opener-policy"), "same-origin"),
    (HeaderName::from_static("permissions-policy"), "camera=(), microphone=(), geolocation=()"),
];

/// Adds [`SECURITY_HEADERS`] to a response unless its handler already set one.
pub fn add_security_headers(mut response: Response) -> Response {
    // Room for them all at once, rather than the map growing header by header.
    response.headers_mut().reserve(SECURITY_HEADERS.len());
    for (name, value) in SECURITY_HEADERS {
        response.headers_mut().entry(name).or_insert(HeaderValue::from_static(value));
    }
    response
}

/// Adds [`RefuseCrossOrigin`] around a service.
#[derive(Debug, Clone, Copy)]
pub struct RefuseCrossOriginLayer;

impl<S> Layer<S> for RefuseCrossOriginLayer {
    type Service = RefuseCrossOrigin<S>;

    fn layer(&self, inner: S) -> RefuseCrossOrigin<S> {
        RefuseCrossOrigin { inner }
    }
}

/// Refuses a state-changing request that another site's page sent (403), so a malicious page
/// cannot make a visitor's browser vote or reset; passes every other request on.
#[derive(Debug, Clone)]
pub struct RefuseCrossOrigin<S> {
    inner: S,
}

impl<S> Service<Request> for RefuseCrossOrigin<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    /// The refusal, ready at once, or the service's own answer.
    type Future = Either<Ready<Result<Response, S::Error>>, S::Future>;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(context)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        match cross_origin_refusal(&request) {
            Some(refusal) => Either::Left(future::ready(Ok(refusal))),
            None => Either::Right(self.inner.call(request)),
        }
    }
}

/// The 403 for a state-changing request from another site, in the shape of what was posted
/// to: the JSON error for `/api/*`, the HTML error page for the page's form.
fn cross_origin_refusal(request: &Request) -> Option<Response> {
    if request.method().is_safe() || is_same_origin(request.headers()) {
        None
    } else if request.uri().path().starts_with("/api/") {
        Some(AppError::CrossOrigin.into_response())
    } else {
        let lang = request.extensions().get::<Lang>().copied().unwrap_or_default();
        Some(HtmlError::new(AppError::CrossOrigin, lang).into_response())
    }
}

/// Whether the request came from this site's own page, or from a non-browser client.
///
/// Browsers send `Sec-Fetch-Site`; older ones send at least `Origin` on a cross-origin POST.
/// Behind the router the `Host` is the upstream's, and the one the browser used is in
/// `X-Forwarded-Host`; a page cannot forge that header, since a cross-site form sends none.
/// A request with neither header comes from curl or a load-test script: it is allowed.
pub fn is_same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        return matches!(site.as_bytes(), b"same-origin" | b"none");
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let origin_host = origin.split_once("://").map_or("", |(_, host)| host);
    let first_value = |name| headers.get(name).and_then(|v: &HeaderValue| v.to_str().ok());
    let host = first_value(HeaderName::from_static("x-forwarded-host"))
        .and_then(|hosts| hosts.split(',').next())
        .or_else(|| first_value(header::HOST))
        .map(str::trim);
    host.is_some_and(|host| host.eq_ignore_ascii_case(origin_host))
}

/// Checks a reset's token: 401 without one, 403 when wrong or when no token is configured.
pub fn check_admin_token(expected: Option<&Secret>, given: Option<&str>) -> Result<(), AppError> {
    let given = given.filter(|token| !token.is_empty()).ok_or(AppError::Unauthorized)?;
    match expected {
        Some(expected) if expected.matches(given) => Ok(()),
        _ => Err(AppError::Forbidden),
    }
}

#[cfg(test)]
mod tests;
