use std::time::Duration;

use super::*;

fn timestamp(seconds: u64, micros: u32) -> String {
    let mut out = String::new();
    let at = UNIX_EPOCH + Duration::from_secs(seconds) + Duration::from_micros(micros.into());
    write_timestamp(&mut out, at);
    out
}

#[test]
fn timestamps_are_rfc_3339_utc_with_microseconds() {
    let cases = [
        (0, 0, "1970-01-01T00:00:00.000000Z"),
        (951_868_799, 999_999, "2000-02-29T23:59:59.999999Z"),
        (1_709_251_200, 7, "2024-03-01T00:00:00.000007Z"),
        (1_796_148_115, 506_929, "2026-12-01T18:01:55.506929Z"),
        (4_107_585_600, 120_000, "2100-03-01T12:00:00.120000Z"),
    ];
    for (seconds, micros, expected) in cases {
        assert_eq!(timestamp(seconds, micros), expected, "{seconds} s");
    }
}

#[test]
fn a_clock_before_1970_reads_as_the_epoch() {
    let mut out = String::new();
    write_timestamp(&mut out, UNIX_EPOCH - Duration::from_secs(1));
    assert_eq!(out, "1970-01-01T00:00:00.000000Z");
}

/// The date after `(year, month, day)`, the slow way: a reference for the arithmetic.
fn next_day((year, month, day): (u64, u64, u64)) -> (u64, u64, u64) {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days_in_month = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    match (day < days_in_month, month < 12) {
        (true, _) => (year, month, day + 1),
        (false, true) => (year, month + 1, 1),
        (false, false) => (year + 1, 1, 1),
    }
}

#[test]
fn every_day_of_three_centuries_gets_its_calendar_date() {
    let mut expected = (1970, 1, 1);
    for days in 0..(300 * 366) {
        assert_eq!(civil_from_days(days), expected, "day {days}");
        expected = next_day(expected);
    }
}

#[test]
fn numbers_are_padded_to_their_width_and_never_cut() {
    let cases =
        [(0, 1, "0"), (7, 2, "07"), (42, 1, "42"), (123_456, 4, "123456"), (5, 6, "000005")];
    for (value, width, expected) in cases {
        let mut out = String::new();
        write_decimal(&mut out, value, width);
        assert_eq!(out, expected);
    }
    let mut out = String::new();
    write_decimal(&mut out, u64::MAX, 30);
    assert_eq!(out, u64::MAX.to_string());
}
