//! The rules of the App Service design, each a test over the parsed and evaluated `.tf` files.

use std::collections::BTreeSet;

use hcl::Value;

use super::apps::{
    instance_of, key_vault_secret, referenced, role_assignments, router_app, vote_apps, web_apps,
};
use super::config::{Address, Config};
use super::eval::{Evaluated, InstanceKey, placeholder};
use super::references::Target;

/// Settings App Service itself reads, which no service has to know: the port it forwards to and
/// the Application Insights agent's connection string. Everything else must be a variable the
/// service reads (its `config::VARIABLES`), so a misspelt setting cannot be silently ignored.
const APP_SERVICE_SETTINGS: &[&str] = &["WEBSITES_PORT", "APPLICATIONINSIGHTS_CONNECTION_STRING"];

/// Prefixes of App Service's own setting families (`WEBSITE_*`, `DOCKER_*`), allowed for the
/// same reason.
const APP_SERVICE_PREFIXES: &[&str] = &["WEBSITE_", "DOCKER_"];

/// The outputs the deploy pipelines read, by these exact names.
const PIPELINE_OUTPUTS: &[&str] = &[
    "router_url",
    "even_url",
    "odd_url",
    "even_app_name",
    "odd_app_name",
    "router_app_name",
    "resource_group_name",
    "acr_login_server",
    "acr_name",
    "key_vault_uri",
    "deploy_client_id",
];

pub(crate) fn evaluated(config: &Config, postgresql: bool) -> Evaluated<'_> {
    Evaluated::new(config, &[("postgresql_enabled", Value::Bool(postgresql))])
}

#[test]
fn every_reference_resolves_to_a_declaration_and_every_variable_is_used() {
    let config = Config::load();
    let references = config.references();

    assert!(
        references.unresolved.is_empty(),
        "unresolved references:\n{}",
        references.unresolved.join("\n")
    );
    let used: BTreeSet<&Target> = references.targets.iter().collect();
    for name in config.variables.keys() {
        assert!(
            used.contains(&Target::Variable(name.clone())),
            "variable {name} is declared but never used"
        );
    }
    for name in config.locals.keys() {
        assert!(
            used.contains(&Target::Local(name.clone())),
            "local {name} is declared but never used"
        );
    }
}

#[test]
fn the_two_vote_app_instances_run_on_two_plans_of_different_skus() {
    let config = Config::load();
    let config = evaluated(&config, false);
    let apps = vote_apps(&config);
    assert_eq!(apps.len(), 2, "two vote-app web apps: {apps:?}");

    let mut plans = BTreeSet::new();
    let mut skus = BTreeSet::new();
    let mut names = BTreeSet::new();
    for app in &apps {
        let plan_id = app.string(&config, &["service_plan_id"]);
        let plan =
            referenced(&plan_id, "id").unwrap_or_else(|| panic!("{plan_id} is not a plan's id"));
        let (address, key) = instance_of(&config, "azurerm_service_plan", plan);
        assert_eq!(config.string(&address, &key, &["os_type"]), "Linux");
        skus.insert(config.string(&address, &key, &["sku_name"]));
        plans.insert(plan.to_owned());
        names.insert(
            app.settings(&config).get("INSTANCE_NAME").cloned().expect("INSTANCE_NAME is set"),
        );
    }
    assert_eq!(plans.len(), 2, "each instance on its own plan: {plans:?}");
    assert_eq!(skus.len(), 2, "the two plans' SKUs differ: {skus:?}");
    assert_eq!(
        names,
        BTreeSet::from(["even".to_owned(), "odd".to_owned()]),
        "distinct INSTANCE_NAMEs"
    );
}

#[test]
fn the_router_sends_each_parity_to_one_instance_by_its_https_host_name() {
    let config = Config::load();
    let config = evaluated(&config, false);
    let router = router_app(&config).settings(&config);
    for app in vote_apps(&config) {
        let parity = app.settings(&config)["INSTANCE_NAME"].to_uppercase();
        let upstream = &router[&format!("ROUTER_UPSTREAM_{parity}")];
        assert_eq!(
            upstream,
            &format!("https://{}", app.created("default_hostname")),
            "{parity} upstream"
        );
    }
}

#[test]
fn every_secret_the_vote_app_reads_is_a_key_vault_reference_to_one_vault() {
    let config = Config::load();
    for postgresql in [false, true] {
        let config = evaluated(&config, postgresql);
        let mut vaults = BTreeSet::new();
        for app in vote_apps(&config) {
            let settings = app.settings(&config);
            let mut expected = vec!["REDIS_URL", "ADMIN_TOKEN"];
            expected.extend(postgresql.then_some("DATABASE_URL"));
            for name in expected {
                assert!(
                    settings.contains_key(name),
                    "{} sets {name} (postgresql: {postgresql})",
                    app.reference()
                );
            }
            for name in vote_app::secret_settings::SECRET_SETTINGS
                .iter()
                .filter(|name| settings.contains_key(**name))
            {
                let secret = key_vault_secret(&settings[*name]).unwrap_or_else(|| {
                    panic!("{name} must be a versionless Key Vault reference: {}", settings[*name])
                });
                let (address, key) = instance_of(&config, "azurerm_key_vault_secret", secret);
                vaults.insert(config.string(&address, &key, &["key_vault_id"]));
            }
        }
        assert_eq!(vaults.len(), 1, "every reference points into one vault: {vaults:?}");
        let router = router_app(&config).settings(&config);
        let secrets: Vec<_> = vote_app::secret_settings::SECRET_SETTINGS
            .iter()
            .filter(|name| router.contains_key(**name))
            .collect();
        assert!(secrets.is_empty(), "the router needs no secret: {secrets:?}");
    }
    let config = evaluated(&config, false);
    let redis_url = config.string(
        &Address::new("azurerm_key_vault_secret", "redis_url"),
        &InstanceKey::Single,
        &["value"],
    );
    assert!(redis_url.starts_with("rediss://"), "Redis only over TLS: {redis_url}");
}

