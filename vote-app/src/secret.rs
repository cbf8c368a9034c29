//! A string that must never be printed: passwords, tokens, URLs with credentials.

use std::fmt;

/// A secret value. `Debug` and `Display` print `[redacted]`, so a secret can sit in a config
/// struct that is logged at start without leaking; the value is read only at the point of use,
/// through [`Secret::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value read from the environment, a file or Key Vault.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself. Call it only where the secret is handed to a client library.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Compares with a candidate in time independent of where they differ, so a caller cannot
    /// guess the admin token one character at a time by timing the answers.
    pub fn matches(&self, candidate: &str) -> bool {
        let (expected, given) = (self.0.as_bytes(), candidate.as_bytes());
        let mut difference = expected.len() ^ given.len();
        for (index, byte) in expected.iter().enumerate() {
            let other = given.get(index).copied().unwrap_or(!byte);
            difference |= usize::from(byte ^ other);
        }
        difference == 0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::Secret;

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
}
