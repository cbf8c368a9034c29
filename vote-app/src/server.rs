//! Serving with a bounded graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::http::header::{CONNECTION, HeaderValue};
use axum::response::Response;
use axum::serve::Listener;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tower::util::MapResponseLayer;

/// After the shutdown signal, how long open connections get answers, each with
/// `Connection: close`, before the server closes the idle ones.
///
/// A keep-alive client (the router, a load balancer) may write its next request on an idle
/// connection at the very moment the server closes it; that request is lost, and a client
/// cannot tell whether a POST on it was counted, so it must not send it again. So at the signal
/// the server stops accepting (a client's new connection is refused, which it can safely try
/// elsewhere) and answers on its open connections with `Connection: close`: every busy client
/// leaves after a complete answer, and what is left to close at the end are connections nobody
/// used for this long.
const LAST_ANSWERS: Duration = Duration::from_secs(2);

/// Serves `app` on `listener` until `shutdown` completes; then, for at most `drain_timeout`:
/// stops accepting, answers with `Connection: close` for [`LAST_ANSWERS`], closes idle
/// connections and lets in-flight requests finish.
///
/// The listener is bound by the caller (port 0 in tests) and the shutdown signal passed in
/// (SIGTERM in `main`, a oneshot in tests), so nothing here is hidden global state.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    drain_timeout: Duration,
) -> std::io::Result<()> {
    let (closing_tx, closing) = watch::channel(false);
    let listener = ClosingListener {
        address: listener.local_addr()?,
        listener: Some(listener),
        closing: closing.clone(),
    };
    let ends_streams = axum::Extension(Closing(closing.clone()));
    let app = app
        .layer(MapResponseLayer::new(move |response| close_when(*closing.borrow(), response)))
        .layer(ends_streams);
    let last_answers = LAST_ANSWERS.min(drain_timeout);
    let (draining_tx, draining_rx) = oneshot::channel::<()>();
    let graceful = async move {
        shutdown.await;
        tracing::info!(?last_answers, ?drain_timeout, "shutting down: closing connections");
        let _ = closing_tx.send(true);
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

/// In every request's extensions when served by [`serve`]: completes once the server starts
/// shutting down, so a response that would stream for ever (live results) ends, and the drain
/// need not wait for it.
#[derive(Debug, Clone)]
pub struct Closing(watch::Receiver<bool>);

impl Closing {
    /// Completes when the shutdown starts (or the server is gone).
    pub async fn wait(mut self) {
        let _ = self.0.wait_for(|closing| *closing).await;
    }
}

/// `response`, marked as the connection's last when `closing` (hyper then closes it once the
/// response is written).
fn close_when(closing: bool, mut response: Response) -> Response {
    if closing {
        response.headers_mut().insert(CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// A TCP listener that closes its socket, so new connections are refused, once `closing` is
/// set, while the server goes on serving the connections it has.
struct ClosingListener {
    listener: Option<TcpListener>,
    address: SocketAddr,
    closing: watch::Receiver<bool>,
}

impl Listener for ClosingListener {
    type Io = TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (TcpStream, SocketAddr) {
        loop {
            let Some(listener) = &mut self.listener else {
                return std::future::pending().await;
            };
            tokio::select! {
                accepted = Listener::accept(listener) => return accepted,
                _ = self.closing.wait_for(|closing| *closing) => self.listener = None,
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.address)
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
