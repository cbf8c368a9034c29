//! The voting page, usable without JavaScript.
//!
//! - `GET /` shows the buttons and the counts (503 with a clear notice when storage is down);
//!   with JavaScript, the counts then follow every vote live ([`super::live`]).
//! - `POST /` with `vote=<choice>` casts a vote, `vote=reset` + `admin_token` resets; both
//!   answer 303 See Other back to `/` (POST-redirect-GET, so a refresh does not vote again). The
//!   form may be URL-encoded or multipart ([`super::vote_form`]).

use askama::Template;
use askama_web::WebTemplate;
use axum::Extension;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use super::vote_form::VoteForm;
use super::{Chrome, TallyText};
use crate::choice::RESET;
use crate::error::{AppError, HtmlError};
use crate::i18n::Lang;
use crate::security::check_admin_token;
use crate::state::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/", get(show).post(submit))
}

#[derive(Template, WebTemplate)]
#[template(path = "page.html")]
struct PageTemplate<'a> {
    chrome: Chrome<'a>,
    choice_names: Vec<&'a str>,
    /// `None` when storage is down: the page then says votes are unavailable.
    tally: Option<TallyText<'a>>,
    /// The confirmation shown after a redirect.
    notice: Option<String>,
    reset_enabled: bool,
    /// Whether the page loads the live-results script.
    live: bool,
}

/// The query string set by the redirect after a vote or a reset.
#[derive(Debug, Deserialize)]
struct Outcome {
    voted: Option<String>,
    reset: Option<String>,
}

async fn show(
    State(state): State<AppState>,
    Extension(lang): Extension<Lang>,
    Query(outcome): Query<Outcome>,
) -> Response {
    let counts = state.votes.tally().await.map_err(AppError::from);
    let (tally, status) = match &counts {
        Ok(counts) => (Some(TallyText::new(counts, lang)), StatusCode::OK),
        Err(error) => {
            error.log();
            (None, error.status())
        }
    };
    let voted = outcome.voted.as_deref().and_then(|name| state.votes.choices().parse(name));
    let t = lang.texts();
    let notice = match (voted, outcome.reset) {
        (Some(choice), _) => Some(format!("{} {choice} {}", t.thanks, t.counted)),
        (None, Some(_)) => Some(t.reset_done.to_owned()),
        (None, None) => None,
    };
    let page = PageTemplate {
        chrome: Chrome::new(&state, lang),
        choice_names: state.votes.choices().iter().map(|choice| choice.as_str()).collect(),
        tally,
        notice,
        reset_enabled: state.admin_token.is_some(),
        live: state.live.is_some(),
    };
    (status, page).into_response()
}

async fn submit(
    State(state): State<AppState>,
    Extension(lang): Extension<Lang>,
    form: Result<VoteForm, AppError>,
) -> Result<Redirect, HtmlError> {
    let page = |error: AppError| HtmlError::new(error, lang);
    let form = form.map_err(page)?;
    if form.vote == RESET {
        check_admin_token(state.admin_token.as_ref(), form.admin_token.as_deref()).map_err(page)?;
        state.votes.reset().await.map_err(|error| page(error.into()))?;
        tracing::warn!("all votes were reset by an admin");
        return Ok(Redirect::to("/?reset=done"));
    }
    let choice =
        state.votes.choices().parse(&form.vote).ok_or_else(|| page(AppError::UnknownChoice))?;
    state.votes.cast(choice).await.map_err(|error| page(error.into()))?;
    state.metrics.vote_accepted(choice.as_str());
    let query = serde_urlencoded::to_string([("voted", choice.as_str())]).unwrap_or_default();
    Ok(Redirect::to(&format!("/?{query}")))
}
