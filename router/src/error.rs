//! The one error type of the router, turned into a response in one place.
//!
//! Clients get a fixed, plain-text message per variant; the cause chain is recorded once, as the
//! `error` field of the request's log line.

use std::error::Error as _;

use axum::response::{IntoResponse, Response};
use http::StatusCode;

use crate::clock::Parity;

/// Why a request failed, by the status it returns.
#[derive(Debug, thiserror::Error)]
pub enum RouterError {
    /// 503: both upstreams are marked down, so there is nowhere to send the request.
    #[error("both upstreams are down")]
    BothUpstreamsDown,
    /// 502: no connection could be made to the upstream (refused, unreachable, connect timeout).
    #[error("could not connect to the {upstream} upstream")]
    Connect {
        /// The upstream that was tried.
        upstream: Parity,
        /// What the connector reported.
        #[source]
        source: crate::pool::BoxError,
    },
    /// 502: the upstream broke the exchange (reset, malformed response).
    #[error("the {upstream} upstream failed to answer")]
    Exchange {
        /// The upstream that was tried.
        upstream: Parity,
        /// What the connection reported.
        #[source]
        source: hyper::Error,
    },
    /// 504: the upstream did not send response headers within the request timeout.
    #[error("the {upstream} upstream did not answer in time")]
    Timeout {
        /// The upstream that was tried.
        upstream: Parity,
    },
    /// 400: the request target cannot be turned into an upstream URI.
    #[error("the request target cannot be forwarded")]
    BadTarget(#[from] http::Error),
    /// 500: the metrics text could not be rendered.
    #[error("rendering metrics failed")]
    Metrics(#[from] std::fmt::Error),
}

impl RouterError {
    /// The status the client receives.
    pub fn status(&self) -> StatusCode {
        match self {
            RouterError::BothUpstreamsDown => StatusCode::SERVICE_UNAVAILABLE,
            RouterError::Connect { .. } | RouterError::Exchange { .. } => StatusCode::BAD_GATEWAY,
            RouterError::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
            RouterError::BadTarget(_) => StatusCode::BAD_REQUEST,
            RouterError::Metrics(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The fixed message the client receives: useful to a person, free of internal detail.
    fn client_message(&self) -> &'static str {
        match self {
            RouterError::BothUpstreamsDown => {
                "Service unavailable: both vote-app instances are down. Try again shortly.\n"
            }
            RouterError::Connect { .. } | RouterError::Exchange { .. } => {
                "Bad gateway: the vote-app instance for this minute could not be reached.\n"
            }
            RouterError::Timeout { .. } => {
                "Gateway timeout: the vote-app instance for this minute did not answer in time.\n"
            }
            RouterError::BadTarget(_) => "Bad request: this request target cannot be forwarded.\n",
            RouterError::Metrics(_) => "Internal error.\n",
        }
    }

    /// The error and all its causes on one line, for the log.
    fn chain(&self) -> String {
        let mut text = self.to_string();
        let mut cause = self.source();
        while let Some(error) = cause {
            text.push_str(": ");
            text.push_str(&error.to_string());
            cause = error.source();
        }
        text
    }
}

impl IntoResponse for RouterError {
    fn into_response(self) -> Response {
        if self.status().is_server_error() {
            tracing::Span::current().record("error", self.chain());
        }
        (self.status(), self.client_message()).into_response()
    }
}
