use std::collections::HashMap;

use super::*;

fn kind(vars: &[(&str, &str)]) -> Result<CredentialKind, KeyVaultError> {
    let vars: HashMap<&str, &str> = vars.iter().copied().collect();
    CredentialKind::from_lookup(&|name| vars.get(name).map(|v| (*v).to_owned()))
}

#[test]
fn the_credential_follows_the_platform_unless_named() {
    use CredentialKind::*;
    assert_eq!(kind(&[]).unwrap(), Developer);
    assert_eq!(
        kind(&[("IDENTITY_ENDPOINT", "http://localhost:8081/msi/token")]).unwrap(),
        ManagedIdentity
    );
    assert_eq!(
        kind(&[("AZURE_FEDERATED_TOKEN_FILE", "/var/run/token")]).unwrap(),
        WorkloadIdentity
    );
    assert_eq!(kind(&[("AZURE_CREDENTIAL", "managed-identity")]).unwrap(), ManagedIdentity);
    let named = [("AZURE_CREDENTIAL", "developer"), ("IDENTITY_ENDPOINT", "http://x")];
    assert_eq!(kind(&named).unwrap(), Developer);
    assert!(matches!(
        kind(&[("AZURE_CREDENTIAL", "password")]),
        Err(KeyVaultError::UnknownCredential(_))
    ));
}
