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

#[test]
fn the_staff_list_names_facilitators_and_allocation_takes_a_name() {
    let w = World::new();
    let out = w.coordinator.ok(&["staff", "list"]);
    assert!(out.contains("Fiona Facilitator"), "{out}");
    assert!(out.contains("Ines Inspector"), "{out}");
    let staff = w
        .coordinator
        .json(&["staff", "list", "--role", "facilitator"]);
    let staff = staff.as_array().unwrap();
    assert_eq!(staff.len(), 1, "{staff:?}");
    assert_eq!(staff[0]["account_id"], w.facilitator.account_id());
    assert_eq!(staff[0]["open_cases"], 1);

    // A second case, allocated by the facilitator's name.
    let case = crate::harness::field(
        &w.coordinator
            .json(&["case", "open", "--reference", "RJ-2", "--category", "theft"]),
        "case_id",
    );
    let out = w
        .coordinator
        .ok(&["case", "allocate", &case, "Fiona Facilitator"]);
    assert!(out.contains("Allocated Fiona Facilitator"), "{out}");
    let staff = w
        .coordinator
        .json(&["staff", "list", "--role", "facilitator"]);
    assert_eq!(staff[0]["open_cases"], 2);

    // A name nobody has, and a name two facilitators share, are refused; nothing changes.
    let twin = w.server.person("twin");
    twin.enrol_invited(
        &w.server.url,
        &w.coordinator,
        &["staff", "invite", "--role", "facilitator"],
        "Fiona Facilitator",
    );
    let case3 = crate::harness::field(
        &w.coordinator
            .json(&["case", "open", "--reference", "RJ-3", "--category", "theft"]),
        "case_id",
    );
    let before = w.server.snapshot();
    let err = w
        .coordinator
        .ferry(&["case", "allocate", &case3, "Nobody Here"])
        .unwrap_err();
    assert!(
        format!("{err:#}").contains("no facilitator is called"),
        "{err:#}"
    );
    let err = w
        .coordinator
        .ferry(&["case", "allocate", &case3, "Fiona Facilitator"])
        .unwrap_err();
    assert!(
        format!("{err:#}").contains("several facilitators"),
        "{err:#}"
    );
    assert_eq!(w.server.snapshot(), before);
    // The account id still works.
    w.coordinator
        .ok(&["case", "allocate", &case3, &twin.account_id()]);

    // Only coordinators see the staff list.
    let err = w.harmed.ferry(&["staff", "list"]).unwrap_err();
    assert_eq!(crate::harness::code(&err), "wrong_role");
}
