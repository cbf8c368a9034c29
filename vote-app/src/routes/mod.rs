//! The HTTP surface, one module per feature; each lists its URLs at the top.

mod api;
mod assets;
mod live;
mod ops;
mod page;
mod results;
mod vote_form;

use axum::Router;

use crate::build_info;
use crate::i18n::{Lang, Texts};
use crate::state::AppState;

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
