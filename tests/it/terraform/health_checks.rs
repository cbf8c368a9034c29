//! Each web app's health check path asked of the service itself: App Service restarts an instance
//! whose health check fails, so the path must be one the service answers 200 on.

use reqwest::StatusCode;
use tokio::net::TcpListener;

use super::apps::web_apps;
use super::config::Config;
use super::invariants::evaluated;
use crate::api::Api;

#[tokio::test]
async fn each_health_check_path_is_a_route_its_service_serves() {
    let config = Config::load();
    let config = evaluated(&config, false);
    let services = InProcess::start().await;
    for app in web_apps(&config) {
        let path = app.string(&config, &["site_config", "health_check_path"]);
        let api =
            if app.image.starts_with("router:") { &services.router } else { &services.vote_app };
        let status =
            api.status_of(&path).await.unwrap_or_else(|error| panic!("GET {path}: {error}"));
        assert_eq!(status, StatusCode::OK, "{} health check {path}", app.reference());
    }
}

/// The vote-app (in-memory store) and the router (unreachable upstreams) served in-process, to
/// ask them the health check paths: the services answer, not a second list of routes.
struct InProcess {
    vote_app: Api,
    router: Api,
}

impl InProcess {
    async fn start() -> Self {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let config =
            vote_app::config::Config::from_lookup(|_| None).expect("the defaults are valid");
        let state = vote_app::startup::build_state(&config).expect("an in-memory store");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let vote_app = Api::new(&format!("http://{}", listener.local_addr().expect("an address")));
        let app = vote_app::app(state);
        tokio::spawn(vote_app::server::serve(
            listener,
            app,
            std::future::pending(),
            config.shutdown_timeout,
        ));

        let upstream = |var: &str| {
            matches!(var, "ROUTER_UPSTREAM_EVEN" | "ROUTER_UPSTREAM_ODD")
                .then(|| "http://127.0.0.1:9".to_owned())
        };
        let config = router::Config::from_lookup(upstream).expect("valid upstream URLs");
        let state = router::AppState::new(&config, std::sync::Arc::new(router::SystemClock))
            .expect("no extra roots");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let router = Api::new(&format!("http://{}", listener.local_addr().expect("an address")));
        tokio::spawn(router::serve(
            listener,
            router::app(state),
            std::future::pending(),
            config.shutdown_timeout,
        ));
        Self { vote_app, router }
    }
}
