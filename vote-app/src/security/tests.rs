use super::*;

fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    pairs
        .iter()
        .map(|(name, value)| (HeaderName::from_static(name), HeaderValue::from_static(value)))
        .collect()
}

#[test]
fn same_origin_rules() {
    let cases: &[(&[(&str, &str)], bool)] = &[
        (&[], true),
        (&[("sec-fetch-site", "same-origin")], true),
        (&[("sec-fetch-site", "none")], true),
        (&[("sec-fetch-site", "cross-site"), ("origin", "http://vote.test")], false),
        (&[("sec-fetch-site", "same-site")], false),
        (&[("origin", "http://vote.test"), ("host", "vote.test")], true),
        (&[("origin", "https://vote.test:8443"), ("host", "vote.test:8443")], true),
        (&[("origin", "http://evil.test"), ("host", "vote.test")], false),
        (&[("origin", "null"), ("host", "vote.test")], false),
        (&[("origin", "http://vote.test")], false),
        (
            &[
                ("origin", "http://vote.test"),
                ("x-forwarded-host", "vote.test"),
                ("host", "app-even"),
            ],
            true,
        ),
        (
            &[
                ("origin", "http://evil.test"),
                ("x-forwarded-host", "vote.test"),
                ("host", "evil.test"),
            ],
            false,
        ),
    ];
    for (pairs, expected) in cases {
        assert_eq!(is_same_origin(&headers(pairs)), *expected, "{pairs:?}");
    }
}

#[test]
fn admin_token_rules() {
    let token = Secret::new("letmein");
    assert!(check_admin_token(Some(&token), Some("letmein")).is_ok());
    assert!(matches!(check_admin_token(Some(&token), None), Err(AppError::Unauthorized)));
    assert!(matches!(check_admin_token(Some(&token), Some("")), Err(AppError::Unauthorized)));
    assert!(matches!(check_admin_token(Some(&token), Some("guess")), Err(AppError::Forbidden)));
    assert!(matches!(check_admin_token(None, Some("letmein")), Err(AppError::Forbidden)));
}
