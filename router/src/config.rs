//! Typed configuration, read once at startup.
//!
//! Precedence: an environment variable when it is set, otherwise the default in the table below.
//! There is no config file. A variable that is set but unparsable stops startup with a message
//! naming it and its value, rather than being silently replaced by the default.
//!
//! | Variable                     | Default   | Meaning                                              |
//! |------------------------------|-----------|------------------------------------------------------|
//! | `ROUTER_UPSTREAM_EVEN`       | required  | base URL serving even UTC minutes                    |
//! | `ROUTER_UPSTREAM_ODD`        | required  | base URL serving odd UTC minutes                     |
//! | `PORT`                       | `8080`    | port to listen on (all interfaces)                   |
//! | `ROUTER_CONNECT_TIMEOUT_MS`  | `2000`    | TCP + TLS connect to an upstream                     |
//! | `ROUTER_REQUEST_TIMEOUT_MS`  | `30000`   | a connection, request sent → response headers        |
//! | `ROUTER_HEALTH_INTERVAL_MS`  | `2000`    | time between active `/health` probes                 |
//! | `ROUTER_HEALTH_TIMEOUT_MS`   | `1000`    | one probe's deadline                                 |
//! | `ROUTER_HEALTH_PATH`         | `/health` | path probed on each upstream                         |
//! | `ROUTER_SHUTDOWN_TIMEOUT_MS` | `10000`   | how long in-flight requests may drain on SIGTERM     |
//! | `ROUTER_UPSTREAM_CA_FILE`    | none      | PEM file of extra roots trusted for https upstreams  |
//! | `ROUTER_MAX_CONNECTIONS_PER_UPSTREAM` | `256` | open connections to each upstream, in total |
//! | `LOG_FORMAT`                 | `text`    | `json` for one JSON object per line (containers)     |

use std::time::Duration;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;

use crate::clock::Parity;
use crate::telemetry::LogFormat;
use crate::upstream::{Upstream, UpstreamUrlError};

/// Every environment variable the router reads (the table above, and `RUST_LOG` for the log
/// filter), so that deployment files are checked against the router itself. A test records the
/// names [`Config::from_lookup`] asks for and fails when one is missing here.
pub const VARIABLES: &[&str] = &[
    "ROUTER_UPSTREAM_EVEN",
    "ROUTER_UPSTREAM_ODD",
    "PORT",
    "ROUTER_CONNECT_TIMEOUT_MS",
    "ROUTER_REQUEST_TIMEOUT_MS",
    "ROUTER_HEALTH_INTERVAL_MS",
    "ROUTER_HEALTH_TIMEOUT_MS",
    "ROUTER_HEALTH_PATH",
    "ROUTER_SHUTDOWN_TIMEOUT_MS",
    "ROUTER_UPSTREAM_CA_FILE",
    "ROUTER_MAX_CONNECTIONS_PER_UPSTREAM",
    "LOG_FORMAT",
    "RUST_LOG",
];

/// Everything the router needs to know, validated.
#[derive(Debug, Clone)]
pub struct Config {
    /// TCP port to listen on: App Service and Kubernetes set `PORT`.
    pub port: u16,
    /// Serves requests that arrive in an even UTC minute.
    pub even: Upstream,
    /// Serves requests that arrive in an odd UTC minute.
    pub odd: Upstream,
    /// Bounds connection setup, so a dead upstream fails fast and the other one can take over.
    pub connect_timeout: Duration,
    /// Bounds the wait for response headers; the body then streams for as long as it needs.
    pub request_timeout: Duration,
    /// How often the background task probes each upstream.
    pub health_interval: Duration,
    /// Deadline of one probe: a hung upstream counts as down.
    pub health_timeout: Duration,
    /// Path probed on each upstream (vote-app's liveness endpoint by default).
    pub health_path: String,
    /// Upper bound on draining in-flight requests at shutdown, below Kubernetes' grace period.
    pub shutdown_timeout: Duration,
    /// Extra root certificates trusted for `https` upstreams, besides the platform's: a private
    /// CA (an AKS ingress, a test CA) without changing the process or the image's trust store.
    pub upstream_ca: Vec<CertificateDer<'static>>,
    /// Most connections the router keeps open to each upstream, idle or busy, all workers
    /// together (each worker's pool gets an equal share, at least one); a request beyond them
    /// waits for one, within `request_timeout`. Without a bound, a burst of clients opens one
    /// upstream connection per concurrent request and can exhaust what the upstream accepts (a
    /// process's open files: 1024 is a common limit). The default, 256, is four times the 64
    /// clients of the benchmark, so ordinary load never waits. A total rather than a figure per
    /// worker, because the upstream's limit does not depend on how many cores the router has.
    pub max_connections_per_upstream: usize,
    /// Human-readable text on a terminal, JSON in containers.
    pub log_format: LogFormat,
}

