//! The vote form, as the page, scripts and load tests post it.
//!
//! - `application/x-www-form-urlencoded`: the page's own form, `curl -d vote=Cats`.
//! - `multipart/form-data`: `curl -F vote=Cats` and Python `requests.post(url, files=...)`, which
//!   the course's load tests use and the original app accepted.
//!
//! Both encodings end in the same decoder (`serde_urlencoded`, which axum's `Form` uses), so a
//! missing or repeated field is refused the same way (422) whichever the client used. The body limit and the cross-origin refusal are
//! layers around every route (see [`crate::app`]) and apply to both.

use axum::extract::{Form, FromRequest, Multipart, Request};
use axum::http::{HeaderMap, StatusCode, header};
use serde::Deserialize;

use crate::error::AppError;

/// What a vote or a reset posts, the same shape as the original app's form (`vote=Cats`).
#[derive(Debug, Deserialize)]
pub(super) struct VoteForm {
    /// The choice voted for, or `reset`.
    pub(super) vote: String,
    /// The admin token a reset needs.
    pub(super) admin_token: Option<String>,
}

impl<S: Send + Sync> FromRequest<S> for VoteForm {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, AppError> {
        if is_multipart(request.headers()) {
            let multipart = Multipart::from_request(request, state).await?;
            read_multipart(multipart).await
        } else {
            let Form(form) = Form::<Self>::from_request(request, state).await?;
            Ok(form)
        }
    }
}

/// Whether the body is `multipart/form-data` (the boundary parameter is checked by the parser).
fn is_multipart(headers: &HeaderMap) -> bool {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok());
    let essence = content_type.and_then(|value| value.split(';').next()).map(str::trim);
    essence.is_some_and(|essence| essence.eq_ignore_ascii_case("multipart/form-data"))
}

/// Reads every named part as text, then decodes them exactly as the URL-encoded form is decoded:
/// re-encoding a few dozen bytes costs nothing and leaves one set of rules to reason about.
///
/// A part with a file name is read as text too: `requests.post(files={"vote": "Cats"})` sends
/// the value that way. Parts without a name are ignored, as unknown fields are.
async fn read_multipart(mut multipart: Multipart) -> Result<VoteForm, AppError> {
    let mut fields = Vec::new();
    while let Some(field) = multipart.next_field().await? {
        let Some(name) = field.name().map(str::to_owned) else { continue };
        fields.push((name, field.text().await?));
    }
    let unprocessable = |error: &dyn std::fmt::Display| AppError::BadBody {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        message: format!("Failed to deserialize form body: {error}"),
    };
    let encoded = serde_urlencoded::to_string(&fields).map_err(|error| unprocessable(&error))?;
    serde_urlencoded::from_str(&encoded).map_err(|error| unprocessable(&error))
}

#[cfg(test)]
mod tests;