#[test]
fn each_identity_holds_exactly_the_roles_it_needs() {
    let config = Config::load();
    let config = evaluated(&config, true);
    let assignments = role_assignments(&config);
    let has = |role: &str, scope: &str, principal: &str| {
        assignments.iter().any(|a| a.role == role && a.scope == scope && a.principal == principal)
    };
    let vault = placeholder("azurerm_key_vault.this.id");
    let deployer = placeholder("azurerm_user_assigned_identity.deploy.principal_id");
    for app in web_apps(&config) {
        let principal = app.created("identity[0].principal_id");
        let registry_url =
            app.string(&config, &["site_config", "application_stack", "docker_registry_url"]);
        let registry = referenced(registry_url.trim_start_matches("https://"), "login_server")
            .unwrap_or_else(|| panic!("{registry_url} is not a registry's login server"));
        let registry_id = placeholder(&format!("{registry}.id"));
        assert!(
            has("AcrPull", &registry_id, &principal),
            "{} pulls from {registry} with AcrPull",
            app.reference()
        );
        let uses_identity =
            app.argument(&config, &["site_config", "container_registry_use_managed_identity"]);
        assert_eq!(
            uses_identity,
            Some(Value::Bool(true)),
            "{} pulls with its managed identity",
            app.reference()
        );
        assert!(
            has("AcrPush", &registry_id, &deployer),
            "the deploy identity pushes to {registry}"
        );
        assert!(
            has("Website Contributor", &app.created("id"), &deployer),
            "the deploy identity deploys {}",
            app.reference()
        );
        let reads_secrets = app.image.starts_with("vote-app:");
        assert_eq!(
            has("Key Vault Secrets User", &vault, &principal),
            reads_secrets,
            "{} reads the vault",
            app.reference()
        );
    }
    for assignment in assignments.iter().filter(|a| a.principal == deployer) {
        assert!(
            ["AcrPush", "Website Contributor"].contains(&assignment.role.as_str()),
            "deployer: {assignment:?}"
        );
    }
}

#[test]
fn only_the_router_subnet_reaches_the_instances_and_the_router_stays_public() {
    let config = Config::load();
    let config = evaluated(&config, false);
    let router = router_app(&config);
    let subnet = router.string(&config, &["virtual_network_subnet_id"]);
    let vnet_route_all = router.argument(&config, &["site_config", "vnet_route_all_enabled"]);
    assert_eq!(
        vnet_route_all,
        Some(Value::Bool(true)),
        "the router's calls go out through its subnet"
    );
    let subnet_address =
        referenced(&subnet, "id").unwrap_or_else(|| panic!("{subnet} is not a subnet id"));
    let (address, key) = instance_of(&config, "azurerm_subnet", subnet_address);
    let endpoints = config.argument(&address, &key, &["service_endpoints"]);
    assert_eq!(
        endpoints,
        Some(Value::Array(vec![Value::from("Microsoft.Web")])),
        "service endpoint on {address}"
    );

    for app in vote_apps(&config) {
        let default = app.string(&config, &["site_config", "ip_restriction_default_action"]);
        assert_eq!(default, "Deny", "{} refuses what no rule allows", app.reference());
        let rules = config.blocks(&app.address, &app.key, &["site_config", "ip_restriction"]);
        assert!(!rules.is_empty(), "{} has access restrictions", app.reference());
        for rule in rules {
            assert_eq!(rule.get("action"), Some(&Value::from("Allow")), "{rule:?}");
            assert_eq!(
                rule.get("virtual_network_subnet_id"),
                Some(&Value::from(subnet.as_str())),
                "{rule:?}"
            );
        }
    }
    assert!(
        config.blocks(&router.address, &router.key, &["site_config", "ip_restriction"]).is_empty()
    );
    let router_default =
        router.argument(&config, &["site_config", "ip_restriction_default_action"]);
    assert!(
        matches!(router_default, None | Some(Value::String(_)))
            && router_default != Some(Value::from("Deny"))
    );
}

#[test]
fn every_app_setting_is_a_variable_its_service_reads() {
    let config = Config::load();
    let config = evaluated(&config, true);
    for app in web_apps(&config) {
        let read: &[&str] = if app.image.starts_with("router:") {
            router::config::VARIABLES
        } else {
            vote_app::config::VARIABLES
        };
        for name in app.settings(&config).keys() {
            let platform = APP_SERVICE_SETTINGS.contains(&name.as_str())
                || APP_SERVICE_PREFIXES.iter().any(|prefix| name.starts_with(prefix));
            assert!(
                platform || read.contains(&name.as_str()),
                "{} sets {name}, which its service never reads",
                app.reference()
            );
        }
    }
}

#[test]
fn the_outputs_the_pipelines_read_exist() {
    let config = Config::load();
    let missing: Vec<_> =
        PIPELINE_OUTPUTS.iter().filter(|name| !config.outputs.contains_key(**name)).collect();
    assert!(missing.is_empty(), "outputs missing: {missing:?}");
}
