//! The crypto core's tests, in one binary: known-answer vectors, pinned wire formats,
//! round-trips, tampering, keystore and attachments.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod attachments;
mod common;
mod decisions;
mod keystore;
mod rfc8032;
mod roundtrip;
mod tamper;
mod trail;
mod vectors;
