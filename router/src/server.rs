//! Serving: accept connections until shutdown, then drain in-flight requests, bounded.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

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
