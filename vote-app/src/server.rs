//! Serving with a bounded graceful shutdown.

use std::future::Future;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// Serves `app` on `listener` until `shutdown` completes, then stops accepting connections and
/// lets in-flight requests finish for at most `drain_timeout`.
///
/// The listener is bound by the caller (port 0 in tests) and the shutdown signal passed in
/// (SIGTERM in `main`, a oneshot in tests), so nothing here is hidden global state.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    drain_timeout: Duration,
) -> std::io::Result<()> {
    let (draining_tx, draining_rx) = oneshot::channel::<()>();
    let graceful = async move {
        shutdown.await;
        tracing::info!(?drain_timeout, "shutting down: draining in-flight requests");
        let _ = draining_tx.send(());
    };
    let server = axum::serve(listener, app).with_graceful_shutdown(graceful);
    let deadline = async move {
        match draining_rx.await {
            Ok(()) => tokio::time::sleep(drain_timeout).await,
            // The server finished without a shutdown signal; the other branch wins.
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        result = server.into_future() => result,
        () = deadline => {
            tracing::warn!("drain timeout reached: closing remaining connections");
            Ok(())
        }
    }
}

/// Completes on SIGTERM (Kubernetes, Docker, App Service) or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
