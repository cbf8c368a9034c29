//! What a voter's browser does and shows, through the router of a routed stack.
//!
//! A routed stack costs seconds to start, so a test walks one browser through several page
//! states in turn; each state is inspected the same way ([`Browser::inspect`]: screenshot, no
//! console error, axe) and every assertion names the state it is about.

use serde_json::json;

use super::chromium::Profile;
use super::{Browser, PAGE_DEADLINE};
use crate::poll;
use crate::stack::spawn_routed_stack;

/// The vote button of `choice` on the page.
fn button(choice: &str) -> String {
    format!("form.choices button[name=\"vote\"][value=\"{choice}\"]")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_vote_from_the_page_lands_on_its_confirmation_and_counts_once_with_or_without_javascript()
{
    let stack = spawn_routed_stack().await;
    let api = &stack.router().api;

    let browser = Browser::open(&stack, &Profile::default()).await;
    browser.visit("/").await;
    browser.inspect("vote-fresh").await;
    browser.click(&button("Cats")).await;
    browser.wait_for_location("/?voted=Cats").await;
    let notice = browser.text(".notice").await;
    assert!(notice.contains("Your vote for Cats was counted."), "with JavaScript: {notice:?}");
    assert_eq!(api.votes().await.of("Cats"), 1, "one click, one vote (with JavaScript)");
    browser.inspect("vote-after-js").await;

    // POST-redirect-GET: the page after a vote is a GET, so reloading it votes nothing.
    browser.session.refresh().await.expect("the page reloads");
    browser.wait_for_location("/?voted=Cats").await;
    assert_eq!(api.votes().await.of("Cats"), 1, "reloading the confirmation voted again");
    browser.visit("/results").await;
    browser.inspect("results").await;
    drop(browser);

    let browser =
        Browser::open(&stack, &Profile { without_javascript: true, ..Profile::default() }).await;
    assert_scripts_are_blocked(&browser).await;
    browser.visit("/").await;
    browser.click(&button("Dogs")).await;
    browser.wait_for_location("/?voted=Dogs").await;
    let notice = browser.text(".notice").await;
    assert!(notice.contains("Your vote for Dogs was counted."), "without JavaScript: {notice:?}");
    let votes = api.votes().await;
    assert_eq!((votes.of("Cats"), votes.of("Dogs")), (1, 1), "without JavaScript: {votes:?}");
    browser.inspect("vote-after-nojs").await;
}

/// The premise of a no-JavaScript scenario: this browser really runs no page script.
async fn assert_scripts_are_blocked(browser: &Browser) {
    let page = "data:text/html,<title>before</title><script>document.title='ran'</script>";
    browser.session.goto(page).await.expect("a data: URL opens");
    let title = browser.evaluate("return document.title").await;
    assert_eq!(title, json!("before"), "the page's script ran in a no-JavaScript browser");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_french_browser_gets_the_page_in_french_and_its_switch_goes_to_english_and_back() {
    let stack = spawn_routed_stack().await;
    let french = Profile { accept_language: Some("fr-FR,fr"), ..Profile::default() };
    let browser = Browser::open(&stack, &french).await;
    browser.visit("/").await;
    assert_language(&browser, "fr", "Voter pour Cats", "Résultats").await;
    browser.inspect("fr").await;
    switch_to_english_and_back(&browser, "fr-switched-to-en").await;
    drop(browser);

    // The switch is a plain link: it works where JavaScript is off.
    let browser = Browser::open(&stack, &Profile { without_javascript: true, ..french }).await;
    browser.visit("/").await;
    assert_language(&browser, "fr", "Voter pour Cats", "Résultats").await;
    switch_to_english_and_back(&browser, "fr-switched-to-en-nojs").await;
}

/// Clicks the language switch of a French page twice: English (inspected as `state`), then
/// French again.
async fn switch_to_english_and_back(browser: &Browser, state: &str) {
    browser.click("nav.language a").await;
    browser.wait_for_location("/?lang=en").await;
    assert_language(browser, "en", "Vote for Cats", "Results").await;
    browser.inspect(state).await;
    browser.click("nav.language a").await;
    browser.wait_for_location("/?lang=fr").await;
    assert_language(browser, "fr", "Voter pour Cats", "Résultats").await;
}

/// The page's `<html lang>`, a vote button's text and the results heading are all in one
/// language.
async fn assert_language(browser: &Browser, lang: &str, vote_button: &str, results: &str) {
    let declared = browser.evaluate("return document.documentElement.lang").await;
    assert_eq!(declared, json!(lang), "<html lang>");
    assert_eq!(browser.text(&button("Cats")).await, vote_button, "the button in {lang}");
    assert_eq!(browser.text("#results-heading").await, results, "the heading in {lang}");
}

#[tokio::test(flavor = "multi_thread")]
async fn in_dark_mode_and_at_phone_width_every_page_renders_passes_axe_and_fits_the_screen() {
    let stack = spawn_routed_stack().await;
    // Votes, so the results page draws its bars and its table rather than an empty chart.
    for choice in ["Cats", "Dogs", "Cats"] {
        let vote = stack.router().api.vote(choice).await.expect("the vote answers");
        assert!(vote.status.is_success(), "{vote:?}");
    }
    let browser = Browser::open(&stack, &Profile::default()).await;

    browser.visit("/").await;
    let light = background(&browser).await;
    let dark = json!({ "features": [{ "name": "prefers-color-scheme", "value": "dark" }] });
    browser.session.devtools("Emulation.setEmulatedMedia", dark).await.expect("dark mode");
    for (path, state) in [("/", "dark"), ("/results", "results-dark")] {
        browser.visit(path).await;
        let matches = browser.evaluate("return matchMedia('(prefers-color-scheme: dark)').matches");
        assert_eq!(matches.await, json!(true), "{state}: the browser prefers dark");
        assert_ne!(background(&browser).await, light, "{state}: the page follows dark mode");
        browser.inspect(state).await;
    }
    drop(browser);

    // A phone: 360 CSS pixels wide, and the page's viewport meta tag honoured (mobile).
    let browser = Browser::open(&stack, &Profile::default()).await;
    let phone = json!({ "width": 360, "height": 740, "deviceScaleFactor": 2, "mobile": true });
    browser.session.devtools("Emulation.setDeviceMetricsOverride", phone).await.expect("a phone");
    for (path, state) in [("/", "phone"), ("/results", "phone-results")] {
        browser.visit(path).await;
        let width = browser.evaluate("return window.innerWidth").await;
        assert_eq!(width, json!(360), "{state}: the viewport is a phone's");
        let scroll = browser.evaluate("return document.documentElement.scrollWidth").await;
        assert!(scroll.as_u64() <= width.as_u64(), "{state}: scrolls sideways ({scroll} px)");
        browser.inspect(state).await;
    }
    browser.visit("/").await;
    for choice in ["Cats", "Dogs"] {
        let right = browser
            .evaluate(&format!(
                "const box = document.querySelector('{}').getBoundingClientRect();
                 return box.width > 0 && box.height > 0 && box.left >= 0
                     && box.right <= window.innerWidth;",
                button(choice).replace('\'', "\\'")
            ))
            .await;
        assert_eq!(right, json!(true), "phone: the {choice} button is not fully on screen");
        let shown = browser.session.find(&button(choice)).await.expect("the button");
        assert!(shown.is_displayed().await.expect("visibility"), "phone: {choice} is hidden");
    }
}

/// The computed background colour of the page's body.
async fn background(browser: &Browser) -> serde_json::Value {
    browser.evaluate("return getComputedStyle(document.body).backgroundColor").await
}

/// Kept last: the contract of the live results, which the page does not implement yet. `/`
/// loads `/static/live.js`, which listens to `/live` (server-sent events) and updates each
/// `<li data-choice="…">`'s `<span class="count">` and the `<p class="total">` in place.
#[tokio::test(flavor = "multi_thread")]
async fn a_vote_cast_elsewhere_shows_up_on_an_open_page_without_a_reload() {
    let stack = spawn_routed_stack().await;
    let browser = Browser::open(&stack, &Profile::default()).await;
    browser.visit("/").await;
    let scripts =
        browser.evaluate("return Array.from(document.scripts, (script) => script.src)").await;
    let live_js = format!("{}/static/live.js", browser.base);
    assert!(
        scripts.as_array().is_some_and(|all| all.contains(&json!(live_js))),
        "the page loads no {live_js}: its scripts are {scripts}"
    );
    let count = "li[data-choice=\"Cats\"] span.count";
    let before = browser.text(count).await;
    // A reload would drop this mark: it proves the page changed in place.
    browser.evaluate("window.notReloaded = true; return null").await;

    let vote = stack.router().api.submit_form("Cats", None).await.expect("the form post answers");
    assert!(vote.status.is_redirection(), "a vote from a second client: {vote:?}");

    let after = poll::until("the open page to show the new count", PAGE_DEADLINE, || async {
        let now = browser.session.find(count).await.map_err(|error| error.to_string())?;
        let text = now.text().await.map_err(|error| error.to_string())?;
        if text == before { Err(format!("still {text:?}")) } else { Ok(text) }
    })
    .await;
    let kept = browser.evaluate("return window.notReloaded === true").await;
    assert_eq!(kept, json!(true), "the page was reloaded rather than updated");
    assert!(after.starts_with('1'), "Cats went from {before:?} to {after:?}, expected 1");
    let total = browser.text("p.total").await;
    assert!(total.contains('1'), "the total did not follow: {total:?}");
    browser.inspect("live-after-vote").await;
}
