//! Auditing the whole log in one pass (coordinators and service-wide auditors). The leaves are
//! fetched in order while the ones before them are checked; the tree is recomputed leaf by
//! leaf, so one comparison with the signed checkpoint's root shows every event is in the log
//! at its position (no proof per event); signatures are checked in Ed25519 batches on every
//! core; each case's chain and process rules are replayed as the log goes by.

use std::collections::HashMap;
use std::sync::mpsc::sync_channel;

use anyhow::{Context, Result, bail};
use ferry_crypto::statement::verify_many;
use ferry_crypto::trail::{self, Leaf, TreeBuilder, TreeHash};
use ferry_crypto::{KeyCard, Sha256Hash, StatementKind};
use ferry_server::wire::{LEAVES_BINARY, RawLeaves};
use serde::Serialize;

use super::replay::Replayer;
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
}

impl LogReport {
    /// How many problems, in the log and in every case.
    pub fn problem_count(&self) -> usize {
        self.problems.len() + self.cases.iter().map(|c| c.problems.len()).sum::<usize>()
    }
}

/// A leaf parsed and hashed, before the in-order checks.
struct Parsed {
    bytes: Vec<u8>,
    leaf: Result<Leaf, String>,
    record: TreeHash,
    chain: Sha256Hash,
}

/// Verifies the whole log up to `pinned` (a checkpoint already verified with the server's key
/// and checked to extend every one seen before): fetches every leaf, recomputes the root, and
/// checks every signature, chain and rule.
pub fn verify_log(client: &Client, server: &KeyCard, pinned: &Pinned) -> Result<LogReport> {
    let root = trail::hash_from_hex(&pinned.root)?;
    let size = pinned.size;
    let mut audit = Audit {
        tree: TreeBuilder::default(),
        cards: HashMap::from([(server.account_id().to_string(), server.clone())]),
        chains: HashMap::new(),
        order: vec![],
        replayer: Replayer::new(server.account_id().as_str(), false),
    };
    std::thread::scope(|scope| -> Result<()> {
        // Fetching runs ahead (two pages at most) while the checks run on every core.
        let (tx, rx) = sync_channel::<Result<Vec<Vec<u8>>>>(2);
        scope.spawn(move || {
            let mut start = 0;
            while start < size {
                let page = fetch(client, start, PAGE.min(size - start));
                let next = page.as_ref().ok().map(|p| start + p.len() as u64);
                if tx.send(page).is_err() {
                    return;
                }
                match next {
                    Some(next) => start = next,
                    None => return,
                }
            }
        });
        // A page's signatures are checked on their own threads while the next page is
        // parsed and replayed.
        let mut checking: Option<std::thread::ScopedJoinHandle<'_, Checked>> = None;
        for page in rx {
            let next = audit.page(page?);
            if let Some(done) = checking.take() {
                audit.found(done);
            }
            checking = Some(scope.spawn(move || next.check()));
        }
        if let Some(done) = checking {
            audit.found(done);
        }
        Ok(())
    })?;
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
    let mut by_case: HashMap<String, Vec<String>> = HashMap::new();
    for (case, problem) in audit.replayer.problems {
        match case {
            Some(c) => by_case.entry(c).or_default().push(problem),
            None => problems.push(problem),
        }
    }
    let cases = audit
        .order
        .iter()
        .map(|case_id| Report {
            case_id: case_id.clone(),
            origin: pinned.origin.clone(),
            checkpoint_size: size,
            checkpoint_root: pinned.root.clone(),
            events: audit.replayer.cases.get(case_id).map_or(0, |c| c.events),
            timeline: vec![],
            problems: by_case.remove(case_id).unwrap_or_default(),
        })
        .collect();
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
    })
}

/// Up to `count` leaves from `start` (the server may send fewer, never none), in their binary
/// form.
fn fetch(client: &Client, start: u64, count: u64) -> Result<Vec<Vec<u8>>> {
    let path = format!("/v1/log/leaves?start={start}&count={count}");
    let (kind, body) = client.get_bytes(&path, LEAVES_BINARY)?;
    if !kind.starts_with(LEAVES_BINARY) {
        bail!("the server sent the events from #{start} as {kind}, not as {LEAVES_BINARY}");
    }
    let page = RawLeaves::parse(&body).with_context(|| {
        format!("the page of events from #{start} is cut short or has bytes after its end")
    })?;
    if page.start != start || page.leaves.is_empty() || page.leaves.len() as u64 > count {
        bail!(
            "asked for {count} events from #{start}, the server sent {} from #{}: it does not \
             serve the log its checkpoint covers",
            page.leaves.len(),
            page.start
        );
    }
    Ok(page.leaves)
}

