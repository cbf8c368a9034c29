use super::*;

#[test]
fn parsing_accepts_http_and_https_and_rejects_the_rest() {
    use UpstreamUrlError::*;
    let cases: [(&str, Result<&str, UpstreamUrlError>); 8] = [
        ("http://127.0.0.1:8081", Ok("127.0.0.1:8081")),
        ("https://vote-even.azurewebsites.net/", Ok("vote-even.azurewebsites.net")),
        (" http://vote:80 ", Ok("vote:80")),
        ("ftp://example.com", Err(UnsupportedScheme)),
        ("127.0.0.1:8081", Err(UnsupportedScheme)),
        ("not a url", Err(Malformed)),
        ("http://user:secret@example.com", Err(Credentials)),
        ("http://example.com/?a=1", Err(Query)),
    ];
    for (raw, expected) in cases {
        let parsed = Upstream::parse(Parity::Even, raw);
        match expected {
            Ok(host) => assert_eq!(parsed.unwrap().host, host, "{raw}"),
            Err(error) => assert_eq!(parsed.unwrap_err(), error, "{raw}"),
        }
    }
}

#[test]
fn uri_for_keeps_the_client_path_and_query_under_the_base_path() {
    let cases = [
        ("http://a:1", Some("/vote?x=1"), "http://a:1/vote?x=1"),
        ("http://a:1", None, "http://a:1/"),
        ("https://a/app/", Some("/vote?x=1"), "https://a/app/vote?x=1"),
        ("https://a/app", None, "https://a/app/"),
    ];
    for (base, pq, expected) in cases {
        let upstream = Upstream::parse(Parity::Odd, base).unwrap();
        let pq = pq.map(|pq| PathAndQuery::try_from(pq).unwrap());
        assert_eq!(upstream.uri_for(pq.as_ref()).unwrap().to_string(), expected, "{base}");
    }
}
