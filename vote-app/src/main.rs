//! Starts the vote-app: crypto provider, telemetry, secrets, config, state, listener, serve.
//! `vote-app healthcheck [PATH]` instead asks the running server whether it is healthy.

use std::error::Error;
use std::net::{Ipv6Addr, SocketAddr};
use std::process::ExitCode;

use vote_app::config::{self, Config, ConfigError, LogFormat, SecretSources};
use vote_app::error::error_chain;
use vote_app::{app, healthcheck, secret_settings, server, startup};

/// mimalloc instead of the C library's allocator: a request allocates and frees dozens of small
/// buffers (headers, the page, the log line), and glibc's malloc and free took about a sixth of
/// the app's CPU under load (bench/vote-app.sh, perf); mimalloc's thread-local free lists do the
/// same work in a fraction of the instructions.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // The image's HEALTHCHECK (the image has no shell or curl). First, and outside any runtime:
    // the probe needs the port only, not telemetry, secrets or the rest of the configuration.
    if std::env::args().nth(1).as_deref() == Some("healthcheck") {
        return healthcheck::run(config::process_env, std::env::args().nth(2).as_deref());
    }
    start()
}

#[tokio::main]
async fn start() -> ExitCode {
    // Two rustls crypto providers are compiled in (through different crates); pick one for the
    // whole process before any TLS connection, or the first `rediss://` connection panics.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    // Logging starts first, so reading the secrets can report progress; a bad LOG_FORMAT is
    // then reported, in text, by `run`.
    let log_format = LogFormat::from_lookup(config::process_env);
    vote_app::telemetry::init(log_format.clone().unwrap_or_default());
    let code = match run(log_format).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = %error_chain(error.as_ref()), "vote-app failed");
            ExitCode::FAILURE
        }
    };
    // The log lines are written by a thread of their own: let it finish before the process does.
    vote_app::telemetry::flush();
    code
}

async fn run(log_format: Result<LogFormat, ConfigError>) -> Result<(), Box<dyn Error>> {
    log_format?;
    let env = config::process_env;
    let secrets = secret_settings::resolve(&SecretSources::from_lookup(env)?).await?;
    let config = Config::from_lookup(|name| secrets.get(name).or_else(|| env(name)))?;
    let state = startup::build_state(&config)?;
    let address = SocketAddr::from((Ipv6Addr::UNSPECIFIED, config.port));
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|error| format!("cannot listen on {address}: {error}"))?;
    tracing::info!(%address, "listening on http://localhost:{}", config.port);
    server::serve(listener, app(state), server::shutdown_signal(), config.shutdown_timeout).await?;
    Ok(())
}
