use super::{Secret, redact_url_credentials};

#[test]
fn debug_and_display_never_show_the_value() {
    let secret = Secret::new("hunter2");
    assert_eq!(format!("{secret:?} {secret}"), "[redacted] [redacted]");
}

#[test]
fn matches_only_the_exact_value() {
    let secret = Secret::new("s3cret");
    assert!(secret.matches("s3cret"));
    for wrong in ["", "s3cre", "s3cret!", "S3cret", "x3cret"] {
        assert!(!secret.matches(wrong), "{wrong:?} must not match");
    }
}

#[test]
fn credentials_in_urls_are_redacted_wherever_they_appear() {
    let cases = [
        (
            "connection refused to redis://:hunter2@cache",
            "connection refused to redis://[redacted]@cache",
        ),
        ("rediss://user:hunter2@c:6380/0: timed out", "rediss://[redacted]@c:6380/0: timed out"),
        (
            "error with \"postgres://vote:hunter2@db:5432/votes\" and postgresql://a:b@x",
            "error with \"postgres://[redacted]@db:5432/votes\" and postgresql://[redacted]@x",
        ),
        // An Azure key pasted unencoded: more is hidden, nothing leaks.
        (
            "rediss://:ab/c+d=@n.redis.cache.windows.net:6380",
            "rediss://[redacted]@n.redis.cache.windows.net:6380",
        ),
        ("redis://cache:6379/0 has no credentials", "redis://cache:6379/0 has no credentials"),
        ("no url here: a@b", "no url here: a@b"),
    ];
    for (text, expected) in cases {
        assert_eq!(redact_url_credentials(text), expected);
    }
}
