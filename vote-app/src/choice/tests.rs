use super::*;

#[test]
fn only_configured_names_parse() {
    let choices = Choices::new("Cats", "Dogs").unwrap();
    assert_eq!(choices.parse("Cats").map(Choice::as_str), Some("Cats"));
    for other in ["cats", "Birds", "", "reset", "Cats "] {
        assert_eq!(choices.parse(other), None, "{other:?} must not parse");
    }
}

#[test]
fn bad_names_are_refused_with_the_rule_they_break() {
    let long = "x".repeat(MAX_NAME_LEN + 1);
    let cases = [
        ("", "Dogs", (0, InvalidChoice::Empty)),
        ("Cats", "  ", (1, InvalidChoice::Empty)),
        (long.as_str(), "Dogs", (0, InvalidChoice::TooLong)),
        ("Ca\nts", "Dogs", (0, InvalidChoice::ControlCharacter)),
        ("Reset", "Dogs", (0, InvalidChoice::Reserved)),
        ("Cats", "CATS", (1, InvalidChoice::Duplicate)),
    ];
    for (first, second, expected) in cases {
        assert_eq!(Choices::new(first, second), Err(expected), "{first:?} {second:?}");
    }
}
