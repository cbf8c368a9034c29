//! Each worker's keep-alive connections to the upstreams, for the proxy's hot path.
//!
//! Why not the pooled `hyper_util` client (still used by the health prober): per request it
//! clones its connector, locks a shared pool keyed by a hashed URI, and spawns a task that puts
//! the connection back once it is idle. Here a worker owns its connections (one runtime per core,
//! see [`crate::server::serve_per_core`]): a connection is taken from a small stack, and given
//! back when the response body it carried is dropped after its last byte — no task, no hashing.
//!
//! Each upstream gets at most [`PoolSettings::max_connections`] open connections per pool, idle
//! or busy: without a cap, a burst of clients opens one connection per concurrent request and
//! can exhaust what the upstream accepts (a small vote-app's open files). At the cap a request
//! waits for a connection to come back, or for one to close so it may open another; the proxy's
//! request timeout bounds the wait. A request on an idle connection, the common case, does not
//! touch the cap's semaphore.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response, Uri};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tower::Service as _;

use crate::client::UpstreamBody;
use crate::clock::Parity;

/// How long an unused connection is kept: below the usual upstream keep-alive limits (nginx
/// 75 s, App Service front ends minutes), so the router rarely writes to a connection the
/// upstream is closing. The health prober's client keeps its connections as long.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// How many connections a pool may keep open, and how long an unused one is kept.
#[derive(Debug, Clone, Copy)]
pub struct PoolSettings {
    /// Open connections (idle or busy) per upstream; a request beyond them waits for one. This
    /// pool's share of `ROUTER_MAX_CONNECTIONS_PER_UPSTREAM` (see [`crate::config::Config`]).
    pub max_connections: usize,
    /// How long an unused connection may still be reused: [`IDLE_TIMEOUT`], shorter in tests.
    pub idle_timeout: Duration,
}

impl PoolSettings {
    /// The settings of each of `workers` pools that share a cap of `max_connections` per
    /// upstream: an equal share, at least one. Not first come, first served: a worker's
    /// connections are driven by its own runtime and cannot be lent to another, so a worker
    /// holding more than its share idle would leave another waiting.
    pub fn shared_by(workers: usize, max_connections: usize) -> Self {
        let max_connections = (max_connections / workers.max(1)).max(1);
        Self { max_connections, idle_timeout: IDLE_TIMEOUT }
    }
}

/// The error type connectors and handshakes report.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why forwarding failed, split the way the proxy treats it.
#[derive(Debug)]
pub enum SendError {
    /// No connection could be made (refused, unreachable, timeout, TLS refused), or a new one
    /// broke before the request was written: nothing was sent, and the request comes back
    /// untouched, body included, so it may go to the other upstream.
    Connect {
        /// What the connector reported.
        source: BoxError,
        /// The request, untouched (boxed: this variant is rare, and would otherwise make every
        /// result as large as a request).
        request: Box<Request<UpstreamBody>>,
    },
    /// The exchange broke after the request was (maybe partly) sent, before a response head.
    Exchange(hyper::Error),
}

/// Connections of one worker, per upstream, and how to make new ones.
#[derive(Debug)]
pub struct UpstreamPool {
    /// TCP (+ TLS for `https`) connector, with the connect timeout.
    connector: HttpsConnector<HttpConnector>,
    /// How long an unused connection may still be reused.
    idle_timeout: Duration,
    /// Connections of the even (0) and odd (1) upstream.
    upstreams: [Connections; 2],
}

/// One upstream's connections in one pool.
#[derive(Debug)]
struct Connections {
    /// Idle connections, most recently used last. The cap bounds their number too.
    idle: Mutex<Vec<Idle>>,
    /// The cap: one permit per open connection, held by the task that drives it, so it comes
    /// back however the connection ends (dropped idle or busy, closed by the upstream).
    permits: Arc<Semaphore>,
    /// Signalled when a connection goes back to `idle`, for a request waiting at the cap.
    returned: Notify,
}

#[derive(Debug)]
struct Idle {
    sender: SendRequest<UpstreamBody>,
    since: Instant,
}

/// What a request waiting at the cap gets first.
#[derive(Debug)]
enum Turn {
    /// A connection another request gave back.
    Reuse(SendRequest<UpstreamBody>),
    /// The place of a connection that closed, to open a new one.
    Open(OwnedSemaphorePermit),
}

impl UpstreamPool {
    /// A pool without connections yet.
    pub fn new(connector: HttpsConnector<HttpConnector>, settings: PoolSettings) -> Self {
        // At least one connection, or every request would wait for nothing; at most what a
        // semaphore can count (the configuration allows far fewer).
        let max = settings.max_connections.clamp(1, Semaphore::MAX_PERMITS);
        let upstreams = std::array::from_fn(|_| Connections {
            idle: Mutex::default(),
            permits: Arc::new(Semaphore::new(max)),
            returned: Notify::new(),
        });
        Self { connector, idle_timeout: settings.idle_timeout, upstreams }
    }

