use std::io;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::*;

#[test]
fn strings_are_escaped_as_serde_json_escapes_them() {
    let every_ascii: String = (0u8..=0x7f).map(char::from).collect();
    for text in
        [every_ascii.as_str(), "plain", "", "quote \" backslash \\", "é ünïcode 🐈 \u{2028}"]
    {
        let mut out = String::new();
        write_string(&mut out, text).unwrap();
        assert_eq!(out, serde_json::to_string(text).unwrap());
        assert_eq!(serde_json::from_str::<String>(&out).unwrap(), text);
    }
}

#[test]
fn a_byte_that_needs_an_escape_is_found_at_every_position_of_a_word_and_of_the_tail() {
    let needing: Vec<u8> = (0..0x20).chain([b'"', b'\\']).collect();
    let not_needing: Vec<u8> = (0x20..=0xff).filter(|byte| !needing.contains(byte)).collect();
    for length in 1..=20 {
        for at in 0..length {
            for &byte in &needing {
                let mut text = vec![b'a'; length];
                text[at] = byte;
                assert!(needs_escape(&text), "{byte:#x} at {at} of {length}");
            }
        }
    }
    for &byte in &not_needing {
        assert!(!needs_escape(&[byte; 19]), "{byte:#x} needs no escape");
    }
    // Words mixing bytes that need none, from a fixed pseudo-random sequence.
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..10_000 {
        let text: Vec<u8> = (0..16)
            .map(|_| {
                state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                not_needing[(state >> 33) as usize % not_needing.len()]
            })
            .collect();
        assert!(!needs_escape(&text), "{text:x?}");
    }
}

/// Where the test subscriber writes: one buffer the test reads afterwards.
#[derive(Clone, Default)]
struct Output(Arc<Mutex<Vec<u8>>>);

impl io::Write for Output {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The `"span"` object of the last line that `log` writes, with the app's JSON subscriber.
fn span_of_line(log: impl FnOnce()) -> Value {
    let output = Output::default();
    let writer = output.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .fmt_fields(SpanFields)
        .finish();
    tracing::subscriber::with_default(subscriber, log);
    let written = String::from_utf8(output.0.lock().unwrap().clone()).unwrap();
    let line: Value = serde_json::from_str(written.lines().last().unwrap()).unwrap();
    line["span"].clone()
}

#[test]
fn span_fields_of_every_kind_nest_under_span_as_json_values() {
    let error = io::Error::other("refused \"politely\"");
    let span = span_of_line(|| {
        let span = tracing::info_span!(
            "request",
            method = %"GET",
            route = "/a\"b\n",
            count = -3_i64,
            size = 7_u64,
            ok = true,
            ratio = 0.5,
            missing = f64::NAN,
            error = &error as &dyn std::error::Error,
            debug = ?("tab\t", 1),
        );
        span.in_scope(|| tracing::info!("inside"));
    });
    let expected = json!({
        "method": "GET", "route": "/a\"b\n", "count": -3, "size": 7, "ok": true, "ratio": 0.5,
        "missing": "NaN", "error": "refused \"politely\"", "debug": "(\"tab\\t\", 1)",
        "name": "request",
    });
    assert_eq!(span, expected);
}

#[test]
fn fields_recorded_later_join_the_span_object() {
    let span = span_of_line(|| {
        let span = tracing::info_span!("request", method = "GET", status = tracing::field::Empty);
        span.record("status", 503_u64);
        span.in_scope(|| tracing::info!("inside"));
    });
    assert_eq!(span, json!({"method": "GET", "status": 503, "name": "request"}));
}

#[test]
fn a_span_created_without_values_takes_the_ones_recorded_later() {
    let before = span_of_line(|| {
        let span = tracing::info_span!("quiet", later = tracing::field::Empty);
        span.in_scope(|| tracing::info!("inside"));
    });
    assert_eq!(before, json!({"name": "quiet"}));
    let after = span_of_line(|| {
        let span = tracing::info_span!("quiet", later = tracing::field::Empty);
        span.record("later", "set");
        span.in_scope(|| tracing::info!("inside"));
    });
    assert_eq!(after, json!({"later": "set", "name": "quiet"}));
}
