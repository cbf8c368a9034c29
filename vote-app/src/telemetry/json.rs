//! JSON written by hand: string escaping, and the formatter of span fields.
//!
//! tracing-subscriber's own span-field formatter collects the fields into a map of
//! `serde_json::Value`s and serializes it: about 7,000 instructions for the three fields of the
//! request span, more than the rest of the span's life. [`SpanFields`] writes the same JSON
//! object straight into the span's buffer.

use std::cell::RefCell;
use std::fmt::{self, Write};

use tracing::field::{Field, Visit};
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::FormatFields;
use tracing_subscriber::fmt::FormattedFields;
use tracing_subscriber::fmt::format::Writer;

/// Writes `text` as a JSON string, quotes included, escaped as serde_json does: `"`, `\` and
/// the control characters below U+0020; everything else is copied as it is.
pub(super) fn write_string(out: &mut impl Write, text: &str) -> fmt::Result {
    out.write_str("\"")?;
    write_escaped(out, text)?;
    out.write_str("\"")
}

/// Writes the inside of a JSON string: `text` escaped, without the quotes.
fn write_escaped(out: &mut impl Write, text: &str) -> fmt::Result {
    // Most values (ids, methods, routes) need no escape: one look, one copy.
    if !needs_escape(text.as_bytes()) {
        return out.write_str(text);
    }
    let mut unwritten = 0;
    for (at, byte) in text.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => continue,
        };
        // Escaped bytes are ASCII, so `at` and `at + 1` are character boundaries.
        out.write_str(&text[unwritten..at])?;
        match escape.is_empty() {
            true => write!(out, "\\u{byte:04x}")?,
            false => out.write_str(escape)?,
        }
        unwritten = at + 1;
    }
    out.write_str(&text[unwritten..])
}

/// Whether any byte of `text` needs an escape: looked at eight bytes at a time, since every
/// request line and span goes through here (byte by byte took a sixth of the line's cost).
fn needs_escape(text: &[u8]) -> bool {
    let mut words = text.chunks_exact(8);
    let escape_in_words = words.by_ref().any(|word| {
        // `chunks_exact` yields eight bytes; were it not so, take the exact byte-wise path.
        <[u8; 8]>::try_from(word).map_or(true, |word| word_needs_escape(u64::from_le_bytes(word)))
    });
    escape_in_words || words.remainder().iter().any(|&byte| byte_needs_escape(byte))
}

fn byte_needs_escape(byte: u8) -> bool {
    byte < 0x20 || byte == b'"' || byte == b'\\'
}

/// Whether one of the eight bytes in `word` is below 0x20, `"` or `\`: the "has a byte less
/// than n" and "has a zero byte" tricks of Sean Anderson's Bit Twiddling Hacks, exact as to
/// whether such a byte exists.
fn word_needs_escape(word: u64) -> bool {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);
    let has_zero = |word: u64| word.wrapping_sub(ONES) & !word & HIGHS;
    let below_space = word.wrapping_sub(ONES * 0x20) & !word & HIGHS;
    let quote = has_zero(word ^ (ONES * u64::from(b'"')));
    let backslash = has_zero(word ^ (ONES * u64::from(b'\\')));
    below_space | quote | backslash != 0
}

/// Formats span fields as one JSON object, `{"method":"GET","route":"/"}`: what the JSON event
/// formatter expects to find on each span (it parses the object back to nest it under `"span"`,
/// but only for the events logged inside a span, which are few).
#[derive(Debug, Default)]
pub(super) struct SpanFields;

impl<'writer> FormatFields<'writer> for SpanFields {
    fn format_fields<R: RecordFields>(
        &self,
        mut writer: Writer<'writer>,
        fields: R,
    ) -> fmt::Result {
        SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
            Ok(mut scratch) => {
                scratch.clear();
                write_object(&mut *scratch, fields)?;
                writer.write_str(&scratch)
            }
            // A field's `Debug` that makes a span of its own: format that one directly.
            Err(_) => write_object(&mut writer, fields),
        })
    }

    /// Fields recorded after the span was created join the same object.
    fn add_fields(
        &self,
        current: &'writer mut FormattedFields<Self>,
        fields: &tracing::span::Record<'_>,
    ) -> fmt::Result {
        let existing = match current.fields.strip_suffix('}') {
            Some(object) if object != "{" => object.len(),
            _ => 0,
        };
        current.fields.truncate(existing);
        let mut writer = current.as_writer();
        let mut object = JsonObject { out: &mut writer, fields: existing.min(1), result: Ok(()) };
        fields.record(&mut object);
        let (result, fields) = (object.result, object.fields);
        result?;
        match fields {
            0 => current.fields.push_str("{}"),
            _ => current.fields.push('}'),
        }
        Ok(())
    }
}

thread_local! {
    /// Span fields are formatted here, then copied to the span's empty buffer in one write,
    /// which allocates it once at its final size rather than growing it four or five times.
    static SCRATCH: RefCell<String> = RefCell::new(String::with_capacity(256));
}

/// Writes `fields` as one JSON object.
fn write_object<W: Write>(out: &mut W, fields: impl RecordFields) -> fmt::Result {
    let mut object = JsonObject { out, fields: 0, result: Ok(()) };
    fields.record(&mut object);
    let (result, fields) = (object.result, object.fields);
    result?;
    match fields {
        0 => out.write_str("{}"),
        _ => out.write_char('}'),
    }
}

/// A visitor writing each field as `"name":value`, opening the object before the first one.
struct JsonObject<'a, W: Write> {
    out: &'a mut W,
    /// Fields written so far: the first is preceded by `{`, the others by `,`.
    fields: usize,
    /// The first error from the output, if any: `Visit` methods cannot return one.
    result: fmt::Result,
}

impl<W: Write> JsonObject<'_, W> {
    fn field(&mut self, field: &Field, value: impl FnOnce(&mut W) -> fmt::Result) {
        if self.result.is_err() {
            return;
        }
        let separator = if self.fields == 0 { "{" } else { "," };
        self.fields += 1;
        self.result = self
            .out
            .write_str(separator)
            .and_then(|()| write_string(self.out, field.name()))
            .and_then(|()| self.out.write_str(":"))
            .and_then(|()| value(self.out));
    }
}

impl<W: Write> Visit for JsonObject<'_, W> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.field(field, |out| write_string(out, value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.field(field, |out| write!(out, "{value}"));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.field(field, |out| write!(out, "{value}"));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.field(field, |out| write!(out, "{value}"));
    }

    /// Finite numbers as numbers; NaN and the infinities, which JSON lacks, as strings.
    fn record_f64(&mut self, field: &Field, value: f64) {
        match value.is_finite() {
            true => self.field(field, |out| write!(out, "{value}")),
            false => self.field(field, |out| write!(out, "\"{value}\"")),
        }
    }

    /// Everything else (`%display`, `?debug`, errors) as a string, escaped as it is written.
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.field(field, |out| {
            out.write_char('"')?;
            write!(Escaping(out), "{value:?}")?;
            out.write_char('"')
        });
    }
}

/// Escapes whatever is written through it, so `Debug` output goes into a JSON string without
/// an intermediate `String`.
struct Escaping<'a, W: Write>(&'a mut W);

impl<W: Write> Write for Escaping<'_, W> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        write_escaped(self.0, text)
    }
}

#[cfg(test)]
mod tests;
