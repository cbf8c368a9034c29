use std::collections::HashMap;

use super::*;

#[test]
fn the_default_mapping_reads_the_redis_password_and_the_admin_token() {
    let mapping = parse_mapping(DEFAULT_VAULT_SECRETS).unwrap();
    let expected = [("REDIS_PWD", "redis-password"), ("ADMIN_TOKEN", "admin-token")];
    let expected: Vec<_> = expected.iter().map(|(s, n)| (*s, (*n).to_owned())).collect();
    assert_eq!(mapping, expected);
}

#[test]
fn a_bad_mapping_is_refused() {
    for text in
        ["REDIS_PWD", "PASSWORD=redis", "REDIS_PWD=", "REDIS_PWD=under_score", "REDIS_PWD=a b"]
    {
        assert!(matches!(parse_mapping(text), Err(SecretsError::Mapping(_))), "{text}");
    }
}

#[tokio::test]
async fn a_file_setting_is_read_without_its_trailing_newline_and_shown_nowhere() {
    let path = std::env::temp_dir().join(format!("vote-app-secret-{}", std::process::id()));
    std::fs::write(&path, "file-secret\n").unwrap();
    let vars = HashMap::from([("REDIS_PWD_FILE", path.display().to_string())]);
    let resolved = resolve(|name| vars.get(name).cloned()).await.unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(resolved.get("REDIS_PWD").as_deref(), Some("file-secret"));
    assert!(!format!("{resolved:?}").contains("file-secret"));
}

#[tokio::test]
async fn a_missing_file_names_the_variable_and_the_path() {
    let vars = HashMap::from([("ADMIN_TOKEN_FILE", "/nonexistent/token".to_owned())]);
    let error = resolve(|name| vars.get(name).cloned()).await.unwrap_err();
    assert_eq!(error.to_string(), r#"ADMIN_TOKEN_FILE="/nonexistent/token": cannot read the file"#);
}
