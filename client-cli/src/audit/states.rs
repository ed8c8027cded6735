//! The server's own states (a case's lifecycle state, each person's consent and hold, each message's
//! and delivery's state) checked against what the signed events make of them. These states
//! are columns the log does not cover; one written around the API (a message set to
//! `withheld` in the database to hide it from its facilitator, say) is explained by no event,
//! and is reported here.

use std::collections::HashSet;

use ferry_protocol::{CaseState, CaseStates, DeliveryState, KeptDelivery, MessageState};

use super::replay::{CaseReplay, Delivery, State};

/// What the server keeps for a case that its events do not explain, each a sentence.
pub(crate) fn compare(server: &CaseStates, replay: &CaseReplay) -> Vec<String> {
    let mut problems = vec![];
    let derived = &replay.state;
    if server.state != derived.state_name() {
        problems.push(format!(
            "the case is kept as {}, but its events make it {}",
            server.state,
            derived.state_name()
        ));
    }
    members(server, derived, &mut problems);
    messages(server, derived, &mut problems);
    deliveries(server, derived, &mut problems);
    problems
        .into_iter()
        .map(|p| format!("the server's states: {p}"))
        .collect()
}

/// Each member kept is one the events made, in the role they enrolled in, with the consent
/// their events give; and each member the events made is kept.
fn members(server: &CaseStates, derived: &State, problems: &mut Vec<String>) {
    for m in &server.members {
        let Some(d) = derived.members.get(&m.account_id) else {
            problems.push(format!(
                "{} is kept as a member ({}) but no event made them one",
                m.account_id, m.role
            ));
            continue;
        };
        if d.role.as_str() != m.role {
            problems.push(format!(
                "{} is kept as {}, but enrolled as {}",
                m.account_id, m.role, d.role
            ));
        }
        if d.consent.as_str() != m.consent {
            problems.push(format!(
                "{}'s consent is kept as {}, but their events make it {}",
                m.account_id, m.consent, d.consent
            ));
        }
        if d.holding != m.holding {
            let kept = if m.holding { "holding" } else { "not holding" };
            problems.push(format!(
                "{} is kept as {kept} what is passed on to them, but their events say otherwise",
                m.account_id
            ));
        }
    }
    let kept: HashSet<&str> = server
        .members
        .iter()
        .map(|m| m.account_id.as_str())
        .collect();
    for account in derived.members.keys() {
        if !kept.contains(account.as_str()) {
            problems.push(format!(
                "{account} joined the case but is no longer kept as a member"
            ));
        }
    }
}

/// Each message kept was submitted, in the state its decisions give (the events cannot tell
/// a message still uploading from one in review); and each message submitted is kept.
fn messages(server: &CaseStates, derived: &State, problems: &mut Vec<String>) {
    for m in &server.messages {
        let Some(d) = derived.messages.get(&m.message_id) else {
            problems.push(format!(
                "message {} is kept but no event records its submission",
                m.message_id
            ));
            continue;
        };
        let kept = m.state.parse::<MessageState>().ok();
        let explained = match d.state {
            MessageState::InReview => {
                matches!(kept, Some(MessageState::InReview | MessageState::Uploading))
            }
            state => kept == Some(state),
        };
        if !explained {
            let derived = match d.state {
                MessageState::InReview => "in review",
                other => other.as_str(),
            };
            problems.push(format!(
                "message {} is kept as {}, but its events make it {derived}",
                m.message_id, m.state
            ));
        }
    }
    let kept: HashSet<&str> = server
        .messages
        .iter()
        .map(|m| m.message_id.as_str())
        .collect();
    for id in derived.messages.keys() {
        if !kept.contains(id.as_str()) {
            problems.push(format!(
                "message {id} was submitted but the server no longer keeps it"
            ));
        }
    }
}

/// Each delivery kept was approved by an event, in the state the events give it; and each
/// approved delivery is kept.
fn deliveries(server: &CaseStates, derived: &State, problems: &mut Vec<String>) {
    let mut matched = vec![false; derived.deliveries.len()];
    for s in &server.deliveries {
        let found = derived.deliveries.iter().enumerate().find(|(i, d)| {
            !matched[*i]
                && d.message_id == s.message_id
                && d.kind.as_str() == s.kind
                && d.recipient == s.recipient
                && d.hash.to_hex() == s.sha256
        });
        let Some((i, d)) = found else {
            problems.push(format!(
                "a {} of message {} to {} is kept but no event approved it",
                s.kind, s.message_id, s.recipient
            ));
            continue;
        };
        matched[i] = true;
        if !delivery_explained(derived, d, s) {
            problems.push(format!(
                "the {} of message {} to {} is kept as {}, but its events make it {}",
                s.kind, s.message_id, s.recipient, s.state, d.status
            ));
        }
    }
    let unmatched = derived
        .deliveries
        .iter()
        .zip(&matched)
        .filter(|(_, m)| !**m);
    for (d, _) in unmatched {
        problems.push(format!(
            "the {} of message {} to {} was approved but the server no longer keeps it",
            d.kind, d.message_id, d.recipient
        ));
    }
}

/// Whether a delivery's kept state is the one its events give, or differs from it only by
/// what the events cannot see: attachments still uploading (not yet released), and a forward
/// whose uploads finished while the case was paused or its recipient held what reaches them
/// (held until it resumes, or they let it through), or while the case was closed.
fn delivery_explained(derived: &State, d: &Delivery, s: &KeptDelivery) -> bool {
    use DeliveryState::{Cancelled, Held, Released, Uploading};
    let closed = derived.is(CaseState::Closed);
    let paused = derived.is(CaseState::Paused);
    match (d.status, s.state.parse::<DeliveryState>().ok()) {
        (_, None) => false,
        (a, Some(b)) if a == b => true,
        (Held | Released, Some(Uploading)) => s.uploading,
        (Released, Some(Held)) => {
            s.uploading || ((paused || derived.holding(&d.recipient)) && d.attachments > 0)
        }
        (Released, Some(Cancelled)) => closed && (s.uploading || d.attachments > 0),
        _ => false,
    }
}
