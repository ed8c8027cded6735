//! The whole end-to-end suite again, on PostgreSQL. When `FERRY_TEST_POSTGRES_URL` is set
//! (`.ci/run` sets it), this test runs this very test binary a second time with
//! `FERRY_TEST_BACKEND=postgres`: every server then gets a fresh database on that cluster.
//! Tests that choose their database themselves ran in the first run and are left out. Without
//! the variable when the tests were built, the PostgreSQL tests are reported as ignored.

use std::process::Command;

/// Tests that pick their database themselves (they ran in the first run already).
const OWN_DATABASE: &[&str] = &[
    "the_whole_suite_runs_on_postgresql",
    "postgres::submissions_go_on_after_the_database_drops_the_committers_connection",
    "replicas::",
    "storage::the_wal_stays_bounded_while_submissions_keep_coming",
    "trail::a_rolled_back_or_forked_log_stops_the_client",
    "trail::a_log_of_100000_events_proves_correctly",
];

#[test]
#[cfg_attr(
    ferry_no_postgres,
    ignore = "needs PostgreSQL: set FERRY_TEST_POSTGRES_URL (.ci/run does)"
)]
fn the_whole_suite_runs_on_postgresql() {
    let url = std::env::var("FERRY_TEST_POSTGRES_URL")
        .expect("the tests were built with FERRY_TEST_POSTGRES_URL; run them with it too");
    let exe = std::env::current_exe().unwrap();
    let mut args = vec![];
    for name in OWN_DATABASE {
        args.extend(["--skip", name]);
    }
    let out = Command::new(exe)
        .env("FERRY_TEST_BACKEND", "postgres")
        .env("FERRY_TEST_POSTGRES_URL", &url)
        .args(args)
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
#[cfg_attr(
    ferry_no_postgres,
    ignore = "needs PostgreSQL: set FERRY_TEST_POSTGRES_URL (.ci/run does)"
)]
fn submissions_go_on_after_the_database_drops_the_committers_connection() {
    crate::harness::use_backend(crate::harness::Backend::Postgres);
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
