//! Typed HTTP calls to a vote-app or to the router in front of two of them.
//!
//! Responses are deserialized into the structs below and compared field by field, so a new
//! field or a different key order in the JSON does not break a test that is not about it.

use reqwest::header::{AUTHORIZATION, HeaderMap};
use reqwest::{Client, StatusCode, redirect};
use serde::Deserialize;

/// `GET /api/votes`, and the body of every vote or reset.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct Votes {
    pub(crate) title: String,
    pub(crate) total: u64,
    pub(crate) choices: Vec<ChoiceCount>,
}

/// One choice and its count.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct ChoiceCount {
    pub(crate) name: String,
    pub(crate) votes: u64,
}

impl Votes {
    /// The count of `choice`; fails the test when the choice is missing.
    pub(crate) fn of(&self, choice: &str) -> u64 {
        self.choices
            .iter()
            .find(|count| count.name == choice)
            .map(|count| count.votes)
            .unwrap_or_else(|| panic!("no choice {choice:?} in {self:?}"))
    }
}

/// `GET /api/ledger`: what PostgreSQL recorded, per instance and per minute.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Ledger {
    pub(crate) instances: Vec<InstanceCount>,
}

/// Votes one instance appended to the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct InstanceCount {
    pub(crate) instance: String,
    pub(crate) votes: u64,
}

impl Ledger {
    /// Votes recorded by `instance` (0 when it recorded none).
    pub(crate) fn of(&self, instance: &str) -> u64 {
        self.instances
            .iter()
            .filter(|count| count.instance == instance)
            .map(|count| count.votes)
            .sum()
    }
}

/// `GET /version`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Version {
    pub(crate) version: String,
    pub(crate) commit: String,
}

/// The answer to one request: status and headers, the body kept as text for messages.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
}

impl Answer {
    /// The body as `T`; fails the test with the status and body when it is not.
    pub(crate) fn json<T: serde::de::DeserializeOwned>(&self) -> T {
        serde_json::from_str(&self.body).unwrap_or_else(|error| {
            panic!("expected JSON ({error}), got {} with body {:?}", self.status, self.body)
        })
    }

    /// The value of a response header, if present and text.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }
}

/// A client bound to one base URL (`http://127.0.0.1:<mapped port>`).
#[derive(Debug, Clone)]
pub(crate) struct Api {
    client: Client,
    base: String,
}

impl Api {
    /// A client with its own connection pool; redirects are not followed, so a test sees the 303.
    pub(crate) fn new(base: &str) -> Self {
        Self::with_timeout(base, std::time::Duration::from_secs(30))
    }

    /// The same with another overall timeout per request: longer than the router's own request
    /// timeout, a test sees the router's 504 rather than its own client giving up first.
    pub(crate) fn with_timeout(base: &str, timeout: std::time::Duration) -> Self {
        let client = Client::builder()
            .redirect(redirect::Policy::none())
            .timeout(timeout)
            .build()
            .expect("an HTTP client can be built");
        Self { client, base: base.to_owned() }
    }

    /// The base URL, for messages.
    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    /// `GET <path>`.
    pub(crate) async fn get(&self, path: &str) -> Result<Answer, reqwest::Error> {
        answer(self.client.get(self.url(path)).send().await?).await
    }

    /// `POST /api/votes` with `{"choice": choice}`.
    pub(crate) async fn vote(&self, choice: &str) -> Result<Answer, reqwest::Error> {
        let body = serde_json::json!({ "choice": choice });
        answer(self.client.post(self.url("/api/votes")).json(&body).send().await?).await
    }

    /// `POST /` as the HTML form does, `vote=<choice>`, with a same-origin `Origin` header
    /// unless `origin` names another one.
    pub(crate) async fn submit_form(
        &self,
        choice: &str,
        origin: Option<&str>,
    ) -> Result<Answer, reqwest::Error> {
        let origin = origin.unwrap_or(&self.base);
        let request =
            self.client.post(self.url("/")).header("Origin", origin).form(&[("vote", choice)]);
        answer(request.send().await?).await
    }

    /// `POST /` as `curl -F vote=<choice>` sends it: `multipart/form-data`, curl's boundary
    /// shape, no `Origin` (a script, not a browser).
    pub(crate) async fn submit_multipart(&self, choice: &str) -> Result<Answer, reqwest::Error> {
        let boundary = "------------------------70901aed14cf1dfb";
        let body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"vote\"\r\n\r\n{choice}\r\n\
             --{boundary}--\r\n"
        );
        let content_type = format!("multipart/form-data; boundary={boundary}");
        let request =
            self.client.post(self.url("/")).header("Content-Type", content_type).body(body);
        answer(request.send().await?).await
    }

    /// `POST /api/reset`, with `Authorization: Bearer <token>` when a token is given.
    pub(crate) async fn reset(&self, token: Option<&str>) -> Result<Answer, reqwest::Error> {
        let mut request = self.client.post(self.url("/api/reset"));
        if let Some(token) = token {
            request = request.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        answer(request.send().await?).await
    }

    /// `GET /api/votes`, which must answer 200.
    pub(crate) async fn votes(&self) -> Votes {
        let answer = self.get("/api/votes").await.expect("GET /api/votes gets an answer");
        assert_eq!(answer.status, StatusCode::OK, "GET /api/votes: {answer:?}");
        answer.json()
    }

    /// `GET /api/ledger`, which must answer 200.
    pub(crate) async fn ledger(&self) -> Ledger {
        let answer = self.get("/api/ledger").await.expect("GET /api/ledger gets an answer");
        assert_eq!(answer.status, StatusCode::OK, "GET /api/ledger: {answer:?}");
        answer.json()
    }

    /// The status of `GET <path>`, or the transport error as text (for polling).
    pub(crate) async fn status_of(&self, path: &str) -> Result<StatusCode, String> {
        self.get(path).await.map(|answer| answer.status).map_err(|error| error.to_string())
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

async fn answer(response: reqwest::Response) -> Result<Answer, reqwest::Error> {
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.text().await?;
    Ok(Answer { status, headers, body })
}
