//! The project's images run with exactly the app settings the Terraform gives each web app.
//!
//! What App Service would change is changed, and nothing else:
//! - a Key Vault reference becomes the secret's value, as App Service injects it: here the URLs
//!   of a Redis and a PostgreSQL started for the test, and a random admin token. The test Redis
//!   speaks plain `redis://` (the Terraform's `rediss://` URL is checked in `invariants`);
//! - the router's upstreams `https://<instance>.azurewebsites.net` become
//!   `http://<instance container>:<WEBSITES_PORT>`: App Service terminates TLS at its front end,
//!   the containers here have no certificates;
//! - the container port Docker maps is `WEBSITES_PORT`, where App Service sends traffic.
//!
//! Placeholders of created objects (the Application Insights connection string) stay as they
//! are: a service that read them would fail here as it would there.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use hcl::Value;
use reqwest::StatusCode;

use super::apps::{WebApp, key_vault_secret, router_app, vote_apps};
use super::config::Config;
use super::eval::Evaluated;
use crate::api::Api;
use crate::poll::{self, DEADLINE};
use crate::stack::{self, BackEnds, parity_of, unix_minute};

/// Both parities are seen within a minute and a bit, whatever second the test starts at.
const BOTH_PARITIES: Duration = Duration::from_secs(75);

#[tokio::test(flavor = "multi_thread")]
async fn the_images_run_with_the_terraform_app_settings_and_the_router_routes_by_minute_parity() {
    let config = Config::load();
    let config = Evaluated::new(&config, &[("postgresql_enabled", Value::Bool(true))]);
    let back_ends = stack::spawn_back_ends().await;
    let admin_token = uuid::Uuid::new_v4().simple().to_string();

    let mut instances = Vec::new();
    let mut upstreams = BTreeMap::new();
    for app in vote_apps(&config) {
        let env = injected(&app, &config, &back_ends, &admin_token);
        let name = env["INSTANCE_NAME"].clone();
        let port = listening_port(&env);
        let (container, api) = stack::start_with_env(
            &back_ends.run,
            ("VOTE_IT_APP_IMAGE", "vote-app:test"),
            &name,
            &env,
            port,
        )
        .await;
        for path in ["/health", "/ready"] {
            let what = format!("{name}: {path} to answer 200 with the Terraform settings");
            let answered = poll::try_until(&what, DEADLINE, || answers_ok(&api, path)).await;
            if let Err(failure) = answered {
                panic!("{failure}\n{}", stack::logs(&container).await);
            }
        }
        let before = api.votes().await.of("Cats");
        let vote = api.vote("Cats").await.expect("an answer to the vote");
        assert!(vote.status.is_success(), "{name} counts a vote: {vote:?}");
        assert_eq!(
            api.votes().await.of("Cats"),
            before + 1,
            "{name} counted the vote in the shared Redis"
        );
        let reset = api.reset(Some(&admin_token)).await.expect("an answer to the reset");
        assert_eq!(
            reset.status,
            StatusCode::OK,
            "{name}: ADMIN_TOKEN from the Key Vault reference allows a reset"
        );
        upstreams.insert(
            app.created("default_hostname"),
            format!("http://{}-{name}:{port}", back_ends.run),
        );
        instances.push(container);
    }

    let router = router_app(&config);
    let mut env = router.settings(&config);
    for value in env.values_mut() {
        for (host, container_url) in &upstreams {
            *value = value.replace(&format!("https://{host}"), container_url);
        }
    }
    let port = listening_port(&env);
    let (container, api) = stack::start_with_env(
        &back_ends.run,
        ("VOTE_IT_ROUTER_IMAGE", "router:test"),
        "router",
        &env,
        port,
    )
    .await;
    let health = router.string(&config, &["site_config", "health_check_path"]);
    if let Err(failure) =
        poll::try_until("the router's health check", DEADLINE, || answers_ok(&api, &health)).await
    {
        panic!("{failure}\n{}", stack::logs(&container).await);
    }
    let status = poll::until("both upstreams healthy", DEADLINE, || both_healthy(&api)).await;
    for parity in ["even", "odd"] {
        let url =
            status["upstreams"][parity]["url"].as_str().unwrap_or_default().trim_end_matches('/');
        assert_eq!(url, env[&format!("ROUTER_UPSTREAM_{}", parity.to_uppercase())], "{status}");
    }
    let seen = route_until_both_parities(&api).await;
    let status = both_healthy(&api).await.expect("the router still sees both upstreams");
    for (parity, count) in seen {
        let requests = status["upstreams"][parity]["requests"].as_u64().unwrap_or_default();
        assert!(
            requests >= count,
            "/router/status counts {requests} requests to {parity}, {count} seen: {status}"
        );
    }
}

/// The web app's settings with each Key Vault reference replaced by the value App Service
/// injects: here, the test's back ends and admin token.
fn injected(
    app: &WebApp,
    config: &Evaluated<'_>,
    back_ends: &BackEnds,
    admin_token: &str,
) -> BTreeMap<String, String> {
    let mut env = app.settings(config);
    for (name, value) in &mut env {
        if key_vault_secret(value).is_none() {
            continue;
        }
        *value = match name.as_str() {
            "REDIS_URL" => back_ends.redis_url.clone(),
            "DATABASE_URL" => back_ends.database_url.clone(),
            "ADMIN_TOKEN" => admin_token.to_owned(),
            other => panic!("no test value for the Key Vault reference in {other}"),
        };
    }
    env
}

fn listening_port(env: &BTreeMap<String, String>) -> u16 {
    let port = env.get("WEBSITES_PORT").expect("WEBSITES_PORT is set");
    port.parse().unwrap_or_else(|_| panic!("WEBSITES_PORT={port} is not a port"))
}

async fn answers_ok(api: &Api, path: &str) -> Result<(), String> {
    match api.status_of(path).await? {
        StatusCode::OK => Ok(()),
        other => Err(format!("status {other}")),
    }
}

async fn both_healthy(api: &Api) -> Result<serde_json::Value, String> {
    let answer = api.get("/router/status").await.map_err(|error| error.to_string())?;
    let status: serde_json::Value =
        serde_json::from_str(&answer.body).map_err(|error| format!("{error}: {answer:?}"))?;
    let healthy = |parity: &str| status["upstreams"][parity]["healthy"].as_bool() == Some(true);
    if healthy("even") && healthy("odd") { Ok(status) } else { Err(status.to_string()) }
}

/// Requests through the router until a response from each parity's upstream was checked; a
/// request straddling a minute boundary proves nothing and is left out (see `router.rs`).
async fn route_until_both_parities(api: &Api) -> BTreeMap<&'static str, u64> {
    let started = Instant::now();
    let mut seen: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut pace = tokio::time::interval(Duration::from_millis(500));
    while seen.len() < 2 {
        assert!(
            started.elapsed() < BOTH_PARITIES,
            "both parities not seen in {BOTH_PARITIES:?}: {seen:?}"
        );
        pace.tick().await;
        let before = unix_minute();
        let answer = api.get("/api/votes").await.expect("an answer through the router");
        let after = unix_minute();
        assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
        let routed_to = answer.header("x-routed-to").expect("the router names the upstream");
        if before == after {
            assert_eq!(routed_to, parity_of(before), "minute {before}: {answer:?}");
            *seen.entry(parity_of(before)).or_default() += 1;
        }
    }
    seen
}
