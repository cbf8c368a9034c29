//! The containers of one scenario: Redis, PostgreSQL, vote-app instances and optionally the router.
//!
//! Every stack gets its own Docker network and container names derived from a random run id, so
//! stacks of tests running in parallel never see each other, and no port is fixed: the test
//! reaches a service through the host port Docker mapped to it. Dropping the [`Stack`] removes
//! its containers and, with the last one, the network.

use std::time::{SystemTime, UNIX_EPOCH};

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde::Deserialize;
use testcontainers::core::{IntoContainerPort, WaitFor};
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, ContainerRequest, GenericImage, Image, ImageExt};

use crate::api::Api;
use crate::poll::{self, DEADLINE};

/// The port every service listens on inside its container.
const SERVICE_PORT: u16 = 8080;

/// A vote-app container and how to reach it.
pub(crate) struct Instance {
    /// `INSTANCE_NAME`, as the ledger records it.
    pub(crate) name: String,
    /// Client for the mapped port on the host.
    pub(crate) api: Api,
    pub(crate) container: ContainerAsync<GenericImage>,
}

/// The router container and how to reach it.
pub(crate) struct Router {
    pub(crate) api: Api,
    pub(crate) container: ContainerAsync<GenericImage>,
}

/// Every container of a scenario. Fields drop in order: the router, the instances, then the
/// back ends they use.
pub(crate) struct Stack {
    pub(crate) router: Option<Router>,
    pub(crate) instances: Vec<Instance>,
    pub(crate) redis: ContainerAsync<GenericImage>,
    pub(crate) postgres: ContainerAsync<GenericImage>,
    /// `ADMIN_TOKEN` of every instance.
    pub(crate) admin_token: String,
}

impl Stack {
    /// The only (or first) vote-app instance.
    pub(crate) fn app(&self) -> &Instance {
        &self.instances[0]
    }

    /// The router; fails the test if this stack has none.
    pub(crate) fn router(&self) -> &Router {
        self.router.as_ref().expect("this stack was spawned with a router")
    }
}

/// One vote-app in front of Redis (password on) and PostgreSQL, ready to serve.
pub(crate) async fn spawn_stack() -> Stack {
    spawn(&["app"], false).await
}

/// Two vote-apps, `even` and `odd`, sharing Redis and PostgreSQL, behind the router.
pub(crate) async fn spawn_routed_stack() -> Stack {
    spawn(&["even", "odd"], true).await
}

/// Redis and PostgreSQL on a network of their own, for scenarios that start the services with
/// an environment of their own (the Terraform app settings, in `terraform::containers`).
pub(crate) struct BackEnds {
    /// The network, and the prefix of every container name on it.
    pub(crate) run: String,
    /// `REDIS_URL` as a container on the network reaches Redis.
    pub(crate) redis_url: String,
    /// `DATABASE_URL` as a container on the network reaches PostgreSQL.
    pub(crate) database_url: String,
    /// Held only so that dropping the back ends removes the containers.
    _redis: ContainerAsync<GenericImage>,
    _postgres: ContainerAsync<GenericImage>,
}

