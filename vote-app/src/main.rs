//! Starts the vote-app: crypto provider, telemetry, secrets, config, state, listener, serve.

use std::net::{Ipv6Addr, SocketAddr};
use std::process::ExitCode;

use vote_app::config::{Config, LogFormat};
use vote_app::error::error_chain;
use vote_app::{app, secrets, server, startup, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    // Two rustls crypto providers are compiled in (through different crates); pick one for the
    // whole process before any TLS connection, or the first `rediss://` connection panics.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();

    // Logging starts before the config is validated, so secret loading can report progress;
    // a bad LOG_FORMAT is reported by the config below.
    let env = |name: &str| std::env::var(name).ok();
    let log_format = match env("LOG_FORMAT").as_deref() {
        Some("json") => LogFormat::Json,
        _ => LogFormat::Text,
    };
    telemetry::init(log_format);

    let secrets = match secrets::resolve(env).await {
        Ok(secrets) => secrets,
        Err(error) => {
            tracing::error!(error = %error_chain(&error), "cannot read the secrets");
            return ExitCode::FAILURE;
        }
    };
    let config = match Config::from_lookup(|name| secrets.get(name).or_else(|| env(name))) {
        Ok(config) => config,
        Err(error) => {
            tracing::error!("{error}");
            return ExitCode::FAILURE;
        }
    };

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
