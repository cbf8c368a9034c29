//! A small W3C WebDriver client for chromedriver: the dozen commands these tests use, over the
//! suite's own `reqwest` and `serde_json`.
//!
//! A crate (fantoccini, thirtyfour) would bring its own HTTP stack and a few dozen crates to
//! compile for what is here a handful of JSON requests. Each [`Session`] starts its own
//! `chromedriver` on a free port and owns it: dropping the session deletes it (Chromium quits)
//! and kills the driver, so a failing test leaves no browser behind.
//!
//! Beyond W3C WebDriver, two chromedriver extensions are used: the browser's console log
//! (`POST /session/{id}/se/log`, which needs `goog:loggingPrefs` in the capabilities) and Chrome
//! DevTools commands (`POST /session/{id}/goog/cdp/execute`), for media and device emulation.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use reqwest::{Client, Method};
use serde::Deserialize;
use serde_json::{Value, json};

use super::chromium::{Chromedriver, Profile};

/// The key under which W3C WebDriver names an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A WebDriver command that failed: which one, and the error chromedriver named.
#[derive(Debug)]
pub(crate) struct WebDriverError {
    /// `POST /element` and the like.
    pub(crate) command: String,
    /// The W3C error code (`no such element`), or `transport` when no answer came.
    pub(crate) error: String,
    pub(crate) message: String,
}

impl std::fmt::Display for WebDriverError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{}: {}: {}", self.command, self.error, self.message)
    }
}

impl std::error::Error for WebDriverError {}

/// One line of the browser's console or network log.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct LogEntry {
    /// `SEVERE` for errors (a failed request, a script error), `WARNING`, `INFO`…
    pub(crate) level: String,
    pub(crate) message: String,
    /// `console-api`, `network`, `javascript`, `security`…
    pub(crate) source: String,
}

/// One Chromium, driven through its own chromedriver. Deleted on drop.
#[derive(Debug)]
pub(crate) struct Session {
    http: Client,
    /// `/session/<id>`, the prefix of every command.
    path: String,
    /// Chromium's version, for messages.
    pub(crate) browser_version: String,
    // Dropped after `Session::drop` has deleted the session, which quits Chromium cleanly.
    driver: Chromedriver,
}

/// An element of the current page.
#[derive(Debug)]
pub(crate) struct Element<'session> {
    session: &'session Session,
    id: String,
}

impl Session {
    /// Starts chromedriver from `binary` and a Chromium set up as `profile`.
    pub(crate) async fn start(binary: &Path, profile: &Profile) -> Self {
        let http = Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("an HTTP client can be built");
        let driver = Chromedriver::start(binary, &http).await;
        let mut session =
            Self { http, path: String::new(), browser_version: String::new(), driver };
        let created = session
            .command(Method::POST, "", Some(profile.capabilities()))
            .await
            .unwrap_or_else(|error| panic!("chromedriver could not start Chromium: {error}"));
        let id = created["sessionId"].as_str().expect("a new session has an id");
        session.path = format!("/{id}");
        session.browser_version =
            created["capabilities"]["browserVersion"].as_str().unwrap_or("unknown").to_owned();
        session
    }

    /// Opens `url` and waits for the page to load.
    pub(crate) async fn goto(&self, url: &str) -> Result<(), WebDriverError> {
        self.command(Method::POST, "/url", Some(json!({ "url": url }))).await.map(drop)
    }

    /// The URL of the current page.
    pub(crate) async fn current_url(&self) -> Result<String, WebDriverError> {
        let url = self.command(Method::GET, "/url", None).await?;
        Ok(url.as_str().unwrap_or_default().to_owned())
    }

    /// Reloads the current page, as the browser's reload button does.
    pub(crate) async fn refresh(&self) -> Result<(), WebDriverError> {
        self.command(Method::POST, "/refresh", Some(json!({}))).await.map(drop)
    }

