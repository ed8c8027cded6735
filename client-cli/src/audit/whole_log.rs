//! Auditing the whole log in one pass (coordinators and service-wide auditors). The leaves are
//! fetched in order on one thread while the ones before them are checked; the tree is
//! recomputed leaf by leaf, so one comparison with the signed checkpoint's root shows every
//! event is in the log at its position (no proof per event); each case's chain and process
//! rules are replayed as the log goes by; signatures are checked in Ed25519 batches on every
//! core as they come ([`Checker`]).

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::mpsc::sync_channel;

use anyhow::{Context, Result, bail};
use ferry_crypto::log_format::{self, Leaf, TreeBuilder};
use ferry_crypto::{KeyCard, Sha256Hash, StatementKind};
use ferry_protocol::{CaseStates, LEAVES_BINARY, RawLeaves, ServerInfo, StatesCursor, StatesPage};
use serde::Serialize;

use super::replay::Replayer;
use super::signatures::{Checker, Found, Unchecked};
use super::{Event, Link, Report};
use crate::client::Client;
use crate::pin::Pinned;

/// Leaves asked for per request (the server serves at most 10,000).
const PAGE: u64 = 4_000;

/// The outcome of verifying the whole log.
#[derive(Clone, Debug, Serialize)]
pub struct LogReport {
    /// The log's origin.
    pub origin: String,
    /// The checkpoint's size: every event verified.
    pub size: u64,
    /// The checkpoint's root, hex.
    pub root: String,
    /// Whether the leaves, hashed again, give that root.
    pub root_matches: bool,
    /// Each case, in order of its first event (without timelines: `--case` shows one).
    pub cases: Vec<Report>,
    /// What is wrong outside any one case: the tree, staff enrolments, unreadable events.
    pub problems: Vec<String>,
    /// What could not be checked, and why (not problems).
    pub notes: Vec<String>,
}

impl LogReport {
    /// How many problems, in the log and in every case.
    pub fn problem_count(&self) -> usize {
        self.problems.len() + self.cases.iter().map(|c| c.problems.len()).sum::<usize>()
    }
}

/// Verifies the whole log up to `pinned` (a checkpoint already verified with the server's key
/// and checked to extend every one seen before): fetches every leaf, recomputes the root, and
/// checks every signature, chain and rule.
pub fn verify_log(client: &Client, server: &KeyCard, pinned: &Pinned) -> Result<LogReport> {
    let root = log_format::hash_from_hex(&pinned.root)?;
    let size = pinned.size;
    let info: ServerInfo = client.get("/v1/server")?;
    let mut audit = Audit {
        tree: TreeBuilder::default(),
        cards: HashMap::from([(server.account_id().to_string(), server.clone())]),
        chains: HashMap::new(),
        order: vec![],
        replayer: Replayer::new(server.account_id().as_str(), false, info.require_key_checks),
    };
    let found = read_log(client, size, &mut audit)?;
    audit.signatures(found);
    if audit.tree.size() != size {
        bail!(
            "the server served {} of the {size} events its checkpoint covers",
            audit.tree.size()
        );
    }
    let mut problems = vec![];
    let root_matches = audit.tree.root() == root;
    if !root_matches {
        problems.push(format!(
            "the log's {size} events do not hash to the signed checkpoint's root: events were \
             altered, inserted, removed or moved"
        ));
    }
    let (found, unchecked) = check_states(client, &audit, size)?;
    let mut notes = vec![];
    if unchecked > 0 {
        notes.push(format!(
            "the server's states of {unchecked} case(s) were not checked: they changed after the \
             checkpoint (the next audit checks them)"
        ));
    }
    let mut by_case: HashMap<String, Vec<String>> = HashMap::new();
    for (case, problem) in found.into_iter().chain(audit.replayer.problems) {
        match case {
            Some(c) => by_case.entry(c).or_default().push(problem),
            None => problems.push(problem),
        }
    }
    let case_report = |case_id: &String| Report {
        case_id: case_id.clone(),
        own_record: false,
        origin: pinned.origin.clone(),
        checkpoint_size: size,
        checkpoint_root: pinned.root.clone(),
        events: audit.replayer.cases.get(case_id).map_or(0, |c| c.events),
        timeline: vec![],
        problems: by_case.remove(case_id).unwrap_or_default(),
        notes: vec![],
    };
    let cases = audit.order.iter().map(case_report).collect();
    // Nothing found is dropped, even for a case whose chain never showed.
    for (case, found) in by_case {
        problems.extend(found.into_iter().map(|p| format!("case {case}: {p}")));
    }
    Ok(LogReport {
        origin: pinned.origin.clone(),
        size,
        root: pinned.root.clone(),
        root_matches,
        cases,
        problems,
        notes,
    })
}

