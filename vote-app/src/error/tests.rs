use super::*;

#[test]
fn a_store_failure_is_a_503_whose_message_hides_the_cause_and_whose_log_hides_credentials() {
    let source = "connection refused to redis://:hunter2@cache";
    let error = AppError::from(BackendError::unavailable("redis", source));
    assert_eq!(error.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(!error.to_string().contains("hunter2"));
    assert!(
        error_chain(&error)
            .ends_with("redis is unavailable: connection refused to redis://[redacted]@cache")
    );
}
