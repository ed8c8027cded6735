//! The coordinator's tools: invitations that read as sentences and cannot expire at once,
//! the staff list, and allocating a facilitator by name.

use crate::harness::{TestServer, World};

#[test]
fn invitations_read_as_sentences_and_cannot_expire_at_once() {
    let w = World::new();
    let out = w.coordinator.ok(&["staff", "invite", "--role", "auditor"]);
    assert!(
        out.contains("Invitation for an auditor, valid until"),
        "{out}"
    );
    let out = w
        .coordinator
        .ok(&["case", "invite", &w.case, "--role", "harmed"]);
    assert!(
        out.contains(&format!(
            "Invitation for a harmed person in case {}",
            w.case
        )),
        "{out}"
    );
    let out = w
        .coordinator
        .ok(&["case", "invite", &w.case, "--role", "responsible"]);
    assert!(out.contains("Invitation for a responsible person"), "{out}");

    // Zero days is refused, not quietly turned into one; nothing is recorded.
    let before = w.server.snapshot();
    for args in [
        &[
            "staff",
            "invite",
            "--role",
            "facilitator",
            "--expires-days",
            "0",
        ][..],
        &[
            "case",
            "invite",
            &w.case,
            "--role",
            "supporter",
            "--expires-days",
            "0",
        ],
        &[
            "case",
            "invite",
            &w.case,
            "--role",
            "supporter",
            "--expires-days",
            "31",
        ],
    ] {
        let err = w.coordinator.ferry(args).unwrap_err();
        let text = format!("{err:#}");
        assert!(
            text.contains("expires-days") && text.contains("1..=30"),
            "{text}"
        );
    }
    assert_eq!(w.server.snapshot(), before);
}

#[test]
fn enrolment_says_who_you_are_in_words() {
    let server = TestServer::start();
    let coordinator = server.person("coordinator");
    let out = coordinator.ok(&[
        "enrol",
        &server.url,
        &server.coordinator_code(),
        "--name",
        "Chris",
    ]);
    assert!(out.contains("Enrolled as a coordinator."), "{out}");
    let w = World::on(TestServer::start());
    let out = w.harmed.ok(&["whoami"]);
    assert!(
        out.contains(&format!("case           {} as a harmed person", w.case)),
        "{out}"
    );
}
