//! The line each request leaves in the log, and the layer that writes it.
//!
//! The line keeps the shape it had when tower-http's trace layer wrote it through
//! tracing-subscriber, so log queries keep working:
//!
//! ```json
//! {"timestamp":"2026-12-01T18:01:55.506929Z","level":"INFO","message":"finished processing request",
//!  "latency":"0 ms","status":200,"target":"vote_app::telemetry::request_log",
//!  "span":{"method":"GET","request_id":"fae9a06a-…","route":"/","name":"request"}}
//! ```
//!
//! It is formatted here, by hand, into a buffer from the writer's pool that goes to the writer
//! thread as it is. Through tower-http and tracing-subscriber the line cost 35,000 of the 97,000
//! instructions the app spent on a `GET /health` (callgrind, against 62,000 without the line):
//! 24,000 for the event (fields visited into serde_json, the span's fields parsed back from
//! JSON, the timestamp through `fmt`) and 9,000 to format the span's fields. Now it costs about
//! 5,700, the span included. `RUST_LOG` still decides whether the line is written, under this
//! module's target. The request span stays, its fields formatted by [`super::json::SpanFields`]:
//! it gives the app's other log lines (errors, warnings) the request id.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use axum::extract::MatchedPath;
use axum::http::{HeaderValue, Method, Request, Response, StatusCode};
use tower::{Layer, Service};
use tracing::{Instrument, Level, Span};

use super::WRITER;
use super::json::write_string;
use super::timestamp::{write_decimal, write_timestamp};

/// The request id's header, set by `SetRequestIdLayer` before this layer runs.
const REQUEST_ID: &str = "x-request-id";

/// What the line says, in both formats.
const MESSAGE: &str = "finished processing request";

/// Adds [`RequestLog`] around a service: one log line per response, and the request span.
#[derive(Clone, Copy, Debug, Default)]
pub struct RequestLogLayer;

impl<S> Layer<S> for RequestLogLayer {
    type Service = RequestLog<S>;

    fn layer(&self, inner: S) -> RequestLog<S> {
        RequestLog { inner }
    }
}

/// Runs each request inside its span and logs one line when the response is ready.
#[derive(Clone, Debug)]
pub struct RequestLog<S> {
    inner: S,
}

impl<S, B, ResponseBody> Service<Request<B>> for RequestLog<S>
where
    S: Service<Request<B>, Response = Response<ResponseBody>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    /// Boxed: naming the future would take a pin projection, and one allocation per request is
    /// small next to the rest.
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(context)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let started = Instant::now();
        let route = request.extensions().get::<MatchedPath>();
        let request_id = request.headers().get(REQUEST_ID);
        let span = request_span(request.method(), route, request_id);
        let line = tracing::enabled!(Level::INFO).then(|| RequestLine {
            method: request.method().clone(),
            route: route.cloned(),
            request_id: request_id.cloned(),
        });
        // `call` itself runs outside the span: the layers below only build their futures there,
        // and entering and leaving a span costs about 700 instructions.
        let response = self.inner.call(request).instrument(span);
        Box::pin(async move {
            let response = response.await?;
            if let Some(line) = line {
                line.log(response.status(), started.elapsed());
            }
            Ok(response)
        })
    }
}

/// The span around each request: method, route template and the request id. The raw URI is
/// left out: query strings may carry anything.
fn request_span(method: &Method, route: Option<&MatchedPath>, id: Option<&HeaderValue>) -> Span {
    let route = route.map(MatchedPath::as_str);
    let request_id = id.and_then(|id| id.to_str().ok()).unwrap_or("-");
    tracing::info_span!("request", method = %method, route, request_id)
}

/// What the line needs from the request, kept until the response is ready.
#[derive(Debug)]
pub(super) struct RequestLine {
    method: Method,
    route: Option<MatchedPath>,
    request_id: Option<HeaderValue>,
}

impl RequestLine {
    /// Formats the line and hands it to the writer thread, which drops it (and counts it) if
    /// its queue is full: logging never waits.
    fn log(self, status: StatusCode, latency: Duration) {
        let Some(writer) = WRITER.get() else { return };
        // A buffer from the writer's pool is empty, hence valid UTF-8.
        let mut line = String::from_utf8(writer.buffer()).unwrap_or_default();
        let fields = Fields {
            at: SystemTime::now(),
            method: self.method.as_str(),
            route: self.route.as_ref().map(MatchedPath::as_str),
            request_id: self.request_id.as_ref().and_then(|id| id.to_str().ok()).unwrap_or("-"),
            status,
            latency,
        };
        // Writing to a `String` cannot fail.
        let _ = match writer.is_json() {
            true => fields.write_json(&mut line),
            false => fields.write_text(&mut line),
        };
        line.push('\n');
        writer.send(line.into_bytes());
    }
}

/// The line's fields, borrowed: what the formatting functions (and their tests) take.
#[derive(Debug)]
pub(super) struct Fields<'a> {
    pub(super) at: SystemTime,
    pub(super) method: &'a str,
    pub(super) route: Option<&'a str>,
    pub(super) request_id: &'a str,
    pub(super) status: StatusCode,
    pub(super) latency: Duration,
}

impl Fields<'_> {
    /// The JSON line, field for field what tracing-subscriber wrote (the span's fields nested
    /// under `"span"`), without the newline.
    pub(super) fn write_json(&self, out: &mut String) -> std::fmt::Result {
        out.push_str(r#"{"timestamp":""#);
        write_timestamp(out, self.at);
        out.push_str(r#"","level":"INFO","message":""#);
        out.push_str(MESSAGE);
        out.push_str(r#"","latency":""#);
        write_decimal(out, self.latency_ms(), 1);
        out.push_str(r#" ms","status":"#);
        write_decimal(out, self.status.as_u16().into(), 1);
        out.push_str(r#","target":""#);
        out.push_str(module_path!());
        out.push_str(r#"","span":{"method":"#);
        write_string(out, self.method)?;
        out.push_str(r#","request_id":"#);
        write_string(out, self.request_id)?;
        if let Some(route) = self.route {
            out.push_str(r#","route":"#);
            write_string(out, route)?;
        }
        out.push_str(r#","name":"request"}}"#);
        Ok(())
    }

    /// The text line, as tracing-subscriber's default format writes an event in a span.
    pub(super) fn write_text(&self, out: &mut String) -> std::fmt::Result {
        use std::fmt::Write;
        write_timestamp(out, self.at);
        write!(out, "  INFO request{{method={}", self.method)?;
        if let Some(route) = self.route {
            write!(out, " route={route}")?;
        }
        write!(
            out,
            " request_id={}}}: {}: {MESSAGE} latency={} ms status={}",
            self.request_id,
            module_path!(),
            self.latency_ms(),
            self.status.as_u16()
        )
    }

    /// Whole milliseconds, as tower-http wrote them.
    fn latency_ms(&self) -> u64 {
        u64::try_from(self.latency.as_millis()).unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
mod tests;
