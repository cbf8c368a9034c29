//! Live results (`GET /live`) over real HTTP: a page's stream shows every vote, cast on its
//! instance or on another sharing the same Redis; the number of streams is bounded; a shutdown
//! ends them so the drain does not wait.

use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use vote_app::{app, server};

use crate::support::{redis_url, spawn_app, state, unique_key};

/// How long a vote may take to show on a stream: the issue asks for "within a second"; the
/// margin is for a loaded CI machine.
const LIVE_WITHIN: Duration = Duration::from_secs(3);

/// A `GET /live` response, read event by event.
struct Stream {
    response: reqwest::Response,
    buffer: String,
}

impl Stream {
    async fn open(client: &reqwest::Client, url: String, language: &str) -> Self {
        let response = client.get(url).header("accept-language", language).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Self { response, buffer: String::new() }
    }

    /// The next `tally` event's data, failing after `timeout`.
    async fn next_tally(&mut self, timeout: Duration) -> Value {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let event: String = self.buffer.drain(..end + 2).collect();
                if let Some(data) = event.strip_prefix("event: tally\ndata: ") {
                    return serde_json::from_str(data.trim_end()).unwrap();
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk());
            let chunk = chunk.await.expect("no tally event in time").unwrap();
            self.buffer.push_str(std::str::from_utf8(&chunk.expect("the stream ended")).unwrap());
        }
    }

    /// Whether the stream ends within `timeout`.
    async fn ends_within(&mut self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, self.response.chunk()).await {
                Err(_) => return false,
                Ok(Ok(Some(_))) => continue,
                Ok(_) => return true,
            }
        }
    }
}

fn votes_for(tally: &Value, choice: &str) -> u64 {
    let choices = tally["choices"].as_array().unwrap();
    let line = choices.iter().find(|line| line["name"] == choice).unwrap();
    line["votes"].as_u64().unwrap()
}

#[tokio::test]
async fn a_stream_sends_the_counts_at_once_then_each_vote_formatted_in_the_page_language() {
    let app = spawn_app(&[]).await;
    let mut english = Stream::open(&app.client, app.url("/live"), "en").await;
    let mut french = Stream::open(&app.client, app.url("/live"), "fr-FR,fr").await;
    assert_eq!(english.next_tally(LIVE_WITHIN).await["total"], 0);
    assert_eq!(french.next_tally(LIVE_WITHIN).await["total_text"], "0 vote au total.");

    for _ in 0..1234 {
        app.vote("Cats").await;
    }
    let mut english_tally = english.next_tally(LIVE_WITHIN).await;
    while english_tally["total"] != 1234 {
        english_tally = english.next_tally(LIVE_WITHIN).await;
    }
    assert_eq!(english_tally["total_text"], "1,234 votes in all.");
    assert_eq!(english_tally["choices"][0]["count_text"], "1,234 (100%)");
    let mut french_tally = french.next_tally(LIVE_WITHIN).await;
    while french_tally["total"] != 1234 {
        french_tally = french.next_tally(LIVE_WITHIN).await;
    }
    assert_eq!(french_tally["choices"][0]["count_text"], "1\u{202f}234 (100\u{202f}%)");
    assert_eq!(french_tally["choices"][1]["percent_text"], "0\u{202f}%");
}

#[tokio::test]
async fn a_vote_on_another_instance_reaches_this_instances_streams_through_redis() {
    let (url, key) = (redis_url(), unique_key());
    let settings =
        |name| [("REDIS_URL", url.as_str()), ("REDIS_KEY", key.as_str()), ("INSTANCE_NAME", name)];
    let even = spawn_app(&settings("even")).await;
    let odd = spawn_app(&settings("odd")).await;
    even.wait_until_ready(Duration::from_secs(10)).await;
    odd.wait_until_ready(Duration::from_secs(10)).await;
    // A first vote creates the counters, a change announced by the rebuild that seeds them: the
    // vote this test times is then announced by the script that adds it, as most votes are.
    assert_eq!(odd.vote("Dogs").await, 303);
    let mut watching_even = Stream::open(&even.client, even.url("/live"), "en").await;
    let mut tally = watching_even.next_tally(LIVE_WITHIN).await;
    while votes_for(&tally, "Dogs") < 1 {
        tally = watching_even.next_tally(LIVE_WITHIN).await;
    }

    assert_eq!(odd.vote("Dogs").await, 303);
    while votes_for(&tally, "Dogs") < 2 {
        tally = watching_even.next_tally(LIVE_WITHIN).await;
    }
    assert_eq!(votes_for(&tally, "Dogs"), 2);
}

#[tokio::test]
async fn streams_beyond_live_streams_get_503_and_a_closed_one_frees_its_place() {
    let app = spawn_app(&[("LIVE_STREAMS", "2")]).await;
    let first = Stream::open(&app.client, app.url("/live"), "en").await;
    let _second = Stream::open(&app.client, app.url("/live"), "en").await;
    let refused = app.client.get(app.url("/live")).send().await.unwrap();
    assert_eq!(refused.status(), 503);
    assert_eq!(refused.headers()["retry-after"], "30");

    drop(first);
    let reopened = crate::support::poll_until(Duration::from_secs(5), || async {
        let response = app.client.get(app.url("/live")).send().await.unwrap();
        response.status() == 200
    });
    assert!(reopened.await, "a closed stream's place was not freed");
}

#[tokio::test]
async fn with_live_streams_zero_the_page_loads_no_script_and_live_answers_503() {
    let app = spawn_app(&[("LIVE_STREAMS", "0")]).await;
    let page = app.client.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(r#"<li data-choice="Cats">"#), "{page}");
    assert!(!page.contains("live.js"), "{page}");
    let live = app.client.get(app.url("/live")).send().await.unwrap();
    assert_eq!(live.status(), 503);
}

#[tokio::test]
async fn a_shutdown_ends_open_streams_so_the_server_stops_without_waiting_for_its_drain_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/live", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    let signal = async move {
        let _ = stopped.await;
    };
    let drain_timeout = Duration::from_secs(20);
    let server = tokio::spawn(server::serve(listener, app(state(&[])), signal, drain_timeout));
    let client = reqwest::Client::new();
    let mut stream = Stream::open(&client, url, "en").await;
    stream.next_tally(LIVE_WITHIN).await;

    let signalled = Instant::now();
    stop.send(()).unwrap();
    assert!(stream.ends_within(Duration::from_secs(1)).await, "the stream outlived the signal");
    server.await.unwrap().unwrap();
    let took = signalled.elapsed();
    assert!(took < Duration::from_secs(5), "the server took {took:?} to stop");
}
