//! Ferry's end-to-end test crate. The tests live in `e2e/` as modules of one binary, so the
//! whole suite links once.