struct Audit<'a> {
    tree: TreeBuilder,
    cards: HashMap<String, KeyCard>,
    chains: HashMap<String, Link>,
    /// Cases in order of their first event.
    order: Vec<String>,
    replayer: Replayer<'a>,
}

/// A page's events with their signers' keys, to verify.
struct Signatures {
    events: Vec<Event>,
    /// Index into `events` and the signer's key.
    signers: Vec<(usize, ferry_crypto::VerifyingKey)>,
}

/// A page's events and the ones among them whose signature does not verify.
struct Checked {
    events: Vec<Event>,
    bad: Vec<usize>,
}

impl Signatures {
    /// Verifies every signature (batched, on every core).
    fn check(self) -> Checked {
        let items: Vec<_> = self
            .signers
            .iter()
            .map(|(i, key)| (&self.events[*i].leaf.statement, key))
            .collect();
        let bad = verify_many(&items)
            .into_iter()
            .map(|b| self.signers[b].0)
            .collect();
        Checked {
            events: self.events,
            bad,
        }
    }
}

impl Audit<'_> {
    /// Records what a page's signature check found (a check that died counts as failed).
    fn found(&mut self, done: std::thread::ScopedJoinHandle<'_, Checked>) {
        let Ok(checked) = done.join() else {
            self.problem(
                None,
                "checking a page of signatures failed: the audit is incomplete".into(),
            );
            return;
        };
        for i in checked.bad {
            let leaf = &checked.events[i].leaf;
            let signer = leaf.statement.signer.as_str();
            let name = self
                .cards
                .get(signer)
                .map_or(signer, |c| c.display_name())
                .to_owned();
            let text = format!(
                "event #{} ({}) by {name}: the signature does not verify (the event was altered)",
                leaf.idx, leaf.statement.kind
            );
            self.problem(leaf.case_id.clone(), text);
        }
    }

    /// Checks the next page of leaves in order; returns its signatures, still to verify.
    fn page(&mut self, leaves: Vec<Vec<u8>>) -> Signatures {
        let parsed = parse_all(leaves);
        let mut signers = vec![];
        let mut events = Vec::with_capacity(parsed.len());
        for p in parsed {
            let idx = self.tree.size();
            self.tree.push(p.record);
            let leaf = match p.leaf {
                Ok(leaf) => leaf,
                Err(err) => {
                    self.problem(None, format!("event #{idx} does not parse: {err}"));
                    continue;
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
                self.chain(case_id, &leaf, p.chain);
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
            match self.cards.get(st.signer.as_str()) {
                Some(card) => signers.push((events.len(), *card.verifying_key())),
                None => self.problem(
                    leaf.case_id.clone(),
                    format!(
                        "event #{idx} ({}) is signed by account {}, whose key card is not earlier in the log",
                        st.kind, st.signer
                    ),
                ),
            }
            let event = Event {
                leaf,
                bytes: p.bytes,
            };
            self.replayer.event(&event, &self.cards);
            events.push(event);
        }
        Signatures { events, signers }
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
        link.next(leaf, hash, |p| problems.push((Some(case_id.to_owned()), p)));
    }

    fn problem(&mut self, case: Option<String>, text: String) {
        self.replayer.problems.push((case, text));
    }
}

/// Parses and hashes leaves on every core, keeping their order.
fn parse_all(leaves: Vec<Vec<u8>>) -> Vec<Parsed> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_thread = leaves.len().div_ceil(threads).max(1);
    let mut parts: Vec<Vec<Vec<u8>>> = vec![];
    let mut rest = leaves;
    while rest.len() > per_thread {
        let tail = rest.split_off(per_thread);
        parts.push(rest);
        rest = tail;
    }
    parts.push(rest);
    std::thread::scope(|scope| {
        let workers: Vec<_> = parts
            .into_iter()
            .map(|part| {
                scope.spawn(move || {
                    part.into_iter()
                        .map(|bytes| Parsed {
                            leaf: Leaf::parse(&bytes).map_err(|e| e.to_string()),
                            record: trail::leaf_hash(&bytes),
                            chain: trail::event_hash(&bytes),
                            bytes,
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| match w.join() {
                Ok(parsed) => parsed,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    })
}
