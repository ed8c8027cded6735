//! Each party learns only what was passed on to them. A participant's view of the case, of
//! its record and of single events holds their own actions and what was forwarded to them:
//! never the other party's unforwarded submissions, their sizes and times, or a withhold and
//! its reason. Someone outside a case cannot tell from any answer whether a case or message
//! exists.

use ferry_cli::client::api_failure;
use ferry_protocol::{AuditBundle, CaseView, EventView, MessageSummary};

use crate::harness::{World, field};

/// An answer's status, code and sentence (the whole of what a refusal says).
fn refusal<T: std::fmt::Debug>(result: anyhow::Result<T>) -> (u16, String, String) {
    let err = result.expect_err("expected a refusal");
    let f = api_failure(&err).unwrap_or_else(|| panic!("not an API error: {err:#}"));
    (f.status, f.code.clone(), f.message.clone())
}

#[test]
fn a_participant_sees_only_what_concerns_them() {
    let w = World::new();
    let passed = w.question("Why did you pick our house?");
    w.forward(&passed, &[]);
    let kept_back = w.question("I know where your mother lives.");
    w.facilitator
        .ok(&["withhold", &kept_back, "--reason", "risk_of_harm"]);
    let undecided = w.question("Not yet decided.");

    let rory = w.responsible.account();
    // The record of the case, through the API and through `ferry audit verify --case`.
    let bundle: AuditBundle = rory
        .client
        .get(&format!("/v1/cases/{}/audit", w.case))
        .unwrap();
    assert_eq!(bundle.format, "ferry-participant-record/v1");
    let audit = w.responsible.ok(&["audit", "verify", "--case", &w.case]);
    for secret in [
        kept_back.as_str(),
        undecided.as_str(),
        "risk_of_harm",
        "withh",
    ] {
        assert!(!audit.contains(secret), "{secret} in the record:\n{audit}");
    }
    assert!(audit.contains("Your own record in case"), "{audit}");
    assert!(
        audit.contains("forwarded") && audit.contains("Result: VERIFIED"),
        "{audit}"
    );
    // No submission of the harmed person is in it at all (not even its size).
    let leaves: Vec<String> = bundle
        .events
        .iter()
        .map(|e| String::from_utf8(ferry_cli::client::b64(&e.leaf).unwrap()).unwrap())
        .collect();
    let harriet = w.harmed.account_id();
    for leaf in &leaves {
        let v: serde_json::Value = serde_json::from_str(leaf).unwrap();
        let st = &v["statement"];
        let hers = st["signer"] == harriet.as_str();
        for kind in ["submission", "consent", "key-card", "enrolment"] {
            assert!(!(st["kind"] == kind && hers), "{leaf}");
        }
        assert_ne!(st["kind"], "withhold", "{leaf}");
    }

    // Single events: the harmed person's submission of the withheld question is answered
    // exactly as an event that does not exist.
    let idx = w.server.scalar(&format!(
        "SELECT MIN(idx) FROM events WHERE kind = 'submission' AND case_id = '{}' AND actor = '{harriet}'",
        w.case
    ));
    let hidden = refusal(rory.client.get::<EventView>(&format!("/v1/events/{idx}")));
    let absent = refusal(rory.client.get::<EventView>("/v1/events/99999999"));
    assert_eq!(hidden, absent);
    // Harriet sees her own.
    let harmed = w.harmed.account();
    harmed
        .client
        .get::<EventView>(&format!("/v1/events/{idx}"))
        .unwrap();

    // The case view: no counts of her messages, no word on her consent.
    let view: CaseView = rory.client.get(&format!("/v1/cases/{}", w.case)).unwrap();
    assert!(view.message_counts.is_empty(), "{:?}", view.message_counts);
    let her = view
        .members
        .iter()
        .find(|m| m.account_id == harriet)
        .unwrap();
    assert_eq!(her.consent, None);
    let me = view
        .members
        .iter()
        .find(|m| m.account_id == w.responsible.account_id())
        .unwrap();
    assert_eq!(me.consent.map(|c| c.as_str()), Some("given"));
    let messages: Vec<MessageSummary> = rory
        .client
        .get(&format!("/v1/cases/{}/messages", w.case))
        .unwrap();
    assert!(messages.is_empty(), "{messages:?}");
    // Her withheld message answers as a message that does not exist.
    let hidden = refusal(
        rory.client
            .get::<serde_json::Value>(&format!("/v1/cases/{}/messages/{kept_back}", w.case)),
    );
    let absent = refusal(rory.client.get::<serde_json::Value>(&format!(
        "/v1/cases/{}/messages/0123456789abcdef0123456789abcdef",
        w.case
    )));
    assert_eq!(hidden, absent);

    // The auditor and the facilitator still see everything.
    let full = w.auditor.ok(&["audit", "verify", "--case", &w.case]);
    assert!(
        full.contains("withheld (risk_of_harm)") && full.contains("Result: CLEAN"),
        "{full}"
    );
    let fac: AuditBundle = w
        .facilitator
        .account()
        .client
        .get(&format!("/v1/cases/{}/audit", w.case))
        .unwrap();
    assert_eq!(fac.format, "ferry-audit-bundle/v1");
    assert!(fac.events.len() > bundle.events.len());
}

#[test]
fn an_outsider_cannot_tell_whether_a_case_or_message_exists() {
    let w = World::new();
    let q = w.question("A question");
    // A participant of another case.
    let outsider = w.server.person("outsider");
    let case2 = field(
        &w.coordinator
            .json(&["case", "open", "--reference", "RJ-2", "--category", "theft"]),
        "case_id",
    );
    outsider.enrol_invited(
        &w.server.url,
        &w.coordinator,
        &["case", "invite", &case2, "--role", "harmed"],
        "Olive Outsider",
    );
    let o = outsider.account();
    let probe = |path: String| refusal(o.client.get::<serde_json::Value>(&path));
    let real = probe(format!("/v1/cases/{}/messages/{q}", w.case));
    let no_message = probe(format!(
        "/v1/cases/{}/messages/0123456789abcdef0123456789abcdef",
        w.case
    ));
    let no_case = probe(format!("/v1/cases/c-nothere/messages/{q}"));
    assert_eq!(real, no_message);
    assert_eq!(real, no_case);
    assert_eq!(real.0, 404);
    for suffix in ["", "/messages", "/audit", "/facilitators"] {
        assert_eq!(
            probe(format!("/v1/cases/{}{suffix}", w.case)),
            probe(format!("/v1/cases/c-nothere{suffix}")),
            "{suffix}"
        );
    }
    assert_eq!(
        probe(format!("/v1/cases/{}/messages/{q}/attachments/0", w.case)),
        probe(format!("/v1/cases/c-nothere/messages/{q}/attachments/0")),
    );
    let idx = w.server.scalar(&format!(
        "SELECT MIN(idx) FROM events WHERE case_id = '{}'",
        w.case
    ));
    assert_eq!(
        probe(format!("/v1/events/{idx}")),
        probe("/v1/events/99999999".into())
    );
}
