//! Transport and access hardening: HTTPS and TLS 1.2 on the web apps, no FTP, no registry
//! password, TLS-only Redis, an RBAC vault that cannot be purged, and its access audit.

use hcl::Value;

use super::apps::web_apps;
use super::config::{Address, Config};
use super::eval::{InstanceKey, placeholder};
use super::invariants::evaluated;

#[test]
fn the_web_apps_are_https_only_with_tls_1_2_no_ftp_and_the_registry_has_no_admin_user() {
    let config = Config::load();
    let config = evaluated(&config, false);
    for app in web_apps(&config) {
        let what = app.reference();
        assert_eq!(app.argument(&config, &["https_only"]), Some(Value::Bool(true)), "{what}");
        assert_eq!(app.string(&config, &["site_config", "minimum_tls_version"]), "1.2", "{what}");
        assert_eq!(app.string(&config, &["site_config", "ftps_state"]), "Disabled", "{what}");
        let port = &app.settings(&config)["WEBSITES_PORT"];
        assert_eq!(
            app.settings(&config).get("PORT"),
            Some(port),
            "{what}: the app listens where App Service sends"
        );
    }
    let registry = Address::new("azurerm_container_registry", "this");
    assert_eq!(
        config.argument(&registry, &InstanceKey::Single, &["admin_enabled"]),
        Some(Value::Bool(false))
    );
    let vault = Address::new("azurerm_key_vault", "this");
    for flag in ["rbac_authorization_enabled", "purge_protection_enabled"] {
        assert_eq!(
            config.argument(&vault, &InstanceKey::Single, &[flag]),
            Some(Value::Bool(true)),
            "{flag}"
        );
    }
}

#[test]
fn redis_speaks_only_tls_and_every_vault_access_is_audited_in_log_analytics() {
    let config = Config::load();
    let config = evaluated(&config, false);
    let redis = Address::new("azurerm_managed_redis", "this");
    let protocol =
        config.string(&redis, &InstanceKey::Single, &["default_database", "client_protocol"]);
    assert_eq!(protocol, "Encrypted", "Redis accepts TLS connections only");

    let vault = placeholder("azurerm_key_vault.this.id");
    let settings =
        config.config.resources.keys().filter(|a| a.kind == "azurerm_monitor_diagnostic_setting");
    let audit = settings
        .flat_map(|address| {
            config.instance_keys(address).into_iter().map(move |key| (address, key))
        })
        .find(|(address, key)| config.string(address, key, &["target_resource_id"]) == vault);
    let (address, key) = audit.expect("a diagnostic setting on the vault");
    let workspace = config.string(address, &key, &["log_analytics_workspace_id"]);
    assert_eq!(workspace, placeholder("azurerm_log_analytics_workspace.this.id"));
    let logs = config.blocks(address, &key, &["enabled_log"]);
    assert!(
        logs.iter().any(|log| log.get("category_group") == Some(&Value::from("audit"))),
        "the vault's audit category group goes to Log Analytics: {logs:?}"
    );
}
