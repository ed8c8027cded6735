//! Auditing: verifying a case's record from an audit bundle — every signature and key card,
//! the chain, inclusion under a signed checkpoint — and replaying the process rules. Pure
//! functions over the bundle: `ferry audit verify` fetches bundles, `ferry audit
//! verify-bundle` reads one from a file, and both use the same code.

mod replay;
mod rules;
mod signatures;
mod states;
mod whole_log;

pub use whole_log::{LogReport, verify_log};

use std::collections::{BTreeMap, HashMap};

use anyhow::{Context, Result, bail};
use ferry_crypto::log_format::{self, Leaf, TreeHash};
use ferry_crypto::{KeyCard, StatementKind, VerifyingKey};
use ferry_protocol::{AuditBundle, CASE_BUNDLE, PARTICIPANT_RECORD, ProvenEvent};
use serde::Serialize;

/// One line of a case's timeline.
#[derive(Clone, Debug, Serialize)]
pub struct TimelineEntry {
    /// Position in the case's chain.
    pub seq: u64,
    /// Position in the global log.
    pub idx: u64,
    /// When the server accepted it.
    pub time: i64,
    /// Who signed it.
    pub actor: String,
    /// Their display name.
    pub actor_name: String,
    /// Their role.
    pub role: String,
    /// The statement kind.
    pub kind: String,
    /// What it says (metadata and hashes only).
    pub summary: String,
}

/// The outcome of verifying one case.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The case.
    pub case_id: String,
    /// True for a participant's own record: only the events that concern them, each proven
    /// in the log; it cannot show that the case's record is complete or that the process was
    /// followed, so neither is checked.
    pub own_record: bool,
    /// The log's origin.
    pub origin: String,
    /// The checkpoint's size.
    pub checkpoint_size: u64,
    /// The checkpoint's root, hex.
    pub checkpoint_root: String,
    /// Events in the case's chain.
    pub events: usize,
    /// Who did what, when.
    pub timeline: Vec<TimelineEntry>,
    /// Everything wrong, each a specific sentence. Empty means clean.
    pub problems: Vec<String>,
    /// What could not be checked, and why (not problems).
    pub notes: Vec<String>,
}

impl Report {
    /// True when nothing is wrong.
    pub fn clean(&self) -> bool {
        self.problems.is_empty()
    }
}

/// A parsed event, and whether it is the one the signed log holds at its position.
pub(crate) struct Event {
    pub leaf: Leaf,
    pub bytes: Vec<u8>,
    /// False when its inclusion proof fails: it was altered (or inserted or moved).
    pub intact: bool,
}

/// A server key the auditor trusts, and where it comes from ("the server key pinned in your
/// profile", "the key given with --server-key").
pub struct TrustedKey {
    /// The key.
    pub key: VerifyingKey,
    /// The log's origin it was given for, if it came with one.
    pub origin: Option<String>,
    /// Where it comes from, for sentences.
    pub from: String,
}

/// Verifies a bundle fully offline against `trusted`, the server key the auditor trusts.
/// Without one the bundle's origin is unverified, which is a problem. Fails only when the
/// bundle cannot be checked at all (unreadable, or its checkpoint is not signed by the key it
/// carries); everything else is a problem in the report.
pub fn verify_bundle(bundle: &AuditBundle, trusted: Option<&TrustedKey>) -> Result<Report> {
    let own_record = match bundle.format.as_str() {
        CASE_BUNDLE => false,
        PARTICIPANT_RECORD => true,
        other => bail!("this is not a Ferry audit bundle (format {other:?})"),
    };
    let server = KeyCard::verify(bundle.server_key_card.clone())
        .context("the bundle's server key card does not verify")?;
    let mut problems = vec![];
    check_origin(bundle, &server, trusted, &mut problems);
    let checkpoint = log_format::verify_checkpoint(
        bundle.checkpoint.as_bytes(),
        &bundle.origin,
        server.verifying_key(),
    )
    .context("the bundle's checkpoint is not signed by the server's key")?;
    let (size, root) = (checkpoint.size(), *checkpoint.hash());

    let chain = parse_all(&bundle.events, size, root, &mut problems);
    let context = parse_all(&bundle.context, size, root, &mut problems);
    let mut all: BTreeMap<u64, &Event> = BTreeMap::new();
    for e in chain.iter().chain(context.iter()).flatten() {
        if all.insert(e.leaf.idx, e).is_some() {
            problems.push(format!("event #{} appears twice in the bundle", e.leaf.idx));
        }
    }
    let cards = key_cards(&server, &all, &mut problems);
    check_signatures(&all, &cards, &mut problems);
    // A participant's record leaves out what does not concern them: its chain has gaps and the
    // rules cannot be replayed over it.
    if !own_record {
        check_chain(&bundle.case_id, &chain, &mut problems);
    }
    let key_checks = bundle.states.as_ref().is_some_and(|s| s.require_key_checks);
    let mut rules = vec![];
    let replayed = replay::replay(
        &bundle.case_id,
        &all,
        &cards,
        server.account_id().as_str(),
        key_checks,
        &mut rules,
    );
    let mut notes = vec![];
    if !own_record {
        problems.extend(rules);
        let last = chain.iter().flatten().last().map(|e| e.leaf.idx);
        check_kept_states(bundle, last, replayed.as_ref(), &mut problems, &mut notes);
    }
    Ok(Report {
        case_id: bundle.case_id.clone(),
        own_record,
        origin: bundle.origin.clone(),
        checkpoint_size: size,
        checkpoint_root: log_format::hash_hex(&root),
        events: chain.len(),
        timeline: replayed.map(|c| c.timeline).unwrap_or_default(),
        problems,
        notes,
    })
}

