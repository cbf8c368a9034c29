//! Configuration: typed settings, read once at start, validated, with errors that name the
//! variable. This module is the only code that reads the process environment
//! ([`process_env`]; a clippy lint refuses `std::env::var` anywhere else).
//!
//! Start-up reads, in this order:
//! 1. [`LogFormat::from_lookup`] (`LOG_FORMAT`), so everything after it can log;
//! 2. [`SecretSources::from_lookup`]: the `<NAME>_FILE` variables and the Key Vault settings
//!    (`KEY_VAULT_*`, `AZURE_*`);
//! 3. [`Config::from_lookup`], through a lookup where each secret setting (`REDIS_URL`,
//!    `REDIS_PWD`, `DATABASE_URL`, `ADMIN_TOKEN`) takes the first of: its Key Vault secret
//!    (when `KEY_VAULT_URL` is set and `KEY_VAULT_SECRETS` maps it), its `<NAME>_FILE`, its
//!    plain variable (e.g. an App Service Key Vault reference). See [`crate::secrets`].
//!
//! For the rest: the modern variable (`REDIS_URL`), then the original app's (`REDIS` +
//! `REDIS_PWD`), then the default. A value that is set but unusable stops start-up; none is
//! silently replaced by a default. Tests pass a map as the lookup, never touching the process
//! environment.
//!
//! `vote-app healthcheck` reads `PORT` alone, through [`port_from_lookup`].

use std::time::Duration;

use crate::choice::{Choices, InvalidChoice};
use crate::i18n::Lang;
use crate::secret::Secret;

mod sources;

pub use sources::{
    CredentialKind, DEFAULT_VAULT_SECRETS, SECRET_SETTINGS, SecretSources, VaultSettings,
};

/// Every environment variable the app reads, so that deployment files (Kubernetes manifests,
/// Terraform app settings, compose) are checked against the app itself rather than against a
/// second hand-typed list. A test records the names [`LogFormat::from_lookup`],
/// [`SecretSources::from_lookup`] and [`Config::from_lookup`] look up and fails when one is
/// missing here.
pub const VARIABLES: &[&str] = &[
    // Read by `Config`.
    "PORT",
    "INSTANCE_NAME",
    "HOSTNAME",
    "TITLE",
    "SHOWHOST",
    "VOTE1VALUE",
    "VOTE2VALUE",
    "REDIS_URL",
    "REDIS",
    "REDIS_PWD",
    "REDIS_KEY",
    "REDIS_CLUSTER",
    "DATABASE_URL",
    "ADMIN_TOKEN",
    "SHUTDOWN_TIMEOUT_SECS",
    "UI_LANGUAGE",
    "LIVE_STREAMS",
    // Read by `LogFormat`.
    "LOG_FORMAT",
    // Read by `SecretSources`: a file per secret setting (the Key Vault CSI driver's mount), the
    // vault and the identity that reads it.
    "REDIS_URL_FILE",
    "REDIS_PWD_FILE",
    "DATABASE_URL_FILE",
    "ADMIN_TOKEN_FILE",
    "KEY_VAULT_URL",
    "KEY_VAULT_SECRETS",
    "AZURE_CREDENTIAL",
    "AZURE_CLIENT_ID",
    "AZURE_FEDERATED_TOKEN_FILE",
    "IDENTITY_ENDPOINT",
    "KEY_VAULT_MAX_ATTEMPTS",
    "KEY_VAULT_VERIFY_CHALLENGE_RESOURCE",
    // Read by the libraries underneath: the Azure SDK's credentials (workload identity on AKS,
    // managed identity on App Service), rustls' platform verifier and the log filter.
    "AZURE_TENANT_ID",
    "AZURE_AUTHORITY_HOST",
    "IDENTITY_HEADER",
    "SSL_CERT_FILE",
    "RUST_LOG",
];

