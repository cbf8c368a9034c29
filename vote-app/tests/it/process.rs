//! The real binary, as an operator starts and stops it.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::{free_port, poll_until, spawn_app};

const BINARY: &str = env!("CARGO_BIN_EXE_vote-app");

#[test]
fn a_bad_setting_stops_startup_with_a_message_naming_the_variable() {
    let vault = ("KEY_VAULT_URL", "https://kv.vault.azure.net/");
    let cases: &[&[(&str, &str)]] = &[
        &[("REDIS_PWD", "pw"), ("PORT", "eighty")],
        &[("LOG_FORMAT", "xml")],
        // Both used to fall back silently to their defaults.
        &[vault, ("KEY_VAULT_MAX_ATTEMPTS", "abc")],
        &[vault, ("KEY_VAULT_VERIFY_CHALLENGE_RESOURCE", "flase")],
        &[vault, ("AZURE_CREDENTIAL", "password")],
    ];
    for vars in cases {
        let output = Command::new(BINARY).envs(vars.iter().copied()).output().unwrap();
        assert!(!output.status.success(), "{vars:?}");
        let log = String::from_utf8_lossy(&output.stdout) + String::from_utf8_lossy(&output.stderr);
        let (variable, value) = vars.last().unwrap();
        assert!(log.contains(&format!("{variable}={value:?}")), "{vars:?}: {log}");
    }
}

/// `vote-app healthcheck [PATH]` with `PORT=port`, as the image's HEALTHCHECK runs it; on a
/// blocking thread, so that the test's runtime goes on serving the app it asks.
async fn healthcheck(port: u16, path: Option<&'static str>) -> std::process::Output {
    let run = move || {
        let mut command = Command::new(BINARY);
        command.arg("healthcheck").args(path).env("PORT", port.to_string()).output().unwrap()
    };
    tokio::task::spawn_blocking(run).await.unwrap()
}

#[tokio::test]
async fn healthcheck_exits_zero_while_the_server_answers_and_one_naming_the_status_otherwise() {
    let app = spawn_app(&[]).await;
    let port = app.address.rsplit_once(':').and_then(|(_, port)| port.parse().ok()).unwrap();
    for path in [None, Some("/ready")] {
        let output = healthcheck(port, path).await;
        assert!(output.status.success(), "{path:?}: {output:?}");
        assert!(output.stdout.is_empty() && output.stderr.is_empty(), "{output:?}");
    }
    let output = healthcheck(port, Some("/nowhere")).await;
    assert_eq!(output.status.code(), Some(1));
    let reason = String::from_utf8(output.stderr).unwrap();
    assert_eq!(reason, "healthcheck failed: GET /nowhere answered 404\n");
}

#[tokio::test]
async fn healthcheck_exits_one_with_a_one_line_reason_when_nothing_listens() {
    let port = free_port();
    let output = healthcheck(port, None).await;
    assert_eq!(output.status.code(), Some(1));
    let reason = String::from_utf8(output.stderr).unwrap();
    let expected = format!("healthcheck failed: cannot connect to 127.0.0.1:{port}: ");
    assert!(reason.starts_with(&expected) && reason.lines().count() == 1, "{reason}");

    let output = Command::new(BINARY).arg("healthcheck").env("PORT", "eighty").output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains(r#"PORT="eighty""#), "{output:?}");
}

#[tokio::test]
async fn sigterm_stops_the_server_cleanly_with_exit_code_zero() {
    let port = free_port();
    let mut child = Command::new(BINARY)
        .env("PORT", port.to_string())
        .env("LOG_FORMAT", "json")
        .env("ADMIN_TOKEN", "never-logged-token")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let health = format!("http://127.0.0.1:{port}/health");
    let up =
        poll_until(Duration::from_secs(20), || async { client.get(&health).send().await.is_ok() });
    assert!(up.await, "the server did not start");
    client
        .post(format!("http://127.0.0.1:{port}/"))
        .form(&[("vote", "Cats")])
        .send()
        .await
        .unwrap();

    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let stopped = poll_until(Duration::from_secs(10), || {
        let exited = child.try_wait().unwrap().is_some();
        async move { exited }
    });
    assert!(stopped.await, "the server did not stop within 10 s of SIGTERM");
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "exit status {:?}", output.status);

    let log = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<serde_json::Value> =
        log.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    let requests: Vec<_> =
        lines.iter().filter(|line| line["message"] == "finished processing request").collect();
    assert!(
        requests.iter().any(|line| line["span"]["route"] == "/" && line["status"] == 303),
        "{log}"
    );
    assert!(
        requests
            .iter()
            .all(|line| line["span"]["request_id"].as_str().is_some_and(|id| id.len() == 36))
    );
    assert!(!log.contains("never-logged-token"));
}

