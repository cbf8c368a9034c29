//! The HTTP surface, one module per feature; each lists its URLs at the top.

mod api;
mod assets;
mod live;
mod ops;
mod page;
mod results;
mod vote_form;

use axum::Router;
use serde::Serialize;

use crate::build_info;
use crate::i18n::{Lang, Texts};
use crate::state::AppState;
use crate::votes::{ChoiceCount, Tally};

/// Every route of the app, without layers (see [`crate::app`]).
pub fn all() -> Router<AppState> {
    Router::new()
        .merge(page::routes())
        .merge(assets::routes())
        .merge(live::routes())
        .merge(results::routes())
        .merge(api::routes())
        .merge(ops::routes())
}

/// What the layout shows around every page: the heading, which instance and build answered, and
/// the page's language with its texts.
#[derive(Debug, Clone, Copy)]
struct Chrome<'a> {
    title: &'a str,
    instance: &'a str,
    version: &'static str,
    commit: &'static str,
    lang: Lang,
    t: &'static Texts,
}

impl<'a> Chrome<'a> {
    fn new(state: &'a AppState, lang: Lang) -> Self {
        let (version, commit) = (build_info::VERSION, build_info::COMMIT);
        let (title, instance) = (&*state.title, &*state.instance_name);
        Self { title, instance, version, commit, lang, t: lang.texts() }
    }
}

/// The counts as the page shows them, every text formatted in the page's language: the page
/// renders it, and live results send it as each `tally` event, so both read the same.
#[derive(Debug, Serialize)]
struct TallyText<'a> {
    total: u64,
    /// `12 votes in all` / `12 votes au total`.
    total_text: String,
    choices: Vec<ChoiceText<'a>>,
}

/// One choice's line of a [`TallyText`].
#[derive(Debug, Serialize)]
struct ChoiceText<'a> {
    name: &'a str,
    votes: u64,
    percent: u64,
    /// `1,234 (56%)` / `1 234 (56 %)`.
    count_text: String,
    /// `56%` / `56 %`.
    percent_text: String,
}

impl<'a> TallyText<'a> {
    fn new(tally: &'a Tally, lang: Lang) -> Self {
        let line = |line: &'a ChoiceCount| {
            let percent_text = lang.percent(line.percent);
            ChoiceText {
                name: line.name.as_str(),
                votes: line.votes,
                percent: line.percent,
                count_text: format!("{} ({percent_text})", lang.number(line.votes)),
                percent_text,
            }
        };
        let total_text = format!("{} {}", lang.votes(tally.total), lang.texts().in_all);
        Self { total: tally.total, total_text, choices: tally.choices.iter().map(line).collect() }
    }
}
