//! `GET /results`: votes per minute per instance over the last hour, as a server-rendered SVG
//! chart and a table — the picture that shows minute-parity routing at work.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};

use super::Chrome;
use crate::error::AppError;
use crate::i18n::Lang;
use crate::ledger::MinuteCount;
use crate::state::AppState;

/// Minutes shown, one bar slot each.
const MINUTES: u32 = 60;
const SLOT_WIDTH: u32 = 10;
const CHART_HEIGHT: u32 = 200;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/results", get(show))
}

#[derive(Template, WebTemplate)]
#[template(path = "results.html")]
struct ResultsTemplate<'a> {
    chrome: Chrome<'a>,
    chart: Option<Chart>,
    unavailable_reason: &'static str,
}

/// The chart, computed in Rust so the template only places rectangles.
#[derive(Debug, PartialEq, Eq)]
struct Chart {
    width: u32,
    height: u32,
    bars: Vec<Bar>,
    /// Instance names, sorted; an instance's colour is its index here.
    instances: Vec<String>,
    rows: Vec<MinuteCount>,
}

/// One instance's votes in one minute, stacked on the others of that minute.
#[derive(Debug, PartialEq, Eq)]
struct Bar {
    x: u32,
    y: u32,
    width: u32,
    height: u32,
    colour: usize,
    label: String,
}

async fn show(State(state): State<AppState>, Extension(lang): Extension<Lang>) -> Response {
    let chrome = Chrome::new(&state, lang);
    let page = |chart, unavailable_reason| ResultsTemplate { chrome, chart, unavailable_reason };
    let Some(ledger) = state.votes.ledger() else {
        return (StatusCode::NOT_FOUND, page(None, chrome.t.no_ledger)).into_response();
    };
    match ledger.per_minute().await {
        Ok(rows) => page(Some(chart(rows, lang)), "").into_response(),
        Err(error) => {
            let error = AppError::from(error);
            error.log();
            (error.status(), page(None, chrome.t.ledger_unavailable)).into_response()
        }
    }
}

/// Lays out stacked bars: x by minute (oldest left), height scaled to the busiest minute; each
/// bar's label in `lang`.
fn chart(rows: Vec<MinuteCount>, lang: Lang) -> Chart {
    let mut instances: Vec<String> = rows.iter().map(|row| row.instance.clone()).collect();
    instances.sort();
    instances.dedup();
    let mut per_minute = [0u64; MINUTES as usize];
    for row in &rows {
        per_minute[row.minutes_ago.min(MINUTES - 1) as usize] += row.votes;
    }
    let busiest = per_minute.iter().copied().max().unwrap_or(0).max(1);
    let scale = |votes: u64| {
        u32::try_from(votes * u64::from(CHART_HEIGHT) / busiest).unwrap_or(CHART_HEIGHT)
    };
    let mut stacked = [0u32; MINUTES as usize];
    let bars = rows
        .iter()
        .map(|row| {
            let slot = row.minutes_ago.min(MINUTES - 1);
            let height = scale(row.votes).max(1);
            stacked[slot as usize] += height;
            Bar {
                x: (MINUTES - 1 - slot) * SLOT_WIDTH + 1,
                y: CHART_HEIGHT.saturating_sub(stacked[slot as usize]),
                width: SLOT_WIDTH - 2,
                height,
                colour: instances.iter().position(|name| *name == row.instance).unwrap_or(0) % 4,
                label: format!(
                    "{}: {} {} {}",
                    lang.minute(&row.minute),
                    lang.votes(row.votes),
                    lang.texts().on,
                    row.instance
                ),
            }
        })
        .collect();
    Chart { width: MINUTES * SLOT_WIDTH, height: CHART_HEIGHT, bars, instances, rows }
}

#[cfg(test)]
mod tests;
