//! The one error type of the app, turned into a response in one place.
//!
//! Clients get a fixed message per variant; the cause chain of a 5xx goes to the log, once.

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::multipart::{MultipartError, MultipartRejection};
use axum::extract::rejection::{FormRejection, JsonRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::i18n::Lang;
use crate::secret::redact_url_credentials;
use crate::store::BackendError;

/// Everything a request can fail with. Each variant says the status it returns.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400: a vote for something that is not a configured choice. Nothing is written.
    #[error("unknown choice: only the configured choices can be voted for")]
    UnknownChoice,
    /// 400, 413, 415 or 422: a body the app cannot read (malformed, too large, wrong type).
    /// The status and message come from axum's extractor and never contain secrets.
    #[error("{message}")]
    BadBody {
        /// The status the extractor chose.
        status: StatusCode,
        /// What was wrong with the body.
        message: String,
    },
    /// 401: a reset without an admin token.
    #[error("an admin token is required")]
    Unauthorized,
    /// 403: a reset with a wrong admin token, or reset disabled because none is configured.
    #[error("the admin token is not valid")]
    Forbidden,
    /// 403: a state-changing request sent by another site's page.
    #[error("cross-origin requests are refused")]
    CrossOrigin,
    /// 404: the ledger view was asked for, but no `DATABASE_URL` is configured.
    #[error("the ledger is not configured on this instance (DATABASE_URL is unset)")]
    NoLedger,
    /// 503: Redis or PostgreSQL is unreachable; the app keeps running and recovers by itself.
    #[error("votes are unavailable right now, please try again in a moment")]
    Unavailable(#[source] BackendError),
}

impl AppError {
    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::UnknownChoice => StatusCode::BAD_REQUEST,
            Self::BadBody { status, .. } => *status,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden | Self::CrossOrigin => StatusCode::FORBIDDEN,
            Self::NoLedger => StatusCode::NOT_FOUND,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// Logs the cause chain of server-side failures; client mistakes are not worth a log line
    /// beyond the request line itself.
    pub fn log(&self) {
        if self.status().is_server_error() {
            tracing::error!(error = %error_chain(self), "request failed");
        }
    }
}

/// An error and its sources on one line: `votes are unavailable: redis is unavailable: …`, with
/// the credentials of any URL a driver put in it redacted. Every error the app logs goes
/// through here.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    redact_url_credentials(&text).into_owned()
}

impl From<BackendError> for AppError {
    fn from(error: BackendError) -> Self {
        Self::Unavailable(error)
    }
}

impl From<FormRejection> for AppError {
    fn from(rejection: FormRejection) -> Self {
        Self::BadBody { status: rejection.status(), message: rejection.body_text() }
    }
}

impl From<MultipartRejection> for AppError {
    fn from(rejection: MultipartRejection) -> Self {
        Self::BadBody { status: rejection.status(), message: rejection.body_text() }
    }
}

/// A multipart body that breaks off, is malformed or exceeds the body limit (413).
impl From<MultipartError> for AppError {
    fn from(error: MultipartError) -> Self {
        Self::BadBody { status: error.status(), message: error.body_text() }
    }
}

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> Self {
        Self::BadBody { status: rejection.status(), message: rejection.body_text() }
    }
}

/// The JSON body of every error response.
#[derive(Debug, Serialize)]
struct ErrorBody {
    error: String,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log();
        let body = ErrorBody { error: self.to_string() };
        (self.status(), Json(body)).into_response()
    }
}

/// The same error for a browser: a small HTML page with the same status, its message in the
/// page's language.
#[derive(Debug)]
pub struct HtmlError {
    error: AppError,
    lang: Lang,
}

impl HtmlError {
    /// `error`, shown in `lang`.
    pub fn new(error: AppError, lang: Lang) -> Self {
        Self { error, lang }
    }
}

impl AppError {
    /// What a voter reads on the error page, in `lang`.
    fn message(&self, lang: Lang) -> String {
        let t = lang.texts();
        match self {
            Self::UnknownChoice => t.error_unknown_choice.to_owned(),
            Self::BadBody { message, .. } if lang == Lang::En => message.clone(),
            Self::BadBody { .. } => t.error_bad_body.to_owned(),
            Self::Unauthorized => t.error_unauthorized.to_owned(),
            Self::Forbidden => t.error_forbidden.to_owned(),
            Self::CrossOrigin => t.error_cross_origin.to_owned(),
            Self::NoLedger => t.error_no_ledger.to_owned(),
            Self::Unavailable(_) => t.unavailable.to_owned(),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
struct ErrorPage {
    status: StatusCode,
    message: String,
    lang: Lang,
}

impl IntoResponse for HtmlError {
    fn into_response(self) -> Response {
        self.error.log();
        let (status, lang) = (self.error.status(), self.lang);
        let page = ErrorPage { status, message: self.error.message(lang), lang };
        (status, page).into_response()
    }
}

#[cfg(test)]
mod tests;
