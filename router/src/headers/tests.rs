use super::*;

/// A header list as a test case writes it: `(name, value)` pairs, repeats allowed.
type Pairs<'a> = &'a [(&'a str, &'a str)];

fn map(pairs: Pairs<'_>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in pairs {
        headers.append(HeaderName::from_bytes(name.as_bytes()).unwrap(), value.parse().unwrap());
    }
    headers
}

fn names(headers: &HeaderMap) -> Vec<&str> {
    let mut names: Vec<&str> = headers.keys().map(HeaderName::as_str).collect();
    names.sort_unstable();
    names
}

#[test]
fn strip_hop_by_hop_removes_connection_headers_and_the_names_they_list() {
    let cases: [(Pairs<'_>, &[&str]); 8] = [
        (&[("accept", "*/*"), ("connection", "keep-alive"), ("keep-alive", "t=5")], &["accept"]),
        (&[("connection", "KEEP-ALIVE"), ("accept", "*/*")], &["accept"]),
        (
            &[("connection", "Keep-Alive, X-Private"), ("keep-alive", "t=5"), ("x-private", "1")],
            &[],
        ),
        (&[("keep-alive", "t=5"), ("accept", "*/*")], &["accept"]),
        (&[("connection", "close, X-Secret"), ("x-secret", "1"), ("x-kept", "1")], &["x-kept"]),
        (&[("connection", "a"), ("connection", " b ,c"), ("a", "1"), ("b", "1"), ("c", "1")], &[]),
        (
            &[
                ("te", "trailers"),
                ("trailer", "x"),
                ("upgrade", "h2c"),
                ("transfer-encoding", "chunked"),
            ],
            &[],
        ),
        (
            &[("proxy-authorization", "Basic x"), ("proxy-connection", "x"), ("cookie", "a=1")],
            &["cookie"],
        ),
    ];
    for (input, kept) in cases {
        let mut headers = map(input);
        strip_hop_by_hop(&mut headers);
        assert_eq!(names(&headers), kept, "{input:?}");
    }
}

#[test]
fn host_goes_to_x_forwarded_host_and_host_names_the_upstream_tried_last() {
    let first = HeaderValue::from_static("vote-odd.azurewebsites.net");
    let upstream = HeaderValue::from_static("vote-even.azurewebsites.net");
    let cases: [(Pairs<'_>, Option<&str>); 3] = [
        (&[("host", "vote.example.com")], Some("vote.example.com")),
        (
            &[("host", "vote.example.com"), ("x-forwarded-host", "spoofed")],
            Some("vote.example.com"),
        ),
        (&[("x-forwarded-host", "spoofed")], None),
    ];
    for (input, forwarded) in cases {
        let mut headers = map(input);
        forward_client_host(&mut headers);
        // A fallback names the first upstream, then the other: the client's host must survive.
        set_upstream_host(&mut headers, &first);
        set_upstream_host(&mut headers, &upstream);
        assert_eq!(headers[header::HOST], upstream, "{input:?}");
        let got = headers.get(X_FORWARDED_HOST).map(|v| v.to_str().unwrap());
        assert_eq!(got, forwarded, "{input:?}");
    }
}

#[test]
fn append_forwarded_for_keeps_the_chain_and_adds_the_client() {
    let client = HeaderValue::from_static("203.0.113.7");
    let cases: [(Pairs<'_>, &str); 4] = [
        (&[], "203.0.113.7"),
        (&[("x-forwarded-for", "10.0.0.1")], "10.0.0.1, 203.0.113.7"),
        (
            &[("x-forwarded-for", "10.0.0.1, 10.0.0.2"), ("x-forwarded-for", "10.0.0.3")],
            "10.0.0.1, 10.0.0.2, 10.0.0.3, 203.0.113.7",
        ),
        (&[("x-forwarded-for", " ")], "203.0.113.7"),
    ];
    for (input, expected) in cases {
        let mut headers = map(input);
        append_forwarded_for(&mut headers, &client);
        assert_eq!(headers.get_all(X_FORWARDED_FOR).iter().count(), 1);
        assert_eq!(headers[X_FORWARDED_FOR], expected, "{input:?}");
    }
}

#[test]
fn set_forwarded_proto_defaults_to_http_and_keeps_a_front_ends_value() {
    let cases: [(Pairs<'_>, &str); 2] =
        [(&[], "http"), (&[("x-forwarded-proto", "https")], "https")];
    for (input, expected) in cases {
        let mut headers = map(input);
        set_forwarded_proto(&mut headers);
        assert_eq!(headers[X_FORWARDED_PROTO], expected, "{input:?}");
    }
}

#[test]
fn mark_routed_names_the_upstream_and_flags_fallbacks_only() {
    let cases = [(Parity::Even, false, "even", None), (Parity::Odd, true, "odd", Some("true"))];
    for (upstream, fallback, routed, flag) in cases {
        let mut headers = HeaderMap::new();
        mark_routed(&mut headers, upstream, fallback);
        assert_eq!(headers[X_ROUTED_TO], routed);
        assert_eq!(headers.get(X_ROUTER_FALLBACK).map(|v| v.to_str().unwrap()), flag);
    }
}

#[test]
fn ensure_request_id_keeps_the_clients_id_or_sets_a_new_one() {
    let made = HeaderValue::from_static("made-here");
    let cases: [(Pairs<'_>, &str); 2] =
        [(&[], "made-here"), (&[("x-request-id", "from-the-edge")], "from-the-edge")];
    for (input, expected) in cases {
        let mut headers = map(input);
        let id = ensure_request_id(&mut headers, || Some(made.clone()));
        assert_eq!(id.unwrap(), expected, "{input:?}");
        assert_eq!(headers[X_REQUEST_ID], expected, "{input:?}");
    }
}

#[test]
fn propagate_request_id_keeps_an_id_the_response_already_has() {
    let cases: [(Pairs<'_>, Option<&str>, Option<&str>); 3] = [
        (&[], Some("ours"), Some("ours")),
        (&[("x-request-id", "upstream's")], Some("ours"), Some("upstream's")),
        (&[], None, None),
    ];
    for (input, id, expected) in cases {
        let mut headers = map(input);
        propagate_request_id(&mut headers, id.map(HeaderValue::from_static));
        let got = headers.get(X_REQUEST_ID).map(|v| v.to_str().unwrap());
        assert_eq!(got, expected, "{input:?}");
    }
}
