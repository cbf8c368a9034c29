//! A real browser, headless Chromium, against the real images behind the router: what a voter
//! sees and does, with and without JavaScript, in French, in dark mode and at phone width, and
//! whether every page state passes axe-core's WCAG 2.1 AA rules.
//!
//! # Layout
//! - [`webdriver`]: a small W3C WebDriver client; each session starts its own chromedriver.
//! - [`chromium`]: how Chromium starts — the voter's [`chromium::Profile`] (JavaScript on or
//!   off, languages) as capabilities, and the chromedriver process.
//! - [`axe`]: axe-core injected into the page, its violations printed rule by rule.
//! - [`artifacts`]: a screenshot of every page state, saved as `<state>.png`.
//! - [`scenarios`]: the tests.
//!
//! # Needs
//! Chromium and chromedriver (`VOTE_IT_CHROMEDRIVER`, else `chromedriver` on `PATH`), and
//! axe-core's `axe.min.js` (`VOTE_IT_AXE_JS`): ci/test.sh installs both and sets the variables.
//! Screenshots go to `VOTE_IT_ARTIFACTS` (default `target/browser-artifacts`). A missing piece
//! fails the test and says which: nothing is skipped.

mod artifacts;
mod axe;
mod chromium;
mod scenarios;
mod webdriver;

use std::path::PathBuf;
use std::time::Duration;

use crate::poll;
use crate::stack::Stack;
use chromium::Profile;
use webdriver::Session;

/// How long a page may take to react to a click or a vote cast elsewhere.
const PAGE_DEADLINE: Duration = Duration::from_secs(5);

/// A browser session pointed at a stack's router.
struct Browser {
    session: Session,
    /// `http://127.0.0.1:<router's mapped port>`.
    base: String,
    /// Whether the page's own scripts run, which axe-core needs (see [`Browser::inspect`]).
    scripts_run: bool,
}

impl Browser {
    /// A Chromium set up as `profile`, about to visit `stack`'s router.
    async fn open(stack: &Stack, profile: &Profile) -> Self {
        let session = Session::start(&chromedriver(), profile).await;
        let base = stack.router().api.base().to_owned();
        Self { session, base, scripts_run: !profile.without_javascript }
    }

    /// Opens `path` of the router's site.
    async fn visit(&self, path: &str) {
        let url = format!("{}{path}", self.base);
        self.session.goto(&url).await.unwrap_or_else(|error| panic!("opening {url}: {error}"));
    }

    /// Clicks the first element matching `selector` on the current page.
    async fn click(&self, selector: &str) {
        let element = self.session.find(selector).await.unwrap_or_else(|error| {
            panic!("no {selector:?} to click on the current page: {error}")
        });
        element.click().await.unwrap_or_else(|error| panic!("clicking {selector:?}: {error}"));
    }

    /// The rendered text of the first element matching `selector`.
    async fn text(&self, selector: &str) -> String {
        let element = self
            .session
            .find(selector)
            .await
            .unwrap_or_else(|error| panic!("no {selector:?} on the current page: {error}"));
        element.text().await.unwrap_or_else(|error| panic!("the text of {selector:?}: {error}"))
    }

    /// What `script` returns on the current page.
    async fn evaluate(&self, script: &str) -> serde_json::Value {
        self.session
            .execute(script, serde_json::json!([]))
            .await
            .unwrap_or_else(|error| panic!("running {script:?}: {error}"))
    }

    /// Waits until the current page's path and query are `expected` (after a click that
    /// navigates, or a redirect).
    async fn wait_for_location(&self, expected: &str) {
        let url = format!("{}{expected}", self.base);
        poll::until(&format!("the browser to be on {url}"), PAGE_DEADLINE, || async {
            let current = self.session.current_url().await.map_err(|error| error.to_string())?;
            if current == url { Ok(()) } else { Err(format!("on {current}")) }
        })
        .await;
    }

    /// Everything a page state must be: saved as `<state>.png`, no error in the browser's
    /// console since the last check, and no WCAG 2.1 AA violation.
    ///
    /// axe-core finishes on the page's own timers, which never fire where JavaScript is off: a
    /// browser without it skips axe, and each scenario checks the same states with JavaScript.
    async fn inspect(&self, state: &str) {
        artifacts::save_screenshot(&self.session, state).await;
        self.assert_no_console_error(state).await;
        if self.scripts_run {
            axe::assert_accessible(&self.session, state).await;
        }
    }

    /// No `SEVERE` entry in the browser's log (a script error, a failed request such as a
    /// missing favicon) since the last check.
    async fn assert_no_console_error(&self, state: &str) {
        let log = self
            .session
            .browser_log()
            .await
            .unwrap_or_else(|error| panic!("reading the browser's log at {state:?}: {error}"));
        let errors: Vec<String> = log
            .iter()
            .filter(|entry| entry.level == "SEVERE")
            .map(|entry| format!("[{}] {}", entry.source, entry.message))
            .collect();
        assert!(
            errors.is_empty(),
            "the browser (Chromium {}) logged errors at {state:?}:\n{}",
            self.session.browser_version,
            errors.join("\n")
        );
    }
}

/// chromedriver: `VOTE_IT_CHROMEDRIVER`, else the one on `PATH`.
fn chromedriver() -> PathBuf {
    std::env::var_os("VOTE_IT_CHROMEDRIVER").map_or_else(|| "chromedriver".into(), PathBuf::from)
}
