//! Serving: accept connections until shutdown, then drain in-flight requests, bounded.
//!
//! The accept loop and the per-connection HTTP/1.1 server are hyper's own, without a tower
//! stack: each request goes straight to [`App::handle`], which is where the router's pipeline
//! starts (see `router/README.md`, Performance, for what this saved).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use http::HeaderValue;
use http::header::CONNECTION;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::routes::App;

/// After shutdown, how long open connections get answers, each with `Connection: close`, before
/// the idle ones are closed.
///
/// A keep-alive client (a load balancer, App Service's front end) may write its next request on
/// an idle connection at the very moment the router closes it; that request is lost, and if it
/// was a vote the client cannot know whether it counted. So at shutdown the router stops
/// accepting (a new connection is refused, which a client can safely try elsewhere) and answers
/// on its open connections with `Connection: close`: every busy client leaves after a complete
/// answer, and what is left to close are connections nobody used for this long.
const LAST_ANSWERS: Duration = Duration::from_secs(2);

/// Serves `app` on `listener` until `shutdown` completes; then, for at most `drain_timeout`:
/// stops accepting, answers with `Connection: close` for [`LAST_ANSWERS`], closes idle
/// connections and lets in-flight requests finish.
///
/// Shutdown is an argument, not a global: `main` passes [`shutdown_signal`], tests a oneshot.
/// The bound matters because a client streaming a large body could otherwise hold the process
/// past Kubernetes' grace period and get it killed mid-write anyway.
pub async fn serve(
    listener: TcpListener,
    app: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
    drain_timeout: Duration,
) -> std::io::Result<()> {
    let (draining_tx, draining) = watch::channel(false);
    let closing = Arc::new(AtomicBool::new(false));
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, client)) => {
                    let (app, closing, draining) = (app.clone(), closing.clone(), draining.clone());
                    connections.spawn(serve_connection(stream, client, app, closing, draining));
                }
                Err(error) => back_off_after(error).await,
            },
            // Reap finished connections so the set only holds live ones.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    let last_answers = LAST_ANSWERS.min(drain_timeout);
    tracing::info!(
        connections = connections.len(),
        ?last_answers,
        "shutting down: closing connections"
    );
    closing.store(true, Ordering::Relaxed);
    let closed = async { while connections.join_next().await.is_some() {} };
    let _ = tokio::time::timeout(last_answers, closed).await;
    tracing::info!(connections = connections.len(), "shutting down: draining in-flight requests");
    let _ = draining_tx.send(true);
    let drained = async { while connections.join_next().await.is_some() {} };
    let rest = drain_timeout.saturating_sub(last_answers);
    if tokio::time::timeout(rest, drained).await.is_err() {
        tracing::warn!(?drain_timeout, "drain timeout reached; closing remaining connections");
    }
    // Dropping the set aborts whatever is left.
    Ok(())
}

/// Serves one client connection until it closes, or until draining finishes its current request.
async fn serve_connection(
    stream: TcpStream,
    client: SocketAddr,
    app: App,
    closing: Arc<AtomicBool>,
    mut draining: watch::Receiver<bool>,
) {
    // Responses are written as soon as they are complete: Nagle's algorithm would hold a small
    // write back until the client's (delayed) ACK of the previous one.
    let _ = stream.set_nodelay(true);
    // The client address is the same for every request of the connection: rendered once here.
    let client = HeaderValue::from_str(&client.ip().to_string()).ok();
    let service = service_fn(move |request| {
        let (app, client, closing) = (app.clone(), client.clone(), closing.clone());
        async move {
            let mut response = app.handle(request, client.as_ref()).await;
            // Shutting down: this answer is the connection's last (hyper then closes it).
            if closing.load(Ordering::Relaxed) {
                response.headers_mut().insert(CONNECTION, HeaderValue::from_static("close"));
            }
            Ok::<_, std::convert::Infallible>(response)
        }
    });
    // `writev(false)`: hyper copies a response's head and body into one buffer and writes it with
    // one `write`, instead of keeping a queue of buffers for `writev`: fewer instructions per
    // request for the small pages this proxies. Large bodies still stream, the buffer is bounded.
    let connection =
        http1::Builder::new().writev(false).serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    let drain_starts = async move {
        // The returned guard borrows the channel: dropped here, before anything else awaits.
        let _ = draining.wait_for(|&draining| draining).await;
    };
    tokio::select! {
        result = connection.as_mut() => log_connection_end(result),
        () = drain_starts => {
            // Finish the request in flight (if any), then close instead of keeping alive.
            connection.as_mut().graceful_shutdown();
            log_connection_end(connection.await);
        }
    }
}

