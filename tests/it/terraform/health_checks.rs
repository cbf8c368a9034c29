//! Each web app's health check path asked of the service itself: App Service restarts an instance
//! whose health check fails, so the path must be one the service answers 200 on.

use reqwest::StatusCode;

use super::apps::web_apps;
use super::config::Config;
use super::invariants::evaluated;
use crate::in_process::InProcessServices;

#[tokio::test]
async fn each_health_check_path_is_a_route_its_service_serves() {
    let config = Config::load();
    let config = evaluated(&config, false);
    let services = InProcessServices::start().await;
    for app in web_apps(&config) {
        let path = app.string(&config, &["site_config", "health_check_path"]);
        let service = if app.image.starts_with("router:") { "router" } else { "vote-app" };
        let status = services.status_of(service, &path).await;
        assert_eq!(status, StatusCode::OK, "{} health check {path}", app.reference());
    }
}
