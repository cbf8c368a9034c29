//! Where the secret settings come from: `<NAME>_FILE` variables and the Key Vault settings
//! (`KEY_VAULT_*`, `AZURE_*`), typed and validated here like every other setting, before any
//! file is opened or any request made. The order they win in is described in
//! [`crate::config`].

use super::{ConfigError, parse_bool};

/// The settings that hold secrets, and so may come from Key Vault or a file (`<NAME>_FILE`).
pub const SECRET_SETTINGS: [&str; 4] = ["REDIS_URL", "REDIS_PWD", "DATABASE_URL", "ADMIN_TOKEN"];

/// Used when `KEY_VAULT_URL` is set and `KEY_VAULT_SECRETS` is not.
pub const DEFAULT_VAULT_SECRETS: &str = "REDIS_PWD=redis-password,ADMIN_TOKEN=admin-token";

/// Attempts per secret when the vault or the identity endpoint cannot be reached, unless
/// `KEY_VAULT_MAX_ATTEMPTS` says otherwise; waits double from 1 s (1, 2, 4, 8 s: ~15 s in all).
const DEFAULT_MAX_ATTEMPTS: u32 = 5;

/// Every place a secret setting may be read from, besides its plain variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretSources {
    /// `(setting, variable, path)` for each `<NAME>_FILE` that is set: mounted by the Key Vault
    /// CSI driver on AKS, or a Docker secret.
    pub files: Vec<(&'static str, String, String)>,
    /// Key Vault, when `KEY_VAULT_URL` is set.
    pub vault: Option<VaultSettings>,
}

/// How to reach Key Vault and what to read from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultSettings {
    /// `KEY_VAULT_URL`, e.g. `https://<name>.vault.azure.net/`.
    pub url: String,
    /// `KEY_VAULT_SECRETS`: which setting each secret name fills.
    pub secrets: Vec<(&'static str, String)>,
    /// The identity that signs the requests (`AZURE_CREDENTIAL`, else the platform's signal).
    pub credential: CredentialKind,
    /// `AZURE_CLIENT_ID`: the user-assigned managed identity to use, when there are several.
    pub client_id: Option<String>,
    /// `KEY_VAULT_MAX_ATTEMPTS` (default 5): attempts per secret while the vault is unreachable.
    pub max_attempts: u32,
    /// `KEY_VAULT_VERIFY_CHALLENGE_RESOURCE` (default `true`): the SDK checks that the vault's
    /// host lies inside the domain its authentication challenge names (`*.vault.azure.net`), so
    /// a look-alike host cannot collect a token. Only a local stand-in needs it off.
    pub verify_challenge_resource: bool,
}

/// Which identity signs the requests to the vault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    /// App Service (`IDENTITY_ENDPOINT` + `IDENTITY_HEADER`), or IMDS on VMs and AKS nodes.
    ManagedIdentity,
    /// AKS workload identity: a federated token file projected into the pod.
    WorkloadIdentity,
    /// The developer's `az login` or `azd auth login`.
    Developer,
}

impl SecretSources {
    /// Reads the `_FILE` and Key Vault settings through `lookup`. Empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let file_of = |setting| {
            let variable = format!("{setting}_FILE");
            get(&variable).map(|path| (setting, variable, path))
        };
        let files = SECRET_SETTINGS.into_iter().filter_map(file_of).collect();
        let Some(url) = get("KEY_VAULT_URL") else { return Ok(Self { files, vault: None }) };
        // The identity authenticates; credentials in the URL would only end up in log lines,
        // which name the vault.
        let authority = url.split_once("://").map_or("", |(_, rest)| rest);
        if authority.split(['/', '?', '#']).next().is_some_and(|host| host.contains('@')) {
            return Err(ConfigError::secret("KEY_VAULT_URL", "must not contain credentials"));
        }
        let mapping = get("KEY_VAULT_SECRETS").unwrap_or_else(|| DEFAULT_VAULT_SECRETS.to_owned());
        let verify = get("KEY_VAULT_VERIFY_CHALLENGE_RESOURCE");
        let vault = VaultSettings {
            url,
            secrets: parse_mapping(&mapping)?,
            credential: CredentialKind::from_lookup(&get)?,
            client_id: get("AZURE_CLIENT_ID"),
            max_attempts: parse_attempts(get("KEY_VAULT_MAX_ATTEMPTS"))?,
            verify_challenge_resource: parse_bool("KEY_VAULT_VERIFY_CHALLENGE_RESOURCE", verify)?
                .unwrap_or(true),
        };
        Ok(Self { files, vault: Some(vault) })
    }
}

impl CredentialKind {
    /// `AZURE_CREDENTIAL` when set, else what the platform provides:
    ///
    /// | Platform | Signal | Credential |
    /// |---|---|---|
    /// | AKS with workload identity | `AZURE_FEDERATED_TOKEN_FILE` | workload identity |
    /// | App Service / Functions | `IDENTITY_ENDPOINT` | managed identity (App Service endpoint) |
    /// | VM, AKS node (IMDS) | `AZURE_CREDENTIAL=managed-identity` | managed identity (IMDS) |
    /// | developer machine | none of the above | `az login` / `azd auth login` |
    fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        match get("AZURE_CREDENTIAL").as_deref().map(str::trim) {
            Some("managed-identity") => Ok(Self::ManagedIdentity),
            Some("workload-identity") => Ok(Self::WorkloadIdentity),
            Some("developer") => Ok(Self::Developer),
            Some(other) => Err(ConfigError::new(
                "AZURE_CREDENTIAL",
                other,
                "is not managed-identity, workload-identity or developer",
            )),
            None if get("AZURE_FEDERATED_TOKEN_FILE").is_some() => Ok(Self::WorkloadIdentity),
            None if get("IDENTITY_ENDPOINT").is_some() => Ok(Self::ManagedIdentity),
            None => Ok(Self::Developer),
        }
    }
}

fn parse_attempts(value: Option<String>) -> Result<u32, ConfigError> {
    let Some(value) = value else { return Ok(DEFAULT_MAX_ATTEMPTS) };
    match value.trim().parse::<u32>() {
        Ok(attempts @ 1..=20) => Ok(attempts),
        _ => {
            Err(ConfigError::new("KEY_VAULT_MAX_ATTEMPTS", &value, "is not a number from 1 to 20"))
        }
    }
}

/// Parses `REDIS_PWD=redis-password,ADMIN_TOKEN=admin-token`.
fn parse_mapping(text: &str) -> Result<Vec<(&'static str, String)>, ConfigError> {
    let invalid = || {
        let settings = SECRET_SETTINGS.join(", ");
        let reason = format!("is not a list of SETTING=secret-name, SETTING one of {settings}");
        ConfigError::new("KEY_VAULT_SECRETS", text, reason)
    };
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