#[tokio::test]
async fn shutdown_lets_an_in_flight_request_finish_before_the_server_stops() {
    use axum::routing::get;
    use tokio::sync::oneshot;

    let entered = std::sync::Arc::new(tokio::sync::Notify::new());
    let in_handler = entered.clone();
    let slow = get(move || {
        let in_handler = in_handler.clone();
        async move {
            in_handler.notify_one();
            tokio::time::sleep(Duration::from_millis(500)).await;
            "finished"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/slow", listener.local_addr().unwrap());
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let signal = async move {
        let _ = stop_rx.await;
    };
    let app = axum::Router::new().route("/slow", slow);
    let server =
        tokio::spawn(vote_app::server::serve(listener, app, signal, Duration::from_secs(5)));

    let request = tokio::spawn(async move { reqwest::get(url).await?.text().await });
    entered.notified().await;
    stop_tx.send(()).unwrap();
    assert_eq!(request.await.unwrap().unwrap(), "finished");
    server.await.unwrap().unwrap();
}

/// At the signal, new connections are refused (a client can safely try elsewhere), but a
/// keep-alive client's idle connection is not closed under it: its next request is answered,
/// with `Connection: close`, and only then does the server close it — so the client never
/// writes a vote on a connection the server is closing.
#[tokio::test]
async fn after_the_signal_keep_alive_connections_get_a_last_answer_before_they_close() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;
    use tokio::sync::oneshot;

    /// Writes one GET on `stream` and reads its answer (the body ends with "done").
    async fn exchange(stream: &mut TcpStream) -> String {
        stream.write_all(b"GET /fast HTTP/1.1\r\nhost: vote\r\n\r\n").await.unwrap();
        let mut answer = Vec::new();
        while !answer.ends_with(b"done") {
            let mut chunk = [0; 1024];
            let read = stream.read(&mut chunk).await.unwrap();
            assert!(read > 0, "closed before a complete answer: {answer:?}");
            answer.extend_from_slice(&chunk[..read]);
        }
        String::from_utf8(answer).unwrap().to_ascii_lowercase()
    }

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let signal = async move {
        let _ = stop_rx.await;
    };
    let app = axum::Router::new().route("/fast", axum::routing::get(|| async { "done" }));
    let server =
        tokio::spawn(vote_app::server::serve(listener, app, signal, Duration::from_secs(5)));

    let mut idle = TcpStream::connect(address).await.unwrap();
    assert!(!exchange(&mut idle).await.contains("connection: close"));
    stop_tx.send(()).unwrap();
    let refused =
        poll_until(Duration::from_secs(1), || async { TcpStream::connect(address).await.is_err() });
    assert!(refused.await, "new connections are refused after the signal");
    let last = exchange(&mut idle).await;
    assert!(last.starts_with("http/1.1 200") && last.contains("connection: close"), "{last}");
    assert_eq!(idle.read(&mut [0; 16]).await.unwrap(), 0, "the server closes it after answering");
    // Then the server stops, well within the drain timeout.
    tokio::time::timeout(Duration::from_secs(4), server).await.unwrap().unwrap().unwrap();
}
