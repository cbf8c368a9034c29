use super::*;

#[test]
fn only_paths_under_router_are_the_routers_own() {
    let cases = [
        ("/", PROXY_ROUTE),
        ("/vote", PROXY_ROUTE),
        ("/router", PROXY_ROUTE),
        ("/routerx/status", PROXY_ROUTE),
        ("/router/status", "/router/status"),
        ("/router/health", "/router/health"),
        ("/router/metrics", "/router/metrics"),
        ("/router/other", UNKNOWN_OWN_ROUTE),
    ];
    for (path, route) in cases {
        assert_eq!(route_of(path), route, "{path}");
    }
}
