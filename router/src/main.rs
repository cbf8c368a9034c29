//! Starts the router: see the crate documentation and `router/README.md`.
//! `router healthcheck [PATH]` instead asks the running router whether it is healthy.

use std::process::ExitCode;
use std::sync::Arc;
use std::thread;

use router::server::{bind_listener, serve_per_core};
use router::telemetry::{self, LogFormat};
use router::{AppState, Config, SystemClock, app, config, healthcheck, shutdown_signal};
use tokio::sync::watch;

/// mimalloc instead of the C library's allocator, as in the vote-app: a proxied request allocates
/// and frees small buffers (header maps, request ids, the retry's copy of a GET's head), and
/// glibc's malloc and free took about 2,700 of its 33,000 instructions (callgrind, under
/// `bench/router-instructions.sh`); mimalloc saved 1,000 of them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // The image's HEALTHCHECK (the image has no shell or curl). First, and outside any runtime:
    // the probe needs the port only, not telemetry or the upstreams.
    if std::env::args().nth(1).as_deref() == Some("healthcheck") {
        return healthcheck::run(config::process_env, std::env::args().nth(2).as_deref());
    }
    start()
}

// This runtime only waits for signals and runs the health prober; requests are served by one
// single-threaded runtime per core (see `serve_per_core` for why).
#[tokio::main(flavor = "current_thread")]
async fn start() -> ExitCode {
    // Several rustls crypto providers can be compiled into the workspace; choose one explicitly
    // before anything uses TLS. An error only means one is already installed.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let config = Config::from_env();
    telemetry::init(config.as_ref().map_or(LogFormat::default(), |config| config.log_format));
    match run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("router failed: {error}");
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
    let listener = bind_listener(([0, 0, 0, 0], config.port).into())?;
    let workers = thread::available_parallelism().map_or(1, usize::from);
    tracing::info!(
        address = %listener.local_addr()?,
        workers,
        even = %config.even.url,
        odd = %config.odd.url,
        version = env!("CARGO_PKG_VERSION"),
        "router listening"
    );
    let (stop, stopped) = watch::channel(false);
    let drain = config.shutdown_timeout;
    let mut server = tokio::task::spawn_blocking(move || {
        let make_app = || state.for_worker(&config, workers).map(app);
        serve_per_core(listener, workers, make_app, stopped, drain)
    });
    tokio::select! {
        () = shutdown_signal() => {
            let _ = stop.send(true);
            (&mut server).await??;
        }
        // The workers only stop by themselves when they failed to start.
        finished = &mut server => finished??,
    }
    tracing::info!("router stopped cleanly");
    Ok(())
}
