//! `router healthcheck`, the real binary, as the image's HEALTHCHECK runs it.

use std::process::{Command, Output};

use crate::support::spawn_router;

const BINARY: &str = env!("CARGO_BIN_EXE_router");

/// `router healthcheck` with `PORT=port`, on a blocking thread, so that the test's runtime goes
/// on serving the router it asks.
async fn healthcheck(port: u16) -> Output {
    let run = move || {
        Command::new(BINARY).arg("healthcheck").env("PORT", port.to_string()).output().unwrap()
    };
    tokio::task::spawn_blocking(run).await.unwrap()
}

/// The router's own liveness: it answers even with both upstreams down (it serves them 502s),
/// so a restart would not help and the check passes.
#[tokio::test]
async fn healthcheck_exits_zero_while_the_router_answers_even_with_its_upstreams_down() {
    let nowhere = "http://127.0.0.1:9";
    let router = spawn_router(nowhere, nowhere, &[]).await;
    let output = healthcheck(router.addr.port()).await;
    assert!(output.status.success(), "{output:?}");
    assert!(output.stdout.is_empty() && output.stderr.is_empty(), "{output:?}");
}

#[tokio::test]
async fn healthcheck_exits_one_with_a_one_line_reason_when_nothing_listens() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let output = healthcheck(port).await;
    assert_eq!(output.status.code(), Some(1));
    let reason = String::from_utf8(output.stderr).unwrap();
    let expected = format!("healthcheck failed: cannot connect to 127.0.0.1:{port}: ");
    assert!(reason.starts_with(&expected) && reason.lines().count() == 1, "{reason}");
}