/// Reports a bundle made by a server other than the one the auditor trusts, or by any server
/// when the auditor trusts none.
fn check_origin(
    bundle: &AuditBundle,
    server: &KeyCard,
    trusted: Option<&TrustedKey>,
    problems: &mut Vec<String>,
) {
    let theirs = server.fingerprint().key_code();
    match trusted {
        None => problems.push(
            "its origin is unverified: nothing shows which server made it. Check it against the \
             server key you trust: enrol with that service, or give its verifier key with \
             --server-key"
                .to_owned(),
        ),
        Some(t) if t.key != *server.verifying_key() => problems.push(format!(
            "it was made by a server whose key (fingerprint {theirs}) is not {}: it is not \
             that service's record",
            t.from
        )),
        Some(t) => {
            if let Some(origin) = &t.origin
                && origin != &bundle.origin
            {
                problems.push(format!(
                    "it is from the log {:?}, but {} is for the log {origin:?}",
                    bundle.origin, t.from
                ));
            }
        }
    }
}

/// The key cards in the bundle's events, by account, with the server's. Key cards come from
/// the log itself, never from anywhere else.
fn key_cards(
    server: &KeyCard,
    all: &BTreeMap<u64, &Event>,
    problems: &mut Vec<String>,
) -> HashMap<String, KeyCard> {
    let mut cards = HashMap::from([(server.account_id().to_string(), server.clone())]);
    for e in all.values() {
        if e.leaf.statement.kind != StatementKind::KeyCard {
            continue;
        }
        match KeyCard::verify(e.leaf.statement.clone()) {
            Ok(card) => {
                cards.entry(card.account_id().to_string()).or_insert(card);
            }
            Err(err) => problems.push(format!(
                "key card in event #{} does not verify: {err}",
                e.leaf.idx
            )),
        }
    }
    cards
}

/// Reports each event not signed by its signer's key card.
fn check_signatures(
    all: &BTreeMap<u64, &Event>,
    cards: &HashMap<String, KeyCard>,
    problems: &mut Vec<String>,
) {
    for e in all.values() {
        let st = &e.leaf.statement;
        match cards.get(st.signer.as_str()) {
            None => problems.push(format!(
                "event #{} ({}) is signed by account {}, whose key card is not in the log",
                e.leaf.idx, st.kind, st.signer
            )),
            Some(card) => {
                if st.verify_signature(card.verifying_key()).is_err() {
                    problems.push(format!(
                        "event #{} ({}) by {}: the signature does not verify (the event was altered)",
                        e.leaf.idx,
                        st.kind,
                        card.display_name()
                    ));
                }
            }
        }
    }
}

/// Compares the server's states in the bundle with the replay, when they describe the same
/// moment (`last`: the chain's last event); otherwise says why they were not checked.
fn check_kept_states(
    bundle: &AuditBundle,
    last: Option<u64>,
    replayed: Option<&replay::CaseReplay>,
    problems: &mut Vec<String>,
    notes: &mut Vec<String>,
) {
    match (&bundle.states, replayed) {
        (None, _) => notes
            .push("the bundle holds no states of the server to check against the events".into()),
        (Some(states), Some(replayed)) if states.last_event == last => {
            problems.extend(states::compare(states, replayed));
        }
        (Some(_), _) => notes.push(
            "the server's states were not checked: the case changed while the bundle was made"
                .into(),
        ),
    }
}

