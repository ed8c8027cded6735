//! End-to-end tests: the real `ferry-server` on `127.0.0.1:0`, driven by the real `ferry`
//! client library (the same code the binary runs), one person per FERRY_HOME.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api;
mod attacks;
mod coordinator;
mod exchange;
mod forwarding;
mod harness;
mod hostile;
mod interop;
mod keys;
mod lifecycle;
mod mail;
mod page;
mod paper;
mod postgres;
mod privacy;
mod replicas;
mod reviewer;
mod smtp;
mod storage;
mod trail;
