use super::*;

#[test]
fn upstreams_start_healthy_and_are_marked_independently() {
    let health = Health::default();
    assert!(health.is_healthy(Parity::Even) && health.is_healthy(Parity::Odd));
    health.mark_down(Parity::Odd, "test");
    assert!(health.is_healthy(Parity::Even));
    assert!(!health.is_healthy(Parity::Odd));
    health.set(Parity::Odd, true, "");
    assert!(health.is_healthy(Parity::Odd));
}
