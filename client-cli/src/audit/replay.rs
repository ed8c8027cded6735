//! The process rules, replayed from the log: who may do what, in which case state. The same
//! lifecycle the server enforces, checked independently from signed events alone.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};

use ferry_crypto::actions::{
    Allocation, CaseAction, CaseOpen, CaseState, Consent, Enrolment, Escalate, Invitation,
    KeyVerification, ReadReceipt, Return, RiskAssessment, RiskOutcome, Withdrawal, Withhold,
};
use ferry_crypto::forward::Forward;
use ferry_crypto::seal::Envelope;
use ferry_crypto::{KeyCard, MessageKind, Role, Sha256Hash, StatementKind};
use serde::de::DeserializeOwned;

use super::{Event, TimelineEntry};

pub(super) struct Member {
    pub role: Role,
    pub consent: &'static str,
}

pub(super) struct Message {
    kind: MessageKind,
    author: String,
    recipient_role: Role,
    sha: Sha256Hash,
    attachments: usize,
    /// undecided, forwarded, returned, withheld or escalated.
    pub state: &'static str,
}

pub(super) struct Delivery {
    pub message_id: String,
    /// forward or return.
    pub kind: &'static str,
    pub recipient: String,
    pub hash: Sha256Hash,
    /// held, released, read or cancelled.
    pub status: &'static str,
    /// Attachments it carries.
    pub attachments: usize,
}

struct Staff {
    role: Role,
    accreditations: Vec<String>,
}

/// One case's state, as replayed so far.
pub(super) struct State {
    pub case_state: &'static str,
    opened: bool,
    sensitivity: String,
    risk: Option<RiskOutcome>,
    /// Whether activation waits for every participant's key check (the service's setting).
    key_checks: bool,
    /// Whose keys a facilitator of the case checked.
    verified: HashSet<String>,
    pub members: HashMap<String, Member>,
    invitations: HashMap<Sha256Hash, Role>,
    pub messages: HashMap<String, Message>,
    pub deliveries: Vec<Delivery>,
}

