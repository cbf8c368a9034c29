use std::collections::HashMap;

use super::*;

fn config_with(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let mut env: HashMap<String, String> = HashMap::from([
        ("ROUTER_UPSTREAM_EVEN".into(), "http://127.0.0.1:8081".into()),
        ("ROUTER_UPSTREAM_ODD".into(), "https://odd.azurewebsites.net".into()),
    ]);
    for (var, value) in vars {
        env.insert((*var).into(), (*value).into());
    }
    Config::from_lookup(|var| env.get(var).cloned())
}

#[test]
fn defaults_apply_when_only_the_upstreams_are_set() {
    let config = config_with(&[]).unwrap();
    assert_eq!(config.port, 8080);
    assert_eq!(config.odd.host, "odd.azurewebsites.net");
    assert_eq!(config.request_timeout, Duration::from_secs(30));
    assert_eq!(config.max_connections_per_upstream, 256);
    assert_eq!(config.log_format, LogFormat::Text);
}

#[test]
fn a_missing_upstream_names_the_variable() {
    let error = Config::from_lookup(|_| None).unwrap_err();
    assert!(error.to_string().starts_with("ROUTER_UPSTREAM_EVEN is not set"), "{error}");
}

#[test]
fn bad_values_name_the_variable_and_the_value() {
    let cases = [
        ("ROUTER_UPSTREAM_ODD", "ftp://odd"),
        ("ROUTER_UPSTREAM_EVEN", "localhost:8081"),
        ("PORT", "80800"),
        ("ROUTER_CONNECT_TIMEOUT_MS", "2s"),
        ("ROUTER_REQUEST_TIMEOUT_MS", "0"),
        ("ROUTER_HEALTH_PATH", "health"),
        ("ROUTER_MAX_CONNECTIONS_PER_UPSTREAM", "0"),
        ("ROUTER_MAX_CONNECTIONS_PER_UPSTREAM", "65536"),
        ("LOG_FORMAT", "xml"),
    ];
    for (var, value) in cases {
        let error = config_with(&[(var, value)]).unwrap_err();
        let message = error.to_string();
        assert!(message.starts_with(&format!("{var}=\"{value}\" is invalid")), "{message}");
    }
}

#[test]
fn overrides_are_read() {
    let config = config_with(&[
        ("PORT", "9000"),
        ("ROUTER_CONNECT_TIMEOUT_MS", "150"),
        ("ROUTER_MAX_CONNECTIONS_PER_UPSTREAM", "8"),
        ("LOG_FORMAT", "JSON"),
    ])
    .unwrap();
    assert_eq!(config.port, 9000);
    assert_eq!(config.connect_timeout, Duration::from_millis(150));
    assert_eq!(config.max_connections_per_upstream, 8);
    assert_eq!(config.log_format, LogFormat::Json);
}

#[test]
fn the_healthcheck_reads_the_port_and_nothing_else() {
    let asked = std::cell::RefCell::new(Vec::new());
    let port = port_from_lookup(|var| {
        asked.borrow_mut().push(var.to_owned());
        Some("9000".to_owned())
    });
    assert_eq!(port, Ok(9000));
    assert_eq!(asked.into_inner(), ["PORT"]);
    assert_eq!(port_from_lookup(|_| None), Ok(8080));
    let error = port_from_lookup(|_| Some("80800".to_owned())).unwrap_err();
    assert!(error.to_string().starts_with("PORT=\"80800\" is invalid"), "{error}");
}

#[test]
fn the_upstream_ca_file_adds_its_certificates_and_a_bad_one_names_the_variable() {
    let dir = std::env::temp_dir();
    let id = std::process::id();
    let key = rcgen::KeyPair::generate().unwrap();
    let ca = rcgen::CertificateParams::new(vec!["test-ca".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let good = dir.join(format!("router-config-ca-{id}.pem"));
    let empty = dir.join(format!("router-config-empty-{id}.pem"));
    let missing = dir.join(format!("router-config-missing-{id}.pem"));
    std::fs::write(&good, ca.pem()).unwrap();
    std::fs::write(&empty, "not a certificate\n").unwrap();

    assert!(config_with(&[]).unwrap().upstream_ca.is_empty(), "none by default");
    let config = config_with(&[("ROUTER_UPSTREAM_CA_FILE", good.to_str().unwrap())]).unwrap();
    assert_eq!(config.upstream_ca, vec![ca.der().clone()]);
    for (path, reason) in [(&empty, "no PEM certificate"), (&missing, "cannot read")] {
        let path = path.to_str().unwrap();
        let error = config_with(&[("ROUTER_UPSTREAM_CA_FILE", path)]).unwrap_err().to_string();
        let named = format!("ROUTER_UPSTREAM_CA_FILE=\"{path}\" is invalid");
        assert!(error.starts_with(&named) && error.contains(reason), "{error}");
    }
    let _ = std::fs::remove_file(good);
    let _ = std::fs::remove_file(empty);
}

#[test]
fn every_variable_the_router_reads_is_in_the_published_list() {
    let asked = std::cell::RefCell::new(Vec::new());
    let config = Config::from_lookup(|var| {
        asked.borrow_mut().push(var.to_owned());
        let upstream = matches!(var, "ROUTER_UPSTREAM_EVEN" | "ROUTER_UPSTREAM_ODD");
        upstream.then(|| "http://127.0.0.1:8081".to_owned())
    });
    assert!(config.is_ok(), "{config:?}");
    let asked = asked.into_inner();
    let unlisted: Vec<_> = asked.iter().filter(|var| !VARIABLES.contains(&var.as_str())).collect();
    assert!(unlisted.is_empty(), "read but not in config::VARIABLES: {unlisted:?}");
    assert!(asked.len() >= 12, "only {asked:?} were read");
}
