//! Logging: one subscriber for the process, JSON in containers, one line per request carrying
//! a request id and the route template, written by a thread of its own ([`writer`]).

mod writer;

use std::sync::OnceLock;

use axum::extract::MatchedPath;
use axum::http::Request;
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::{Level, Span};
use tracing_subscriber::EnvFilter;

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

/// The span around each request: method, route template and the request id set by
/// `SetRequestIdLayer`. The raw URI is left out: query strings may carry anything.
fn request_span<B>(request: &Request<B>) -> Span {
    let route = request.extensions().get::<MatchedPath>().map(MatchedPath::as_str);
    let request_id =
        request.headers().get("x-request-id").and_then(|value| value.to_str().ok()).unwrap_or("-");
    tracing::info_span!("request", method = %request.method(), route, request_id)
}

/// The trace layer's type, spelled once: HTTP classification, [`request_span`], no
/// per-request start line, and an `info` line per response.
pub type HttpTraceLayer<B> = TraceLayer<
    SharedClassifier<ServerErrorsAsFailures>,
    fn(&Request<B>) -> Span,
    (),
    DefaultOnResponse,
>;

/// A tower-http trace layer that logs one line per response, at `info`.
pub fn trace_layer<B>() -> HttpTraceLayer<B> {
    TraceLayer::new_for_http()
        .make_span_with(request_span as fn(&Request<B>) -> Span)
        .on_request(())
        .on_response(DefaultOnResponse::new().level(Level::INFO))
}
