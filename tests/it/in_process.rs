//! The vote-app and the router served in-process, for the tests that ask the services themselves
//! whether a path the deployment files name (a probe, a health check) is one they answer: the
//! services answer, not a second list of routes kept by hand.

use reqwest::StatusCode;
use tokio::net::TcpListener;

use crate::api::Api;

/// The vote-app on its in-memory store, and the router with unreachable upstreams: only the
/// router's own endpoints answer 200.
pub(crate) struct InProcessServices {
    pub(crate) vote_app: Api,
    pub(crate) router: Api,
}

impl InProcessServices {
    pub(crate) async fn start() -> Self {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let config =
            vote_app::config::Config::from_lookup(|_| None).expect("the defaults are valid");
        let state = vote_app::startup::build_state(&config).expect("an in-memory store");
        let (listener, vote_app) = bind().await;
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
        let (listener, router) = bind().await;
        tokio::spawn(router::serve(
            listener,
            router::app(state),
            std::future::pending(),
            config.shutdown_timeout,
        ));
        Self { vote_app, router }
    }

    /// The status the service of `image` (`vote-app` or `router`) answers to `GET path`.
    pub(crate) async fn status_of(&self, image: &str, path: &str) -> StatusCode {
        let api = match image {
            "vote-app" => &self.vote_app,
            "router" => &self.router,
            other => panic!("{other} is not a service of this repository"),
        };
        api.status_of(path).await.unwrap_or_else(|error| panic!("GET {path}: {error}"))
    }
}

async fn bind() -> (TcpListener, Api) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let api = Api::new(&format!("http://{}", listener.local_addr().expect("an address")));
    (listener, api)
}
