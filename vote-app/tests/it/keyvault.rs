//! The real binary reading its secrets from Key Vault, as it does on App Service with a managed
//! identity: only `KEY_VAULT_URL` and the identity variables are given.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::{OwnRedis, free_port, poll_until};
use crate::vault_standin::{self, IDENTITY_HEADER, Standin, Vault};

const BINARY: &str = env!("CARGO_BIN_EXE_vote-app");
const REDIS_PASSWORD: &str = "redis-pw-from-the-vault-7f3a";
const ADMIN_TOKEN: &str = "admin-token-from-the-vault-91c2";

fn vault(accepted_token: &str) -> Vault {
    let secrets = HashMap::from([
        ("redis-password".to_owned(), REDIS_PASSWORD.to_owned()),
        ("admin-token".to_owned(), ADMIN_TOKEN.to_owned()),
    ]);
    Vault {
        secrets,
        issued_token: "token-from-identity".to_owned(),
        accepted_token: accepted_token.to_owned(),
    }
}

/// The binary as App Service would start it: identity variables, vault URL, the Redis host
/// without its password, and nothing else from this process's environment.
fn app_command(standin: &Standin, redis_port: u16, app_port: u16) -> Command {
    let mut command = Command::new(BINARY);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env(
            "SSL_CERT_FILE",
            std::env::var("SSL_CERT_FILE").expect("SSL_CERT_FILE: run the tests with ci/test.sh"),
        )
        .env("KEY_VAULT_URL", &standin.url)
        .env("KEY_VAULT_MAX_ATTEMPTS", "2")
        // The stand-in is `localhost`, not a subdomain of the domain its challenge names.
        .env("KEY_VAULT_VERIFY_CHALLENGE_RESOURCE", "false")
        .env("IDENTITY_ENDPOINT", standin.identity_endpoint())
        .env("IDENTITY_HEADER", IDENTITY_HEADER)
        .env("REDIS", format!("127.0.0.1:{redis_port}"))
        .env("PORT", app_port.to_string())
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Starts the binary; everything it prints is captured.
fn start_app(standin: &Standin, redis_port: u16, app_port: u16) -> Child {
    app_command(standin, redis_port, app_port).spawn().unwrap()
}

fn stop_and_collect_logs(app: Child) -> String {
    let _ = Command::new("kill").args(["-TERM", &app.id().to_string()]).status();
    let output = app.wait_with_output().unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_only_the_vault_url_and_a_managed_identity_the_app_votes_on_a_password_protected_redis()
 {
    let standin = vault_standin::start(vault("token-from-identity")).await;
    let redis = OwnRedis::start(free_port(), Some(REDIS_PASSWORD));
    let port = free_port();
    let app = start_app(&standin, redis.port, port);
    let base = format!("http://127.0.0.1:{port}");
    let client =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();

    let ready = poll_until(Duration::from_secs(30), || async {
        let response = client.get(format!("{base}/ready")).send().await;
        response.is_ok_and(|response| response.status() == 200)
    });
    assert!(ready.await, "the app never became ready: {}", stop_and_collect_logs(app));
    let vote = client.post(format!("{base}/")).form(&[("vote", "Cats")]).send().await.unwrap();
    assert_eq!(vote.status(), 303);
    let reset =
        client.post(format!("{base}/api/reset")).bearer_auth(ADMIN_TOKEN).send().await.unwrap();
    assert_eq!(reset.status(), 200, "the admin token came from the vault too");

    let mut exposed = String::new();
    for path in ["/version", "/health", "/ready", "/metrics", "/", "/api/votes"] {
        exposed += &client.get(format!("{base}{path}")).send().await.unwrap().text().await.unwrap();
    }
    let logs = stop_and_collect_logs(app);
    assert!(logs.contains("secret read from Key Vault"), "{logs}");
    for secret in [REDIS_PASSWORD, ADMIN_TOKEN, "token-from-identity"] {
        assert!(!logs.contains(secret), "a secret leaked into the logs:\n{logs}");
        assert!(!exposed.contains(secret), "a secret leaked into a response");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_redis_password_is_picked_up_by_a_rolling_restart_without_losing_a_vote() {
    let standin = vault_standin::start(vault("token-from-identity")).await;
    let redis = OwnRedis::start(free_port(), Some(REDIS_PASSWORD));
    let client =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let (old_port, new_port) = (free_port(), free_port());
    let old = start_app(&standin, redis.port, old_port);
    wait_ready(&client, old_port).await;
    for _ in 0..3 {
        let vote =
            client.post(format!("http://127.0.0.1:{old_port}/")).form(&[("vote", "Dogs")]).send();
        assert_eq!(vote.await.unwrap().status(), 303);
    }

    // Rotation: Redis takes the new password, the vault gets a new version of the secret.
    let rotated = "rotated-redis-pw-5d1e";
    let url = format!("redis://:{REDIS_PASSWORD}@127.0.0.1:{}/0", redis.port);
    let mut connection =
        redis::Client::open(url).unwrap().get_multiplexed_async_connection().await.unwrap();
    let mut config_set = redis::cmd("CONFIG");
    config_set.arg("SET").arg("requirepass").arg(rotated);
    config_set.query_async::<()>(&mut connection).await.unwrap();
    standin.set_secret("redis-password", rotated);

    // Rolling restart: the new instance comes up with the new secret, then the old one drains.
    let new = start_app(&standin, redis.port, new_port);
    wait_ready(&client, new_port).await;
    let old_logs = stop_and_collect_logs(old);
    assert!(!old_logs.contains("panicked"), "{old_logs}");
    let vote =
        client.post(format!("http://127.0.0.1:{new_port}/")).form(&[("vote", "Dogs")]).send();
    assert_eq!(vote.await.unwrap().status(), 303);
    let votes: serde_json::Value = client
        .get(format!("http://127.0.0.1:{new_port}/api/votes"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        votes["choices"][1]["votes"], 4,
        "every vote before and after the rotation is counted"
    );
    let new_logs = stop_and_collect_logs(new);
    assert!(!new_logs.contains(rotated), "{new_logs}");
}

async fn wait_ready(client: &reqwest::Client, port: u16) {
    let ready = poll_until(Duration::from_secs(30), || async {
        let response = client.get(format!("http://127.0.0.1:{port}/ready")).send().await;
        response.is_ok_and(|response| response.status() == 200)
    });
    assert!(ready.await, "the instance on port {port} never became ready");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_identity_stops_startup_naming_the_vault_and_secret_and_never_contacts_redis() {
    let redis = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    redis.set_nonblocking(true).unwrap();
    let redis_port = redis.local_addr().unwrap().port();
    // Control: with an identity the vault accepts, the same start-up dials this "Redis" as soon
    // as readiness is asked, so the last assertion below can fail.
    let accepting = vault_standin::start(vault("token-from-identity")).await;
    let control_port = free_port();
    let mut control = start_app(&accepting, redis_port, control_port);
    let client = reqwest::Client::new();
    let dialed = poll_until(Duration::from_secs(30), || async {
        let _ = client.get(format!("http://127.0.0.1:{control_port}/ready")).send().await;
        redis.accept().is_ok()
    });
    let dialed = dialed.await;
    control.kill().unwrap();
    control.wait().unwrap();
    assert!(dialed, "with its secrets read, the app dials Redis");
    while redis.accept().is_ok() {}

    let standin = vault_standin::start(vault("a-token-the-identity-never-gets")).await;
    let mut app = start_app(&standin, redis_port, free_port());

    let exited = poll_until(Duration::from_secs(30), || {
        let done = app.try_wait().unwrap().is_some();
        async move { done }
    });
    assert!(exited.await, "the app kept running with a refused identity");
    let status = app.try_wait().unwrap().unwrap();
    assert!(!status.success());
    let logs = stop_and_collect_logs(app);
    assert!(
        logs.contains(&standin.url) && logs.contains("redis-password") && logs.contains("403"),
        "{logs}"
    );
    assert!(
        standin.secret_requests() >= 2,
        "the challenge and the authorized retry reached the vault"
    );
    assert!(redis.accept().is_err(), "Redis was contacted although no password could be read");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_secret_stops_startup_naming_it() {
    let mut vault = vault("token-from-identity");
    vault.secrets.remove("admin-token");
    let standin = vault_standin::start(vault).await;
    let logs = run_to_exit(&standin, &[]).await;
    assert!(logs.contains(r#"secret \"admin-token\" does not exist in vault"#), "{logs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_default_a_vault_outside_the_domain_its_challenge_names_is_refused() {
    let standin = vault_standin::start(vault("token-from-identity")).await;
    let logs = run_to_exit(&standin, &[("KEY_VAULT_VERIFY_CHALLENGE_RESOURCE", "")]).await;
    assert!(logs.contains("doesn't match the requested domain"), "{logs}");
    assert_eq!(standin.secret_requests(), 1, "no token may be sent to a look-alike vault");
}

/// Runs the binary against the stand-in until it exits (it must fail); returns its log.
async fn run_to_exit(standin: &Standin, extra: &[(&str, &str)]) -> String {
    let mut command = app_command(standin, free_port(), free_port());
    command.envs(extra.iter().copied());
    let output = tokio::task::spawn_blocking(move || command.output()).await.unwrap().unwrap();
    assert!(!output.status.success(), "the app started without its secrets");
    String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr)
}