/// Each of a bundle's events, parsed (`None` when it cannot be read at all: it was altered).
fn parse_all(
    events: &[ProvenEvent],
    size: u64,
    root: TreeHash,
    problems: &mut Vec<String>,
) -> Vec<Option<Event>> {
    let mut out = vec![];
    for (i, e) in events.iter().enumerate() {
        let Ok(bytes) = crate::client::b64(&e.leaf) else {
            problems.push(format!(
                "event {i} of the bundle is not valid base64: it was altered"
            ));
            out.push(None);
            continue;
        };
        let leaf = match Leaf::parse(&bytes) {
            Ok(l) => l,
            Err(err) => {
                problems.push(format!(
                    "event {i} of the bundle does not parse ({err}): it was altered"
                ));
                out.push(None);
                continue;
            }
        };
        let proof: Result<Vec<TreeHash>, _> = e
            .proof
            .iter()
            .map(|h| log_format::hash_from_hex(h))
            .collect();
        let included = proof.map_err(anyhow::Error::from).and_then(|p| {
            Ok(log_format::check_inclusion(
                &p, size, root, leaf.idx, &bytes,
            )?)
        });
        if included.is_err() {
            problems.push(format!(
                "event #{}{}: not included in the signed log at that position (it was altered, inserted or moved)",
                leaf.idx,
                leaf.seq_in_case.map(|s| format!(" (case seq {s})")).unwrap_or_default()
            ));
        }
        out.push(Some(Event {
            leaf,
            bytes,
            intact: included.is_ok(),
        }));
    }
    out
}

/// Checks the chain's continuity. An event that was altered (unreadable, or not the one the
/// log holds) is reported as altered: a jump at it, or after it, is never called a deletion.
fn check_chain(case_id: &str, chain: &[Option<Event>], problems: &mut Vec<String>) {
    let mut link = Link::default();
    for e in chain {
        let Some(e) = e else {
            link.altered();
            continue;
        };
        if e.leaf.case_id.as_deref() != Some(case_id) {
            problems.push(format!(
                "event #{} belongs to another case but is in this case's chain",
                e.leaf.idx
            ));
            continue;
        }
        link.next(&e.leaf, log_format::event_hash(&e.bytes), e.intact, |p| {
            problems.push(p)
        });
    }
}

/// Where a case's chain has got to: the bundle's check and the whole-log audit both step it
/// one event at a time.
#[derive(Default)]
pub(crate) struct Link {
    /// The sequence number due next.
    next_seq: u64,
    /// The last event's log position and [`log_format::event_hash`].
    last: Option<(u64, ferry_crypto::Sha256Hash)>,
    /// The event before the next one was altered: what it was is unknown.
    after_altered: bool,
}

impl Link {
    /// Steps past an event that was altered: it held the place due next.
    pub(crate) fn altered(&mut self) {
        self.next_seq += 1;
        self.after_altered = true;
    }

    /// The log position of the last event seen.
    pub(crate) fn last_idx(&self) -> Option<u64> {
        self.last.map(|(idx, _)| idx)
    }

    /// Checks that `leaf` (whose event hash is `hash`) continues the chain, reporting each
    /// thing wrong, and moves on past it.
    pub(crate) fn next(
        &mut self,
        leaf: &Leaf,
        hash: ferry_crypto::Sha256Hash,
        intact: bool,
        mut problem: impl FnMut(String),
    ) {
        let seq = leaf.seq_in_case.unwrap_or(u64::MAX);
        let due = self.next_seq;
        let after_altered = std::mem::take(&mut self.after_altered);
        if seq != due {
            problem(
                if seq > due && seq != u64::MAX && (!intact || after_altered) {
                    // A jump at an event that is not the one the log holds says nothing of
                    // deletions: that event itself was altered (or moved here).
                    format!(
                        "event #{} has seq {seq} where seq {due} was due: it is not the event the log \
                     holds at this place (it was altered, or moved)",
                        leaf.idx
                    )
                } else if seq > due && seq != u64::MAX {
                    format!(
                        "the chain is missing event(s) {due}..{} (it jumps to seq {seq} at event #{}): events were deleted",
                        seq - 1,
                        leaf.idx
                    )
                } else {
                    format!(
                        "event #{} has seq {seq} where seq {due} was due: it appears out of order (reordered or replayed)",
                        leaf.idx
                    )
                },
            );
        }
        if !after_altered && leaf.prev_hash != self.last.map(|(_, h)| h) {
            problem(format!(
                "the chain is broken at seq {seq}: it does not name the event before it (reordered, deleted or altered)"
            ));
        }
        if let Some((idx, _)) = self.last
            && idx >= leaf.idx
        {
            problem(format!(
                "seq {seq} has an earlier log position than the event before it: events were reordered"
            ));
        }
        // After a jump, the chain goes on from the furthest point reached, so one event out
        // of place is reported once, not at every event after it.
        self.next_seq = due.max(seq.saturating_add(1));
        self.last = Some((leaf.idx, hash));
        // The next event names the event the log holds here, not this one.
        self.after_altered = !intact;
    }
}