/// A configuration problem, naming the variable so the operator knows what to fix.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// A variable without a default is not set.
    #[error("{var} is not set: it must be the base URL of the {what}")]
    Missing {
        /// The variable's name.
        var: &'static str,
        /// What it configures, for the message.
        what: &'static str,
    },
    /// A variable is set to something unusable.
    #[error("{var}={value:?} is invalid: {reason}")]
    Invalid {
        /// The variable's name.
        var: &'static str,
        /// The value as found, so a typo is visible in the message.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(process_env)
    }

    /// Reads variables through `lookup`, so tests can pass a map instead of mutating the
    /// process environment (which other tests running in parallel would see).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Lookup(&lookup);
        Ok(Self {
            port: env.port()?,
            even: env.upstream("ROUTER_UPSTREAM_EVEN", Parity::Even)?,
            odd: env.upstream("ROUTER_UPSTREAM_ODD", Parity::Odd)?,
            connect_timeout: env.millis("ROUTER_CONNECT_TIMEOUT_MS", 2_000)?,
            request_timeout: env.millis("ROUTER_REQUEST_TIMEOUT_MS", 30_000)?,
            health_interval: env.millis("ROUTER_HEALTH_INTERVAL_MS", 2_000)?,
            health_timeout: env.millis("ROUTER_HEALTH_TIMEOUT_MS", 1_000)?,
            health_path: env.parse("ROUTER_HEALTH_PATH", "/health".to_owned(), parse_path)?,
            shutdown_timeout: env.millis("ROUTER_SHUTDOWN_TIMEOUT_MS", 10_000)?,
            upstream_ca: env.parse("ROUTER_UPSTREAM_CA_FILE", Vec::new(), read_pem_certificates)?,
            max_connections_per_upstream: env.count("ROUTER_MAX_CONNECTIONS_PER_UPSTREAM", 256)?,
            log_format: env.parse("LOG_FORMAT", LogFormat::Text, parse_log_format)?,
        })
    }
}

/// `PORT` alone, for `router healthcheck`: the probe asks the running router on that port and
/// needs nothing else (nor should it fail on an upstream setting it does not use).
pub fn port_from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<u16, ConfigError> {
    Lookup(&lookup).port()
}

/// The process environment, the lookup behind [`Config::from_env`] and the one `main` passes to
/// the health check: the one place the router reads it (clippy.toml refuses it elsewhere).
#[allow(clippy::disallowed_methods)] // the exception the lint exists to keep single
pub fn process_env(var: &str) -> Option<String> {
    std::env::var(var).ok()
}

/// Reads one variable at a time and turns parse failures into [`ConfigError::Invalid`].
struct Lookup<'a>(&'a dyn Fn(&str) -> Option<String>);

impl Lookup<'_> {
    fn parse<T, E: ToString>(
        &self,
        var: &'static str,
        default: T,
        parse: impl Fn(&str) -> Result<T, E>,
    ) -> Result<T, ConfigError> {
        match (self.0)(var) {
            None => Ok(default),
            Some(value) => parse(value.trim()).map_err(|reason| ConfigError::Invalid {
                var,
                value,
                reason: reason.to_string(),
            }),
        }
    }

    fn port(&self) -> Result<u16, ConfigError> {
        self.parse("PORT", 8080, |raw| raw.parse().map_err(|_| "not a port number"))
    }

    fn millis(&self, var: &'static str, default: u64) -> Result<Duration, ConfigError> {
        let millis = self.parse(var, default, |raw| match raw.parse::<u64>() {
            Ok(0) | Err(_) => Err("expected a whole number of milliseconds greater than 0"),
            Ok(millis) => Ok(millis),
        })?;
        Ok(Duration::from_millis(millis))
    }

    /// A count from 1 to 65 535: more connections than TCP ports toward one upstream address
    /// would be meaningless, and 0 would let nothing through.
    fn count(&self, var: &'static str, default: u16) -> Result<usize, ConfigError> {
        let count = self.parse(var, default, |raw| match raw.parse::<u16>() {
            Ok(0) | Err(_) => Err("expected a whole number from 1 to 65535"),
            Ok(count) => Ok(count),
        })?;
        Ok(usize::from(count))
    }

    fn upstream(&self, var: &'static str, parity: Parity) -> Result<Upstream, ConfigError> {
        let what = match parity {
            Parity::Even => "upstream serving even minutes",
            Parity::Odd => "upstream serving odd minutes",
        };
        let value = (self.0)(var).ok_or(ConfigError::Missing { var, what })?;
        Upstream::parse(parity, &value).map_err(|error: UpstreamUrlError| ConfigError::Invalid {
            var,
            value,
            reason: error.to_string(),
        })
    }
}

fn parse_path(raw: &str) -> Result<String, &'static str> {
    if raw.starts_with('/') { Ok(raw.to_owned()) } else { Err("must start with '/'") }
}

/// Every certificate of the PEM file at `path`; a file without any is refused, since trusting
/// nothing extra is surely not what setting the variable meant.
fn read_pem_certificates(path: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certificates = CertificateDer::pem_file_iter(path)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(|error| format!("cannot read PEM certificates: {error}"))?;
    if certificates.is_empty() {
        return Err("the file contains no PEM certificate".to_owned());
    }
    Ok(certificates)
}

fn parse_log_format(raw: &str) -> Result<LogFormat, &'static str> {
    match raw.to_ascii_lowercase().as_str() {
        "json" => Ok(LogFormat::Json),
        "text" | "pretty" => Ok(LogFormat::Text),
        _ => Err("expected `json` or `text`"),
    }
}

#[cfg(test)]
mod tests;
