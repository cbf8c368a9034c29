use super::*;

/// A row of the ledger's view: `minutes_ago` before 10:07 UTC.
fn row(minutes_ago: u32, instance: &str, votes: u64) -> MinuteCount {
    let of_day = 10 * 60 + 7 - minutes_ago;
    let minute = format!("2026-12-01T{:02}:{:02}:00Z", of_day / 60, of_day % 60);
    MinuteCount { minute, instance: instance.to_owned(), votes, minutes_ago }
}

#[test]
fn bars_sit_at_their_minute_on_a_log_scale_topped_by_the_busiest() {
    let chart = chart(vec![row(0, "odd", 10), row(1, "even", 5), row(59, "even", 10)], Lang::En);
    assert_eq!(chart.instances, ["even", "odd"]);
    let placed: Vec<_> = chart.bars.iter().map(|b| (b.x, b.y, b.height, b.colour)).collect();
    // 5 votes against 10: ln 6 / ln 11 of the plot, not half of it.
    assert_eq!(placed, [(753, 8, 200, 1), (741, 59, 149, 0), (45, 8, 200, 0)]);
}

#[test]
fn a_small_minute_stays_visible_beside_a_huge_one() {
    let chart = chart(vec![row(2, "even", 25_000), row(1, "odd", 30)], Lang::En);
    let heights: Vec<u32> = chart.bars.iter().map(|bar| bar.height).collect();
    assert_eq!(heights[0], 200);
    assert!(heights[1] > 60, "30 votes beside 25,000 get {} px of 200", heights[1]);
    let ticks: Vec<&str> = chart.ticks.iter().map(|tick| tick.label.as_str()).collect();
    assert_eq!(ticks, ["1", "10", "100", "1,000", "10,000"]);
}

#[test]
fn two_instances_in_one_minute_share_its_height() {
    let chart = chart(vec![row(3, "even", 2), row(3, "odd", 2)], Lang::En);
    let placed: Vec<_> = chart.bars.iter().map(|b| (b.x, b.y, b.height)).collect();
    assert_eq!(placed, [(717, 108, 100), (717, 8, 100)]);
}

#[test]
fn every_minute_is_marked_even_or_odd_and_bars_say_theirs() {
    // Now (10:07) is odd, a minute ago (10:06) even.
    let chart = chart(vec![row(0, "odd", 3), row(1, "even", 4)], Lang::Fr);
    assert_eq!(chart.bands.len(), 60);
    let parities: Vec<&str> = chart.bands.iter().take(3).map(|band| band.parity).collect();
    assert_eq!(parities, ["odd", "even", "odd"]);
    assert_eq!(chart.bars[0].label, "1 déc. 2026, 10:07 (minute impaire): 3 votes sur odd");
    assert_eq!(chart.summary, "7 votes dans la dernière heure: even 4, odd 3.");
}