    /// Sends `request` (origin-form URI) to the upstream of `parity` at `origin`, on an idle
    /// connection when there is one, else on a new one; at the cap, it waits for either (the
    /// caller bounds the wait). A request that an idle connection could not take because it was
    /// closing is sent again on another one; nothing of it was written.
    pub async fn send(
        self: &Arc<Self>,
        parity: Parity,
        origin: &Uri,
        mut request: Request<UpstreamBody>,
    ) -> Result<Response<PooledBody>, SendError> {
        loop {
            let (mut sender, reused) = match self.take(parity, origin).await {
                Ok(taken) => taken,
                Err(source) => {
                    return Err(SendError::Connect { source, request: Box::new(request) });
                }
            };
            match sender.try_send_request(request).await {
                Ok(response) => {
                    let give_back = GiveBack { sender, pool: self.clone(), parity };
                    return Ok(response.map(|body| PooledBody {
                        body,
                        give_back: Some(give_back),
                        finished: false,
                    }));
                }
                Err(mut error) => match error.take_message() {
                    Some(unsent) if reused => request = unsent,
                    // A fresh connection that broke before the request was written: the
                    // upstream is failing, and the request may still go to the other one.
                    Some(unsent) => {
                        let source = error.into_error().into();
                        return Err(SendError::Connect { source, request: Box::new(unsent) });
                    }
                    None => return Err(SendError::Exchange(error.into_error())),
                },
            }
        }
    }

    /// A connection for one request, and whether it is a reused one: an idle connection, else
    /// a new one while under the cap, else the first to come back or to close.
    async fn take(
        &self,
        parity: Parity,
        origin: &Uri,
    ) -> Result<(SendRequest<UpstreamBody>, bool), BoxError> {
        if let Some(sender) = self.checkout(parity).await {
            return Ok((sender, true));
        }
        let permit = match self.upstreams[parity.index()].permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            // Boxed, like connecting below: rare, and not to be part of every request's future.
            Err(_) => match Box::pin(self.wait_for_turn(parity)).await {
                Turn::Reuse(sender) => return Ok((sender, true)),
                Turn::Open(permit) => permit,
            },
        };
        // Boxed: connecting (TCP, TLS, handshake) is rare once the pool is warm, and its large
        // future would otherwise be part of every request's.
        Box::pin(self.connect(origin, permit)).await.map(|sender| (sender, false))
    }

    /// At the cap: waits until another request gives a connection back, or one closes.
    async fn wait_for_turn(&self, parity: Parity) -> Turn {
        let upstream = &self.upstreams[parity.index()];
        loop {
            let returned = upstream.returned.notified();
            tokio::pin!(returned);
            // Registered before looking at the idle stack: a connection given back in between
            // wakes this loop instead of being missed.
            returned.as_mut().enable();
            if let Some(sender) = self.checkout(parity).await {
                return Turn::Reuse(sender);
            }
            tokio::select! {
                Ok(permit) = upstream.permits.clone().acquire_owned() => return Turn::Open(permit),
                // Another request may have taken it first: then look again.
                () = returned.as_mut() => {}
            }
        }
    }

    /// The most recently used idle connection that is still open and ready.
    async fn checkout(&self, parity: Parity) -> Option<SendRequest<UpstreamBody>> {
        loop {
            let idle = self.upstreams[parity.index()].idle.lock().ok()?.pop()?;
            if idle.since.elapsed() > self.idle_timeout {
                continue; // dropping the sender closes the connection
            }
            let mut sender = idle.sender;
            // Waits for the connection to finish reading the previous response; fails if the
            // upstream closed it meanwhile.
            if sender.ready().await.is_ok() {
                return Some(sender);
            }
        }
    }

    /// A new HTTP/1.1 connection to `origin`, driven by a task on this worker's runtime that
    /// holds `permit` until the connection ends.
    async fn connect(
        &self,
        origin: &Uri,
        permit: OwnedSemaphorePermit,
    ) -> Result<SendRequest<UpstreamBody>, BoxError> {
        let io = self.connector.clone().call(origin.clone()).await?;
        // One buffer per write, as toward clients (see `server::serve_connection`).
        let (sender, connection) = http1::Builder::new().writev(false).handshake(io).await?;
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "upstream connection ended with an error");
            }
            // Closed: a request waiting at the cap may open another one.
            drop(permit);
        });
        Ok(sender)
    }

    fn give_back(&self, parity: Parity, sender: SendRequest<UpstreamBody>) {
        if sender.is_closed() {
            return;
        }
        let upstream = &self.upstreams[parity.index()];
        if let Ok(mut idle) = upstream.idle.lock() {
            idle.push(Idle { sender, since: Instant::now() });
        }
        upstream.returned.notify_one();
    }
}

/// What returns a connection to its pool.
#[derive(Debug)]
struct GiveBack {
    sender: SendRequest<UpstreamBody>,
    pool: Arc<UpstreamPool>,
    parity: Parity,
}

/// An upstream response body that gives its connection back to the pool when dropped after its
/// last byte. Dropped earlier (client gone, error), the connection is closed instead: it may
/// still carry the rest of this body.
#[derive(Debug)]
pub struct PooledBody {
    body: Incoming,
    give_back: Option<GiveBack>,
    /// The body returned its end (a chunked body is not `is_end_stream` even then).
    finished: bool,
}

impl Body for PooledBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let polled = Pin::new(&mut self.body).poll_frame(cx);
        match polled {
            Poll::Ready(None) => self.finished = true,
            Poll::Ready(Some(Err(_))) => self.give_back = None,
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

impl Drop for PooledBody {
    fn drop(&mut self) {
        if let Some(GiveBack { sender, pool, parity }) = self.give_back.take()
            && (self.finished || self.body.is_end_stream())
        {
            pool.give_back(parity, sender);
        }
    }
}

#[cfg(test)]
mod tests;
