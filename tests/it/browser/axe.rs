//! axe-core, Deque's accessibility engine, run inside the page: WCAG 2.0 and 2.1, levels A and
//! AA.
//!
//! The script comes from the file `VOTE_IT_AXE_JS` names (`axe.min.js` of the PyPI wheel
//! `axe-core-python`, axe 4.4.3, which ci/test.sh installs: npm is not reachable from every
//! build machine). It is injected through WebDriver, which the page's content security policy
//! does not apply to, so the policy need not allow it.

use std::path::PathBuf;
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::{Value, json};

use super::webdriver::Session;

/// The rule sets checked: WCAG 2.0 and 2.1, levels A and AA.
const WCAG_TAGS: [&str; 4] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

/// What `axe.run` reports, the part these tests read.
#[derive(Debug, Deserialize)]
struct Results {
    violations: Vec<Violation>,
}

/// A rule some nodes of the page break.
#[derive(Debug, Deserialize)]
struct Violation {
    /// The rule, e.g. `color-contrast`.
    id: String,
    /// What the rule asks for, in a sentence.
    help: String,
    #[serde(rename = "helpUrl")]
    help_url: String,
    nodes: Vec<Node>,
}

#[derive(Debug, Deserialize)]
struct Node {
    /// CSS selectors of the element (one per frame).
    target: Vec<Value>,
    /// What is wrong with this element.
    #[serde(rename = "failureSummary", default)]
    failure_summary: String,
}

/// axe's source, read once per test binary.
fn source() -> &'static str {
    static SOURCE: OnceLock<String> = OnceLock::new();
    SOURCE.get_or_init(|| {
        let Some(path) = std::env::var_os("VOTE_IT_AXE_JS").map(PathBuf::from) else {
            panic!(
                "VOTE_IT_AXE_JS is not set: it names axe-core's axe.min.js (from the PyPI wheel \
                 axe-core-python==0.1.0). ci/test.sh installs it and sets the variable."
            )
        };
        std::fs::read_to_string(&path).unwrap_or_else(|error| {
            panic!("VOTE_IT_AXE_JS={}: cannot read axe-core: {error}", path.display())
        })
    })
}

/// Runs axe on the current page and fails the test with every violation, by rule and element,
/// when there is any. `state` names the page state in the message.
pub(crate) async fn assert_accessible(session: &Session, state: &str) {
    session
        .execute(source(), json!([]))
        .await
        .unwrap_or_else(|error| panic!("injecting axe-core into the state {state:?}: {error}"));
    let run = "const done = arguments[arguments.length - 1];
        axe.run(document, { runOnly: { type: 'tag', values: arguments[0] } })
            .then((results) => done({ violations: results.violations }),
                  (error) => done({ error: String(error) }));";
    let answer = session
        .execute_async(run, json!([WCAG_TAGS]))
        .await
        .unwrap_or_else(|error| panic!("running axe-core on the state {state:?}: {error}"));
    if let Some(error) = answer.get("error") {
        panic!("axe-core failed on the state {state:?}: {error}");
    }
    let results: Results = serde_json::from_value(answer)
        .unwrap_or_else(|error| panic!("axe-core's results for {state:?}: {error}"));
    assert!(
        results.violations.is_empty(),
        "the state {state:?} breaks {} WCAG 2.1 AA rule(s):\n{}",
        results.violations.len(),
        describe(&results.violations)
    );
}

/// One paragraph per rule: its id, what it asks for, and each element that breaks it.
fn describe(violations: &[Violation]) -> String {
    let mut text = String::new();
    for violation in violations {
        text.push_str(&format!(
            "- {}: {} ({})\n",
            violation.id, violation.help, violation.help_url
        ));
        for node in &violation.nodes {
            let target: Vec<String> = node.target.iter().map(Value::to_string).collect();
            let summary = node.failure_summary.replace('\n', " ");
            text.push_str(&format!("    {}: {summary}\n", target.join(" > ")));
        }
    }
    text
}