/// Everything the app needs to know at start.
#[derive(Debug, Clone)]
pub struct Config {
    /// TCP port to listen on (`PORT`); App Service and compose set it.
    pub port: u16,
    /// The name shown in the footer and recorded in the ledger (`INSTANCE_NAME`, else
    /// `HOSTNAME`): it is how a voter sees which instance answered during a canary or a
    /// minute-parity demo.
    pub instance_name: String,
    /// The page heading (`TITLE`), or the instance name when `SHOWHOST=true`, as in the original.
    pub title: String,
    /// The two buttons (`VOTE1VALUE`, `VOTE2VALUE`).
    pub choices: Choices,
    /// Where the counters live; `None` runs on the embedded in-memory store.
    pub redis_url: Option<Secret>,
    /// The Redis hash holding the counters (`REDIS_KEY`, default `votes`): environments that
    /// share one cache (QAL and prod) each use their own key.
    pub redis_key: String,
    /// Whether Redis is a cluster (`REDIS_CLUSTER`, default false): Azure Managed Redis with
    /// the OSS clustering policy, or a self-run Redis Cluster; `REDIS_URL` is then any node.
    pub redis_cluster: bool,
    /// The PostgreSQL ledger (`DATABASE_URL`); `None` runs without one.
    pub database_url: Option<Secret>,
    /// Token that allows resetting the counts (`ADMIN_TOKEN`); `None` disables reset.
    pub admin_token: Option<Secret>,
    /// How long in-flight requests may take to finish after SIGTERM (`SHUTDOWN_TIMEOUT_SECS`).
    pub shutdown_timeout: Duration,
    /// The pages' language for every voter who has not chosen one with the page's switch
    /// (`UI_LANGUAGE`: `fr` or `en`); `None` follows each browser's `Accept-Language`.
    pub ui_language: Option<Lang>,
    /// How many live-results streams (`GET /live`) this instance serves at once (`LIVE_STREAMS`,
    /// default 128; 0 turns live results off). Each holds a connection: behind the router, keep
    /// it well below `ROUTER_MAX_CONNECTIONS_PER_UPSTREAM` (256) so votes always find one.
    pub live_streams: usize,
}

/// The shape of log lines (`LOG_FORMAT`), read on its own and first, so that reading the rest
/// (Key Vault can take seconds) is logged in the right shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// One JSON object per line, for log collectors (App Service, AKS).
    Json,
    /// Human-readable lines for a developer's terminal.
    #[default]
    Text,
}

impl LogFormat {
    /// `LOG_FORMAT`: `json` or `text` (the default).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        match lookup("LOG_FORMAT").as_deref().map(str::trim) {
            None | Some("" | "text") => Ok(Self::Text),
            Some("json") => Ok(Self::Json),
            Some(other) => Err(ConfigError::new("LOG_FORMAT", other, "is neither json nor text")),
        }
    }
}

/// The process environment, the lookup `main` passes to the readers above: the one place the
/// app reads it, so every variable it reads is one this module knows about.
#[allow(clippy::disallowed_methods)] // the exception the lint exists to keep single
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// A variable with a value the app cannot use. The message names the variable and, unless it is
/// a secret, the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration: {variable}={shown} {reason}")]
pub struct ConfigError {
    /// The environment variable to fix.
    pub variable: &'static str,
    /// The value as given, or `[redacted]` for secrets.
    pub shown: String,
    /// What is wrong with it.
    pub reason: String,
}

impl ConfigError {
    fn new(variable: &'static str, value: &str, reason: impl Into<String>) -> Self {
        let shown = format!("{value:?}");
        let reason = reason.into();
        Self { variable, shown, reason }
    }

    fn secret(variable: &'static str, reason: impl Into<String>) -> Self {
        let (shown, reason) = ("[redacted]".to_owned(), reason.into());
        Self { variable, shown, reason }
    }
}

impl Config {
    /// Reads settings through `lookup`, so tests can pass a map. Empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());

        let instance_name = get("INSTANCE_NAME")
            .or_else(|| get("HOSTNAME"))
            .unwrap_or_else(|| "vote-app".to_owned());
        let show_host = parse_bool("SHOWHOST", get("SHOWHOST"))?.unwrap_or(false);
        let title = match (show_host, get("TITLE")) {
            (true, _) => instance_name.clone(),
            (false, Some(title)) => title,
            (false, None) => "Azure Voting App".to_owned(),
        };
        Ok(Self {
            port: port_from_lookup(&lookup)?,
            choices: parse_choices(get("VOTE1VALUE"), get("VOTE2VALUE"))?,
            redis_url: redis_url(get("REDIS_URL"), get("REDIS"), get("REDIS_PWD"))?,
            redis_key: parse_redis_key(get("REDIS_KEY"))?,
            redis_cluster: parse_bool("REDIS_CLUSTER", get("REDIS_CLUSTER"))?.unwrap_or(false),
            database_url: database_url(get("DATABASE_URL"))?,
            admin_token: get("ADMIN_TOKEN").map(Secret::new),
            shutdown_timeout: parse_seconds("SHUTDOWN_TIMEOUT_SECS", get("SHUTDOWN_TIMEOUT_SECS"))?,
            ui_language: parse_language(get("UI_LANGUAGE"))?,
            live_streams: parse_live_streams(get("LIVE_STREAMS"))?,
            instance_name,
            title,
        })
    }
}

/// `PORT` alone, for `vote-app healthcheck`: the probe asks the running server on that port and
/// needs nothing else (above all no secrets, which would be read every few seconds).
pub fn port_from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<u16, ConfigError> {
    parse_port(lookup("PORT").filter(|value| !value.trim().is_empty()))
}

