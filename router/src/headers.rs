//! Header rules, as small pure functions on a `HeaderMap`.
//!
//! Each rule is one decision a reverse proxy has to make, kept apart so it can be read and tested
//! on its own (the approach of pingora and linkerd2-proxy). The proxy pipeline calls them in order.

use http::header::{self, HeaderMap, HeaderName, HeaderValue};

use crate::clock::Parity;

/// Names the upstream that produced the response: `even` or `odd`.
pub const X_ROUTED_TO: HeaderName = HeaderName::from_static("x-routed-to");
/// Present (`true`) when the request went to the other upstream because its own was down.
pub const X_ROUTER_FALLBACK: HeaderName = HeaderName::from_static("x-router-fallback");
/// The `Host` the client asked for, since `Host` itself now names the upstream.
pub const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
/// The chain of client addresses the request came through.
pub const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
/// The scheme the client used to reach the edge.
pub const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
/// Correlates the client's, the router's and the upstream's log lines for one request.
pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Headers that describe one connection, not the message (RFC 9110 §7.6.1, plus the
/// non-standard `Proxy-Connection` and `Keep-Alive` that old clients still send).
const HOP_BY_HOP: [HeaderName; 8] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::UPGRADE,
];

/// Removes hop-by-hop headers, including every header named in `Connection`.
///
/// Why: they describe the client↔router connection. Forwarding them would, for example, let a
/// client's `Connection: close` close the pooled router↔upstream connection, or smuggle a header
/// the client marked as private to this hop. `Transfer-Encoding` goes too: hyper frames the body
/// again for the next hop.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    // Most messages carry none of them: one pass over their few names is cheaper than the ten
    // hashed removals below, on every request and every response.
    if !headers.keys().any(|name| HOP_BY_HOP.contains(name) || name == header::TRANSFER_ENCODING) {
        return;
    }
    let listed: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in listed.iter().chain(HOP_BY_HOP.iter()) {
        headers.remove(name);
    }
    headers.remove(header::TRANSFER_ENCODING);
}

/// Sends the upstream's own name as `Host` and the client's in `X-Forwarded-Host`.
///
/// Why: App Service (and any virtual-hosting front end) picks the site by `Host`, so the
/// client's value would land on the wrong site or a 404. A client-supplied `X-Forwarded-Host` is
/// replaced, not trusted: the router is the edge that knows what the client asked for.
pub fn rewrite_host(headers: &mut HeaderMap, upstream_host: &HeaderValue) {
    match headers.insert(header::HOST, upstream_host.clone()) {
        Some(client_host) => headers.insert(X_FORWARDED_HOST, client_host),
        None => headers.remove(X_FORWARDED_HOST),
    };
}

/// Appends the client's address to `X-Forwarded-For`, keeping what earlier proxies recorded.
///
/// `client` is the address already rendered as a header value: it is the same for every request
/// of a connection, so the server renders it once per connection, not once per request.
/// Several `X-Forwarded-For` lines are merged into one list, as RFC 9110 allows for list headers.
pub fn append_forwarded_for(headers: &mut HeaderMap, client: &HeaderValue) {
    let earlier: Vec<&str> = headers
        .get_all(X_FORWARDED_FOR)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .collect();
    if earlier.is_empty() {
        headers.insert(X_FORWARDED_FOR, client.clone());
        return;
    }
    let client = client.to_str().unwrap_or_default();
    if let Ok(value) = HeaderValue::from_str(&format!("{}, {client}", earlier.join(", "))) {
        headers.insert(X_FORWARDED_FOR, value);
    }
}

/// Keeps the client's `X-Request-Id`, or sets one made by `make`; returns the id in force.
///
/// Why keep the client's: a front end (App Service, an ingress) may have assigned one already,
/// and one id across every hop is what makes the log lines of a request findable together.
pub fn ensure_request_id(
    headers: &mut HeaderMap,
    make: impl FnOnce() -> Option<HeaderValue>,
) -> Option<HeaderValue> {
    if let Some(id) = headers.get(X_REQUEST_ID) {
        return Some(id.clone());
    }
    let id = make()?;
    headers.insert(X_REQUEST_ID, id.clone());
    Some(id)
}

/// Returns the request id to the client, unless the response already names one.
pub fn propagate_request_id(headers: &mut HeaderMap, id: Option<HeaderValue>) {
    if let Some(id) = id {
        headers.entry(X_REQUEST_ID).or_insert(id);
    }
}

/// Sets `X-Forwarded-Proto` to `http` unless a front end already set it.
///
/// Why keep an existing value: the router listens on plain HTTP; on App Service and behind a
/// Kubernetes ingress, TLS ends in front of it and that front end sets the header to `https`.
pub fn set_forwarded_proto(headers: &mut HeaderMap) {
    headers.entry(X_FORWARDED_PROTO).or_insert(HeaderValue::from_static("http"));
}

/// Tells the client which upstream answered, and whether it was a fallback.
pub fn mark_routed(headers: &mut HeaderMap, upstream: Parity, fallback: bool) {
    headers.insert(X_ROUTED_TO, HeaderValue::from_static(upstream.as_str()));
    if fallback {
        headers.insert(X_ROUTER_FALLBACK, HeaderValue::from_static("true"));
    }
}

#[cfg(test)]
mod tests;
