use axum::http::HeaderMap;

use super::*;

fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    pairs
        .iter()
        .map(|(name, value)| (name.parse().unwrap(), axum::http::HeaderValue::from_static(value)))
        .collect()
}

#[test]
fn accept_language_picks_the_preferred_of_ours() {
    let cases = [
        ("fr-FR,fr;q=0.9,en;q=0.8", Some(Lang::Fr)),
        ("en-GB,en;q=0.9,fr;q=0.8", Some(Lang::En)),
        ("de-DE,de;q=0.9,fr;q=0.7,en;q=0.5", Some(Lang::Fr)),
        ("en;q=0.4, fr;q=0.6", Some(Lang::Fr)),
        ("fr;q=0, en", Some(Lang::En)),
        ("FR", Some(Lang::Fr)),
        ("de, es", None),
        ("", None),
    ];
    for (header, expected) in cases {
        assert_eq!(Lang::from_accept_language(header), expected, "{header:?}");
    }
}

#[test]
fn the_switch_wins_then_the_cookie_then_the_setting_then_the_browser() {
    let browser_fr = headers(&[("accept-language", "fr")]);
    let cookie_en = headers(&[("accept-language", "fr"), ("cookie", "theme=dark; lang=en")]);
    assert_eq!(negotiate(Some("lang=fr"), &cookie_en, Some(Lang::En)), (Lang::Fr, true));
    assert_eq!(negotiate(Some("voted=Cats"), &cookie_en, Some(Lang::Fr)), (Lang::En, false));
    assert_eq!(negotiate(None, &browser_fr, Some(Lang::En)), (Lang::En, false));
    assert_eq!(negotiate(None, &browser_fr, None), (Lang::Fr, false));
    assert_eq!(negotiate(Some("lang=xx"), &HeaderMap::new(), None), (Lang::En, false));
}

#[test]
fn numbers_shares_and_minutes_are_written_as_each_language_writes_them() {
    assert_eq!(Lang::En.number(1_234_567), "1,234,567");
    assert_eq!(Lang::Fr.number(1_234_567), "1\u{202f}234\u{202f}567");
    assert_eq!(Lang::Fr.number(999), "999");
    assert_eq!(Lang::En.percent(67), "67%");
    assert_eq!(Lang::Fr.percent(67), "67\u{202f}%");
    assert_eq!(Lang::En.votes(1), "1 vote");
    assert_eq!(Lang::En.votes(0), "0 votes");
    assert_eq!(Lang::Fr.votes(0), "0 vote");
    assert_eq!(Lang::Fr.votes(2_000), "2\u{202f}000 votes");
    assert_eq!(Lang::En.minute("2026-12-01T10:07:00Z"), "1 Dec 2026, 10:07");
    assert_eq!(Lang::Fr.minute("2026-02-09T23:59:00Z"), "9 févr. 2026, 23:59");
    assert_eq!(Lang::Fr.minute("-3m"), "-3m");
}

#[test]
fn locale_strings_name_their_language() {
    for (tag, expected) in
        [("fr_FR.UTF-8", Some(Lang::Fr)), ("en-US", Some(Lang::En)), ("de", None)]
    {
        assert_eq!(Lang::parse(tag), expected, "{tag}");
    }
}
