//! Serving: accept connections until shutdown, then drain in-flight requests, bounded.

use std::future::Future;
use std::net::SocketAddr;
use std::thread;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};

/// Serves `app` on `listener` until `shutdown` completes, then lets in-flight requests finish for
/// at most `drain_timeout`.
///
/// Shutdown is an argument, not a global: `main` passes [`shutdown_signal`], tests a oneshot.
/// The bound matters because a client streaming a large body could otherwise hold the process
/// past Kubernetes' grace period and get it killed mid-write anyway.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    drain_timeout: Duration,
) -> std::io::Result<()> {
    let (draining_tx, draining_rx) = oneshot::channel::<()>();
    let signal = async move {
        shutdown.await;
        tracing::info!("shutting down: draining in-flight requests");
        let _ = draining_tx.send(());
    };
    // ConnectInfo gives the proxy the client address for `X-Forwarded-For`.
    let service = app.into_make_service_with_connect_info::<SocketAddr>();
    let server = axum::serve(listener, service).with_graceful_shutdown(signal);
    let drain_deadline = async move {
        match draining_rx.await {
            Ok(()) => tokio::time::sleep(drain_timeout).await,
            // The signal future was dropped without firing: the server has already stopped.
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        served = server => served,
        () = drain_deadline => {
            tracing::warn!(?drain_timeout, "drain timeout reached; closing remaining connections");
            Ok(())
        }
    }
}

/// Serves on `workers` threads, each running its own single-threaded runtime with the `Router`
/// that `make_app` builds for it, all accepting from `listener`. Returns when every worker has
/// drained (bounded by `drain_timeout`) after `shutdown` turned `true`.
///
/// Why thread-per-core instead of one work-stealing runtime: a proxied request hops between the
/// client connection's task and the pooled upstream connection's task several times. Within one
/// single-threaded runtime a hop is a queue push; on a work-stealing runtime it wakes other
/// threads (futexes, cache misses), which cost about twice the CPU per request in the benchmark
/// (`router/README.md`). This is nginx's model: one event loop per core, each with its own
/// upstream connection pool (so `make_app` should give each worker its own client).
pub fn serve_per_core<E>(
    listener: std::net::TcpListener,
    workers: usize,
    make_app: impl Fn() -> Result<Router, E>,
    shutdown: watch::Receiver<bool>,
    drain_timeout: Duration,
) -> std::io::Result<()>
where
    E: std::error::Error + Send + Sync + 'static,
{
    listener.set_nonblocking(true)?;
    let mut handles = Vec::with_capacity(workers);
    for worker in 0..workers.max(1) {
        let listener = listener.try_clone()?;
        let app = make_app().map_err(std::io::Error::other)?;
        let mut shutdown = shutdown.clone();
        let signal = async move {
            let _ = shutdown.wait_for(|&stop| stop).await;
        };
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let handle =
            thread::Builder::new().name(format!("router-worker-{worker}")).spawn(move || {
                runtime.block_on(async move {
                    serve(TcpListener::from_std(listener)?, app, signal, drain_timeout).await
                })
            })?;
        handles.push(handle);
    }
    for handle in handles {
        handle.join().map_err(|_| std::io::Error::other("a worker thread panicked"))??;
    }
    Ok(())
}

/// Completes on SIGTERM (what Kubernetes and App Service send) or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sigterm) => {
                sigterm.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
