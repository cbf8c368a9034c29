use std::time::{Duration, UNIX_EPOCH};

use serde_json::{Value, json};

use super::*;

/// A line as tower-http's trace layer and tracing-subscriber wrote it before this module.
const TRACING_LINE: &str = r#"{"timestamp":"2026-12-01T18:01:55.506929Z","level":"INFO","message":"finished processing request","latency":"0 ms","status":200,"target":"tower_http::trace::on_response","span":{"method":"GET","request_id":"fae9a06a-1342-4379-b683-c8dbe6bf1bf0","route":"/","name":"request"}}"#;

fn fields<'a>(route: Option<&'a str>, request_id: &'a str) -> Fields<'a> {
    Fields {
        at: UNIX_EPOCH + Duration::from_micros(1_796_148_115_506_929),
        method: "GET",
        route,
        request_id,
        status: StatusCode::OK,
        latency: Duration::from_micros(1_700),
    }
}

fn json_line(fields: &Fields<'_>) -> Value {
    let mut line = String::new();
    fields.write_json(&mut line).unwrap();
    assert!(!line.contains('\n'), "one line: {line}");
    serde_json::from_str(&line).unwrap()
}

#[test]
fn the_json_line_has_the_fields_and_shape_of_the_tracing_line_it_replaces() {
    let line = json_line(&fields(Some("/"), "fae9a06a-1342-4379-b683-c8dbe6bf1bf0"));
    let mut before: Value = serde_json::from_str(TRACING_LINE).unwrap();
    before["target"] = json!("vote_app::telemetry::request_log");
    before["latency"] = json!("1 ms");
    assert_eq!(line, before);
}

#[test]
fn a_request_no_route_matched_has_no_route_field() {
    let line = json_line(&fields(None, "-"));
    assert_eq!(line["span"], json!({"method": "GET", "request_id": "-", "name": "request"}));
}

#[test]
fn quotes_and_control_characters_in_logged_values_stay_inside_their_json_strings() {
    let route = "/a \"quoted\" \\ route\n\r\t\u{1}";
    let request_id = "id\",\"status\":500,\"x\":\"\t";
    let mut fields = fields(Some(route), request_id);
    fields.method = "PRO\"PFIND";
    let line = json_line(&fields);
    assert_eq!(line["span"]["route"], route);
    assert_eq!(line["span"]["request_id"], request_id);
    assert_eq!(line["span"]["method"], "PRO\"PFIND");
    assert_eq!(line["status"], 200);
}

#[test]
fn the_text_line_reads_like_tracing_subscribers() {
    let mut line = String::new();
    fields(Some("/api/votes"), "abc").write_text(&mut line).unwrap();
    assert_eq!(
        line,
        "2026-12-01T18:01:55.506929Z  INFO request{method=GET route=/api/votes request_id=abc}: \
         vote_app::telemetry::request_log: finished processing request latency=1 ms status=200"
    );
}
