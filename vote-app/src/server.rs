//! Serving with a bounded graceful shutdown.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::http::header::{CONNECTION, HeaderValue};
use axum::response::Response;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// After the shutdown signal, how long the server goes on answering, each answer with
/// `Connection: close`, before it closes its idle connections.
///
/// A keep-alive client (the router, a load balancer) may write its next request on an idle
/// connection at the very moment the server closes it; that request is lost, and a client
/// cannot tell whether a POST on it was counted, so it must not send it again. Answering with
/// `Connection: close` first makes every busy client leave on its own, after a complete answer:
/// what is left to close at the end are connections nobody used for this long.
const LAST_ANSWERS: Duration = Duration::from_secs(2);

/// Serves `app` on `listener` until `shutdown` completes; then, for at most `drain_timeout`:
/// answers with `Connection: close` for [`LAST_ANSWERS`], stops accepting connections and lets
/// in-flight requests finish.
///
/// The listener is bound by the caller (port 0 in tests) and the shutdown signal passed in
/// (SIGTERM in `main`, a oneshot in tests), so nothing here is hidden global state.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    drain_timeout: Duration,
) -> std::io::Result<()> {
    let closing = Arc::new(AtomicBool::new(false));
    let app = app.layer(axum::middleware::map_response({
        let closing = closing.clone();
        move |response| close_when(closing.load(Ordering::Relaxed), response)
    }));
    let last_answers = LAST_ANSWERS.min(drain_timeout);
    let (draining_tx, draining_rx) = oneshot::channel::<()>();
    let graceful = async move {
        shutdown.await;
        tracing::info!(
            ?last_answers,
            ?drain_timeout,
            "shutting down: closing keep-alive connections"
        );
        closing.store(true, Ordering::Relaxed);
        tokio::time::sleep(last_answers).await;
        tracing::info!("shutting down: draining in-flight requests");
        let _ = draining_tx.send(());
    };
    let server = axum::serve(listener, app).with_graceful_shutdown(graceful);
    let deadline = async move {
        match draining_rx.await {
            Ok(()) => tokio::time::sleep(drain_timeout.saturating_sub(last_answers)).await,
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

/// `response`, marked as the connection's last when `closing` (hyper then closes it once the
/// response is written).
async fn close_when(closing: bool, mut response: Response) -> Response {
    if closing {
        response.headers_mut().insert(CONNECTION, HeaderValue::from_static("close"));
    }
    response
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