pub(crate) async fn spawn_back_ends() -> BackEnds {
    install_crypto_provider();
    let run = format!("vote-it-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let secrets = Secrets::generate();
    let (redis, postgres) = tokio::join!(
        start(redis(&run, &secrets), "Redis"),
        start(postgres(&run, &secrets), "PostgreSQL")
    );
    let redis_url = format!("redis://:{}@{run}-redis:6379/0", secrets.redis_password);
    let database_url =
        format!("postgres://vote:{}@{run}-postgres:5432/vote", secrets.postgres_password);
    BackEnds { run, redis_url, database_url, _redis: redis, _postgres: postgres }
}

/// PostgreSQL alone on the network `run` (as `{run}-postgres`), and the URL the vote-app reaches
/// it by.
pub(crate) async fn spawn_postgres(run: &str) -> (ContainerAsync<GenericImage>, String) {
    let secrets = Secrets::generate();
    let container = start(postgres(run, &secrets), "PostgreSQL").await;
    (container, format!("postgres://vote:{}@{run}-postgres:5432/vote", secrets.postgres_password))
}

/// Starts the image named by `image_var` (else `default_image`) as `{run}-{name}` with exactly
/// `env`, and a client for `port` mapped on the host. Nothing is waited for.
pub(crate) async fn start_with_env(
    run: &str,
    (image_var, default_image): (&str, &str),
    name: &str,
    env: &std::collections::BTreeMap<String, String>,
    port: u16,
) -> (ContainerAsync<GenericImage>, Api) {
    let mut request = image_from_env(image_var, default_image)
        .with_exposed_port(port.tcp())
        .with_network(run)
        .with_container_name(format!("{run}-{name}"));
    for (variable, value) in env {
        request = request.with_env_var(variable, value);
    }
    let container = start(request, name).await;
    let host_port = container
        .get_host_port_ipv4(port.tcp())
        .await
        .expect("Docker mapped the service port to a host port");
    (container, Api::new(&format!("http://127.0.0.1:{host_port}")))
}

async fn spawn(instance_names: &[&str], with_router: bool) -> Stack {
    install_crypto_provider();
    let run = format!("vote-it-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let secrets = Secrets::generate();
    let (redis, postgres) = tokio::join!(
        start(redis(&run, &secrets), "Redis"),
        start(postgres(&run, &secrets), "PostgreSQL")
    );
    let instances =
        join_all(instance_names.iter().map(|name| start_instance(&run, name, &secrets))).await;
    let router = if with_router { Some(start_router(&run).await) } else { None };
    Stack { router, instances, redis, postgres, admin_token: secrets.admin_token }
}

/// Random credentials, so no secret is written down anywhere in the repository.
struct Secrets {
    redis_password: String,
    postgres_password: String,
    admin_token: String,
}

impl Secrets {
    fn generate() -> Self {
        let random = || uuid::Uuid::new_v4().simple().to_string();
        Self { redis_password: random(), postgres_password: random(), admin_token: random() }
    }
}

/// Redis with a password and no persistence: a restart loses every counter, which is what the
/// ledger-restore scenarios need.
fn redis(run: &str, secrets: &Secrets) -> ContainerRequest<GenericImage> {
    image_from_env("VOTE_IT_REDIS_IMAGE", "redis:7")
        .with_wait_for(WaitFor::message_on_stdout("Ready to accept connections"))
        .with_network(run)
        .with_container_name(format!("{run}-redis"))
        .with_cmd([
            "redis-server",
            "--requirepass",
            &secrets.redis_password,
            "--save",
            "",
            "--appendonly",
            "no",
        ])
}

/// PostgreSQL with fsync off: the tests check what is committed, not what survives a power cut.
fn postgres(run: &str, secrets: &Secrets) -> ContainerRequest<GenericImage> {
    image_from_env("VOTE_IT_POSTGRES_IMAGE", "postgres:15")
        // Logged on stderr by the final server only (the official image's init server logs to
        // stdout), so this waits for the server the app will talk to.
        .with_wait_for(WaitFor::message_on_stderr("database system is ready to accept connections"))
        .with_network(run)
        .with_container_name(format!("{run}-postgres"))
        .with_env_var("POSTGRES_USER", "vote")
        .with_env_var("POSTGRES_PASSWORD", &secrets.postgres_password)
        .with_env_var("POSTGRES_DB", "vote")
        .with_cmd(["postgres", "-c", "fsync=off"])
}

async fn start_instance(run: &str, name: &str, secrets: &Secrets) -> Instance {
    let request = image_from_env("VOTE_IT_APP_IMAGE", "vote-app:test")
        .with_exposed_port(SERVICE_PORT.tcp())
        .with_network(run)
        .with_container_name(format!("{run}-{name}"))
        .with_env_var("INSTANCE_NAME", name)
        .with_env_var("PORT", SERVICE_PORT.to_string())
        .with_env_var(
            "REDIS_URL",
            format!("redis://:{}@{run}-redis:6379/0", secrets.redis_password),
        )
        .with_env_var(
            "DATABASE_URL",
            format!("postgres://vote:{}@{run}-postgres:5432/vote", secrets.postgres_password),
        )
        .with_env_var("ADMIN_TOKEN", &secrets.admin_token)
        .with_env_var("LOG_FORMAT", "json");
    let container = start(request, "vote-app").await;
    let api = Api::new(&format!("http://127.0.0.1:{}", mapped_port(&container).await));
    let instance = Instance { name: name.to_owned(), api, container };
    wait_until_ready(&instance).await;
    instance
}

async fn start_router(run: &str) -> Router {
    let request = image_from_env("VOTE_IT_ROUTER_IMAGE", "router:test")
        .with_exposed_port(SERVICE_PORT.tcp())
        .with_network(run)
        .with_container_name(format!("{run}-router"))
        .with_env_var("PORT", SERVICE_PORT.to_string())
        .with_env_var("ROUTER_UPSTREAM_EVEN", format!("http://{run}-even:{SERVICE_PORT}"))
        .with_env_var("ROUTER_UPSTREAM_ODD", format!("http://{run}-odd:{SERVICE_PORT}"))
        // Probe often, so a stopped or restarted instance is noticed within a second.
        .with_env_var("ROUTER_HEALTH_INTERVAL_MS", "500")
        .with_env_var("LOG_FORMAT", "json");
    let container = start(request, "router").await;
    let api = Api::new(&format!("http://127.0.0.1:{}", mapped_port(&container).await));
    let router = Router { api, container };
    wait_until_both_upstreams_are_healthy(&router).await;
    router
}

/// `/router/status`, the part the tests read.
#[derive(Debug, Deserialize)]
pub(crate) struct RouterStatus {
    pub(crate) upstreams: Upstreams,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Upstreams {
    pub(crate) even: UpstreamStatus,
    pub(crate) odd: UpstreamStatus,
}

#[derive(Debug, Deserialize)]
pub(crate) struct UpstreamStatus {
    pub(crate) healthy: bool,
}

impl Router {
    /// The router's view of its upstreams.
    pub(crate) async fn status(&self) -> Result<RouterStatus, String> {
        let answer = self.api.get("/router/status").await.map_err(|error| error.to_string())?;
        serde_json::from_str(&answer.body).map_err(|error| format!("{error}: {answer:?}"))
    }
}

async fn wait_until_both_upstreams_are_healthy(router: &Router) {
    let result = poll::try_until("the router to see both upstreams healthy", DEADLINE, || async {
        let status = router.status().await?;
        match (status.upstreams.even.healthy, status.upstreams.odd.healthy) {
            (true, true) => Ok(()),
            _ => Err(format!("{status:?}")),
        }
    })
    .await;
    if let Err(failure) = result {
        panic!("{failure}\n{}", logs(&router.container).await);
    }
}

/// Polls `/ready` until 200; on timeout the failure message carries the container's logs, which
/// say why (a bad variable, an unreachable back end).
pub(crate) async fn wait_until_ready(instance: &Instance) {
    let result = poll::try_until("/ready to answer 200", DEADLINE, || async {
        let answer = instance.api.get("/ready").await.map_err(|error| error.to_string())?;
        match answer.status {
            StatusCode::OK => Ok(()),
            // The body names the failing check (redis, postgres).
            other => Err(format!("status {other}: {}", answer.body)),
        }
    })
    .await;
    if let Err(failure) = result {
        panic!(
            "instance {} never became ready: {failure}\n{}",
            instance.name,
            logs(&instance.container).await
        );
    }
}

/// The first and the last lines the container wrote, for failure messages: how it started, and
/// what it did last (a failing check polled for a minute would push the start out of a tail).
pub(crate) async fn logs(container: &ContainerAsync<GenericImage>) -> String {
    let stdout = container.stdout_to_vec().await.unwrap_or_default();
    let stderr = container.stderr_to_vec().await.unwrap_or_default();
    let text = format!("{}{}", String::from_utf8_lossy(&stdout), String::from_utf8_lossy(&stderr));
    let lines: Vec<&str> = text.lines().collect();
    let head = &lines[..lines.len().min(15)];
    let tail = &lines[lines.len().saturating_sub(25).max(head.len())..];
    format!(
        "--- first log lines of {} ---\n{}\n--- last log lines ---\n{}",
        container.id(),
        head.join("\n"),
        tail.join("\n")
    )
}

/// Starts a container, failing the test with a message that says what is needed when Docker or
/// the image is missing: these tests are never skipped.
async fn start(
    request: ContainerRequest<GenericImage>,
    what: &str,
) -> ContainerAsync<GenericImage> {
    let image = format!("{}:{}", request.image().name(), request.image().tag());
    request.start().await.unwrap_or_else(|error| {
        panic!(
            "could not start {what} from image {image}: {error}\n\
             These tests need a reachable Docker engine and the images in the local store: run \
             `eval \"$(ci/build-images.sh)\"` first (see docs/containers.md)."
        )
    })
}

async fn mapped_port(container: &ContainerAsync<GenericImage>) -> u16 {
    container
        .get_host_port_ipv4(SERVICE_PORT.tcp())
        .await
        .expect("Docker mapped the service port to a host port")
}

/// `name:tag` from `var`, else `default`. The tag is what follows the last `:` after the last
/// `/`, so a registry port (`host:5000/redis:7`) stays part of the name.
pub(crate) fn image_from_env(var: &str, default: &str) -> GenericImage {
    let reference = std::env::var(var).unwrap_or_else(|_| default.to_owned());
    let slash = reference.rfind('/').map_or(0, |index| index + 1);
    let (name, tag) = match reference[slash..].rfind(':') {
        Some(colon) => (&reference[..slash + colon], &reference[slash + colon + 1..]),
        None => (reference.as_str(), "latest"),
    };
    GenericImage::new(name, tag)
}

/// Two rustls crypto providers are compiled into this binary (ring through testcontainers'
/// Docker client, aws-lc-rs through reqwest): choose one before any TLS use.
fn install_crypto_provider() {
    // Err means a provider is already installed, by an earlier stack of this process.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// The UTC minute since the Unix epoch, as the router computes it.
pub(crate) fn unix_minute() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("the clock is after 1970").as_secs() / 60
}

/// `even` or `odd`, the router's name for the upstream of `minute`.
pub(crate) fn parity_of(minute: u64) -> &'static str {
    if minute.is_multiple_of(2) { "even" } else { "odd" }
}
