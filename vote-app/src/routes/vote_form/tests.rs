use super::*;

#[test]
fn only_multipart_form_data_is_read_as_multipart() {
    let cases = [
        ("multipart/form-data; boundary=------------------------70901aed14cf1dfb", true),
        ("Multipart/Form-Data;boundary=x", true),
        ("multipart/mixed; boundary=x", false),
        ("application/x-www-form-urlencoded", false),
    ];
    for (content_type, expected) in cases {
        let headers: HeaderMap =
            [(header::CONTENT_TYPE, content_type.parse().unwrap())].into_iter().collect();
        assert_eq!(is_multipart(&headers), expected, "{content_type}");
    }
    assert!(!is_multipart(&HeaderMap::new()));
}
