//! Live results on the voting page, as progressive enhancement: without JavaScript the page is
//! the same, and shows new counts when reloaded.
//!
//! - `GET /live`: a Server-Sent Events stream. A `tally` event carries the counts, formatted in
//!   the page's language, at once and whenever they change; a comment every
//!   [`HEARTBEAT`] keeps proxies from closing a quiet stream. 503 when this instance already
//!   serves `LIVE_STREAMS` streams (or that is 0). A stream ends when the server starts shutting
//!   down and after [`LONGEST`]; the browser then reconnects, maybe to another instance.
//! - `GET /static/live.js`: the page's script, which opens the stream and updates the counts,
//!   the percentages and the bars.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use futures_util::{StreamExt, stream};

use super::TallyText;
use crate::i18n::Lang;
use crate::live::Viewer;
use crate::server::Closing;
use crate::state::AppState;
use crate::votes::Tally;

/// How often a quiet stream sends a comment.
const HEARTBEAT: Duration = Duration::from_secs(15);

/// How long one stream lasts before the browser is asked to reconnect: long-open pages spread
/// again over the instances, and a stream never outlives a deployment by much.
const LONGEST: Duration = Duration::from_secs(600);

/// How long the browser waits before reconnecting a stream that ended.
const RECONNECT: Duration = Duration::from_secs(2);

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/live", get(stream)).route("/static/live.js", get(script))
}

async fn stream(
    State(state): State<AppState>,
    Extension(lang): Extension<Lang>,
    closing: Option<Extension<Closing>>,
) -> Response {
    let Some(viewer) = state.live.as_ref().and_then(|live| live.viewer()) else {
        let headers = [(header::RETRY_AFTER, "30"), (header::CACHE_CONTROL, "no-store")];
        return (StatusCode::SERVICE_UNAVAILABLE, headers, "No live results here now.\n")
            .into_response();
    };
    let ends = tokio::time::Instant::now() + LONGEST;
    let closing = closing.map(|Extension(closing)| closing);
    let first = Event::default().retry(RECONNECT).comment("live results");
    let events = stream::unfold(Watch { viewer, lang, closing, ends }, next_event);
    let events = stream::once(async { Ok(first) }).chain(events);
    // No cache may keep it, and no proxy buffer it (nginx reads this header).
    let buffering = header::HeaderName::from_static("x-accel-buffering");
    let headers = [(header::CACHE_CONTROL, "no-store"), (buffering, "no")];
    (headers, Sse::new(events).keep_alive(KeepAlive::new().interval(HEARTBEAT))).into_response()
}

/// One stream's state between events.
struct Watch {
    viewer: Viewer,
    lang: Lang,
    closing: Option<Closing>,
    ends: tokio::time::Instant,
}

/// The next `tally` event, or the end of the stream (shutdown, [`LONGEST`] reached).
async fn next_event(mut watch: Watch) -> Option<(Result<Event, Infallible>, Watch)> {
    let closing = watch.closing.clone();
    let closing = async move {
        match closing {
            Some(closing) => closing.wait().await,
            None => std::future::pending().await,
        }
    };
    let tally: Arc<Tally> = tokio::select! {
        tally = watch.viewer.next() => tally?,
        () = closing => return None,
        () = tokio::time::sleep_until(watch.ends) => return None,
    };
    let data = serde_json::to_string(&TallyText::new(&tally, watch.lang)).ok()?;
    Some((Ok(Event::default().event("tally").data(data)), watch))
}

async fn script() -> impl IntoResponse {
    let headers = [
        (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
        (header::CACHE_CONTROL, "public, max-age=3600"),
    ];
    (headers, include_str!("../../static/live.js"))
}
