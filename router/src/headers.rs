//! Header rules, as small pure functions on a `HeaderMap`.
//!
//! Each rule is one decision a reverse proxy has to make, kept apart so it can be read and tested
//! on its own (the approach of pingora and linkerd2-proxy). The proxy pipeline calls them in order.

use http::header::{self, Entry, HeaderMap, HeaderName, HeaderValue};

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

/// Whether `name` describes one connection, not the message (RFC 9110 §7.6.1, plus the
/// non-standard `Proxy-Connection` and `Keep-Alive` that old clients still send, and
/// `Transfer-Encoding`, since hyper frames the body again for the next hop).
///
/// A match on the name's text, not a list of `HeaderName`s: it runs for every header of every
/// request and response, and comparing strings is cheaper than comparing `HeaderName`s.
fn is_hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
    )
}

/// Removes hop-by-hop headers, including every header named in `Connection`.
///
/// Why: they describe the client↔router connection. Forwarding them would, for example, let a
/// client's `Connection: close` close the pooled router↔upstream connection, or smuggle a header
/// the client marked as private to this hop.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    // Most messages carry none: one pass over their few names saves every lookup below.
    if !headers.keys().any(is_hop_by_hop) {
        return;
    }
    // Names listed in `Connection` are hop-by-hop too. `keep-alive`, by far the usual one, is
    // removed by the loop below anyway, so no name is built (and allocated) for it, and a value
    // that is only `keep-alive` is not even split.
    let listed: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter(|value| !value.as_bytes().eq_ignore_ascii_case(b"keep-alive"))
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter(|name| !name.eq_ignore_ascii_case("keep-alive"))
        .filter_map(|name| HeaderName::from_bytes(name.as_bytes()).ok())
        .collect();
    for name in listed {
        headers.remove(name);
    }
    // Few messages have more than one: finding the next one again after each removal is
    // cheaper than a hashed removal of every possible one.
    while let Some(name) = headers.keys().find(|name| is_hop_by_hop(name)).cloned() {
        headers.remove(name);
    }
}

/// Moves the client's `Host` to `X-Forwarded-Host`; [`set_upstream_host`] then sets `Host`.
///
/// Why: App Service (and any virtual-hosting front end) picks the site by `Host`, so the
/// client's value would land on the wrong site or a 404. A client-supplied `X-Forwarded-Host` is
/// replaced, not trusted: the router is the edge that knows what the client asked for.
pub fn forward_client_host(headers: &mut HeaderMap) {
    match headers.remove(header::HOST) {
        Some(client_host) => headers.insert(X_FORWARDED_HOST, client_host),
        None => headers.remove(X_FORWARDED_HOST),
    };
}

/// Sends the upstream's own name as `Host`. Kept apart from [`forward_client_host`] because it
/// depends on the upstream: a request that falls back gets the other upstream's name.
pub fn set_upstream_host(headers: &mut HeaderMap, upstream_host: &HeaderValue) {
    headers.insert(header::HOST, upstream_host.clone());
}

/// Appends the client's address to `X-Forwarded-For`, keeping what earlier proxies recorded.
///
/// `client` is the address already rendered as a header value: it is the same for every request
/// of a connection, so the server renders it once per connection, not once per request.
/// Several `X-Forwarded-For` lines are merged into one list, as RFC 9110 allows for list headers.
pub fn append_forwarded_for(headers: &mut HeaderMap, client: &HeaderValue) {
    let mut entry = match headers.entry(X_FORWARDED_FOR) {
        Entry::Vacant(slot) => {
            slot.insert(client.clone());
            return;
        }
        Entry::Occupied(entry) => entry,
    };
    let earlier: Vec<&str> = entry
        .iter()
        .filter_map(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .collect();
    let chain = if earlier.is_empty() {
        Ok(client.clone())
    } else {
        let client = client.to_str().unwrap_or_default();
        HeaderValue::from_str(&format!("{}, {client}", earlier.join(", ")))
    };
    if let Ok(chain) = chain {
        entry.insert(chain);
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
    match headers.entry(X_REQUEST_ID) {
        Entry::Occupied(id) => Some(id.get().clone()),
        Entry::Vacant(slot) => Some(slot.insert(make()?).clone()),
    }
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
