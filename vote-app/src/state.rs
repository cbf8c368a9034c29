//! The state every handler shares: built once at start, one `Arc` inside, so the clone axum
//! makes for each request is a single reference-count increment.

use std::ops::Deref;
use std::sync::Arc;

use crate::i18n::Lang;
use crate::live::Live;
use crate::metrics::Metrics;
use crate::secret::Secret;
use crate::votes::Votes;

/// What handlers receive; reads as [`Shared`].
#[derive(Debug, Clone)]
pub struct AppState(Arc<Shared>);

/// What handlers need: the voting service, what the page shows, the admin token and metrics.
#[derive(Debug)]
pub struct Shared {
    /// Counting, casting and resetting.
    pub votes: Votes,
    /// The page heading.
    pub title: String,
    /// This instance's name, shown in the footer.
    pub instance_name: String,
    /// The token that allows a reset; `None` disables reset.
    pub admin_token: Option<Secret>,
    /// Prometheus counters and histograms.
    pub metrics: Metrics,
    /// The pages' language when the voter has not chosen one (`UI_LANGUAGE`).
    pub ui_language: Option<Lang>,
    /// Live results for the page (`GET /live`); `None` when `LIVE_STREAMS=0`.
    pub live: Option<Live>,
}

impl AppState {
    /// Shares `shared` with every handler.
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}