/// Reads the log's first `size` leaves in order into `audit`: fetching runs ahead on its own
/// thread (two pages at most), signatures are checked on every core as they come.
fn read_log(client: &Client, size: u64, audit: &mut Audit<'_>) -> Result<Found> {
    std::thread::scope(|scope| -> Result<_> {
        let (tx, rx) = sync_channel::<Result<Page>>(2);
        scope.spawn(move || {
            let mut start = 0;
            while start < size {
                let page = fetch(client, start, PAGE.min(size - start));
                let next = page.as_ref().ok().map(|p| start + p.leaves.len() as u64);
                if tx.send(page).is_err() {
                    return;
                }
                match next {
                    Some(next) => start = next,
                    None => return,
                }
            }
        });
        let mut checker = Checker::start(scope);
        for page in rx {
            let page = page?;
            for leaf in page.leaves {
                audit.event(&page.bytes[leaf], &mut checker);
            }
        }
        Ok(checker.finish())
    })
}

/// A problem, with the case it concerns (none: the log's staff).
type CaseProblem = (Option<String>, String);

/// Checks every case's states on the server against the replay, page by page; a case whose
/// last event on the server is not the last one the audit saw (it moved on after the
/// checkpoint) is counted, not checked. Returns the problems, by case, and that count.
fn check_states(
    client: &Client,
    audit: &Audit<'_>,
    size: u64,
) -> Result<(Vec<CaseProblem>, usize)> {
    let mut check = StatesCheck {
        audit,
        size,
        problems: vec![],
        unchecked: 0,
        kept: HashSet::new(),
    };
    // A case comes in one part or, when it is big, in several on consecutive pages.
    let mut current: Option<(CaseStates, bool)> = None;
    let mut cursor: Option<StatesCursor> = None;
    loop {
        let path = match &cursor {
            None => "/v1/log/states".to_owned(),
            Some(c) => format!(
                "/v1/log/states?case={}&section={}&key={}",
                c.case, c.section, c.key
            ),
        };
        let page: StatesPage = client.get(&path)?;
        for part in page.cases {
            match &mut current {
                Some((whole, moved)) if whole.case_id == part.case_id => {
                    *moved |= whole.last_event != part.last_event;
                    whole.members.extend(part.members);
                    whole.messages.extend(part.messages);
                    whole.deliveries.extend(part.deliveries);
                }
                _ => {
                    if let Some((whole, moved)) = current.take() {
                        check.case(&whole, moved);
                    }
                    current = Some((part, false));
                }
            }
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    if let Some((whole, moved)) = current {
        check.case(&whole, moved);
    }
    for id in &audit.order {
        if !check.kept.contains(id) {
            check.problems.push((
                Some(id.clone()),
                "the server's states: the case is in the log but the server no longer keeps it"
                    .to_owned(),
            ));
        }
    }
    Ok((check.problems, check.unchecked))
}

/// The states check of a whole-log audit, one case at a time.
struct StatesCheck<'a, 'b> {
    audit: &'a Audit<'b>,
    size: u64,
    problems: Vec<CaseProblem>,
    unchecked: usize,
    kept: HashSet<String>,
}

impl StatesCheck<'_, '_> {
    /// Checks one case's states (`moved`: its last event changed between the pages it came
    /// in, so it is counted, not checked).
    fn case(&mut self, states: &CaseStates, moved: bool) {
        let id = &states.case_id;
        self.kept.insert(id.clone());
        let seen = self.audit.chains.get(id).and_then(|l| l.last_idx());
        match (states.last_event, self.audit.replayer.cases.get(id)) {
            _ if moved => self.unchecked += 1,
            (Some(last), _) if last >= self.size => self.unchecked += 1,
            (last, Some(replayed)) if last == seen => {
                let found = super::states::compare(states, replayed);
                self.problems
                    .extend(found.into_iter().map(|p| (Some(id.clone()), p)));
            }
            _ => self.problems.push((
                Some(id.clone()),
                "the server's states: the case is kept, but its last event is not the one the \
                 log holds"
                    .to_owned(),
            )),
        }
    }
}

/// A page of leaves as the server sent it, and where each leaf is in it.
struct Page {
    bytes: Vec<u8>,
    leaves: Vec<Range<usize>>,
}

/// Up to `count` leaves from `start` (the server may send fewer, never none).
fn fetch(client: &Client, start: u64, count: u64) -> Result<Page> {
    let path = format!("/v1/log/leaves?start={start}&count={count}");
    let (kind, bytes) = client.get_bytes(&path, LEAVES_BINARY)?;
    if !kind.starts_with(LEAVES_BINARY) {
        bail!("the server sent the events from #{start} as {kind}, not as {LEAVES_BINARY}");
    }
    let (first, leaves) = RawLeaves::ranges(&bytes).with_context(|| {
        format!("the page of events from #{start} is cut short or has bytes after its end")
    })?;
    if first != start || leaves.is_empty() || leaves.len() as u64 > count {
        bail!(
            "asked for {count} events from #{start}, the server sent {} from #{first}: it does \
             not serve the log its checkpoint covers",
            leaves.len(),
        );
    }
    Ok(Page { bytes, leaves })
}

struct Audit<'a> {
    tree: TreeBuilder,
    cards: HashMap<String, KeyCard>,
    chains: HashMap<String, Link>,
    /// Cases in order of their first event.
    order: Vec<String>,
    replayer: Replayer<'a>,
}

impl Audit<'_> {
    /// Checks the next leaf in order and queues its signature to be checked.
    fn event(&mut self, bytes: &[u8], checker: &mut Checker<'_>) {
        let idx = self.tree.size();
        self.tree.push(log_format::leaf_hash(bytes));
        let leaf = match Leaf::parse(bytes) {
            Ok(leaf) => leaf,
            Err(err) => {
                self.problem(None, format!("event #{idx} does not parse: {err}"));
                return;
            }
        };
        if leaf.idx != idx {
            self.problem(
                leaf.case_id.clone(),
                format!(
                    "the event at position {idx} says it is event #{}: events were moved",
                    leaf.idx
                ),
            );
        }
        if let Some(case_id) = &leaf.case_id {
            self.chain(case_id, &leaf, log_format::event_hash(bytes));
        }
        let st = &leaf.statement;
        if st.kind == StatementKind::KeyCard {
            match KeyCard::verify(st.clone()) {
                Ok(card) => {
                    self.cards
                        .entry(card.account_id().to_string())
                        .or_insert(card);
                }
                Err(err) => self.problem(
                    leaf.case_id.clone(),
                    format!("key card in event #{idx} does not verify: {err}"),
                ),
            }
        }
        // Only key cards earlier in the log count: nobody acts before enrolling.
        let key = match self.cards.get(st.signer.as_str()) {
            Some(card) => Some(*card.verifying_key()),
            None => {
                self.problem(
                    leaf.case_id.clone(),
                    format!(
                        "event #{idx} ({}) is signed by account {}, whose key card is not earlier in the log",
                        st.kind, st.signer
                    ),
                );
                None
            }
        };
        // The whole-log replay has no use for the bytes (they are hashed already); the tree's
        // root, checked at the end, says whether every event is intact.
        let event = Event {
            leaf,
            bytes: vec![],
            intact: true,
        };
        self.replayer.event(&event, &self.cards);
        if let Some(key) = key {
            let leaf = event.leaf;
            checker.check(Unchecked {
                idx: leaf.idx,
                case_id: leaf.case_id,
                statement: leaf.statement,
                key,
            });
        }
    }

    /// Checks that a case event continues its case's chain.
    fn chain(&mut self, case_id: &str, leaf: &Leaf, hash: Sha256Hash) {
        let link = match self.chains.get_mut(case_id) {
            Some(link) => link,
            None => {
                self.order.push(case_id.to_owned());
                self.chains.entry(case_id.to_owned()).or_default()
            }
        };
        let problems = &mut self.replayer.problems;
        // The tree's root, checked at the end, says whether every event is intact.
        link.next(leaf, hash, true, |p| {
            problems.push((Some(case_id.to_owned()), p))
        });
    }

    /// Reports what the signature checks found.
    fn signatures(&mut self, found: Found) {
        if !found.complete {
            self.problem(
                None,
                "checking signatures failed on a worker thread: the audit is incomplete".into(),
            );
        }
        for failed in found.failed {
            let name = self
                .cards
                .get(&failed.signer)
                .map_or(failed.signer.as_str(), |c| c.display_name())
                .to_owned();
            let text = format!(
                "event #{} ({}) by {name}: the signature does not verify (the event was altered)",
                failed.idx, failed.kind
            );
            self.problem(failed.case_id, text);
        }
    }

    fn problem(&mut self, case: Option<String>, text: String) {
        self.replayer.problems.push((case, text));
    }
}
