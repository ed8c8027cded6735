//! A message sealed by Ferry is a standard age file: the reference Go implementation (`age`,
//! Debian package `age`) opens it with the facilitator's age identity, and what comes out is
//! the author's signed inner letter. Ignored, and said so, when `age` was not on PATH when the
//! tests were built, unless `FERRY_REQUIRE_AGE_INTEROP` is set (as `.ci/run` does after
//! installing it): then a missing binary fails.

use std::process::Command;

use ferry_crypto::seal::{self, Letter};
use ferry_crypto::{FORMAT_VERSION, Id, Identity, MessageKind, Role, SignedStatement};

/// Runs `age --decrypt` with `identity`'s age key on `ciphertext`.
fn age_decrypt(identity: &Identity, ciphertext: &[u8]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("identity.key");
    let msg = dir.path().join("message.age");
    std::fs::write(&key, format!("{}\n", identity.age_secret_key().as_str())).unwrap();
    std::fs::write(&msg, ciphertext).unwrap();
    Command::new("age")
        .arg("--decrypt")
        .arg("-i")
        .arg(&key)
        .arg(&msg)
        .output()
        .unwrap_or_else(|e| panic!("cannot run the reference `age` (Debian package age): {e}"))
}

#[test]
#[cfg_attr(
    ferry_no_age,
    ignore = "needs the reference `age` binary (Debian package age; .ci/run installs it)"
)]
fn a_sealed_message_opens_with_the_reference_age_implementation() {
    let harmed = Identity::generate("Harriet Harmed").unwrap();
    let facilitator = Identity::generate("Fiona Facilitator").unwrap();
    let letter = Letter {
        v: FORMAT_VERSION,
        case_id: Id::try_from("case-1").unwrap(),
        message_id: Id::random(),
        kind: MessageKind::Question,
        author: harmed.account_id().clone(),
        recipient_role: Role::Responsible,
        in_reply_to: None,
        created_at: 1_790_000_000,
        body: "Did you know our children were asleep upstairs?".into(),
        attachments: vec![],
        entered_by: None,
    };
    let sealed = seal::seal(&harmed, &letter, 1, vec![], &[facilitator.recipient()]).unwrap();

    let out = age_decrypt(&facilitator, &sealed.ciphertext);
    assert!(
        out.status.success(),
        "age failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The plaintext is the signed inner letter, verifiable with the author's card.
    let inner = SignedStatement::from_json(&out.stdout).unwrap();
    let opened: Letter = inner.open(&harmed.key_card(0).unwrap()).unwrap();
    assert_eq!(opened, letter);

    // A stranger's identity does not open it there either.
    let stranger = Identity::generate("Stranger").unwrap();
    assert!(!age_decrypt(&stranger, &sealed.ciphertext).status.success());
}
