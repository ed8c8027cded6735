//! Decides, when the end-to-end tests are built, which of them cannot run on this machine, so
//! that they are reported as ignored (with the reason) instead of passing without running:
//! - `ferry_no_postgres` when `FERRY_TEST_POSTGRES_URL` is not set: the PostgreSQL tests;
//! - `ferry_no_age` when the reference `age` binary is not on PATH and
//!   `FERRY_REQUIRE_AGE_INTEROP` is not set: the interop test (with it set, the test runs and
//!   fails without `age`, as CI requires).

fn main() {
    println!("cargo::rustc-check-cfg=cfg(ferry_no_postgres)");
    println!("cargo::rustc-check-cfg=cfg(ferry_no_age)");
    for var in [
        "FERRY_TEST_POSTGRES_URL",
        "FERRY_REQUIRE_AGE_INTEROP",
        "PATH",
    ] {
        println!("cargo::rerun-if-env-changed={var}");
    }
    if std::env::var_os("FERRY_TEST_POSTGRES_URL").is_none() {
        println!("cargo::rustc-cfg=ferry_no_postgres");
    }
    let age_on_path = std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join("age").is_file()));
    if !age_on_path && std::env::var_os("FERRY_REQUIRE_AGE_INTEROP").is_none() {
        println!("cargo::rustc-cfg=ferry_no_age");
    }
}
