//! Cross-surface tests live in tests/*.rs.
