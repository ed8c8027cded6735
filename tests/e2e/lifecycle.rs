//! The case lifecycle: nothing moves before the case is active, forwards made while paused or
//! after a withdrawal wait and are released only if the case resumes, closing cancels them;
//! what was delivered stays readable by its recipient.

use crate::harness::{World, code, field};

#[test]
fn forwards_while_paused_wait_for_resume() {
    let w = World::new();
    let q = w.question("What was going through your head?");
    w.coordinator.ok(&["case", "pause", &w.case]);
    let out = w.forward(&q, &[]);
    assert!(out.contains("held (the case is paused"), "{out}");
    assert!(w.delivered(&w.responsible).is_empty());
    let show = w.coordinator.ok(&["case", "show", &w.case]);
    assert!(show.contains("1 forward(s) waiting"), "{show}");
    // Participants cannot write while paused either.
    let f = w.harmed.file("q2.txt", "Another question");
    let err = w
        .harmed
        .ferry(&["write", "question", "--file", &f])
        .unwrap_err();
    assert_eq!(code(&err), "case_not_active");

    w.coordinator.ok(&["case", "resume", &w.case]);
    let delivered = w.delivered(&w.responsible);
    assert_eq!(delivered.len(), 1);
    let read = w
        .responsible
        .ok(&["read", &field(&delivered[0], "delivery_id")]);
    assert!(read.contains("What was going through your head?"), "{read}");
}

#[test]
fn a_withdrawal_pauses_at_once_holds_what_is_new_and_keeps_what_was_delivered() {
    let mut w = World::new();
    let q1 = w.question("First question");
    w.forward(&q1, &[]);
    let d1 = field(&w.delivered(&w.responsible)[0], "delivery_id");
    w.responsible.ok(&["read", &d1]);
    let q2 = w.question("Second question");

    // It says what it will do and asks; without an answer or --yes nothing changes.
    let out = w.refused(&w.responsible, &["withdraw"]);
    assert!(
        out.contains("everything you have already received stays yours to read"),
        "{out}"
    );
    w.responsible.answering(&["n"]);
    let out = w.refused(&w.responsible, &["withdraw"]);
    assert!(out.contains("Do you want to withdraw now? [y/N]"), "{out}");
    w.responsible.answering(&["y"]);
    let out = w.responsible.ok(&["withdraw"]);
    w.responsible.unattended();
    assert!(out.contains("The case is paused"), "{out}");
    // What was delivered stays readable; new forwards are held.
    assert_eq!(w.delivered(&w.responsible).len(), 1);
    let read = w.responsible.ok(&["read", &d1]);
    assert!(read.contains("First question"), "{read}");
    let out = w.forward(&q2, &[]);
    assert!(out.contains("held"), "{out}");
    // The coordinator cannot resume until the person who withdrew consents again.
    let err = w
        .coordinator
        .ferry(&["case", "resume", &w.case])
        .unwrap_err();
    assert_eq!(code(&err), "not_ready");
    assert_eq!(w.delivered(&w.responsible).len(), 1);

    w.responsible.ok(&["consent"]);
    assert_eq!(
        w.delivered(&w.responsible).len(),
        1,
        "consent alone does not resume the case"
    );
    w.coordinator.ok(&["case", "resume", &w.case]);
    assert_eq!(w.delivered(&w.responsible).len(), 2);
}

#[test]
fn a_participant_holds_what_is_new_until_they_say() {
    let w = World::new();
    let q1 = w.question("First question");
    w.forward(&q1, &[]);
    assert_eq!(w.delivered(&w.responsible).len(), 1);

    let out = w.responsible.ok(&["hold"]);
    assert!(
        out.contains("held until you run `ferry hold --off`"),
        "{out}"
    );
    // The case goes on: the other party still writes, the facilitator still forwards.
    let q2 = w.question("Second question");
    let out = w.forward(&q2, &[]);
    assert!(out.contains("asked to hold anything new"), "{out}");
    assert_eq!(w.delivered(&w.responsible).len(), 1, "held, not delivered");
    let me: serde_json::Value =
        serde_json::from_str(&w.responsible.ok(&["--json", "whoami"])).unwrap();
    assert_eq!(me["me"]["cases"][0]["holding"], true, "{me}");
    // Only they can hold what reaches them: the other party's hold is their own.
    let a = w
        .server
        .scalar("SELECT COUNT(*) FROM members WHERE holding = 1");
    assert_eq!(a, 1);
    // The case's audit sees the hold and the held delivery, and finds them explained.
    let audit = w.coordinator.ok(&["audit", "verify", "--case", &w.case]);
    assert!(audit.contains("CLEAN"), "{audit}");

    w.responsible.ok(&["hold", "--off"]);
    assert_eq!(w.delivered(&w.responsible).len(), 2);
    let read = w.responsible.ok(&["read", &q2]);
    assert!(read.contains("Second question"), "{read}");
    // And so does the audit of the whole log.
    let audit = w.coordinator.ok(&["audit", "verify"]);
    assert!(audit.contains("CLEAN"), "{audit}");
}

#[test]
fn a_hold_by_someone_outside_the_participants_is_refused() {
    let w = World::new();
    let err = w
        .facilitator
        .ferry(&["hold", "--case", &w.case])
        .unwrap_err();
    assert_eq!(code(&err), "wrong_role");
    assert_eq!(
        w.server
            .scalar("SELECT COUNT(*) FROM members WHERE holding = 1"),
        0
    );
}

