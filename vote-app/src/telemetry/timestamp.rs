//! Timestamps and numbers written without `core::fmt`: RFC 3339 UTC with microseconds, the
//! format tracing-subscriber writes, for the per-request line.

use std::time::{SystemTime, UNIX_EPOCH};

const SECONDS_PER_DAY: u64 = 86_400;

/// Appends `at` as `2026-12-01T18:01:55.506929Z` (a clock before 1970 reads as 1970).
pub(super) fn write_timestamp(out: &mut String, at: SystemTime) {
    let since_epoch = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    let seconds = since_epoch.as_secs();
    let (year, month, day) = civil_from_days(seconds / SECONDS_PER_DAY);
    let of_day = seconds % SECONDS_PER_DAY;
    let mut text = *b"0000-00-00T00:00:00.000000Z";
    put_digits(&mut text[0..4], year);
    put_digits(&mut text[5..7], month);
    put_digits(&mut text[8..10], day);
    put_digits(&mut text[11..13], of_day / 3600);
    put_digits(&mut text[14..16], of_day / 60 % 60);
    put_digits(&mut text[17..19], of_day % 60);
    put_digits(&mut text[20..26], since_epoch.subsec_micros().into());
    out.push_str(std::str::from_utf8(&text).unwrap_or_default());
}

/// Appends `value` in decimal, with leading zeros up to `width` digits (at most 20).
pub(super) fn write_decimal(out: &mut String, value: u64, width: usize) {
    let mut digits = [b'0'; 20];
    let length = decimal_length(value).max(width.clamp(1, 20));
    let start = digits.len() - length;
    put_digits(&mut digits[start..], value);
    out.push_str(std::str::from_utf8(&digits[start..]).unwrap_or_default());
}

/// Fills `digits` with the last `digits.len()` decimal digits of `value`, leading zeros
/// included. Only ASCII digits are written, so the bytes stay UTF-8.
fn put_digits(digits: &mut [u8], value: u64) {
    let mut rest = value;
    for digit in digits.iter_mut().rev() {
        *digit = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
}

/// How many decimal digits `value` has (1 for 0).
fn decimal_length(value: u64) -> usize {
    let mut length = 1;
    let mut rest = value / 10;
    while rest > 0 {
        length += 1;
        rest /= 10;
    }
    length
}

/// The proleptic Gregorian date of a day counted from 1970-01-01: Howard Hinnant's
/// `civil_from_days` (<https://howardhinnant.github.io/date_algorithms.html>), for days after the
/// epoch only, so every quantity stays unsigned.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    // Counted from 0000-03-01, so a leap day is the last day of its (March-based) year.
    let days = days + 719_468;
    let era = days / 146_097;
    let day_of_era = days % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 { month_from_march + 3 } else { month_from_march - 9 };
    let year = era * 400 + year_of_era + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests;
