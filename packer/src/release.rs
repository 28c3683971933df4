//! Release files next to the outputs: archives in cargo-dist's layout and
//! a `SHA256SUMS` (placeholder, being written).
