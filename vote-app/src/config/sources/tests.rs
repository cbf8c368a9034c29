use std::collections::HashMap;

use super::*;

fn sources(vars: &[(&str, &str)]) -> Result<SecretSources, ConfigError> {
    let vars: HashMap<&str, &str> = vars.iter().copied().collect();
    SecretSources::from_lookup(|name| vars.get(name).map(|v| (*v).to_owned()))
}

fn vault(vars: &[(&str, &str)]) -> Result<VaultSettings, ConfigError> {
    let mut vars = vars.to_vec();
    vars.push(("KEY_VAULT_URL", "https://kv.vault.azure.net/"));
    Ok(sources(&vars)?.vault.expect("KEY_VAULT_URL is set"))
}

#[test]
fn without_a_vault_url_only_the_file_variables_count() {
    let sources = sources(&[("ADMIN_TOKEN_FILE", "/run/secrets/admin"), ("REDIS_PWD_FILE", "")])
        .expect("valid");
    let expected = ("ADMIN_TOKEN", "ADMIN_TOKEN_FILE".to_owned(), "/run/secrets/admin".to_owned());
    assert_eq!(sources.files, [expected]);
    assert_eq!(sources.vault, None);
}

#[test]
fn the_vault_defaults_read_the_redis_password_and_the_admin_token_with_checks_on() {
    let vault = vault(&[]).unwrap();
    let expected = [("REDIS_PWD", "redis-password"), ("ADMIN_TOKEN", "admin-token")];
    let expected: Vec<_> = expected.iter().map(|(s, n)| (*s, (*n).to_owned())).collect();
    assert_eq!(vault.secrets, expected);
    assert_eq!((vault.max_attempts, vault.verify_challenge_resource), (5, true));
    assert_eq!(vault.credential, CredentialKind::Developer);
}

#[test]
fn the_credential_follows_the_platform_unless_named() {
    use CredentialKind::*;
    let kind = |vars: &[(&str, &str)]| vault(vars).map(|vault| vault.credential);
    assert_eq!(
        kind(&[("IDENTITY_ENDPOINT", "http://localhost:8081/msi/token")]),
        Ok(ManagedIdentity)
    );
    assert_eq!(kind(&[("AZURE_FEDERATED_TOKEN_FILE", "/var/run/token")]), Ok(WorkloadIdentity));
    assert_eq!(kind(&[("AZURE_CREDENTIAL", "managed-identity")]), Ok(ManagedIdentity));
    let named = [("AZURE_CREDENTIAL", "developer"), ("IDENTITY_ENDPOINT", "http://x")];
    assert_eq!(kind(&named), Ok(Developer));
}

#[test]
fn a_bad_value_is_refused_with_the_variable_named_never_ignored() {
    let cases = [
        ("KEY_VAULT_MAX_ATTEMPTS", "abc"),
        ("KEY_VAULT_MAX_ATTEMPTS", "0"),
        ("KEY_VAULT_VERIFY_CHALLENGE_RESOURCE", "flase"),
        ("AZURE_CREDENTIAL", "password"),
        ("KEY_VAULT_SECRETS", "REDIS_PWD"),
        ("KEY_VAULT_SECRETS", "PASSWORD=redis"),
        ("KEY_VAULT_SECRETS", "REDIS_PWD=under_score"),
        ("KEY_VAULT_SECRETS", "REDIS_PWD=a b"),
    ];
    for (variable, value) in cases {
        let error = vault(&[(variable, value)]).unwrap_err();
        assert_eq!(error.variable, variable, "{value}");
        assert!(error.to_string().contains(&format!("{variable}={value:?}")), "{error}");
    }
    assert_eq!(vault(&[("KEY_VAULT_MAX_ATTEMPTS", "2")]).unwrap().max_attempts, 2);
    let off = vault(&[("KEY_VAULT_VERIFY_CHALLENGE_RESOURCE", "false")]).unwrap();
    assert!(!off.verify_challenge_resource);
}

#[test]
fn a_vault_url_with_credentials_is_refused_without_showing_them() {
    let vars = [("KEY_VAULT_URL", "https://kv:hunter2@kv.vault.azure.net/")];
    let error = sources(&vars).unwrap_err();
    assert_eq!(error.variable, "KEY_VAULT_URL");
    assert!(!error.to_string().contains("hunter2"), "{error}");
}
