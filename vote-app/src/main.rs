//! Starts the vote-app: crypto provider, config, telemetry, state, listener, serve.

use std::net::{Ipv6Addr, SocketAddr};
use std::process::ExitCode;

use vote_app::config::Config;
use vote_app::error::error_chain;
use vote_app::{app, server, startup, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    // Two rustls crypto providers are compiled in (through different crates); pick one for the
    // whole process before any TLS connection, or the first `rediss://` connection panics.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();

    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            telemetry::init(vote_app::config::LogFormat::Text);
            tracing::error!("{error}");
            return ExitCode::FAILURE;
        }
    };
    telemetry::init(config.log_format);

    let state = match startup::build_state(&config) {
        Ok(state) => state,
        Err(error) => {
            tracing::error!(error = %error_chain(&error), "cannot start");
            return ExitCode::FAILURE;
        }
    };
    let address = SocketAddr::from((Ipv6Addr::UNSPECIFIED, config.port));
    let listener = match tokio::net::TcpListener::bind(address).await {
        Ok(listener) => listener,
        Err(error) => {
            tracing::error!(%error, %address, "cannot listen");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(%address, "listening on http://localhost:{}", config.port);

    let served =
        server::serve(listener, app(state), server::shutdown_signal(), config.shutdown_timeout);
    match served.await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "server failed");
            ExitCode::FAILURE
        }
    }
}
