//! The process, replayed from the log: each case's state as its signed events make it, and
//! who is staff. The same lifecycle the server enforces, rebuilt independently from signed
//! events alone; `rules.rs` holds the rule each kind of event must follow.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};

use ferry_crypto::actions::{Enrolment, Invitation, RiskOutcome};
use ferry_crypto::paper::PaperMember;
use ferry_crypto::{KeyCard, MessageKind, Role, Sha256Hash, StatementKind};
use ferry_protocol::{CaseState, Consent, DeliveryKind, DeliveryState, MessageState};
use serde::de::DeserializeOwned;

use super::rules::{self, Cx};
use super::{Event, TimelineEntry};

/// A person in a case.
pub(crate) struct Member {
    pub role: Role,
    pub consent: Consent,
    /// Whether they hold what is passed on to them.
    pub holding: bool,
    /// Whether they take part on paper, through the case's facilitators.
    pub on_paper: bool,
}

/// A message of a case.
pub(crate) struct Message {
    pub kind: MessageKind,
    pub author: String,
    pub recipient_role: Role,
    pub sha: Sha256Hash,
    pub attachments: usize,
    /// Entered for a person on paper (its first attachment is the scan of their original).
    pub entered: bool,
    /// `InReview` until decided (the events cannot tell uploading from in review).
    pub state: MessageState,
}

/// Something approved for a person: a forwarded message, or a returned one's note.
pub(crate) struct Delivery {
    /// The body hash of the forward or return that made it.
    pub approval: Sha256Hash,
    pub message_id: String,
    pub kind: DeliveryKind,
    pub recipient: String,
    pub hash: Sha256Hash,
    /// Held, released, read or cancelled (the events cannot see uploads).
    pub status: DeliveryState,
    /// Attachments it carries.
    pub attachments: usize,
}

/// A member of staff.
pub(crate) struct Staff {
    pub role: Role,
    pub accreditations: Vec<String>,
}

/// One case's state, as replayed so far.
pub(crate) struct State {
    /// `None` until the case is opened.
    pub case_state: Option<CaseState>,
    pub sensitivity: String,
    pub risk: Option<RiskOutcome>,
    /// Whether activation waits for every participant's key check (the service's setting).
    pub key_checks: bool,
    /// Whose keys a facilitator of the case checked.
    pub verified: HashSet<String>,
    pub members: HashMap<String, Member>,
    pub invitations: HashMap<Sha256Hash, Role>,
    pub messages: HashMap<String, Message>,
    pub deliveries: Vec<Delivery>,
}

impl State {
    fn new(key_checks: bool) -> Self {
        State {
            case_state: None,
            sensitivity: String::new(),
            risk: None,
            key_checks,
            verified: HashSet::new(),
            members: HashMap::new(),
            invitations: HashMap::new(),
            messages: HashMap::new(),
            deliveries: vec![],
        }
    }

    /// Whether `account` is a facilitator allocated to the case.
    pub fn allocated(&self, account: &str) -> bool {
        self.members
            .get(account)
            .is_some_and(|m| m.role == Role::Facilitator)
    }

    /// Whether the case is in `state`.
    pub fn is(&self, state: CaseState) -> bool {
        self.case_state == Some(state)
    }

    /// Whether `account` holds what is passed on to them.
    pub fn holding(&self, account: &str) -> bool {
        self.members.get(account).is_some_and(|m| m.holding)
    }

    /// What a delivery to `recipient` becomes now: released while the case is active and they
    /// do not hold, otherwise held.
    pub fn delivery_status(&self, recipient: &str) -> DeliveryState {
        if self.is(CaseState::Active) && !self.holding(recipient) {
            DeliveryState::Released
        } else {
            DeliveryState::Held
        }
    }

