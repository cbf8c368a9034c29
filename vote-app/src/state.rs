//! The state every handler shares: cheap to clone, built once at start.

use std::sync::Arc;

use crate::i18n::Lang;
use crate::live::Live;
use crate::metrics::Metrics;
use crate::secret::Secret;
use crate::votes::Votes;

/// What handlers need: the voting service, what the page shows, the admin token and metrics.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Counting, casting and resetting.
    pub votes: Votes,
    /// The page heading.
    pub title: Arc<str>,
    /// This instance's name, shown in the footer.
    pub instance_name: Arc<str>,
    /// The token that allows a reset; `None` disables reset.
    pub admin_token: Option<Secret>,
    /// Prometheus counters and histograms.
    pub metrics: Arc<Metrics>,
    /// The pages' language when the voter has not chosen one (`UI_LANGUAGE`).
    pub ui_language: Option<Lang>,
    /// Live results for the page (`GET /live`); `None` when `LIVE_STREAMS=0`.
    pub live: Option<Live>,
}
