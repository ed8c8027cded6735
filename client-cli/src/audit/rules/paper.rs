//! The process rules for people who take part on paper: who may act for them, and what
//! their paper consent, their entered messages and their printed letters change.

use ferry_crypto::paper::{Medium, PaperConsent, PaperMember, Printing};
use ferry_crypto::{Role, with_article};
use ferry_protocol::{Consent, DeliveryKind, DeliveryState};

use super::{Cx, set_consent};
use crate::audit::replay::{Member, short};

/// A coordinator adds to the case a new person who takes part on paper, as a participant.
pub(super) fn member(cx: &mut Cx, p: PaperMember) -> String {
    cx.coordinator("a person on paper added");
    let person = p.person.to_string();
    if !p.role.is_participant() {
        cx.problem(format!(
            "{} was added on paper as {}, which is not a participant's role",
            p.display_name,
            with_article(p.role.as_str())
        ));
    }
    if cx.case.members.contains_key(&person) {
        cx.problem(format!("{} was added on paper twice", p.display_name));
    }
    let member = Member {
        role: p.role,
        consent: Consent::None,
        holding: false,
        on_paper: true,
    };
    cx.case.members.insert(person, member);
    format!(
        "added {} as {} who takes part on paper: the case's facilitators act for them",
        p.display_name,
        p.role.a_person()
    )
}

/// Only a facilitator allocated to the case acts for a person on paper.
fn acts_for(cx: &Cx, person: &str, what: &str) {
    let (signer, name) = (cx.signer_name(), (cx.name)(person));
    if !cx.case.allocated(cx.signer()) {
        cx.problem(format!(
            "{signer} {what} for {name} but is not a facilitator of this case"
        ));
    }
    if !cx.case.members.get(person).is_some_and(|m| m.on_paper) {
        cx.problem(format!(
            "{signer} {what} for {name}, who does not take part on paper"
        ));
    }
}

/// A facilitator of the case records the consent a person on paper signed (with the scan of
/// the form), or their withdrawal on paper or by telephone, which pauses an active case.
pub(super) fn consent(cx: &mut Cx, p: PaperConsent) -> String {
    let person = p.participant.to_string();
    let what = if p.given {
        "recorded consent"
    } else {
        "recorded a withdrawal"
    };
    acts_for(cx, &person, what);
    if p.medium == Medium::Paper && p.scan.is_none() {
        cx.problem(format!("{what} on paper without the scan of the form"));
    }
    if p.medium == Medium::Telephone && p.given {
        cx.problem("consent was recorded from a telephone call, not a signed form".into());
    }
    set_consent(cx, &person, p.given);
    let scan = p
        .scan
        .as_ref()
        .map(|s| format!(", scan sha256 {}", short(&s.sha256.to_hex())))
        .unwrap_or_default();
    let given = if p.given {
        "consent given"
    } else {
        "consent withdrawn (the case pauses)"
    };
    format!(
        "{given} by {} on {}, recorded for them by {} ({}{scan})",
        (cx.name)(&person),
        p.medium.as_str(),
        cx.signer_name(),
        p.place
    )
}

/// A message entered for a person on paper is entered by a facilitator allocated to the case;
/// it is then the person's own for every other rule.
pub(super) fn entered(cx: &Cx, author: &str) {
    acts_for(cx, author, "entered a message");
}

/// A facilitator of the case prints, for a person on paper, a letter passed on to them and
/// not held.
pub(super) fn printing(cx: &mut Cx, p: Printing) -> String {
    let person = p.recipient.to_string();
    acts_for(cx, &person, "printed a letter");
    let id = short(p.message_id.as_str());
    let passed_on = cx.case.deliveries.iter().find(|d| {
        d.kind == DeliveryKind::Forward
            && d.message_id == p.message_id.as_str()
            && d.recipient == person
            && d.approval == p.forward
    });
    match passed_on.map(|d| d.status) {
        Some(DeliveryState::Released | DeliveryState::Read) => {}
        Some(status) => cx.problem(format!("{id} was printed while it was {status}")),
        None => cx.problem(format!(
            "{id} was printed for {}, but that forward did not pass it on to them",
            (cx.name)(&person)
        )),
    }
    if cx.case.members.get(&person).map(|m| m.role) == Some(Role::Facilitator) {
        cx.problem(format!("{id} was printed for a facilitator"));
    }
    format!(
        "printed {} {id} for {} (code hash {}, text sha256 {})",
        p.kind,
        (cx.name)(&person),
        short(&p.code.to_hex()),
        short(&p.text_sha256.to_hex())
    )
}