    /// The case's state in words, for sentences.
    pub fn state_name(&self) -> &'static str {
        self.case_state.map_or("not opened", CaseState::as_str)
    }

    /// Whether everything the case needs to be active is in place, as the server requires.
    pub fn ready(&self) -> bool {
        let mut participants = self.members.iter().filter(|(_, m)| m.role.is_participant());
        self.risk == Some(RiskOutcome::Proceed)
            && self.members.values().any(|m| m.role == Role::Facilitator)
            && self.members.values().any(|m| m.role == Role::Harmed)
            && self.members.values().any(|m| m.role == Role::Responsible)
            && participants.all(|(account, m)| {
                m.consent == Consent::Given
                    && (!self.key_checks || m.on_paper || self.verified.contains(account))
            })
    }
}

/// Who is staff, as established by the log so far (back to the server's bootstrap invitation).
#[derive(Default)]
pub(crate) struct StaffRoll {
    pub staff: HashMap<String, Staff>,
    invitations: HashMap<Sha256Hash, (Role, Vec<String>)>,
}

impl StaffRoll {
    /// Whether `account` holds the service-wide `role`.
    pub fn is(&self, account: &str, role: Role) -> bool {
        self.staff.get(account).is_some_and(|s| s.role == role)
    }
}

/// Problems found while replaying one event.
pub(crate) type Problems = RefCell<Vec<String>>;

/// The event's body as a `T`; a body that does not parse is a problem.
pub(crate) fn parse<T: DeserializeOwned>(e: &Event, problems: &Problems) -> Option<T> {
    match serde_json::from_slice(&e.leaf.statement.body) {
        Ok(v) => Some(v),
        Err(err) => {
            problems.borrow_mut().push(format!(
                "event #{} ({}) does not parse: {err}",
                e.leaf.idx, e.leaf.statement.kind
            ));
            None
        }
    }
}

/// The first characters of an id or hash, for sentences.
pub(crate) fn short(s: &str) -> String {
    s.chars().take(12).collect()
}

/// A case as replayed: its state, its timeline (when kept) and how many events it has.
pub(crate) struct CaseReplay {
    /// What the events make of the case.
    pub state: State,
    /// Who did what, when (empty when timelines are not kept).
    pub timeline: Vec<TimelineEntry>,
    /// Events of the case seen.
    pub events: usize,
}

/// Replays the log in order, one event at a time: staff events establish who is a coordinator
/// or facilitator, and each case's events are checked rule by rule against that case's state.
pub(crate) struct Replayer<'a> {
    server: &'a str,
    timelines: bool,
    key_checks: bool,
    staff: StaffRoll,
    /// Every case seen, by id.
    pub cases: HashMap<String, CaseReplay>,
    /// The names of people on paper (who have no key card to name them), by account.
    paper_names: HashMap<String, String>,
    /// Every problem found, in log order, with the case it concerns (none: the log's staff).
    pub problems: Vec<(Option<String>, String)>,
}

impl<'a> Replayer<'a> {
    /// A replayer for a log whose server account is `server`; `timelines` keeps each case's
    /// timeline; `key_checks` is the service's setting that a case becomes active only once
    /// every participant's key was checked.
    pub fn new(server: &'a str, timelines: bool, key_checks: bool) -> Self {
        Replayer {
            server,
            timelines,
            key_checks,
            staff: StaffRoll::default(),
            cases: HashMap::new(),
            paper_names: HashMap::new(),
            problems: vec![],
        }
    }

    /// Replays the next event of the log; `cards` holds the key cards known so far.
    pub fn event(&mut self, e: &Event, cards: &HashMap<String, KeyCard>) {
        let found: Problems = RefCell::new(vec![]);
        if e.leaf.statement.kind == StatementKind::PaperMember
            && let Ok(p) = serde_json::from_slice::<PaperMember>(&e.leaf.statement.body)
        {
            self.paper_names
                .entry(p.person.to_string())
                .or_insert(p.display_name);
        }
        // Lent to the names for this event, then kept again.
        let paper_names = std::mem::take(&mut self.paper_names);
        let name = |a: &str| {
            cards
                .get(a)
                .map(|c| c.display_name().to_owned())
                .or_else(|| paper_names.get(a).cloned())
                .unwrap_or_else(|| short(a))
        };
        match e.leaf.case_id.as_deref() {
            None => staff_event(e, &mut self.staff, self.server, &name, &found),
            Some(case_id) => self.case_event(case_id, e, &name, &found),
        }
        self.paper_names = paper_names;
        let case = &e.leaf.case_id;
        self.problems
            .extend(found.into_inner().into_iter().map(|p| (case.clone(), p)));
    }

