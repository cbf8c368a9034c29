use super::*;

fn row(minutes_ago: u32, instance: &str, votes: u64) -> MinuteCount {
    let minute = format!("-{minutes_ago}m");
    MinuteCount { minute, instance: instance.to_owned(), votes, minutes_ago }
}

#[test]
fn bars_sit_at_their_minute_scaled_to_the_busiest_one() {
    let chart = chart(vec![row(0, "odd", 10), row(1, "even", 5), row(59, "even", 10)], Lang::En);
    assert_eq!(chart.instances, ["even", "odd"]);
    let placed: Vec<_> = chart.bars.iter().map(|b| (b.x, b.y, b.height, b.colour)).collect();
    assert_eq!(placed, [(591, 0, 200, 1), (581, 100, 100, 0), (1, 0, 200, 0)]);
}

#[test]
fn two_instances_in_one_minute_stack() {
    let chart = chart(vec![row(3, "even", 2), row(3, "odd", 2)], Lang::En);
    let placed: Vec<_> = chart.bars.iter().map(|b| (b.x, b.y, b.height)).collect();
    assert_eq!(placed, [(561, 100, 100), (561, 0, 100)]);
}
