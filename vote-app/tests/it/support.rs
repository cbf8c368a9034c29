//! The harness: build an app from a config map, serve it on a free port, wait until ready, and
//! reach the real Redis and PostgreSQL the test run provides.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use vote_app::config::Config;
use vote_app::{AppState, app, server, startup};

/// Builds the state from settings given as pairs, as if read from the environment.
pub(crate) fn state(vars: &[(&str, &str)]) -> AppState {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let vars: HashMap<String, String> =
        vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    let config = Config::from_lookup(|name| vars.get(name).cloned()).expect("test config is valid");
    startup::build_state(&config).expect("state builds")
}

/// A running app on 127.0.0.1 and a client that does not follow redirects (tests look at 303s).
pub(crate) struct TestApp {
    pub(crate) address: String,
    pub(crate) client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

impl TestApp {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Polls `/ready` until it answers 200, failing after `timeout`.
    pub(crate) async fn wait_until_ready(&self, timeout: Duration) {
        let ready = poll_until(timeout, || async {
            let response = self.client.get(self.url("/ready")).send().await;
            response.is_ok_and(|response| response.status() == 200)
        });
        assert!(ready.await, "{} did not become ready within {timeout:?}", self.address);
    }

    /// Polls `/ready` until it answers 503.
    pub(crate) async fn wait_until_not_ready(&self, timeout: Duration) {
        let not_ready = poll_until(timeout, || async {
            let response = self.client.get(self.url("/ready")).send().await;
            response.is_ok_and(|response| response.status() == 503)
        });
        assert!(not_ready.await, "{} still ready after {timeout:?}", self.address);
    }

    pub(crate) async fn votes(&self) -> serde_json::Value {
        let response = self.client.get(self.url("/api/votes")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    pub(crate) async fn vote(&self, choice: &str) -> reqwest::StatusCode {
        let form = [("vote", choice)];
        self.client.post(self.url("/")).form(&form).send().await.unwrap().status()
    }
}

/// Serves an app built from `vars` on a free port.
pub(crate) async fn spawn_app(vars: &[(&str, &str)]) -> TestApp {
    let state = state(vars);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let (shutdown, stopped) = oneshot::channel::<()>();
    let signal = async move {
        let _ = stopped.await;
    };
    tokio::spawn(server::serve(listener, app(state), signal, Duration::from_secs(5)));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    TestApp { address, client, shutdown: Some(shutdown) }
}

/// Calls `check` every 50 ms until it returns true or `timeout` passes.
pub(crate) async fn poll_until<F, Fut>(timeout: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// The test run's Redis, e.g. `redis://:password@127.0.0.1:6390/0`.
pub(crate) fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").expect(
        "TEST_REDIS_URL is not set: run the tests with ci/test.sh, which starts Redis and PostgreSQL",
    )
}

/// A Redis key no other test uses, so tests run in parallel on one server.
pub(crate) fn unique_key() -> String {
    format!("test:{}", uuid::Uuid::new_v4().simple())
}

/// A direct connection to the test run's Redis, to look behind the app's back.
pub(crate) async fn redis_connection() -> redis::aio::MultiplexedConnection {
    let client = redis::Client::open(redis_url()).unwrap();
    client.get_multiplexed_async_connection().await.unwrap()
}

/// A fresh, empty database on the test run's PostgreSQL; returns its URL.
pub(crate) async fn fresh_database() -> String {
    let admin_url = std::env::var("TEST_DATABASE_URL").expect(
        "TEST_DATABASE_URL is not set: run the tests with ci/test.sh, which starts Redis and PostgreSQL",
    );
    let name = format!("test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&admin_url).await.unwrap();
    let create = format!("CREATE DATABASE {name}");
    sqlx::query(sqlx::AssertSqlSafe(create)).execute(&mut admin).await.unwrap();
    let (server, _) = admin_url.rsplit_once('/').expect("TEST_DATABASE_URL ends with /<database>");
    format!("{server}/{name}")
}

/// A port nothing listens on right now (bound, then released).
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A `redis-server` of the test's own, so the test can stop and restart it.
pub(crate) struct OwnRedis {
    pub(crate) port: u16,
    process: std::process::Child,
}

impl OwnRedis {
    /// Starts `redis-server` on `port`, with `password` required when given.
    pub(crate) fn start(port: u16, password: Option<&str>) -> Self {
        let port_text = port.to_string();
        let mut args =
            vec!["--port", &port_text, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
        if let Some(password) = password {
            args.extend(["--requirepass", password]);
        }
        let process = std::process::Command::new("redis-server")
            .args(args)
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server must be installed (ci/test.sh installs it)");
        Self { port, process }
    }

    pub(crate) fn stop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Ledger rows per choice: (Cats, Dogs).
pub(crate) async fn ledger_counts(database: &str) -> (u64, u64) {
    let mut db = <sqlx::PgConnection as sqlx::Connection>::connect(database).await.unwrap();
    let count = "SELECT count(*) FILTER (WHERE choice = 'Cats'), count(*) FILTER (WHERE choice = 'Dogs') FROM votes";
    let (cats, dogs): (i64, i64) = sqlx::query_as(count).fetch_one(&mut db).await.unwrap();
    (cats.try_into().unwrap(), dogs.try_into().unwrap())
}

/// The counters as the app shows them: (Cats, Dogs).
pub(crate) async fn counted(app: &TestApp) -> (u64, u64) {
    let votes = app.votes().await;
    let of = |index: usize| votes["choices"][index]["votes"].as_u64().unwrap();
    (of(0), of(1))
}

/// Voters casting votes back to back until stopped; voter `n` votes Dogs when `n % 4 == 0`,
/// Cats otherwise.
pub(crate) struct Voters {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<Vec<(&'static str, u16)>>>,
}

impl Voters {
    pub(crate) fn start(app: &std::sync::Arc<TestApp>, count: usize) -> Self {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let tasks = (0..count)
            .map(|voter| {
                let (app, stop) = (app.clone(), stop.clone());
                tokio::spawn(async move {
                    let choice = if voter % 4 == 0 { "Dogs" } else { "Cats" };
                    let mut statuses = Vec::new();
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        statuses.push((choice, app.vote(choice).await.as_u16()));
                    }
                    statuses
                })
            })
            .collect();
        Self { stop, tasks }
    }

    /// Stops them; every vote's choice and status, each voter's in order.
    pub(crate) async fn stop(self) -> Vec<(&'static str, u16)> {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let statuses = futures_util::future::join_all(self.tasks).await;
        statuses.into_iter().flat_map(|voter| voter.expect("a voter does not panic")).collect()
    }
}
