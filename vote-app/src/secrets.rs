//! Where secret settings come from, in one precedence order:
//!
//! 1. Azure Key Vault, when `KEY_VAULT_URL` is set: each setting listed in `KEY_VAULT_SECRETS`
//!    (default `REDIS_PWD=redis-password,ADMIN_TOKEN=admin-token`) is read from the secret of
//!    that name, with the app's managed or workload identity.
//! 2. `<NAME>_FILE`: a file holding the value, e.g. mounted by the Key Vault CSI driver on AKS.
//! 3. `<NAME>`: the plain variable, e.g. resolved by App Service from a Key Vault reference.
//!
//! The result overlays the environment before [`crate::config::Config`] reads it, so the
//! config stays a pure function of its lookup.

use std::collections::HashMap;

use crate::keyvault::{KeyVault, KeyVaultError};
use crate::secret::Secret;

/// The settings that hold secrets, and so may come from Key Vault or a file.
pub const SECRET_SETTINGS: [&str; 4] = ["REDIS_URL", "REDIS_PWD", "DATABASE_URL", "ADMIN_TOKEN"];

/// Used when `KEY_VAULT_URL` is set and `KEY_VAULT_SECRETS` is not.
pub const DEFAULT_VAULT_SECRETS: &str = "REDIS_PWD=redis-password,ADMIN_TOKEN=admin-token";

/// Why the secrets could not be read. Nothing here carries a secret value.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    /// A `<NAME>_FILE` could not be read.
    #[error("{variable}={path:?}: cannot read the file")]
    File {
        /// The `_FILE` variable.
        variable: String,
        /// The path it gave.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// `KEY_VAULT_SECRETS` is not a list of `SETTING=secret-name`.
    #[error(
        "KEY_VAULT_SECRETS={0:?} is invalid: expected SETTING=secret-name pairs separated by commas, SETTING one of {SECRET_SETTINGS:?}"
    )]
    Mapping(String),
    /// Key Vault could not provide a secret.
    #[error(transparent)]
    KeyVault(#[from] KeyVaultError),
}

/// Secret settings resolved from Key Vault or files; `Debug` shows names only.
#[derive(Debug, Default)]
pub struct ResolvedSecrets(HashMap<&'static str, Secret>);

impl ResolvedSecrets {
    /// The resolved value of a setting, if it came from Key Vault or a file.
    pub fn get(&self, setting: &str) -> Option<String> {
        self.0.get(setting).map(|secret| secret.expose().to_owned())
    }
}

/// Reads every secret setting that comes from a file or from Key Vault.
pub async fn resolve(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<ResolvedSecrets, SecretsError> {
    let mut resolved = HashMap::new();
    for setting in SECRET_SETTINGS {
        let variable = format!("{setting}_FILE");
        if let Some(path) = lookup(&variable).filter(|path| !path.is_empty()) {
            let read = std::fs::read_to_string(&path);
            let value = read.map_err(|source| SecretsError::File { variable, path, source })?;
            resolved.insert(setting, Secret::new(value.trim_end_matches(['\r', '\n'])));
        }
    }
    if let Some(url) = lookup("KEY_VAULT_URL").filter(|url| !url.is_empty()) {
        let mapping =
            lookup("KEY_VAULT_SECRETS").unwrap_or_else(|| DEFAULT_VAULT_SECRETS.to_owned());
        let mapping = parse_mapping(&mapping)?;
        let vault = KeyVault::new(&url, &lookup)?;
        for (setting, name) in mapping {
            resolved.insert(setting, vault.fetch(&name).await?);
            tracing::info!(setting, secret = %name, "secret read from Key Vault");
        }
    }
    Ok(ResolvedSecrets(resolved))
}

/// Parses `REDIS_PWD=redis-password,ADMIN_TOKEN=admin-token`.
fn parse_mapping(text: &str) -> Result<Vec<(&'static str, String)>, SecretsError> {
    let invalid = || SecretsError::Mapping(text.to_owned());
    let pairs = text.split(',').map(str::trim).filter(|pair| !pair.is_empty());
    pairs
        .map(|pair| {
            let (setting, name) = pair.split_once('=').ok_or_else(invalid)?;
            let setting = SECRET_SETTINGS.into_iter().find(|known| *known == setting.trim());
            let name = name.trim();
            let valid_name =
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
            match (setting, valid_name) {
                (Some(setting), true) => Ok((setting, name.to_owned())),
                _ => Err(invalid()),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