#[test]
fn closing_cancels_held_forwards_for_good() {
    let w = World::new();
    let q = w.question("Will you write back?");
    w.coordinator.ok(&["case", "pause", &w.case]);
    w.forward(&q, &[]);
    w.coordinator.ok(&["case", "close", &w.case]);
    let err = w
        .coordinator
        .ferry(&["case", "resume", &w.case])
        .unwrap_err();
    assert_eq!(code(&err), "case_closed");
    assert!(w.delivered(&w.responsible).is_empty());
    assert_eq!(
        w.server
            .scalar("SELECT COUNT(*) FROM deliveries WHERE state = 'cancelled'"),
        1
    );
}

#[test]
fn nothing_moves_before_consent_and_a_sensitive_case_needs_an_accredited_facilitator() {
    let w = World::new();
    let url = w.server.url.clone();
    // A sexual-harm case: an unaccredited facilitator cannot be allocated; an accredited one can.
    let case = field(
        &w.coordinator.json(&[
            "case",
            "open",
            "--reference",
            "RJ-9",
            "--category",
            "sexual offence",
            "--sensitivity",
            "sexual_harm",
        ]),
        "case_id",
    );
    let fid = w.facilitator.account_id();
    let err = w
        .coordinator
        .ferry(&["case", "allocate", &case, &fid])
        .unwrap_err();
    assert_eq!(code(&err), "not_accredited");
    let accredited = w.server.person("accredited");
    let c = field(
        &w.coordinator.json(&[
            "staff",
            "invite",
            "--role",
            "facilitator",
            "--accreditation",
            "sexual_harm",
        ]),
        "code",
    );
    accredited.ok(&["enrol", &url, &c, "--name", "Ada Accredited"]);
    w.coordinator
        .ok(&["case", "allocate", &case, &accredited.account_id()]);

    let show = w.coordinator.ok(&["case", "show", &case]);
    assert!(
        show.contains(
            "waiting for  risk assessment, the harmed person to enrol, the responsible person to enrol"
        ),
        "{show}"
    );
    // Participants enrolled but not yet consenting: the case is not active, nothing can be sent.
    w.coordinator.ok(&["case", "risk", &case, "proceed"]);
    let h = w.server.person("harmed-2");
    let r = w.server.person("responsible-2");
    h.ok(&[
        "enrol",
        &url,
        &field(
            &w.coordinator
                .json(&["case", "invite", &case, "--role", "harmed"]),
            "code",
        ),
        "--name",
        "H2",
    ]);
    r.ok(&[
        "enrol",
        &url,
        &field(
            &w.coordinator
                .json(&["case", "invite", &case, "--role", "responsible"]),
            "code",
        ),
        "--name",
        "R2",
    ]);
    let f = h.file("q.txt", "A question too early");
    let err = h.ferry(&["write", "question", "--file", &f]).unwrap_err();
    assert_eq!(code(&err), "no_consent");
    h.ok(&["consent"]);
    let err = h.ferry(&["write", "question", "--file", &f]).unwrap_err();
    assert_eq!(code(&err), "case_not_active");
    let show = w.coordinator.ok(&["case", "show", &case]);
    assert!(
        show.contains(
            "waiting for  consent from the responsible person, key check of the harmed person, \
             key check of the responsible person"
        ),
        "{show}"
    );
    // Consent alone does not make it active: each key must have been checked.
    let out = r.ok(&["consent"]);
    assert!(out.contains("The case is preparing."), "{out}");
    assert!(
        out.contains("waiting for your facilitator to check your safety number with you"),
        "{out}"
    );
    // A participant is told only what concerns them.
    let show = r.ok(&["case", "show", &case]);
    assert!(!show.contains("harmed person"), "{show}");
    accredited.ok(&["verify-key", "H2", "--case", &case, "--yes"]);
    let err = h.ferry(&["write", "question", "--file", &f]).unwrap_err();
    assert_eq!(code(&err), "case_not_active");
    let out = accredited.ok(&["verify-key", "R2", "--case", &case, "--yes"]);
    assert!(out.contains("Recorded"), "{out}");
    let show = w.coordinator.ok(&["case", "show", &case]);
    assert!(show.contains("state        active"), "{show}");
    assert!(!show.contains("waiting for"), "{show}");
    h.ok(&["write", "question", "--file", &f]);
}

/// A service may let cases become active without key checks (FERRY_REQUIRE_KEY_CHECKS=false).
#[test]
fn key_checks_can_be_left_out_of_activation_by_the_service() {
    let server = crate::harness::TestServer::start_with(tempfile::tempdir().unwrap(), |c| {
        c.require_key_checks = false;
    });
    let url = server.url.clone();
    let coordinator = server.person("coordinator");
    coordinator.ok(&["enrol", &url, &server.coordinator_code(), "--name", "C"]);
    let facilitator = server.person("facilitator");
    facilitator.enrol_invited(
        &url,
        &coordinator,
        &["staff", "invite", "--role", "facilitator"],
        "F",
    );
    let case = field(
        &coordinator.json(&["case", "open", "--reference", "R", "--category", "theft"]),
        "case_id",
    );
    coordinator.ok(&["case", "allocate", &case, "F"]);
    coordinator.ok(&["case", "risk", &case, "proceed"]);
    for (label, role) in [("h", "harmed"), ("r", "responsible")] {
        let p = server.person(label);
        p.enrol_invited(
            &url,
            &coordinator,
            &["case", "invite", &case, "--role", role],
            label,
        );
        p.ok(&["consent"]);
    }
    let show = coordinator.ok(&["case", "show", &case]);
    assert!(show.contains("state        active"), "{show}");
}
