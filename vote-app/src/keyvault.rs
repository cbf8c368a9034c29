//! Reading secrets from Azure Key Vault with the official Azure SDK for Rust.
//!
//! The identity is chosen explicitly (`azure_identity` 1.0 has no default chain): see
//! [`CredentialKind`] for how the settings pick it. A user-assigned managed identity is picked
//! by `AZURE_CLIENT_ID`.

use std::sync::Arc;
use std::time::Duration;

use azure_core::credentials::TokenCredential;
use azure_core::error::ErrorKind;
use azure_core::http::{ClientOptions, RetryOptions};
use azure_identity::{
    DeveloperToolsCredential, ManagedIdentityCredential, ManagedIdentityCredentialOptions,
    UserAssignedId, WorkloadIdentityCredential,
};
use azure_security_keyvault_secrets::{SecretClient, SecretClientOptions};

use crate::config::{CredentialKind, VaultSettings};
use crate::secret::Secret;

/// A failure to read a secret. Messages name the vault and the secret, never a value.
#[derive(Debug, thiserror::Error)]
pub enum KeyVaultError {
    /// The credential could not be set up (e.g. workload identity without its token file).
    #[error("cannot set up the {0:?} credential")]
    Credential(CredentialKind, #[source] Box<azure_core::Error>),
    /// The vault URL was refused by the client.
    #[error("KEY_VAULT_URL={0:?} cannot be used")]
    VaultUrl(String, #[source] Box<azure_core::Error>),
    /// The vault answered that the secret does not exist.
    #[error("secret {name:?} does not exist in vault {vault}")]
    Missing {
        /// The vault's URL.
        vault: String,
        /// The secret's name in the vault.
        name: String,
    },
    /// The vault refused the identity: a wrong token or a missing role assignment.
    #[error(
        "vault {vault} refused access to secret {name:?} (HTTP {status}): check the identity and its Key Vault Secrets User role"
    )]
    Denied {
        /// The vault's URL.
        vault: String,
        /// The secret's name in the vault.
        name: String,
        /// 401 or 403.
        status: u16,
    },
    /// The vault or the identity endpoint kept failing.
    #[error("cannot read secret {name:?} from vault {vault} after {attempts} attempts")]
    Unreachable {
        /// The vault's URL.
        vault: String,
        /// The secret's name in the vault.
        name: String,
        /// How many times it was tried.
        attempts: u32,
        /// The last failure.
        #[source]
        source: Box<azure_core::Error>,
    },
}

/// A client for one vault, with bounded retries.
pub struct KeyVault {
    client: SecretClient,
    url: String,
    max_attempts: u32,
}

impl std::fmt::Debug for KeyVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyVault").field("url", &self.url).finish_non_exhaustive()
    }
}

/// Builds the credential the settings chose.
trait BuildCredential {
    fn build(self, client_id: Option<String>) -> azure_core::Result<Arc<dyn TokenCredential>>;
}

impl BuildCredential for CredentialKind {
    fn build(self, client_id: Option<String>) -> azure_core::Result<Arc<dyn TokenCredential>> {
        Ok(match self {
            Self::ManagedIdentity => {
                let options = ManagedIdentityCredentialOptions {
                    user_assigned_id: client_id.map(UserAssignedId::ClientId),
                    // Retries are ours (see `KeyVault::fetch`), so a failure is reported in
                    // seconds, not after the SDK's minute of silent retries.
                    client_options: ClientOptions {
                        retry: RetryOptions::none(),
                        ..Default::default()
                    },
                };
                ManagedIdentityCredential::new(Some(options))?
            }
            Self::WorkloadIdentity => WorkloadIdentityCredential::new(None)?,
            Self::Developer => DeveloperToolsCredential::new(None)?,
        })
    }
}

impl KeyVault {
    /// Prepares a client for the vault the settings name (no request is made yet).
    pub fn new(settings: &VaultSettings) -> Result<Self, KeyVaultError> {
        let (url, kind) = (settings.url.as_str(), settings.credential);
        let credential = kind
            .build(settings.client_id.clone())
            .map_err(|error| KeyVaultError::Credential(kind, Box::new(error)))?;
        let options = SecretClientOptions {
            client_options: ClientOptions { retry: RetryOptions::none(), ..Default::default() },
            verify_challenge_resource: Some(settings.verify_challenge_resource),
            ..Default::default()
        };
        let client = SecretClient::new(url, credential, Some(options))
            .map_err(|error| KeyVaultError::VaultUrl(url.to_owned(), Box::new(error)))?;
        tracing::info!(vault = url, credential = ?kind, "reading secrets from Azure Key Vault");
        Ok(Self { client, url: url.to_owned(), max_attempts: settings.max_attempts })
    }

    /// Reads the current version of a secret. A missing secret or a refused identity fails at
    /// once; anything else (network, identity endpoint, 5xx, throttling) is retried with
    /// doubling waits, then reported.
    pub async fn fetch(&self, name: &str) -> Result<Secret, KeyVaultError> {
        let mut delay = Duration::from_secs(1);
        let mut attempt = 1;
        loop {
            let error = match self.client.get_secret(name, None).await {
                Ok(response) => match response.into_model() {
                    Ok(secret) => return self.value(name, secret.value),
                    Err(error) => error,
                },
                Err(error) => error,
            };
            let error = self.retryable(name, error)?;
            if attempt >= self.max_attempts {
                let (vault, name, source) = (self.url.clone(), name.to_owned(), Box::new(error));
                return Err(KeyVaultError::Unreachable { vault, name, attempts: attempt, source });
            }
            let error = crate::error::error_chain(&error);
            tracing::warn!(vault = %self.url, secret = name, attempt, retry_in = ?delay, %error, "Key Vault not reachable yet");
            tokio::time::sleep(delay).await;
            delay *= 2;
            attempt += 1;
        }
    }

    fn value(&self, name: &str, value: Option<String>) -> Result<Secret, KeyVaultError> {
        let missing = || KeyVaultError::Missing { vault: self.url.clone(), name: name.to_owned() };
        value.map(Secret::new).ok_or_else(missing)
    }

    /// Hands back an error worth retrying (network trouble, an identity endpoint not answering
    /// yet, throttling, 5xx), or turns it into the final report.
    fn retryable(
        &self,
        name: &str,
        error: azure_core::Error,
    ) -> Result<azure_core::Error, KeyVaultError> {
        let (vault, name) = (self.url.clone(), name.to_owned());
        match error.kind() {
            ErrorKind::HttpResponse { status, .. } => match u16::from(*status) {
                404 => Err(KeyVaultError::Missing { vault, name }),
                status @ (401 | 403) => Err(KeyVaultError::Denied { vault, name, status }),
                _ => Ok(error),
            },
            ErrorKind::Connection | ErrorKind::Io | ErrorKind::Credential => Ok(error),
            // A challenge for another domain, an unreadable answer: retrying cannot help.
            ErrorKind::DataConversion | ErrorKind::Other => Err(KeyVaultError::Unreachable {
                vault,
                name,
                attempts: 1,
                source: Box::new(error),
            }),
        }
    }
}
