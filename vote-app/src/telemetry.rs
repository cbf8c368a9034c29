//! Logging: one subscriber for the process, JSON in containers, one line per request carrying
//! a request id and the route template, written by a thread of their own ([`writer`]).
//!
//! The per-request line is formatted by [`RequestLogLayer`] itself rather than through a
//! tracing event: it is the one line every request pays for. The app's other lines (startup,
//! warnings, errors) go through tracing-subscriber, inside the request's span when there is one,
//! so they carry the request id too.

mod json;
mod request_log;
mod timestamp;
mod writer;

use std::sync::OnceLock;

use tracing_subscriber::EnvFilter;

pub use self::request_log::{RequestLog, RequestLogLayer};
use self::writer::LogWriter;
use crate::config::LogFormat;

/// The process's log writer, once [`init`] has started it.
static WRITER: OnceLock<LogWriter> = OnceLock::new();

/// Installs the global subscriber, writing to stdout through the log writer thread. `RUST_LOG`
/// overrides the default `info` level.
#[allow(clippy::print_stderr)] // without the writer thread there is no logger to say so with
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json = format == LogFormat::Json;
    let writer = match LogWriter::start(std::io::stdout(), json, writer::QUEUE) {
        Ok(writer) => WRITER.get_or_init(|| writer),
        Err(error) => {
            eprintln!("vote-app: cannot start the log writer thread, logging nothing: {error}");
            return;
        }
    };
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer);
    // A second call (tests) keeps the first subscriber; that is fine.
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .fmt_fields(json::SpanFields)
            .try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Writes every log line queued so far: the process calls it before it exits.
pub fn flush() {
    if let Some(writer) = WRITER.get() {
        writer.flush();
    }
}

/// The layer that gives each request its span (method, route template, request id) and logs
/// one line, at `info`, when its response is ready.
pub fn trace_layer() -> RequestLogLayer {
    RequestLogLayer
}
