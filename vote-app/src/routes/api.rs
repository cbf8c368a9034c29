//! The JSON API, for scripts, load tests and the integration suite.
//!
//! - `GET /api/votes` → `{"title", "total", "choices": [{"name", "votes"}]}`
//! - `POST /api/votes` with `{"choice": "<name>"}` → the same body, after counting the vote
//! - `POST /api/reset` with `Authorization: Bearer <admin token>` → the same body, all zero
//! - `GET /api/ledger` → `{"instances": [{"instance", "votes"}], "minutes": [{"minute",
//!   "instance", "votes", "minutes_ago"}]}` from the PostgreSQL ledger (404 without one)

use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, header};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::ledger::{InstanceCount, MinuteCount};
use crate::security::check_admin_token;
use crate::state::AppState;
use crate::votes::Tally;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/votes", get(tally).post(cast))
        .route("/api/reset", post(reset))
        .route("/api/ledger", get(ledger))
}

#[derive(Debug, Serialize)]
struct VotesBody {
    title: String,
    #[serde(flatten)]
    tally: Tally,
}

#[derive(Debug, Deserialize)]
struct CastBody {
    choice: String,
}

#[derive(Debug, Serialize)]
struct LedgerBody {
    instances: Vec<InstanceCount>,
    minutes: Vec<MinuteCount>,
}

async fn current(state: &AppState) -> Result<Json<VotesBody>, AppError> {
    let tally = state.votes.tally().await?;
    Ok(Json(VotesBody { title: state.title.to_string(), tally }))
}

async fn tally(State(state): State<AppState>) -> Result<Json<VotesBody>, AppError> {
    current(&state).await
}

async fn cast(
    State(state): State<AppState>,
    body: Result<Json<CastBody>, JsonRejection>,
) -> Result<Json<VotesBody>, AppError> {
    let Json(body) = body?;
    let choice = state.votes.choices().parse(&body.choice).ok_or(AppError::UnknownChoice)?;
    state.votes.cast(choice).await?;
    state.metrics.vote_accepted(choice.as_str());
    current(&state).await
}

async fn reset(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<VotesBody>, AppError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    check_admin_token(state.admin_token.as_ref(), token)?;
    state.votes.reset().await?;
    tracing::warn!("all votes were reset by an admin");
    current(&state).await
}

async fn ledger(State(state): State<AppState>) -> Result<Json<LedgerBody>, AppError> {
    let ledger = state.votes.ledger().ok_or(AppError::NoLedger)?;
    let (instances, minutes) = (ledger.per_instance().await?, ledger.per_minute().await?);
    Ok(Json(LedgerBody { instances, minutes }))
}
