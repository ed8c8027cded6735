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

/// The committer holds one connection from batch to batch. When PostgreSQL drops it (a
/// restart, a failover, an administrator), the batch on it fails whole and changes nothing,
/// and the next batch runs on a fresh connection: no submission is lost or stored twice.
#[test]
fn submissions_go_on_after_the_database_drops_the_committers_connection() {
    if crate::harness::postgres_url().is_none() {
        eprintln!("NOTICE: this test drops PostgreSQL connections; it runs in the PostgreSQL run");
        return;
    }
    let w = crate::harness::World::new();
    w.question("before");
    let messages = w.server.scalar("SELECT COUNT(*) FROM messages");
    w.server.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    );
    let path = w.harmed.file("q.txt", "after");
    let mut refusals = vec![];
    let sent = (0..3).find_map(
        |_| match w.harmed.ferry(&["write", "question", "--file", &path]) {
            Ok(out) => Some(out),
            Err(e) => {
                refusals.push(format!("{e:#}"));
                None
            }
        },
    );
    assert!(sent.is_some(), "never accepted again: {refusals:?}");
    assert!(refusals.len() <= 1, "{refusals:?}");
    w.server.assert_messages(messages + 1);
    // And again, on the fresh connection.
    w.question("later");
    w.server.assert_messages(messages + 2);
}
