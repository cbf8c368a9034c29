//! A string that must never be printed: passwords, tokens, URLs with credentials; and the
//! redaction of credentials in text that is printed (error chains).

use std::borrow::Cow;
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

/// `text` with the credentials of every URL in it replaced: `redis://:hunter2@cache:6379/0`
/// becomes `redis://[redacted]@cache:6379/0`.
///
/// Driver errors may carry the URL they were given (with its password), and errors are logged,
/// so every error chain goes through this before it is printed. A URL runs to the next space,
/// quote or bracket, and everything before its last `@` is redacted: an unencoded `/` or `@` in
/// a password (Azure access keys are base64) then hides a little too much, never too little.
pub fn redact_url_credentials(text: &str) -> Cow<'_, str> {
    if !text.contains("://") {
        return Cow::Borrowed(text);
    }
    let mut redacted = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(index) = rest.find("://") {
        let (before, after) = rest.split_at(index + "://".len());
        redacted.push_str(before);
        let is_end = |c: char| c.is_whitespace() || "\"'`<>()[]{},;".contains(c);
        let end = after.find(is_end).unwrap_or(after.len());
        let url = &after[..end];
        match url.rfind('@') {
            Some(at) => {
                redacted.push_str("[redacted]");
                redacted.push_str(&url[at..]);
            }
            None => redacted.push_str(url),
        }
        rest = &after[end..];
    }
    redacted.push_str(rest);
    Cow::Owned(redacted)
}

#[cfg(test)]
mod tests;
