//! vote-app
