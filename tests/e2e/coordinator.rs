//! The coordinator's tools: invitations that read as sentences and cannot expire at once,
//! the staff list, and allocating a facilitator by name.

use crate::harness::{TestServer, World};

#[test]
fn invitations_read_as_sentences() {
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
