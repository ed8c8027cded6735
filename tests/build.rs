//! Decides, when the end-to-end tests are built, which of them cannot run on this machine, so
//! that they are reported as ignored (with the reason) instead of passing without running:
//! - `ferry_no_postgres` when `FERRY_TEST_POSTGRES_URL` is not set: the PostgreSQL tests;
//! - `ferry_no_age` when the reference `age` binary is not on PATH and
//!   `FERRY_REQUIRE_AGE_INTEROP` is not set: the interop test (with it set, the test runs and
//!   fails without `age`, as CI requires);
//! - `ferry_no_poppler` when poppler's `pdftotext`, `pdftoppm`, `pdfinfo` and `pdffonts` are not
//!   on PATH and `FERRY_REQUIRE_POPPLER` is not set: the test that reads a printed letter with
//!   them (with it set, the test runs and fails without them).

fn main() {
    println!("cargo::rustc-check-cfg=cfg(ferry_no_postgres)");
    println!("cargo::rustc-check-cfg=cfg(ferry_no_age)");
    println!("cargo::rustc-check-cfg=cfg(ferry_no_poppler)");
    for var in [
        "FERRY_TEST_POSTGRES_URL",
        "FERRY_REQUIRE_AGE_INTEROP",
        "FERRY_REQUIRE_POPPLER",
        "PATH",
    ] {
        println!("cargo::rerun-if-env-changed={var}");
    }
    if std::env::var_os("FERRY_TEST_POSTGRES_URL").is_none() {
        println!("cargo::rustc-cfg=ferry_no_postgres");
    }
    let on_path = |name: &str| {
        std::env::var_os("PATH")
            .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(name).is_file()))
    };
    if !on_path("age") && std::env::var_os("FERRY_REQUIRE_AGE_INTEROP").is_none() {
        println!("cargo::rustc-cfg=ferry_no_age");
    }
    let poppler = ["pdftotext", "pdftoppm", "pdfinfo", "pdffonts"];
    if !poppler.iter().all(|p| on_path(p)) && std::env::var_os("FERRY_REQUIRE_POPPLER").is_none() {
        println!("cargo::rustc-cfg=ferry_no_poppler");
    }
}
