//! Turns the configuration into running back ends and the shared state.

use std::sync::Arc;
use std::time::Duration;

use crate::config::Config;
use crate::error::error_chain;
use crate::ledger::Ledger;
use crate::live::Live;
use crate::metrics::Metrics;
use crate::state::{AppState, Shared};
use crate::store::{BackendError, MemoryStore, RedisStore, VoteStore};
use crate::votes::Votes;

/// Why the app cannot start. Only malformed settings stop it: an unreachable Redis or
/// PostgreSQL does not (the app starts not-ready and recovers when they come up).
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The Redis URL was refused by the client library.
    #[error("REDIS_URL cannot be used")]
    Redis(#[source] BackendError),
    /// The database URL was refused by the client library.
    #[error("DATABASE_URL cannot be used")]
    Database(#[source] sqlx::Error),
}

/// Connects (lazily) to the configured back ends and builds the state. With a ledger, its
/// migrations start in the background; votes wait for them (503) rather than skip the ledger.
pub fn build_state(config: &Config) -> Result<AppState, StartupError> {
    let store: Arc<dyn VoteStore> = match &config.redis_url {
        Some(url) => {
            let store = RedisStore::connect_lazy(url, &config.redis_key, config.redis_cluster);
            Arc::new(store.map_err(StartupError::Redis)?)
        }
        None => {
            tracing::warn!(
                "NO REDIS CONFIGURED: counting votes in this process's memory. Votes are lost \
                 on restart and not shared between instances. Set REDIS_URL for real use."
            );
            Arc::new(MemoryStore::new())
        }
    };
    let ledger = match &config.database_url {
        Some(url) => Some(Ledger::connect_lazy(url).map_err(StartupError::Database)?),
        None => None,
    };
    if let Some(ledger) = &ledger {
        tokio::spawn(migrate_until_done(ledger.clone()));
    }
    tracing::info!(
        instance = %config.instance_name,
        store = store.backend(),
        ledger = ledger.is_some(),
        reset_enabled = config.admin_token.is_some(),
        "vote-app configured"
    );
    let votes = Votes::new(store, ledger, config.choices.clone(), config.instance_name.clone());
    let live = (config.live_streams > 0).then(|| Live::start(&votes, config.live_streams));
    Ok(AppState::new(Shared {
        votes,
        title: config.title.clone(),
        instance_name: config.instance_name.clone(),
        admin_token: config.admin_token.clone(),
        metrics: Metrics::new(),
        ui_language: config.ui_language,
        live,
    }))
}

/// Runs the ledger's migrations, retrying with backoff (up to 10 s apart) until PostgreSQL
/// answers.
async fn migrate_until_done(ledger: Ledger) {
    let mut delay = Duration::from_millis(250);
    loop {
        match ledger.migrate().await {
            Ok(()) => {
                tracing::info!("ledger ready: migrations applied");
                return;
            }
            Err(error) => {
                let error = error_chain(&error);
                tracing::warn!(%error, retry_in = ?delay, "ledger not ready yet");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(10));
            }
        }
    }
}
