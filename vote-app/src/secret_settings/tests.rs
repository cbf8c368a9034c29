use std::collections::HashMap;

use super::*;

#[tokio::test]
async fn a_file_setting_is_read_without_its_trailing_newline_and_shown_nowhere() {
    let path = std::env::temp_dir().join(format!("vote-app-secret-{}", std::process::id()));
    std::fs::write(&path, "file-secret\n").unwrap();
    let vars = HashMap::from([("REDIS_PWD_FILE", path.display().to_string())]);
    let sources = SecretSources::from_lookup(|name| vars.get(name).cloned()).unwrap();
    let resolved = resolve(&sources).await.unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(resolved.get("REDIS_PWD").as_deref(), Some("file-secret"));
    assert!(!format!("{resolved:?}").contains("file-secret"));
}

#[tokio::test]
async fn a_missing_file_names_the_variable_and_the_path() {
    let vars = HashMap::from([("ADMIN_TOKEN_FILE", "/nonexistent/token".to_owned())]);
    let sources = SecretSources::from_lookup(|name| vars.get(name).cloned()).unwrap();
    let error = resolve(&sources).await.unwrap_err();
    assert_eq!(error.to_string(), r#"ADMIN_TOKEN_FILE="/nonexistent/token": cannot read the file"#);
}
