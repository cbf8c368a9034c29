use super::*;

#[test]
fn status_classes_are_bounded() {
    let cases =
        [(101, "1xx"), (200, "2xx"), (302, "3xx"), (404, "4xx"), (503, "5xx"), (599, "5xx")];
    for (code, class) in cases {
        assert_eq!(status_class(StatusCode::from_u16(code).unwrap()), class, "{code}");
    }
}

#[test]
fn rendering_shows_labels_never_uris() {
    let metrics = Metrics::default();
    metrics.observe_request(Some(Parity::Even), StatusCode::OK, Duration::from_millis(3));
    metrics.observe_request(None, StatusCode::SERVICE_UNAVAILABLE, Duration::ZERO);
    metrics.observe_fallback(Parity::Odd);
    let text = metrics.render().unwrap();
    assert!(
        text.contains(r#"router_requests_total{upstream="even",status_class="2xx"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"router_requests_total{upstream="none",status_class="5xx"} 1"#),
        "{text}"
    );
    assert!(text.contains(r#"router_fallbacks_total{from="even",to="odd"} 1"#), "{text}");
    assert_eq!(metrics.requests_to(Parity::Even), 1);
}