fn parse_port(value: Option<String>) -> Result<u16, ConfigError> {
    let Some(value) = value else { return Ok(8080) };
    match value.trim().parse::<u16>() {
        Ok(port) if port > 0 => Ok(port),
        _ => Err(ConfigError::new("PORT", &value, "is not a port number (1-65535)")),
    }
}

fn parse_language(value: Option<String>) -> Result<Option<Lang>, ConfigError> {
    let Some(value) = value else { return Ok(None) };
    match value.trim().to_ascii_lowercase().as_str() {
        "fr" => Ok(Some(Lang::Fr)),
        "en" => Ok(Some(Lang::En)),
        _ => Err(ConfigError::new("UI_LANGUAGE", &value, "is neither fr nor en")),
    }
}

fn parse_live_streams(value: Option<String>) -> Result<usize, ConfigError> {
    let Some(value) = value else { return Ok(128) };
    match value.trim().parse::<usize>() {
        Ok(streams) if streams <= 100_000 => Ok(streams),
        _ => Err(ConfigError::new("LIVE_STREAMS", &value, "is not a number of streams (0-100000)")),
    }
}

fn parse_bool(variable: &'static str, value: Option<String>) -> Result<Option<bool>, ConfigError> {
    let Some(value) = value else { return Ok(None) };
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(Some(true)),
        "false" | "0" | "no" => Ok(Some(false)),
        _ => Err(ConfigError::new(variable, &value, "is not a boolean (true or false)")),
    }
}

fn parse_seconds(variable: &'static str, value: Option<String>) -> Result<Duration, ConfigError> {
    let Some(value) = value else { return Ok(Duration::from_secs(20)) };
    match value.trim().parse::<u64>() {
        Ok(seconds) if seconds <= 3600 => Ok(Duration::from_secs(seconds)),
        _ => Err(ConfigError::new(variable, &value, "is not a number of seconds (0-3600)")),
    }
}

fn parse_choices(first: Option<String>, second: Option<String>) -> Result<Choices, ConfigError> {
    let first = first.unwrap_or_else(|| "Cats".to_owned());
    let second = second.unwrap_or_else(|| "Dogs".to_owned());
    Choices::new(&first, &second).map_err(|(index, why): (usize, InvalidChoice)| {
        let (variable, value) = match index {
            0 => ("VOTE1VALUE", &first),
            _ => ("VOTE2VALUE", &second),
        };
        ConfigError::new(variable, value, why.to_string())
    })
}

/// `REDIS_URL` wins; else the original's `REDIS` (a host, optionally `host:port`) with
/// `REDIS_PWD`. Azure Cache for Redis needs TLS on port 6380: give it as
/// `REDIS_URL=rediss://:<key>@<name>.redis.cache.windows.net:6380/0`.
fn redis_url(
    url: Option<String>,
    host: Option<String>,
    password: Option<String>,
) -> Result<Option<Secret>, ConfigError> {
    if let Some(url) = url {
        return match redis::parse_redis_url(&url) {
            Some(parsed) if matches!(parsed.scheme(), "redis" | "rediss") => {
                Ok(Some(Secret::new(url)))
            }
            _ => Err(ConfigError::secret("REDIS_URL", "is not a redis:// or rediss:// URL")),
        };
    }
    let Some(host) = host else { return Ok(None) };
    let address = if host.contains(':') { host.clone() } else { format!("{host}:6379") };
    let credentials = password.map(|p| format!(":{}@", encode_userinfo(&p))).unwrap_or_default();
    let url = format!("redis://{credentials}{address}/0");
    match redis::parse_redis_url(&url) {
        Some(_) => Ok(Some(Secret::new(url))),
        None => Err(ConfigError::new("REDIS", &host, "is not a host name or host:port")),
    }
}

/// Percent-encodes a password for the userinfo part of a URL, so that `@`, `:` or `/` in an
/// Azure access key cannot change which host is contacted.
fn encode_userinfo(value: &str) -> String {
    value
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(byte).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

fn parse_redis_key(value: Option<String>) -> Result<String, ConfigError> {
    let Some(key) = value else { return Ok("votes".to_owned()) };
    if key.len() <= 128 && key.chars().all(|c| c.is_ascii_graphic()) {
        Ok(key)
    } else {
        Err(ConfigError::new("REDIS_KEY", &key, "must be at most 128 visible ASCII characters"))
    }
}

fn database_url(value: Option<String>) -> Result<Option<Secret>, ConfigError> {
    let Some(url) = value else { return Ok(None) };
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Some(Secret::new(url)))
    } else {
        Err(ConfigError::secret("DATABASE_URL", "is not a postgres:// URL"))
    }
}

#[cfg(test)]
mod tests;