fn log_connection_end(result: Result<(), hyper::Error>) {
    if let Err(error) = result {
        tracing::debug!(%error, "client connection ended with an error");
    }
}

/// After a failed `accept`: errors about one connection (reset before it was accepted) are
/// skipped; anything else (out of file descriptors) gets a pause so the loop does not spin.
async fn back_off_after(error: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if !matches!(error.kind(), ConnectionAborted | ConnectionRefused | ConnectionReset) {
        tracing::warn!(%error, "accept failed; pausing for a second");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Binds the listening socket of [`serve_per_core`], with `SO_REUSEPORT` so each worker can add
/// its own socket on the same port. Call it inside a tokio runtime.
pub fn bind_listener(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    bind_reuseport(addr)?.into_std()
}

fn bind_reuseport(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    #[cfg(unix)]
    socket.set_reuseport(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}

/// Serves on `workers` threads, each running its own single-threaded runtime with the [`App`]
/// that `make_app` builds for it. Returns when every worker has drained (bounded by
/// `drain_timeout`) after `shutdown` turned `true`.
///
/// Why thread-per-core instead of one work-stealing runtime: a proxied request hops between the
/// client connection's task and the pooled upstream connection's task several times. Within one
/// single-threaded runtime a hop is a queue push; on a work-stealing runtime it wakes other
/// threads (futexes, cache misses), which cost about twice the CPU per request in the benchmark
/// (`router/README.md`). This is nginx's model: one event loop per core, each with its own
/// upstream connection pool (so `make_app` should give each worker its own client).
///
/// Why each worker has its own socket on the port (`SO_REUSEPORT`, when `listener` was made by
/// [`bind_listener`]): with one shared accept queue, whichever worker is awake takes a whole
/// burst of new connections, and keep-alive clients then stay on it; measured, one worker did
/// 70 % of the work while the other core idled. Separate sockets let the kernel spread new
/// connections over the workers by address hash. A `listener` without `SO_REUSEPORT` is shared.
pub fn serve_per_core<E>(
    listener: std::net::TcpListener,
    workers: usize,
    make_app: impl Fn() -> Result<App, E>,
    shutdown: watch::Receiver<bool>,
    drain_timeout: Duration,
) -> std::io::Result<()>
where
    E: std::error::Error + Send + Sync + 'static,
{
    listener.set_nonblocking(true)?;
    let mut handles = Vec::with_capacity(workers);
    for worker in 0..workers.max(1) {
        let app = make_app().map_err(std::io::Error::other)?;
        let mut shutdown = shutdown.clone();
        let signal = async move {
            let _ = shutdown.wait_for(|&stop| stop).await;
        };
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let worker_listener = {
            // The socket registers with the runtime that will drive it.
            let _entered = runtime.enter();
            listener_for_worker(&listener, worker)?
        };
        let handle = thread::Builder::new()
            .name(format!("router-worker-{worker}"))
            .spawn(move || runtime.block_on(serve(worker_listener, app, signal, drain_timeout)))?;
        handles.push(handle);
    }
    for handle in handles {
        handle.join().map_err(|_| std::io::Error::other("a worker thread panicked"))??;
    }
    Ok(())
}

/// Worker 0 accepts on `listener` itself; the others on their own socket on the same port, or on
/// `listener` too when the port cannot be shared.
fn listener_for_worker(
    listener: &std::net::TcpListener,
    worker: usize,
) -> std::io::Result<TcpListener> {
    if worker > 0
        && let Ok(own) = bind_reuseport(listener.local_addr()?)
    {
        return Ok(own);
    }
    TcpListener::from_std(listener.try_clone()?)
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
