//! `router healthcheck [PATH]`: the container's health check, run by the image's
//! `HEALTHCHECK`, compose and Swarm. It asks the router already running in the container for
//! `GET http://127.0.0.1:$PORT/router/health` (or `PATH`) and exits 0 on a 200, else 1 with a
//! one-line reason on stderr, which `docker inspect` shows.
//!
//! The image holds the binary and its C runtime only: no shell, no curl, so the probe is the
//! binary itself. It is plain blocking `std::net` with a deadline, on purpose: it runs every few
//! seconds for the container's whole life, so it starts no runtime, needs no upstream setting
//! and reads only `PORT`, and is done in a millisecond. (The vote-app has the same module: two
//! copies of a hundred lines rather than a crate shared by two small services.)

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use crate::config;

/// Probed when no path is given: the router's own liveness, 200 for as long as it serves
/// (whatever the upstreams' state: a router with both upstreams down still answers, with 502s).
pub const DEFAULT_PATH: &str = "/router/health";

/// Deadline of the whole check (connect, request, status line). Below the image's
/// `HEALTHCHECK --timeout=3s`, so a hung router is reported with a reason instead of the probe
/// being killed without one.
pub const TIMEOUT: Duration = Duration::from_secs(2);

/// Why the check failed: the line printed on stderr.
#[derive(Debug, thiserror::Error)]
pub enum CheckFailed {
    /// `PORT` is set to something that is not a port, so there is nothing to ask.
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    /// Nothing listens (the router has not bound yet, or has exited), or the connect timed out.
    #[error("cannot connect to {address}: {source}")]
    Connect {
        /// Where the server should be listening.
        address: SocketAddr,
        /// The operating system's reason.
        source: io::Error,
    },
    /// The connection broke or the deadline passed before the status line arrived.
    #[error("GET {path}: no answer: {source}")]
    NoAnswer {
        /// The path asked for.
        path: String,
        /// What went wrong on the connection (a read timeout for a hung router).
        source: io::Error,
    },
    /// The router answered with another status than 200.
    #[error("GET {path} answered {status}")]
    Status {
        /// The path asked for.
        path: String,
        /// The status code of the answer.
        status: u16,
    },
    /// What came back is not HTTP: another program holds the port.
    #[error("GET {path}: not an HTTP status line: {line:?}")]
    NotHttp {
        /// The path asked for.
        path: String,
        /// The first line received.
        line: String,
    },
}

/// Runs the subcommand with the settings `lookup` gives (`main` passes
/// [`config::process_env`]) and turns the outcome into the exit code.
#[allow(clippy::print_stderr)] // the subcommand's one line of output; no logger is set up for it
pub fn run(lookup: impl Fn(&str) -> Option<String>, path: Option<&str>) -> ExitCode {
    let path = path.unwrap_or(DEFAULT_PATH);
    let outcome = config::port_from_lookup(lookup)
        .map_err(CheckFailed::from)
        .and_then(|port| check(port, path, TIMEOUT));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failed) => {
            eprintln!("healthcheck failed: {failed}");
            ExitCode::FAILURE
        }
    }
}

/// Asks `http://127.0.0.1:{port}{path}` and succeeds on a 200, all within `timeout`.
pub fn check(port: u16, path: &str, timeout: Duration) -> Result<(), CheckFailed> {
    let deadline = Instant::now() + timeout;
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let stream = TcpStream::connect_timeout(&address, timeout)
        .map_err(|source| CheckFailed::Connect { address, source })?;
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    let line = status_line(stream, request.as_bytes(), deadline)
        .map_err(|source| CheckFailed::NoAnswer { path: path.to_owned(), source })?;
    match status_code(&line) {
        Some(200) => Ok(()),
        Some(status) => Err(CheckFailed::Status { path: path.to_owned(), status }),
        None => Err(CheckFailed::NotHttp { path: path.to_owned(), line: line.trim_end().into() }),
    }
}

/// Sends `request` and reads the first line of the answer, both before `deadline`.
fn status_line(mut stream: TcpStream, request: &[u8], deadline: Instant) -> io::Result<String> {
    stream.set_write_timeout(Some(time_left(deadline)))?;
    stream.write_all(request)?;
    stream.set_read_timeout(Some(time_left(deadline)))?;
    let mut line = String::new();
    // A status line is a few dozen bytes: the limit bounds what a wrong server can send.
    BufReader::new(stream.take(256)).read_line(&mut line)?;
    Ok(line)
}

/// What is left until `deadline`; at least a millisecond, since a zero socket timeout is refused.
fn time_left(deadline: Instant) -> Duration {
    deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1))
}

/// The code of a status line such as `HTTP/1.1 200 OK`.
fn status_code(line: &str) -> Option<u16> {
    let mut parts = line.split_ascii_whitespace();
    parts.next().filter(|version| version.starts_with("HTTP/1."))?;
    parts.next()?.parse().ok()
}

#[cfg(test)]
mod tests;