    /// The first element matching the CSS `selector`.
    pub(crate) async fn find(&self, selector: &str) -> Result<Element<'_>, WebDriverError> {
        let body = json!({ "using": "css selector", "value": selector });
        let found = self.command(Method::POST, "/element", Some(body)).await?;
        Ok(self.element(&found))
    }

    /// Runs `script` as the body of a function called with `args`, and returns what it returns.
    pub(crate) async fn execute(&self, script: &str, args: Value) -> Result<Value, WebDriverError> {
        let body = json!({ "script": script, "args": args });
        self.command(Method::POST, "/execute/sync", Some(body)).await
    }

    /// Runs `script` with a callback as its last argument, and returns what it passes to it.
    pub(crate) async fn execute_async(
        &self,
        script: &str,
        args: Value,
    ) -> Result<Value, WebDriverError> {
        let body = json!({ "script": script, "args": args });
        self.command(Method::POST, "/execute/async", Some(body)).await
    }

    /// A PNG of the viewport.
    pub(crate) async fn screenshot(&self) -> Result<Vec<u8>, WebDriverError> {
        let encoded = self.command(Method::GET, "/screenshot", None).await?;
        super::artifacts::decode_base64(encoded.as_str().unwrap_or_default()).map_err(|message| {
            WebDriverError {
                command: "GET /screenshot".to_owned(),
                error: "decoding".to_owned(),
                message,
            }
        })
    }

    /// The browser's console and network log since the last call (reading it empties it).
    pub(crate) async fn browser_log(&self) -> Result<Vec<LogEntry>, WebDriverError> {
        let entries =
            self.command(Method::POST, "/se/log", Some(json!({ "type": "browser" }))).await?;
        serde_json::from_value(entries).map_err(|error| WebDriverError {
            command: "POST /se/log".to_owned(),
            error: "decoding".to_owned(),
            message: error.to_string(),
        })
    }

    /// A Chrome DevTools Protocol command (`Emulation.setEmulatedMedia`…) and its result.
    pub(crate) async fn devtools(
        &self,
        command: &str,
        params: Value,
    ) -> Result<Value, WebDriverError> {
        let body = json!({ "cmd": command, "params": params });
        self.command(Method::POST, "/goog/cdp/execute", Some(body)).await
    }

    fn element(&self, reference: &Value) -> Element<'_> {
        let id = reference[ELEMENT_KEY].as_str().expect("an element reference has an id");
        Element { session: self, id: id.to_owned() }
    }

    /// Sends one command and returns its `value`, or the error chromedriver answered.
    async fn command(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, WebDriverError> {
        let command = format!("{method} {path}");
        let url = format!("http://{}/session{}{path}", self.driver.address, self.path);
        let transport = |error: reqwest::Error| WebDriverError {
            command: command.clone(),
            error: "transport".to_owned(),
            message: error.to_string(),
        };
        let mut request = self.http.request(method.clone(), url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        let mut answer: Value = response.json().await.map_err(transport)?;
        let value = answer["value"].take();
        if status.is_success() {
            return Ok(value);
        }
        Err(WebDriverError {
            command,
            error: value["error"].as_str().unwrap_or("unknown error").to_owned(),
            message: value["message"].as_str().unwrap_or_default().to_owned(),
        })
    }
}

impl Drop for Session {
    /// Deletes the session so chromedriver quits Chromium, before the driver itself is killed.
    /// `Drop` cannot await: a plain blocking request, bounded by a short timeout.
    fn drop(&mut self) {
        if self.path.is_empty() {
            return;
        }
        let Ok(mut stream) = TcpStream::connect(&self.driver.address) else { return };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let request = format!(
            "DELETE /session{} HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.path, self.driver.address
        );
        if stream.write_all(request.as_bytes()).is_ok() {
            // Chromium has quit once the answer is complete.
            let _ = stream.read_to_end(&mut Vec::new());
        }
    }
}

impl Element<'_> {
    /// Clicks the element, as a user would, and waits for a navigation it starts.
    pub(crate) async fn click(&self) -> Result<(), WebDriverError> {
        let path = format!("/element/{}/click", self.id);
        self.session.command(Method::POST, &path, Some(json!({}))).await.map(drop)
    }

    /// The element's rendered text.
    pub(crate) async fn text(&self) -> Result<String, WebDriverError> {
        let path = format!("/element/{}/text", self.id);
        let text = self.session.command(Method::GET, &path, None).await?;
        Ok(text.as_str().unwrap_or_default().to_owned())
    }

    /// Whether the element is displayed (WebDriver's visibility rules).
    pub(crate) async fn is_displayed(&self) -> Result<bool, WebDriverError> {
        let path = format!("/element/{}/displayed", self.id);
        let shown = self.session.command(Method::GET, &path, None).await?;
        Ok(shown.as_bool().unwrap_or(false))
    }
}
