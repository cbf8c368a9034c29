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
const SLOT_WIDTH: u32 = 12;
/// Room left of the bars for the vote counts of the scale, above them for the top label.
const LEFT: u32 = 44;
const TOP: u32 = 8;
const PLOT_HEIGHT: u32 = 200;
/// The strip under the bars that marks each minute even or odd.
const BAND_HEIGHT: u32 = 8;
/// Room under the strip for the time labels.
const BOTTOM: u32 = 28;
/// Minutes ago that get a time label.
const TIME_LABELS: [u32; 5] = [59, 45, 30, 15, 0];

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

/// The chart, computed in Rust so the template only places shapes and text.
#[derive(Debug, PartialEq, Eq)]
struct Chart {
    width: u32,
    height: u32,
    /// Where the plot is: its left and right edges, and the top of the parity strip.
    left: u32,
    right: u32,
    band_y: u32,
    /// The text under the strip.
    label_y: u32,
    bars: Vec<Bar>,
    /// The scale's lines: 1, 10, 100… votes.
    ticks: Vec<Tick>,
    /// Each minute's parity, when the ledger's minutes say it.
    bands: Vec<Band>,
    /// Time labels under the strip.
    times: Vec<TimeLabel>,
    /// Instance names, sorted; an instance's colour is its index here.
    instances: Vec<String>,
    /// The chart in one sentence, for screen readers.
    summary: String,
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

/// A line of the scale and its value.
#[derive(Debug, PartialEq, Eq)]
struct Tick {
    y: u32,
    label_x: u32,
    label_y: u32,
    label: String,
}

/// One minute's mark in the parity strip.
#[derive(Debug, PartialEq, Eq)]
struct Band {
    x: u32,
    width: u32,
    parity: &'static str,
    label: String,
}

/// A time under the strip.
#[derive(Debug, PartialEq, Eq)]
struct TimeLabel {
    x: u32,
    text: String,
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

/// Lays out the chart: x by minute (oldest left); each minute's stack as high as the log of its
/// votes against the busiest minute's, so a minute of 30 votes stays visible beside one of 25,000,
/// and split between instances by their share; each bar's label in `lang`.
fn chart(rows: Vec<MinuteCount>, lang: Lang) -> Chart {
    let t = lang.texts();
    let mut instances: Vec<String> = rows.iter().map(|row| row.instance.clone()).collect();
    instances.sort();
    instances.dedup();
    let mut per_minute = [0u64; MINUTES as usize];
    for row in &rows {
        per_minute[row.minutes_ago.min(MINUTES - 1) as usize] += row.votes;
    }
    let busiest = per_minute.iter().copied().max().unwrap_or(0).max(1);
    let height_of = |votes: u64| log_height(votes, busiest);
    let slot_x = |slot: u32| LEFT + (MINUTES - 1 - slot) * SLOT_WIDTH;
    let anchor = parity_anchor(&rows);
    let parity_of = |slot: u32| anchor.map(|anchor| (anchor + slot).is_multiple_of(2));
    let mut stacked = [0u32; MINUTES as usize];
    let bars = rows
        .iter()
        .map(|row| {
            let slot = row.minutes_ago.min(MINUTES - 1);
            let minute_total = per_minute[slot as usize].max(1);
            let share = u64::from(height_of(minute_total)) * row.votes / minute_total;
            let height = u32::try_from(share).unwrap_or(PLOT_HEIGHT).max(1);
            stacked[slot as usize] += height;
            let parity = parity_of(slot).map_or(String::new(), |even| {
                format!(" ({})", if even { t.even_minute } else { t.odd_minute })
            });
            Bar {
                x: slot_x(slot) + 1,
                y: (TOP + PLOT_HEIGHT).saturating_sub(stacked[slot as usize]),
                width: SLOT_WIDTH - 2,
                height,
                colour: instances.iter().position(|name| *name == row.instance).unwrap_or(0) % 4,
                label: format!(
                    "{}{parity}: {} {} {}",
                    lang.minute(&row.minute),
                    lang.votes(row.votes),
                    t.on,
                    row.instance
                ),
            }
        })
        .collect();
    let ticks = std::iter::successors(Some(1u64), |tick| tick.checked_mul(10))
        .take_while(|tick| *tick <= busiest)
        .map(|tick| {
            let y = TOP + PLOT_HEIGHT - height_of(tick);
            Tick { y, label_x: LEFT - 6, label_y: y + 4, label: lang.number(tick) }
        })
        .collect();
    let band_y = TOP + PLOT_HEIGHT + 2;
    let bands = (0..MINUTES)
        .filter_map(|slot| {
            let even = parity_of(slot)?;
            let (parity, label) =
                if even { ("even", t.even_minute) } else { ("odd", t.odd_minute) };
            let label = format!("{}: {label}", lang.minutes_ago(slot));
            Some(Band { x: slot_x(slot) + 1, width: SLOT_WIDTH - 2, parity, label })
        })
        .collect();
    let times = TIME_LABELS
        .iter()
        .map(|&slot| {
            let text = if slot == 0 { t.now.to_owned() } else { lang.minutes_ago(slot) };
            TimeLabel { x: slot_x(slot) + SLOT_WIDTH / 2, text }
        })
        .collect();
    let totals = instances.iter().map(|instance| {
        let votes = rows.iter().filter(|row| row.instance == *instance).map(|row| row.votes);
        format!("{instance} {}", lang.number(votes.sum()))
    });
    let total: u64 = per_minute.iter().sum();
    let summary = format!(
        "{} {}: {}.",
        lang.votes(total),
        t.in_last_hour,
        totals.collect::<Vec<_>>().join(", ")
    );
    let right = LEFT + MINUTES * SLOT_WIDTH;
    Chart {
        width: right + 8,
        height: band_y + BAND_HEIGHT + BOTTOM,
        left: LEFT,
        right,
        band_y,
        label_y: band_y + BAND_HEIGHT + 16,
        bars,
        ticks,
        bands,
        times,
        instances,
        summary,
        rows,
    }
}

/// The height of `votes` on a log scale whose top is `busiest`: `ln(1 + votes)` against
/// `ln(1 + busiest)`, so 1 vote still shows, and 0 is no bar.
fn log_height(votes: u64, busiest: u64) -> u32 {
    #[allow(clippy::cast_precision_loss)] // vote counts are far below 2^52
    let ratio = (votes as f64).ln_1p() / (busiest.max(1) as f64).ln_1p();
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // within 0..=PLOT_HEIGHT
    let height = (ratio * f64::from(PLOT_HEIGHT)).round() as u32;
    height.min(PLOT_HEIGHT)
}

/// A number whose parity, plus a slot's (minutes ago), is that minute's: any row's minute of
/// the hour (`…T10:07:00Z`) plus its minutes ago. `None` when no row has a readable minute.
fn parity_anchor(rows: &[MinuteCount]) -> Option<u32> {
    rows.iter().find_map(|row| {
        let (_, time) = row.minute.split_once('T')?;
        let minute: u32 = time.get(3..5)?.parse().ok()?;
        Some(minute + row.minutes_ago)
    })
}

#[cfg(test)]
mod tests;
