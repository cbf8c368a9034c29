//! The choices a voter can pick, parsed once at the boundary.
//!
//! The original app incremented whatever key a POST named, so any value created a new Redis key.
//! Here a [`Choice`] can only be obtained from [`Choices::parse`], and the store takes a `Choice`,
//! so that bug cannot be written.

use std::fmt;

use serde::Serialize;

/// The longest choice name accepted in configuration: it is shown on a button and used as a
/// Redis hash field and a metric label, so it stays short.
const MAX_NAME_LEN: usize = 40;

/// The form value that means "reset the counts" in the original app; it cannot be a choice.
pub const RESET: &str = "reset";

/// One of the configured choices ("Cats", "Dogs").
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Choice(String);

impl Choice {
    /// The name shown to voters, stored in Redis and in the ledger.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Choice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The two configured choices, in display order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choices([Choice; 2]);

/// Why a pair of choice names was refused at startup.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidChoice {
    /// An empty button cannot be clicked.
    #[error("must not be empty")]
    Empty,
    /// Longer names would not fit a button or make sensible metric labels.
    #[error("must be at most {MAX_NAME_LEN} characters")]
    TooLong,
    /// Control characters would corrupt logs and metric labels.
    #[error("must not contain control characters")]
    ControlCharacter,
    /// `reset` is the form value of the admin reset, as in the original app.
    #[error("must not be \"{RESET}\", which is the reset action")]
    Reserved,
    /// Two identical buttons would count into the same key.
    #[error("must differ from the other choice")]
    Duplicate,
}

impl Choices {
    /// Validates the two configured names. Errors say which rule was broken; the caller names
    /// the variable.
    pub fn new(first: &str, second: &str) -> Result<Self, (usize, InvalidChoice)> {
        let first = Self::validate(first).map_err(|e| (0, e))?;
        let second = Self::validate(second).map_err(|e| (1, e))?;
        if first.eq_ignore_ascii_case(&second) {
            return Err((1, InvalidChoice::Duplicate));
        }
        Ok(Self([Choice(first), Choice(second)]))
    }

    fn validate(name: &str) -> Result<String, InvalidChoice> {
        let name = name.trim();
        if name.is_empty() {
            Err(InvalidChoice::Empty)
        } else if name.chars().count() > MAX_NAME_LEN {
            Err(InvalidChoice::TooLong)
        } else if name.chars().any(char::is_control) {
            Err(InvalidChoice::ControlCharacter)
        } else if name.eq_ignore_ascii_case(RESET) {
            Err(InvalidChoice::Reserved)
        } else {
            Ok(name.to_owned())
        }
    }

    /// The configured choice with exactly this name, or `None`: the only way to get a [`Choice`].
    pub fn parse(&self, name: &str) -> Option<&Choice> {
        self.0.iter().find(|choice| choice.0 == name)
    }

    /// Both choices, in display order.
    pub fn iter(&self) -> impl Iterator<Item = &Choice> {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests;
