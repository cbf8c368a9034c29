//! Container-based integration tests live in `tests/it/`.
