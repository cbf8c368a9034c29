use std::cell::RefCell;
use std::collections::HashMap;

use super::*;

fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let vars: HashMap<String, String> =
        vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    Config::from_lookup(|name| vars.get(name).cloned())
}

#[test]
fn a_fresh_machine_gets_working_defaults() {
    let config = config(&[]).unwrap();
    assert_eq!(config.port, 8080);
    assert_eq!(config.title, "Azure Voting App");
    let names: Vec<_> = config.choices.iter().map(|c| c.as_str().to_owned()).collect();
    assert_eq!(names, ["Cats", "Dogs"]);
    assert!(config.redis_url.is_none() && config.database_url.is_none());
    assert!(config.admin_token.is_none());
    assert_eq!(LogFormat::from_lookup(|_| None), Ok(LogFormat::Text));
}

#[test]
fn the_original_apps_variables_still_work() {
    let config = config(&[
        ("TITLE", "Pets"),
        ("VOTE1VALUE", "Birds"),
        ("VOTE2VALUE", "Fish"),
        ("REDIS", "cache"),
        ("REDIS_PWD", "p@ss:w/rd"),
    ])
    .unwrap();
    assert_eq!(config.title, "Pets");
    assert!(config.choices.parse("Birds").is_some() && config.choices.parse("Fish").is_some());
    let url = config.redis_url.unwrap();
    assert_eq!(url.expose(), "redis://:p%40ss%3Aw%2Frd@cache:6379/0");
}

#[test]
fn redis_url_wins_over_the_original_variables() {
    let url = "rediss://:key@name.redis.cache.windows.net:6380/0";
    let config = config(&[("REDIS_URL", url), ("REDIS", "ignored")]).unwrap();
    assert_eq!(config.redis_url.unwrap().expose(), url);
}

#[test]
fn showhost_puts_the_instance_name_in_the_title() {
    let config = config(&[("SHOWHOST", "true"), ("INSTANCE_NAME", "blue-1")]).unwrap();
    assert_eq!(config.title, "blue-1");
    let config = self::config(&[("SHOWHOST", "true"), ("HOSTNAME", "pod-7")]).unwrap();
    assert_eq!((config.title.as_str(), config.instance_name.as_str()), ("pod-7", "pod-7"));
}

#[test]
fn bad_values_are_refused_naming_the_variable() {
    let cases: &[(&str, &str)] = &[
        ("PORT", "eighty"),
        ("PORT", "0"),
        ("PORT", "70000"),
        ("SHOWHOST", "maybe"),
        ("SHUTDOWN_TIMEOUT_SECS", "-1"),
        ("VOTE1VALUE", "reset"),
        ("VOTE2VALUE", "Cats"),
        ("REDIS_URL", "http://cache:6379"),
        ("REDIS_KEY", "two words"),
        ("DATABASE_URL", "mysql://db/votes"),
    ];
    for (variable, value) in cases {
        let error = config(&[(variable, value)]).unwrap_err();
        assert_eq!(error.variable, *variable, "{variable}={value}");
        assert!(error.to_string().contains(variable), "{error}");
    }
    let error = LogFormat::from_lookup(|_| Some("xml".to_owned())).unwrap_err();
    assert_eq!(
        error.to_string(),
        r#"invalid configuration: LOG_FORMAT="xml" is neither json nor text"#
    );
}

#[test]
fn secret_values_never_appear_in_errors_or_debug_output() {
    let error = config(&[("REDIS_URL", "http://:topsecret@cache")]).unwrap_err();
    assert!(!error.to_string().contains("topsecret"), "{error}");

    let config = config(&[
        ("REDIS_URL", "redis://:topsecret@cache:6379"),
        ("DATABASE_URL", "postgres://app:topsecret@db/votes"),
        ("ADMIN_TOKEN", "topsecret"),
    ])
    .unwrap();
    assert!(!format!("{config:?}").contains("topsecret"));
}

#[test]
fn the_healthcheck_reads_the_port_and_nothing_else() {
    let asked = RefCell::new(Vec::new());
    assert_eq!(port_from_lookup(recording(&[("PORT", " 8081 ")], &asked)), Ok(8081));
    assert_eq!(port_from_lookup(recording(&[("PORT", "")], &asked)), Ok(8080));
    assert_eq!(asked.into_inner(), ["PORT", "PORT"]);
    let error = port_from_lookup(|_| Some("eighty".to_owned())).unwrap_err();
    assert_eq!(error.variable, "PORT");
}

/// A lookup that answers from `vars` and records every name it is asked for.
fn recording<'a>(
    vars: &'a [(&'a str, &'a str)],
    asked: &'a RefCell<Vec<String>>,
) -> impl Fn(&str) -> Option<String> + 'a {
    move |name| {
        asked.borrow_mut().push(name.to_owned());
        vars.iter().find(|(key, _)| *key == name).map(|(_, value)| (*value).to_owned())
    }
}

#[tokio::test]
async fn every_variable_the_app_reads_is_in_the_published_list() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let asked = RefCell::new(Vec::new());
    let _ = LogFormat::from_lookup(recording(&[], &asked));
    let _ = Config::from_lookup(recording(&[], &asked));
    // With a vault URL every Key Vault and identity variable is read.
    let vault = [("KEY_VAULT_URL", "https://example.vault.azure.net/")];
    SecretSources::from_lookup(recording(&vault, &asked)).expect("valid settings");

    let asked = asked.into_inner();
    let unlisted: Vec<_> =
        asked.iter().filter(|name| !VARIABLES.contains(&name.as_str())).collect();
    assert!(unlisted.is_empty(), "read but not in config::VARIABLES: {unlisted:?}");
    let expected =
        ["PORT", "LOG_FORMAT", "ADMIN_TOKEN_FILE", "KEY_VAULT_MAX_ATTEMPTS", "AZURE_CLIENT_ID"];
    for expected in expected {
        assert!(asked.iter().any(|name| name == expected), "{expected} was not read");
    }
}

#[test]
fn the_page_language_setting_is_fr_or_en() {
    let config =
        |value: &str| Config::from_lookup(|name| (name == "UI_LANGUAGE").then(|| value.to_owned()));
    assert_eq!(config("FR").unwrap().ui_language, Some(crate::i18n::Lang::Fr));
    assert_eq!(config("en").unwrap().ui_language, Some(crate::i18n::Lang::En));
    let error = config("de").unwrap_err();
    assert_eq!((error.variable, error.shown.as_str()), ("UI_LANGUAGE", "\"de\""));
}

#[test]
fn live_streams_default_to_128_and_zero_turns_them_off() {
    let config = |value: Option<&str>| {
        Config::from_lookup(|name| value.filter(|_| name == "LIVE_STREAMS").map(str::to_owned))
    };
    assert_eq!(config(None).unwrap().live_streams, 128);
    assert_eq!(config(Some("0")).unwrap().live_streams, 0);
    assert_eq!(config(Some(" 500 ")).unwrap().live_streams, 500);
    for bad in ["-1", "many", "100001"] {
        let error = config(Some(bad)).unwrap_err();
        assert_eq!(error.variable, "LIVE_STREAMS", "{bad}");
    }
}
