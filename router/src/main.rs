//! Starts the router: see the crate documentation and `router/README.md`.

use std::process::ExitCode;
use std::sync::Arc;

use router::telemetry::{self, LogFormat};
use router::{AppState, Config, SystemClock, app, serve, shutdown_signal};
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> ExitCode {
    // Several rustls crypto providers can be compiled into the workspace; choose one explicitly
    // before anything uses TLS. An error only means one is already installed.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let config = Config::from_env();
    telemetry::init(config.as_ref().map_or(LogFormat::default(), |config| config.log_format));
    match run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("router stopped: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(
    config: Result<Config, router::config::ConfigError>,
) -> Result<(), Box<dyn std::error::Error>> {
    let config = config?;
    let state = AppState::new(&config, Arc::new(SystemClock))?;
    state.spawn_health_checks(&config);
    let listener = TcpListener::bind(("0.0.0.0", config.port)).await?;
    tracing::info!(
        address = %listener.local_addr()?,
        even = %config.even.url,
        odd = %config.odd.url,
        version = env!("CARGO_PKG_VERSION"),
        "router listening"
    );
    serve(listener, app(state), shutdown_signal(), config.shutdown_timeout).await?;
    tracing::info!("router stopped cleanly");
    Ok(())
}
