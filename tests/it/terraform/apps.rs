//! The web apps, their app settings and the role assignments, read from the evaluated
//! configuration.

use std::collections::BTreeMap;

use hcl::Value;

use super::config::Address;
use super::eval::{Evaluated, InstanceKey, placeholder};

/// One instance of an `azurerm_linux_web_app`.
#[derive(Debug, Clone)]
pub(crate) struct WebApp {
    pub(crate) address: Address,
    pub(crate) key: InstanceKey,
    /// `site_config.application_stack.docker_image_name`: which service it runs.
    pub(crate) image: String,
}

impl WebApp {
    /// `azurerm_linux_web_app.vote["even"]`.
    pub(crate) fn reference(&self) -> String {
        Evaluated::instance_reference(&self.address, &self.key)
    }

    /// The placeholder of one of its attributes once created (`default_hostname`).
    pub(crate) fn created(&self, attribute: &str) -> String {
        placeholder(&format!("{}.{attribute}", self.reference()))
    }

    pub(crate) fn argument(&self, config: &Evaluated<'_>, path: &[&str]) -> Option<Value> {
        config.argument(&self.address, &self.key, path)
    }

    pub(crate) fn string(&self, config: &Evaluated<'_>, path: &[&str]) -> String {
        config.string(&self.address, &self.key, path)
    }

    /// `app_settings`, every value as the text App Service would set.
    pub(crate) fn settings(&self, config: &Evaluated<'_>) -> BTreeMap<String, String> {
        let Some(Value::Object(settings)) = self.argument(config, &["app_settings"]) else {
            panic!("{} has no app_settings object", self.reference());
        };
        settings.into_iter().map(|(name, value)| (name, text(&value))).collect()
    }
}

/// A value as an environment variable holds it.
fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// Every web app instance.
pub(crate) fn web_apps(config: &Evaluated<'_>) -> Vec<WebApp> {
    let addresses =
        config.config.resources.keys().filter(|address| address.kind == "azurerm_linux_web_app");
    addresses
        .flat_map(|address| {
            config.instance_keys(address).into_iter().map(move |key| {
                let image = config.string(
                    address,
                    &key,
                    &["site_config", "application_stack", "docker_image_name"],
                );
                WebApp { address: address.clone(), key, image }
            })
        })
        .collect()
}

/// The web apps running the vote-app image.
pub(crate) fn vote_apps(config: &Evaluated<'_>) -> Vec<WebApp> {
    web_apps(config).into_iter().filter(|app| app.image.starts_with("vote-app:")).collect()
}

/// The one web app running the router image.
pub(crate) fn router_app(config: &Evaluated<'_>) -> WebApp {
    let mut routers: Vec<WebApp> =
        web_apps(config).into_iter().filter(|app| app.image.starts_with("router:")).collect();
    assert_eq!(routers.len(), 1, "exactly one web app runs the router: {routers:?}");
    routers.remove(0)
}

/// The object a placeholder names, when it is `«OBJECT.attribute»`.
pub(crate) fn referenced<'v>(value: &'v str, attribute: &str) -> Option<&'v str> {
    value.strip_prefix('«')?.strip_suffix('»')?.strip_suffix(attribute)?.strip_suffix('.')
}

/// The Key Vault secret an app setting refers to, when it is a Key Vault reference without a
/// version (`@Microsoft.KeyVault(SecretUri=<versionless id>)`), so rotations are picked up.
pub(crate) fn key_vault_secret(value: &str) -> Option<&str> {
    let uri = value.strip_prefix("@Microsoft.KeyVault(SecretUri=")?.strip_suffix(')')?;
    referenced(uri, "versionless_id")
}

/// One `azurerm_role_assignment` instance, evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RoleAssignment {
    pub(crate) role: String,
    pub(crate) scope: String,
    pub(crate) principal: String,
}

pub(crate) fn role_assignments(config: &Evaluated<'_>) -> Vec<RoleAssignment> {
    let addresses =
        config.config.resources.keys().filter(|address| address.kind == "azurerm_role_assignment");
    addresses
        .flat_map(|address| {
            config.instance_keys(address).into_iter().map(move |key| RoleAssignment {
                role: config.string(address, &key, &["role_definition_name"]),
                scope: config.string(address, &key, &["scope"]),
                principal: config.string(address, &key, &["principal_id"]),
            })
        })
        .collect()
}

/// The instance of a resource of `kind` a placeholder prefix names (`azurerm_service_plan.vote["even"]`).
pub(crate) fn instance_of(
    config: &Evaluated<'_>,
    kind: &str,
    reference: &str,
) -> (Address, InstanceKey) {
    let addresses = config.config.resources.keys().filter(|address| address.kind == kind);
    addresses
        .flat_map(|address| {
            config.instance_keys(address).into_iter().map(move |key| (address.clone(), key))
        })
        .find(|(address, key)| Evaluated::instance_reference(address, key) == reference)
        .unwrap_or_else(|| panic!("{reference} is not an instance of a {kind}"))
}