    /// A case's event: its rule, the case's activation, and its line of the timeline.
    fn case_event(
        &mut self,
        case_id: &str,
        e: &Event,
        name: &dyn Fn(&str) -> String,
        found: &Problems,
    ) {
        let key_checks = self.key_checks;
        let case = self
            .cases
            .entry(case_id.to_owned())
            .or_insert_with(|| CaseReplay {
                state: State::new(key_checks),
                timeline: vec![],
                events: 0,
            });
        let mut cx = Cx {
            event: e,
            case: &mut case.state,
            staff: &self.staff,
            name,
            problems: found,
            describe: self.timelines,
        };
        let summary = rules::apply(&mut cx);
        // A case becomes active by itself once everything is in place.
        if case.state.is(CaseState::Preparing) && case.state.ready() {
            case.state.case_state = Some(CaseState::Active);
        }
        case.events += 1;
        if !self.timelines {
            return;
        }
        let st = &e.leaf.statement;
        let signer = st.signer.as_str();
        let role = case
            .state
            .members
            .get(signer)
            .map(|m| m.role)
            .or_else(|| self.staff.staff.get(signer).map(|s| s.role))
            .map_or_else(|| "-".to_owned(), |r| r.to_string());
        case.timeline.push(TimelineEntry {
            seq: e.leaf.seq_in_case.unwrap_or_default(),
            idx: e.leaf.idx,
            time: e.leaf.server_time,
            actor: signer.to_owned(),
            actor_name: name(signer),
            role,
            kind: st.kind.as_str().to_owned(),
            summary,
        });
    }
}

/// A staff event (outside any case): an invitation to a staff role, signed by a coordinator
/// (or, for the first coordinator, by the server), or its acceptance.
fn staff_event(
    e: &Event,
    s: &mut StaffRoll,
    server: &str,
    name: &dyn Fn(&str) -> String,
    found: &Problems,
) {
    let signer = e.leaf.statement.signer.as_str();
    let idx = e.leaf.idx;
    match e.leaf.statement.kind {
        StatementKind::Invitation => {
            let Some(inv) = parse::<Invitation>(e, found) else {
                return;
            };
            let allowed = if signer == server {
                inv.role == Role::Coordinator
            } else {
                s.is(signer, Role::Coordinator)
            };
            if allowed {
                s.invitations
                    .insert(inv.invitation, (inv.role, inv.accreditations));
            } else {
                found.borrow_mut().push(format!(
                    "staff invitation in event #{idx} was signed by {}, who is not a coordinator",
                    name(signer)
                ));
            }
        }
        StatementKind::Enrolment => {
            let Some(en) = parse::<Enrolment>(e, found) else {
                return;
            };
            match s.invitations.remove(&en.invitation) {
                Some((role, accreditations)) => {
                    let staff = Staff {
                        role,
                        accreditations,
                    };
                    s.staff.insert(signer.to_owned(), staff);
                }
                None => found.borrow_mut().push(format!(
                    "{} enrolled as staff in event #{idx} without a valid invitation",
                    name(signer)
                )),
            }
        }
        _ => {}
    }
}

/// Replays a bundle's events (one case's chain and the staff events it relies on) in log
/// order, with the service's key-check setting; returns the case as replayed and adds what is
/// wrong to `problems`.
pub(crate) fn replay(
    case_id: &str,
    all: &BTreeMap<u64, &Event>,
    cards: &HashMap<String, KeyCard>,
    server: &str,
    key_checks: bool,
    problems: &mut Vec<String>,
) -> Option<CaseReplay> {
    let mut replayer = Replayer::new(server, true, key_checks);
    for e in all.values() {
        if e.leaf.case_id.as_deref().is_none_or(|c| c == case_id) {
            replayer.event(e, cards);
        }
    }
    problems.extend(replayer.problems.into_iter().map(|(_, p)| p));
    replayer.cases.remove(case_id)
}
