//! How Chromium is started: the capabilities of a voter's [`Profile`], and a `chromedriver`
//! process of its own for each session.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::Client;
use serde_json::{Value, json};

use crate::poll;

/// How long chromedriver may take to answer `/status` after it was started.
const DRIVER_START: Duration = Duration::from_secs(15);

/// How a Chromium session is set up: what differs between the voters the scenarios play.
#[derive(Debug, Clone, Default)]
pub(crate) struct Profile {
    /// Page scripts blocked, as a voter who turned JavaScript off (WebDriver's own scripts
    /// still run).
    pub(crate) without_javascript: bool,
    /// The `Accept-Language` of the browser, as Chromium writes it (`fr-FR,fr`); `None` keeps
    /// the default (English).
    pub(crate) accept_language: Option<&'static str>,
}

impl Profile {
    /// The capabilities of a new session: headless Chromium, the browser's console kept.
    pub(super) fn capabilities(&self) -> Value {
        let mut args = vec![
            "--headless=new".to_owned(),
            // CI runs as root, where Chromium's sandbox refuses to start.
            "--no-sandbox".to_owned(),
            // Containers often have a 64 MB /dev/shm, too small for a renderer.
            "--disable-dev-shm-usage".to_owned(),
            // A laptop's window; the phone scenario narrows the viewport through DevTools.
            "--window-size=1280,900".to_owned(),
        ];
        let mut prefs = serde_json::Map::new();
        if let Some(languages) = self.accept_language {
            let primary = languages.split([',', '-']).next().unwrap_or(languages);
            args.push(format!("--lang={primary}"));
            prefs.insert("intl.accept_languages".to_owned(), json!(languages));
        }
        if self.without_javascript {
            // The setting a user (or an administrator) uses to block scripts on every site.
            prefs
                .insert("profile.managed_default_content_settings.javascript".to_owned(), json!(2));
        }
        json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": { "args": args, "prefs": prefs },
                    "goog:loggingPrefs": { "browser": "ALL" },
                    "timeouts": { "implicit": 0, "pageLoad": 30_000, "script": 30_000 },
                }
            }
        })
    }
}

/// A `chromedriver` process on a local port, killed on drop.
#[derive(Debug)]
pub(super) struct Chromedriver {
    process: Child,
    /// `127.0.0.1:<port>`.
    pub(super) address: String,
}

impl Chromedriver {
    pub(super) async fn start(binary: &Path, http: &Client) -> Self {
        let port = free_port();
        let process = Command::new(binary)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| {
                panic!(
                    "could not start chromedriver ({}): {error}. The browser tests need Chromium \
                     and chromedriver (Debian: apt-get install chromium chromium-driver); \
                     ci/test.sh installs them and sets VOTE_IT_CHROMEDRIVER.",
                    binary.display()
                )
            });
        let driver = Self { process, address: format!("127.0.0.1:{port}") };
        let status = format!("http://{}/status", driver.address);
        poll::until("chromedriver to answer /status", DRIVER_START, || async {
            let answer = http.get(&status).send().await.map_err(|error| error.to_string())?;
            let body: Value = answer.json().await.map_err(|error| error.to_string())?;
            match body["value"]["ready"].as_bool() {
                Some(true) => Ok(()),
                _ => Err(body.to_string()),
            }
        })
        .await;
        driver
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// A port nobody listens on right now, for chromedriver to take.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a local port can be bound");
    listener.local_addr().expect("a bound socket has an address").port()
}
