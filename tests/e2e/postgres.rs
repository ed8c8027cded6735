//! The whole end-to-end suite again, on PostgreSQL. When `FERRY_TEST_POSTGRES_URL` is set
//! (`.ci/run` sets it), this test runs this very test binary a second time with
//! `FERRY_TEST_BACKEND=postgres`: every server then gets a fresh database on that cluster.
//! Unset, it prints a notice and passes.

use std::process::Command;

#[test]
fn the_whole_suite_runs_on_postgresql() {
    if std::env::var("FERRY_TEST_BACKEND").is_ok() {
        return; // this is the PostgreSQL run itself
    }
    let Ok(url) = std::env::var("FERRY_TEST_POSTGRES_URL") else {
        eprintln!(
            "NOTICE: FERRY_TEST_POSTGRES_URL is not set; the PostgreSQL run of the suite is skipped"
        );
        return;
    };
    let exe = std::env::current_exe().unwrap();
    let out = Command::new(exe)
        .env("FERRY_TEST_BACKEND", "postgres")
        .env("FERRY_TEST_POSTGRES_URL", &url)
        .args(["--skip", "the_whole_suite_runs_on_postgresql"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "the suite failed on PostgreSQL:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("test result: ok."), "{stdout}");
}
