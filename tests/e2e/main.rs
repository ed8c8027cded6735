//! End-to-end tests: the real `ferry-server` on `127.0.0.1:0` and the real `ferry` binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod self_check;
mod server;
