//! No password in any output: the real binary at `RUST_LOG=debug`, given URLs with passwords
//! that fail for real (a wrong Redis password, an unreachable Redis, an unreachable PostgreSQL
//! and a wrong PostgreSQL password), driven until it logs the failures.

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::support::{free_port, poll_until, redis_url};

const BINARY: &str = env!("CARGO_BIN_EXE_vote-app");

/// The password every scenario gives; it must appear nowhere in the output.
const PASSWORD: &str = "Pa55word-never-printed";

/// `url` with its credentials replaced by `user` and [`PASSWORD`].
fn with_credentials(url: &str, user: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (_, host) = rest.rsplit_once('@').unwrap();
    format!("{scheme}://{user}:{PASSWORD}@{host}")
}

/// Runs the binary with `vars` at debug level, votes (through the failing back end) and asks for
/// readiness until `expected` was logged, then stops it and returns everything it printed.
async fn output_of(vars: &[(&str, String)], expected: &str) -> String {
    let port = free_port();
    let mut child = Command::new(BINARY)
        .env("PORT", port.to_string())
        .env("RUST_LOG", "debug")
        .envs(vars.iter().map(|(name, value)| (name, value)))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = Arc::new(Mutex::new(String::new()));
    let readers =
        [collect(child.stdout.take().unwrap(), &log), collect(child.stderr.take().unwrap(), &log)];
    let client =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let logged = poll_until(Duration::from_secs(30), || async {
        if let Ok(vote) = client.post(format!("{base}/")).form(&[("vote", "Cats")]).send().await {
            assert!(
                vote.status().is_server_error(),
                "{vars:?}: a vote succeeded: {}",
                vote.status()
            );
        }
        if let Ok(ready) = client.get(format!("{base}/ready")).send().await {
            assert_eq!(ready.status(), 503, "{vars:?}: the back end is broken, so not ready");
        }
        log.lock().unwrap().contains(expected)
    });
    let logged = logged.await;
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    child.wait().unwrap();
    for reader in readers {
        reader.join().unwrap();
    }
    let log = log.lock().unwrap().clone();
    assert!(logged, "the failure was not logged ({expected}):\n{log}");
    log
}

/// Appends everything `stream` prints to `log`, on a thread of its own.
fn collect(mut stream: impl Read + Send + 'static, log: &Arc<Mutex<String>>) -> JoinHandle<()> {
    let log = log.clone();
    std::thread::spawn(move || {
        let mut buffer = [0; 8192];
        while let Ok(read @ 1..) = stream.read(&mut buffer) {
            log.lock().unwrap().push_str(&String::from_utf8_lossy(&buffer[..read]));
        }
    })
}

#[tokio::test]
async fn at_debug_level_no_password_of_a_failing_redis_or_postgresql_url_is_printed() {
    let dead = free_port();
    let database = std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL: use ci/test.sh");
    let scenarios = [
        (
            "a wrong Redis password",
            "REDIS_URL",
            with_credentials(&redis_url(), ""),
            "request failed",
        ),
        (
            "an unreachable Redis",
            "REDIS_URL",
            format!("redis://:{PASSWORD}@127.0.0.1:{dead}/0"),
            "request failed",
        ),
        (
            "an unreachable PostgreSQL",
            "DATABASE_URL",
            format!("postgres://vote:{PASSWORD}@127.0.0.1:{dead}/votes"),
            "ledger not ready yet",
        ),
        // The test run's PostgreSQL trusts local logins whatever the password, so the login is
        // refused by naming a role that does not exist.
        (
            "a PostgreSQL refusing the login",
            "DATABASE_URL",
            with_credentials(&database, "intruder"),
            "ledger not ready yet",
        ),
    ];
    for (scenario, variable, url, expected) in scenarios {
        let log = output_of(&[(variable, url)], expected).await;
        assert!(!log.contains(PASSWORD), "{scenario}: the password was printed:\n{log}");
    }
}