impl State {
    fn new(key_checks: bool) -> Self {
        State {
            case_state: "none",
            opened: false,
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
}

impl State {
    fn allocated(&self, account: &str) -> bool {
        self.members
            .get(account)
            .is_some_and(|m| m.role == Role::Facilitator)
    }

    fn ready(&self) -> bool {
        let mut participants = self.members.iter().filter(|(_, m)| m.role.is_participant());
        self.risk == Some(RiskOutcome::Proceed)
            && self.members.values().any(|m| m.role == Role::Facilitator)
            && self.members.values().any(|m| m.role == Role::Harmed)
            && self.members.values().any(|m| m.role == Role::Responsible)
            && participants.all(|(account, m)| {
                m.consent == "given" && (!self.key_checks || self.verified.contains(account))
            })
    }
}

/// Who is staff, as established by the log so far (back to the server's bootstrap invitation).
#[derive(Default)]
struct StaffRoll {
    staff: HashMap<String, Staff>,
    invitations: HashMap<Sha256Hash, (Role, Vec<String>)>,
}

impl StaffRoll {
    fn is(&self, account: &str, role: Role) -> bool {
        self.staff.get(account).is_some_and(|s| s.role == role)
    }
}

type Problems = RefCell<Vec<String>>;

fn parse<T: DeserializeOwned>(e: &Event, problems: &Problems) -> Option<T> {
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

fn short(s: &str) -> String {
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
            problems: vec![],
        }
    }

    /// Replays the next event of the log; `cards` holds the key cards known so far.
    pub fn event(&mut self, e: &Event, cards: &HashMap<String, KeyCard>) {
        let found: Problems = RefCell::new(vec![]);
        let name = |a: &str| {
            cards
                .get(a)
                .map(|c| c.display_name().to_owned())
                .unwrap_or_else(|| short(a))
        };
        match e.leaf.case_id.as_deref() {
            None => staff_event(e, &mut self.staff, self.server, &name, &found),
            Some(case_id) => {
                let key_checks = self.key_checks;
                let case = self
                    .cases
                    .entry(case_id.to_owned())
                    .or_insert_with(|| CaseReplay {
                        state: State::new(key_checks),
                        timeline: vec![],
                        events: 0,
                    });
                let summary = rule(
                    e,
                    &mut case.state,
                    &self.staff,
                    &name,
                    &found,
                    self.timelines,
                );
                if case.state.case_state == "preparing" && case.state.ready() {
                    case.state.case_state = "active";
                }
                case.events += 1;
                if self.timelines {
                    let st = &e.leaf.statement;
                    let signer = st.signer.as_str();
                    let role = case
                        .state
                        .members
                        .get(signer)
                        .map(|m| m.role.as_str().to_owned())
                        .or_else(|| {
                            self.staff
                                .staff
                                .get(signer)
                                .map(|s| s.role.as_str().to_owned())
                        })
                        .unwrap_or_else(|| "-".into());
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
        }
        let found = found.into_inner();
        if !found.is_empty() {
            let case = &e.leaf.case_id;
            self.problems
                .extend(found.into_iter().map(|p| (case.clone(), p)));
        }
    }
}

/// A staff event (outside any case): an invitation to a staff role, or its acceptance.
fn staff_event(
    e: &Event,
    s: &mut StaffRoll,
    server: &str,
    name: &dyn Fn(&str) -> String,
    found: &Problems,
) {
    let st = &e.leaf.statement;
    let signer = st.signer.as_str();
    let idx = e.leaf.idx;
    match st.kind {
        StatementKind::Invitation => {
            if let Some(inv) = parse::<Invitation>(e, found) {
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
        }
        StatementKind::Enrolment => {
            if let Some(en) = parse::<Enrolment>(e, found) {
                match s.invitations.remove(&en.invitation) {
                    Some((role, accreditations)) => {
                        s.staff.insert(
                            signer.to_owned(),
                            Staff {
                                role,
                                accreditations,
                            },
                        );
                    }
                    None => found.borrow_mut().push(format!(
                        "{} enrolled as staff in event #{idx} without a valid invitation",
                        name(signer)
                    )),
                }
            }
        }
        _ => {}
    }
}

/// Replays a bundle's events (one case's chain and the staff events it relies on) in log
/// order; returns the case's timeline and adds what is wrong to `problems`.
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

/// Checks one case event against the rules and applies it. Returns its timeline summary.
fn rule(
    e: &Event,
    s: &mut State,
    staff: &StaffRoll,
    name: &dyn Fn(&str) -> String,
    problems: &Problems,
    describe: bool,
) -> String {
    // A timeline line, only written when timelines are kept (the whole-log audit skips them).
    let line = |text: &dyn Fn() -> String| if describe { text() } else { String::new() };
    let st = &e.leaf.statement;
    let signer = st.signer.as_str();
    let idx = e.leaf.idx;
    let problem = |text: String| problems.borrow_mut().push(format!("event #{idx}: {text}"));
    let coordinator = |what: &str| {
        if !staff.is(signer, Role::Coordinator) {
            problem(format!(
                "{what} by {}, who is not a coordinator",
                name(signer)
            ));
        }
    };
    match st.kind {
        StatementKind::CaseOpen => {
            let Some(o) = parse::<CaseOpen>(e, problems) else {
                return String::new();
            };
            coordinator("case opened");
            s.opened = true;
            s.case_state = "referred";
            s.sensitivity = o.sensitivity.clone();
            format!(
                "opened: {} ({}), reference {}",
                o.category, o.sensitivity, o.reference
            )
        }
        StatementKind::Allocation => {
            let Some(a) = parse::<Allocation>(e, problems) else {
                return String::new();
            };
            coordinator("allocation");
            let fac = a.facilitator.as_str();
            match staff.staff.get(fac) {
                Some(st) if st.role == Role::Facilitator => {
                    if s.sensitivity != "standard" && !st.accreditations.contains(&s.sensitivity) {
                        problem(format!(
                            "{} was allocated to {} case without that accreditation",
                            name(fac),
                            ferry_crypto::with_article(&s.sensitivity)
                        ));
                    }
                }
                _ => problem(format!(
                    "{} was allocated but is not a facilitator",
                    name(fac)
                )),
            }
            s.members.insert(
                fac.to_owned(),
                Member {
                    role: Role::Facilitator,
                    consent: "none",
                },
            );
            if s.case_state == "referred" {
                s.case_state = "preparing";
            }
            format!("allocated facilitator {}", name(fac))
        }
        StatementKind::Invitation => {
            let Some(i) = parse::<Invitation>(e, problems) else {
                return String::new();
            };
            coordinator("invitation");
            s.invitations.insert(i.invitation, i.role);
            format!(
                "invited {} (code hash {})",
                i.role.a_person(),
                short(&i.invitation.to_hex())
            )
        }
        StatementKind::KeyCard => "key card registered".into(),
        StatementKind::Enrolment => {
            let Some(en) = parse::<Enrolment>(e, problems) else {
                return String::new();
            };
            match s.invitations.remove(&en.invitation) {
                Some(role) => {
                    s.members.insert(
                        signer.to_owned(),
                        Member {
                            role,
                            consent: "none",
                        },
                    );
                    format!("enrolled as {}", role.a_person())
                }
                None => {
                    problem(format!(
                        "{} enrolled without a valid invitation to this case",
                        name(signer)
                    ));
                    "enrolled (no invitation)".into()
                }
            }
        }
        StatementKind::RiskAssessment => {
            let Some(r) = parse::<RiskAssessment>(e, problems) else {
                return String::new();
            };
            coordinator("risk assessment");
            s.risk = Some(r.outcome);
            if r.outcome == RiskOutcome::DoNotProceed && s.case_state == "active" {
                s.case_state = "paused";
            }
            format!(
                "risk assessment: {}",
                if r.outcome == RiskOutcome::Proceed {
                    "proceed"
                } else {
                    "do not proceed"
                }
            )
        }
        StatementKind::CaseState => {
            let Some(c) = parse::<CaseState>(e, problems) else {
                return String::new();
            };
            coordinator("case state change");
            match (c.action, s.case_state) {
                (_, "closed") => problem("a closed case was changed".into()),
                (CaseAction::Pause, "active" | "preparing") => s.case_state = "paused",
                (CaseAction::Resume, "paused") => {
                    if !s.ready() {
                        problem("the case was resumed without every participant's consent".into());
                    }
                    s.case_state = "active";
                    for d in s.deliveries.iter_mut().filter(|d| d.status == "held") {
                        d.status = "released";
                    }
                }
                (CaseAction::Close, _) => {
                    s.case_state = "closed";
                    for d in s.deliveries.iter_mut().filter(|d| d.status == "held") {
                        d.status = "cancelled";
                    }
                }
                (action, state) => problem(format!(
                    "{action:?} of {} case",
                    ferry_crypto::with_article(state)
                )),
            }
            format!("case {:?}", c.action).to_lowercase()
        }
        StatementKind::Consent | StatementKind::Withdrawal => {
            let given = st.kind == StatementKind::Consent;
            let ok = if given {
                parse::<Consent>(e, problems).is_some()
            } else {
                parse::<Withdrawal>(e, problems).is_some()
            };
            if !ok {
                return String::new();
            }
            match s.members.get_mut(signer) {
                Some(m) if m.role.is_participant() => {
                    m.consent = if given { "given" } else { "withdrawn" }
                }
                _ => problem(format!(
                    "{} is not a participant of this case",
                    name(signer)
                )),
            }
            if !given && s.case_state == "active" {
                s.case_state = "paused";
            }
            if given {
                "consent given".into()
            } else {
                "consent withdrawn: the case pauses".into()
            }
        }
        StatementKind::KeyVerification => {
            let Some(k) = parse::<KeyVerification>(e, problems) else {
                return String::new();
            };
            if s.allocated(signer) {
                s.verified.insert(k.subject.to_string());
            } else {
                problem(format!(
                    "key verification by {}, who is not a facilitator of this case",
                    name(signer)
                ));
            }
            format!(
                "verified the key of {} (fingerprint {})",
                name(k.subject.as_str()),
                short(&k.fingerprint.to_hex())
            )
        }
        StatementKind::Submission => {
            let Some(env) = parse::<Envelope>(e, problems) else {
                return String::new();
            };
            match s.members.get(signer) {
                Some(m) if m.role.is_participant() => {
                    if m.consent != "given" {
                        problem(format!(
                            "{} wrote before consenting (or after withdrawing)",
                            name(signer)
                        ));
                    }
                }
                _ => problem(format!(
                    "{} wrote a message but is not a participant",
                    name(signer)
                )),
            }
            if s.case_state != "active" {
                problem(format!(
                    "a message was submitted while the case was {}",
                    s.case_state
                ));
            }
            if env.kind == MessageKind::Answer {
                let q = env
                    .in_reply_to
                    .as_ref()
                    .map(|q| q.to_string())
                    .unwrap_or_default();
                let forwarded = s
                    .messages
                    .get(&q)
                    .is_some_and(|m| m.kind == MessageKind::Question)
                    && s.deliveries.iter().any(|d| {
                        d.message_id == q
                            && d.recipient == signer
                            && d.status != "held"
                            && d.status != "cancelled"
                    });
                if !forwarded {
                    problem(format!(
                        "answer {} refers to {}, which is not a question forwarded to its author",
                        short(env.message_id.as_str()),
                        short(&q)
                    ));
                }
            }
            let summary = line(&|| {
                format!(
                    "{} {} for the {} ({} bytes, sha256 {}){}",
                    env.kind,
                    short(env.message_id.as_str()),
                    env.recipient_role,
                    env.ciphertext_size,
                    short(&env.ciphertext_sha256.to_hex()),
                    env.in_reply_to
                        .as_ref()
                        .map(|q| format!(", answers {}", short(q.as_str())))
                        .unwrap_or_default()
                )
            });
            s.messages.insert(
                env.message_id.into(),
                Message {
                    kind: env.kind,
                    author: signer.to_owned(),
                    recipient_role: env.recipient_role,
                    sha: env.ciphertext_sha256,
                    attachments: env.attachments.len(),
                    state: "undecided",
                },
            );
            summary
        }
        StatementKind::Forward => {
            let Some(f) = parse::<Forward>(e, problems) else {
                return String::new();
            };
            if !s.allocated(signer) {
                problem(format!(
                    "forward of {} approved by {}, who is not a facilitator allocated to this case",
                    short(f.message_id.as_str()),
                    name(signer)
                ));
            }
            let recipient = f.recipient.as_str();
            match s.messages.get(f.message_id.as_str()) {
                None => problem(format!(
                    "forward of {}, which was never submitted",
                    short(f.message_id.as_str())
                )),
                Some(m) => {
                    if m.sha != f.original_sha256 {
                        problem(format!(
                            "forward of {} names a different original",
                            short(f.message_id.as_str())
                        ));
                    }
                    if let Err(err) = f.check_decisions(Some(m.attachments)) {
                        problem(format!(
                            "forward of {} does not account for each of its {} attachment(s): {err}",
                            short(f.message_id.as_str()),
                            m.attachments
                        ));
                    }
                    let to_role = s.members.get(recipient).map(|r| r.role);
                    if to_role != Some(m.recipient_role) || m.author == recipient {
                        problem(format!(
                            "forward of {} to {}, who is not its addressee",
                            short(f.message_id.as_str()),
                            name(recipient)
                        ));
                    }
                }
            }
            if s.members
                .get(recipient)
                .is_some_and(|m| m.consent == "none")
            {
                problem(format!(
                    "forward to {}, who never consented",
                    name(recipient)
                ));
            }
            let status = match s.case_state {
                "active" => "released",
                "paused" => "held",
                other => {
                    problem(format!("forward while the case was {other}"));
                    "released"
                }
            };
            if let Some(m) = s.messages.get_mut(f.message_id.as_str()) {
                m.state = "forwarded";
            }
            s.deliveries.push(Delivery {
                message_id: f.message_id.to_string(),
                kind: "forward",
                recipient: recipient.to_owned(),
                hash: f.forwarded_sha256,
                status,
                attachments: f.attachments.len(),
            });
            line(&|| {
                let decisions: Vec<String> = f
                    .attachment_decisions
                    .iter()
                    .enumerate()
                    .map(|(i, d)| format!("#{i} {}", d.as_str()))
                    .collect();
                format!(
                    "forwarded {} to {}{}{} (sha256 {}){}",
                    short(f.message_id.as_str()),
                    name(recipient),
                    if f.redacted {
                        ", redacted"
                    } else {
                        ", as written"
                    },
                    if status == "held" {
                        ", held while paused"
                    } else {
                        ""
                    },
                    short(&f.forwarded_sha256.to_hex()),
                    if decisions.is_empty() {
                        String::new()
                    } else {
                        format!("; attachment {}", decisions.join(", "))
                    }
                )
            })
        }
        StatementKind::Return | StatementKind::Withhold | StatementKind::Escalate => {
            let (message, original, what, note, state) = match st.kind {
                StatementKind::Return => {
                    let Some(r) = parse::<Return>(e, problems) else {
                        return String::new();
                    };
                    (
                        r.message_id.to_string(),
                        r.original_sha256,
                        "returned to its author".to_owned(),
                        Some(r.note_sha256),
                        "returned",
                    )
                }
                StatementKind::Withhold => {
                    let Some(w) = parse::<Withhold>(e, problems) else {
                        return String::new();
                    };
                    (
                        w.message_id.to_string(),
                        w.original_sha256,
                        format!("withheld ({})", w.reason.as_str()),
                        None,
                        "withheld",
                    )
                }
                _ => {
                    let Some(x) = parse::<Escalate>(e, problems) else {
                        return String::new();
                    };
                    (
                        x.message_id.to_string(),
                        x.original_sha256,
                        format!("escalated ({})", x.reason.as_str()),
                        None,
                        "escalated",
                    )
                }
            };
            if !s.allocated(signer) {
                problem(format!(
                    "{} {what} by {}, who is not a facilitator of this case",
                    short(&message),
                    name(signer)
                ));
            }
            let paused = s.case_state == "paused";
            match s.messages.get_mut(&message) {
                Some(m) if m.sha == original => {
                    m.state = state;
                    if let Some(hash) = note {
                        let author = m.author.clone();
                        s.deliveries.push(Delivery {
                            message_id: message.clone(),
                            kind: "return",
                            recipient: author,
                            hash,
                            status: if paused { "held" } else { "released" },
                            attachments: 0,
                        });
                    }
                }
                _ => problem(format!(
                    "decision about {}, which is not a message of this case",
                    short(&message)
                )),
            }
            format!("{} {what}", short(&message))
        }
        StatementKind::ReadReceipt => {
            let Some(r) = parse::<ReadReceipt>(e, problems) else {
                return String::new();
            };
            let d = s
                .deliveries
                .iter_mut()
                .find(|d| d.message_id == r.message_id.as_str() && d.hash == r.forwarded_sha256);
            match d {
                Some(d) if d.recipient == signer => {
                    if d.status != "released" {
                        problem(format!(
                            "{} read {} while it was {}",
                            name(signer),
                            short(r.message_id.as_str()),
                            d.status
                        ));
                    }
                    d.status = "read";
                }
                _ => problem(format!(
                    "read receipt by {} for {}, which was not delivered to them",
                    name(signer),
                    short(r.message_id.as_str())
                )),
            }
            line(&|| format!("read {}", short(r.message_id.as_str())))
        }
        other => {
            problem(format!(
                "a {other} statement has no place in a case's record"
            ));
            other.as_str().to_owned()
        }
    }
}
