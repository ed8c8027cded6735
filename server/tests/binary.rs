//! The `ferry-server` binary as an operator runs it: `init` wherever `--data-dir` is put, the
//! address it prints, and logs without colour codes when they go to a file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// `ferry-server` with no `FERRY_*` setting from the environment it runs in.
fn server() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferry-server"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("FERRY_") {
            cmd.env_remove(name);
        }
    }
    cmd
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        !stderr.contains('\x1b'),
        "colour codes in a redirected log:\n{stderr:?}"
    );
    stdout
}

#[test]
fn init_takes_the_data_dir_before_or_after_the_command() {
    let dir = tempfile::tempdir().unwrap();
    let before = dir.path().join("before");
    let after = dir.path().join("after");
    let out = run(server().arg("--data-dir").arg(&before).arg("init"));
    assert!(out.contains("ferry enrol http://127.0.0.1:8080 "), "{out}");
    let out = run(server().arg("init").arg("--data-dir").arg(&after));
    assert!(out.contains("ferry enrol http://127.0.0.1:8080 "), "{out}");
    assert!(out.contains("set FERRY_PUBLIC_URL"), "{out}");
    for d in [&before, &after] {
        assert!(d.join("ferry.db").exists(), "{}", d.display());
        assert!(d.join("ferry-server.key").exists(), "{}", d.display());
    }
}

#[test]
fn init_prints_the_address_the_server_will_use() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(server()
        .arg("init")
        .arg("--data-dir")
        .arg(dir.path())
        .env("FERRY_LISTEN", "0.0.0.0:9443"));
    assert!(out.contains("ferry enrol http://0.0.0.0:9443 "), "{out}");
    assert!(out.contains("set FERRY_PUBLIC_URL"), "{out}");
    let out = run(server()
        .arg("init")
        .arg("--data-dir")
        .arg(dir.path())
        .env("FERRY_PUBLIC_URL", "https://ferry.example.org/"));
    assert!(
        out.contains("ferry enrol https://ferry.example.org "),
        "{out}"
    );
    assert!(!out.contains("127.0.0.1"), "{out}");
}

#[test]
fn logs_written_to_a_file_carry_no_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = server()
        .arg("--data-dir")
        .arg(dir.path())
        .env("FERRY_LISTEN", "127.0.0.1:0")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = vec![];
    for line in lines.by_ref() {
        let line = line.unwrap();
        let listening = line.contains("ferry-server listening");
        seen.push(line);
        if listening {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let log = seen.join("\n");
    assert!(log.contains("ferry-server listening"), "{log}");
    assert!(
        !log.contains('\x1b'),
        "colour codes in a redirected log:\n{log:?}"
    );
}
