//! Screenshots of every page state, kept as files for a person (or CI's artifact upload) to look
//! at: an accessibility or layout failure is easier to judge from a picture.
//!
//! They go to `VOTE_IT_ARTIFACTS`, by default `target/browser-artifacts` in the workspace.

use std::path::PathBuf;

use super::webdriver::Session;

/// The directory the screenshots go to, created if missing.
fn directory() -> PathBuf {
    let directory = std::env::var_os("VOTE_IT_ARTIFACTS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/browser-artifacts"),
        PathBuf::from,
    );
    std::fs::create_dir_all(&directory).unwrap_or_else(|error| {
        panic!("could not create the artifacts directory {}: {error}", directory.display())
    });
    directory
}

/// Saves a screenshot of the current page as `<state>.png` and returns its path.
pub(crate) async fn save_screenshot(session: &Session, state: &str) -> PathBuf {
    let png = session
        .screenshot()
        .await
        .unwrap_or_else(|error| panic!("a screenshot of the state {state:?}: {error}"));
    let path = directory().join(format!("{state}.png"));
    std::fs::write(&path, png)
        .unwrap_or_else(|error| panic!("could not write {}: {error}", path.display()));
    path
}

/// Decodes standard base64 (RFC 4648, with padding), as WebDriver sends a screenshot. Twenty
/// lines here spare the suite a dependency for one call.
pub(crate) fn decode_base64(text: &str) -> Result<Vec<u8>, String> {
    let value = |byte: u8| match byte {
        b'A'..=b'Z' => Ok(byte - b'A'),
        b'a'..=b'z' => Ok(byte - b'a' + 26),
        b'0'..=b'9' => Ok(byte - b'0' + 52),
        b'+' => Ok(62),
        b'/' => Ok(63),
        other => Err(format!("{:?} is not a base64 character", char::from(other))),
    };
    let text = text.trim_end_matches('=').as_bytes();
    let mut bytes = Vec::with_capacity(text.len() * 3 / 4);
    for chunk in text.chunks(4) {
        let mut buffer = 0u32;
        for (index, byte) in chunk.iter().enumerate() {
            buffer |= u32::from(value(*byte)?) << (18 - 6 * index);
        }
        // Four characters carry three bytes; a last chunk of n characters carries n - 1.
        let carried = chunk.len().saturating_sub(1);
        bytes.extend_from_slice(&buffer.to_be_bytes()[1..=carried]);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::decode_base64;

    #[test]
    fn base64_decodes_every_padding_length_and_refuses_other_characters() {
        let cases: [(&str, &[u8]); 5] = [
            ("", b""),
            ("TQ==", b"M"),
            ("TWE=", b"Ma"),
            ("TWFu", b"Man"),
            ("iVBORw0KGgo=", b"\x89PNG\r\n\x1a\n"),
        ];
        for (text, expected) in cases {
            assert_eq!(decode_base64(text).as_deref(), Ok(expected), "{text:?}");
        }
        assert!(decode_base64("TW-u").is_err());
    }
}
