//! Reading the secret settings from where [`SecretSources`] says they are: Key Vault first,
//! then `<NAME>_FILE`, then (left to the caller's lookup) the plain variable. The precedence is
//! described once, in [`crate::config`].

use std::collections::HashMap;

pub use crate::config::SECRET_SETTINGS;
use crate::config::SecretSources;
use crate::keyvault::{KeyVault, KeyVaultError};
use crate::secret::Secret;

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

/// Reads every secret setting that comes from a file or from Key Vault; a Key Vault secret
/// replaces a file's value for the same setting.
pub async fn resolve(sources: &SecretSources) -> Result<ResolvedSecrets, SecretsError> {
    let mut resolved = HashMap::new();
    for (setting, variable, path) in &sources.files {
        let read = std::fs::read_to_string(path);
        let (variable, path) = (variable.clone(), path.clone());
        let value = read.map_err(|source| SecretsError::File { variable, path, source })?;
        resolved.insert(*setting, Secret::new(value.trim_end_matches(['\r', '\n'])));
    }
    if let Some(settings) = &sources.vault {
        let vault = KeyVault::new(settings)?;
        for (setting, name) in &settings.secrets {
            resolved.insert(*setting, vault.fetch(name).await?);
            tracing::info!(setting, secret = %name, "secret read from Key Vault");
        }
    }
    Ok(ResolvedSecrets(resolved))
}

#[cfg(test)]
mod tests;
