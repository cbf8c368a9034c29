use super::*;

#[test]
fn parity_follows_the_utc_minute_on_both_sides_of_a_boundary() {
    let cases = [
        (0, Parity::Even),
        (59, Parity::Even),
        (60, Parity::Odd),
        (119, Parity::Odd),
        (120, Parity::Even),
        // 2024-01-01T12:00:59Z and 12:01:00Z
        (1_704_110_459, Parity::Even),
        (1_704_110_460, Parity::Odd),
    ];
    for (secs, expected) in cases {
        let clock = FixedClock::at_unix_secs(secs);
        assert_eq!(Parity::of(clock.now()), expected, "at unix second {secs}");
    }
}

#[test]
fn a_fixed_clock_moves_only_when_told() {
    let clock = FixedClock::at_unix_secs(59);
    assert_eq!(Parity::of(clock.now()), Parity::Even);
    clock.set(UNIX_EPOCH + Duration::from_secs(60));
    assert_eq!(Parity::of(clock.now()), Parity::Odd);
}

#[test]
fn other_swaps_the_parity() {
    assert_eq!(Parity::Even.other(), Parity::Odd);
    assert_eq!(Parity::Odd.other(), Parity::Even);
}
