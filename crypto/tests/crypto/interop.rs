//! A message sealed by Ferry is a standard age file: the reference Go implementation (`age`,
//! Debian package `age`) opens it with the facilitator's age identity, and what comes out is
//! the author's signed inner letter.
//!
//! Skipped with a notice when `age` is not installed, unless `FERRY_REQUIRE_AGE_INTEROP` is
//! set (as `.ci/run` does after installing it), in which case a missing binary fails.

use std::process::Command;

use ferry_crypto::SignedStatement;
use ferry_crypto::seal::Letter;

use crate::common::{Case, card};

fn age_binary() -> Option<&'static str> {
    let found = Command::new("age")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return Some("age");
    }
    if std::env::var_os("FERRY_REQUIRE_AGE_INTEROP").is_some() {
        panic!("FERRY_REQUIRE_AGE_INTEROP is set but the `age` binary is not on PATH");
    }
    eprintln!(
        "NOTICE: `age` (the Go reference implementation) is not installed; interop test skipped"
    );
    None
}

#[test]
fn a_sealed_message_opens_with_the_reference_age_implementation() {
    let Some(age) = age_binary() else { return };
    let case = Case::new();
    let sealed = case.seal_question("Did you know our children were asleep upstairs?", 1);

    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("facilitator.key");
    let msg = dir.path().join("message.age");
    std::fs::write(
        &key,
        format!("{}\n", case.co_facilitator.age_secret_key().as_str()),
    )
    .unwrap();
    std::fs::write(&msg, &sealed.ciphertext).unwrap();

    let out = Command::new(age)
        .arg("--decrypt")
        .arg("-i")
        .arg(&key)
        .arg(&msg)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "age failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The plaintext is the signed inner letter, verifiable with the author's card.
    let inner = SignedStatement::from_json(&out.stdout).unwrap();
    let letter: Letter = inner.open(&card(&case.harmed)).unwrap();
    assert_eq!(
        letter.body,
        "Did you know our children were asleep upstairs?"
    );
    assert_eq!(letter.case_id, case.id);

    // And a stranger's identity does not open it there either.
    let stranger = ferry_crypto::Identity::generate("Stranger").unwrap();
    std::fs::write(&key, format!("{}\n", stranger.age_secret_key().as_str())).unwrap();
    let out = Command::new(age)
        .arg("--decrypt")
        .arg("-i")
        .arg(&key)
        .arg(&msg)
        .output()
        .unwrap();
    assert!(!out.status.success());
}
