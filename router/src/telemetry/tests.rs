use std::collections::HashSet;

use super::*;

#[test]
fn request_ids_are_distinct_uuid_v4_strings() {
    let ids = MakeRequestIds::default();
    let seen: HashSet<String> = (0..10_000)
        .map(|_| {
            let id = ids.next().unwrap();
            id.to_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(seen.len(), 10_000);
    for id in seen.iter().take(100) {
        assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 4, "{id}");
    }
}
