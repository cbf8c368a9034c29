//! The HTTP surface, one module per feature; each lists its URLs at the top.

mod api;
mod assets;
mod ops;
mod page;
mod results;
mod vote_form;

use axum::Router;

use crate::build_info;
use crate::state::AppState;

/// Every route of the app, without layers (see [`crate::app`]).
pub fn all() -> Router<AppState> {
    Router::new()
        .merge(page::routes())
        .merge(assets::routes())
        .merge(results::routes())
        .merge(api::routes())
        .merge(ops::routes())
}

/// What the layout shows around every page: the heading, and which instance and build answered.
#[derive(Debug, Clone, Copy)]
struct Chrome<'a> {
    title: &'a str,
    instance: &'a str,
    version: &'static str,
    commit: &'static str,
}

impl<'a> Chrome<'a> {
    fn new(state: &'a AppState) -> Self {
        let (version, commit) = (build_info::VERSION, build_info::COMMIT);
        Self { title: &state.title, instance: &state.instance_name, version, commit }
    }
}
