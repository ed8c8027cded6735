//! The server's own states (a case's lifecycle state, each person's consent, each message's
//! and delivery's state) checked against what the signed events make of them. These states
//! are columns the log does not cover; one written around the API (a message set to
//! `withheld` in the database to hide it from its facilitator, say) is explained by no event,
//! and is reported here.

use std::collections::HashSet;

use ferry_protocol::CaseStates;

use super::replay::CaseReplay;

/// What the server keeps for a case that its events do not explain, each a sentence.
pub(crate) fn compare(server: &CaseStates, replay: &CaseReplay) -> Vec<String> {
    let mut problems = vec![];
    let derived = &replay.state;
    let mut problem = |text: String| problems.push(format!("the server's states: {text}"));
    if server.state != derived.case_state {
        problem(format!(
            "the case is kept as {}, but its events make it {}",
            server.state, derived.case_state
        ));
    }
    for m in &server.members {
        match derived.members.get(&m.account_id) {
            None => problem(format!(
                "{} is kept as a member ({}) but no event made them one",
                m.account_id, m.role
            )),
            Some(d) => {
                if d.role.as_str() != m.role {
                    problem(format!(
                        "{} is kept as {}, but enrolled as {}",
                        m.account_id, m.role, d.role
                    ));
                }
                if d.consent != m.consent {
                    problem(format!(
                        "{}'s consent is kept as {}, but their events make it {}",
                        m.account_id, m.consent, d.consent
                    ));
                }
            }
        }
    }
    let kept: HashSet<&str> = server
        .members
        .iter()
        .map(|m| m.account_id.as_str())
        .collect();
    for account in derived.members.keys() {
        if !kept.contains(account.as_str()) {
            problem(format!(
                "{account} joined the case but is no longer kept as a member"
            ));
        }
    }
    for m in &server.messages {
        match derived.messages.get(&m.message_id) {
            None => problem(format!(
                "message {} is kept but no event records its submission",
                m.message_id
            )),
            Some(d) => {
                let explained = match d.state {
                    "undecided" => matches!(m.state.as_str(), "in_review" | "uploading"),
                    state => m.state == state,
                };
                if !explained {
                    problem(format!(
                        "message {} is kept as {}, but its events make it {}",
                        m.message_id,
                        m.state,
                        if d.state == "undecided" {
                            "in review"
                        } else {
                            d.state
                        }
                    ));
                }
            }
        }
    }
    let messages: HashSet<&str> = server
        .messages
        .iter()
        .map(|m| m.message_id.as_str())
        .collect();
    for id in derived.messages.keys() {
        if !messages.contains(id.as_str()) {
            problem(format!(
                "message {id} was submitted but the server no longer keeps it"
            ));
        }
    }
    let closed = derived.case_state == "closed";
    let paused = derived.case_state == "paused";
    let mut matched = vec![false; derived.deliveries.len()];
    for s in &server.deliveries {
        let found = derived.deliveries.iter().enumerate().find(|(i, d)| {
            !matched[*i]
                && d.message_id == s.message_id
                && d.kind == s.kind
                && d.recipient == s.recipient
                && d.hash.to_hex() == s.sha256
        });
        let Some((i, d)) = found else {
            problem(format!(
                "a {} of message {} to {} is kept but no event approved it",
                s.kind, s.message_id, s.recipient
            ));
            continue;
        };
        matched[i] = true;
        // What the events cannot see: attachments still uploading (not yet released), and a
        // forward whose uploads finished while the case was paused (held until it resumes).
        let explained = match (d.status, s.state.as_str()) {
            (a, b) if a == b => true,
            ("held" | "released", "uploading") => s.uploading,
            ("released", "held") => s.uploading || (paused && d.attachments > 0),
            ("released", "cancelled") => closed && (s.uploading || d.attachments > 0),
            _ => false,
        };
        if !explained {
            problem(format!(
                "the {} of message {} to {} is kept as {}, but its events make it {}",
                s.kind, s.message_id, s.recipient, s.state, d.status
            ));
        }
    }
    for (d, _) in derived
        .deliveries
        .iter()
        .zip(&matched)
        .filter(|(_, m)| !**m)
    {
        problem(format!(
            "the {} of message {} to {} was approved but the server no longer keeps it",
            d.kind, d.message_id, d.recipient
        ));
    }
    problems
}
