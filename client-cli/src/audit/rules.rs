//! The process rules, one function per kind of case event: who may do it, in which state of
//! the case, and what it changes. Each function checks its event against the case as replayed
//! so far, applies it, and returns its line of the timeline. The sentence above each function
//! is the rule as the auditor would say it.

use ferry_crypto::actions::{
    Allocation, CaseAction, CaseOpen, CaseState as StateChange, Consent as ConsentGiven, Enrolment,
    Escalate, Hold, Invitation, KeyVerification, ReadReceipt, Return, RiskAssessment, RiskOutcome,
    Withdrawal, Withhold,
};
use ferry_crypto::forward::Forward;
use ferry_crypto::seal::Envelope;
use ferry_crypto::{MessageKind, Role, Sha256Hash, StatementKind};
use ferry_protocol::{CaseState, Consent, DeliveryKind, DeliveryState, MessageState};
use serde::de::DeserializeOwned;

mod paper;

use super::Event;
use super::replay::{Delivery, Member, Message, Problems, StaffRoll, State, parse, short};

/// One case event being replayed, with what its rule needs to know.
pub(super) struct Cx<'a> {
    /// The event.
    pub event: &'a Event,
    /// Its case, as replayed so far.
    pub case: &'a mut State,
    /// Who is staff, as the log has it so far.
    pub staff: &'a StaffRoll,
    /// A person's name, for sentences.
    pub name: &'a dyn Fn(&str) -> String,
    /// Where problems go.
    pub problems: &'a Problems,
    /// Whether to write the timeline line (the whole-log audit skips it).
    pub describe: bool,
}

impl<'a> Cx<'a> {
    fn signer(&self) -> &str {
        self.event.leaf.statement.signer.as_str()
    }

    fn signer_name(&self) -> String {
        (self.name)(self.signer())
    }

    fn problem(&self, text: String) {
        self.report().problem(text);
    }

    /// Where this event's problems go, apart from the case (which a rule may be changing).
    fn report(&self) -> Report<'a> {
        Report {
            idx: self.event.leaf.idx,
            problems: self.problems,
        }
    }

    fn parse<T: DeserializeOwned>(&self) -> Option<T> {
        parse(self.event, self.problems)
    }

    /// Reports `what` unless its signer is a coordinator.
    fn coordinator(&self, what: &str) {
        if !self.staff.is(self.signer(), Role::Coordinator) {
            let who = self.signer_name();
            self.problem(format!("{what} by {who}, who is not a coordinator"));
        }
    }

    /// A timeline line, written only when timelines are kept.
    fn line(&self, text: impl FnOnce() -> String) -> String {
        if self.describe { text() } else { String::new() }
    }
}

/// Reports an event's problems.
#[derive(Clone, Copy)]
struct Report<'a> {
    idx: u64,
    problems: &'a Problems,
}

impl Report<'_> {
    fn problem(self, text: String) {
        let idx = self.idx;
        self.problems
            .borrow_mut()
            .push(format!("event #{idx}: {text}"));
    }
}

/// Checks one case event against its rule and applies it; returns its timeline line.
pub(super) fn apply(cx: &mut Cx) -> String {
    let kind = cx.event.leaf.statement.kind;
    let line = match kind {
        StatementKind::CaseOpen => cx.parse().map(|o| case_open(cx, o)),
        StatementKind::Allocation => cx.parse().map(|a| allocation(cx, a)),
        StatementKind::Invitation => cx.parse().map(|i| invitation(cx, i)),
        StatementKind::KeyCard => Some("key card registered".into()),
        StatementKind::Enrolment => cx.parse().map(|en| enrolment(cx, en)),
        StatementKind::RiskAssessment => cx.parse().map(|r| risk_assessment(cx, r)),
        StatementKind::CaseState => cx.parse().map(|c| state_change(cx, c)),
        StatementKind::Consent => cx.parse::<ConsentGiven>().map(|_| consent(cx, true)),
        StatementKind::Withdrawal => cx.parse::<Withdrawal>().map(|_| consent(cx, false)),
        StatementKind::Hold => cx.parse().map(|h| hold(cx, h)),
        StatementKind::KeyVerification => cx.parse().map(|k| key_verification(cx, k)),
        StatementKind::Submission | StatementKind::EnteredSubmission => {
            cx.parse().map(|env| submission(cx, env))
        }
        StatementKind::PaperMember => cx.parse().map(|p| paper::member(cx, p)),
        StatementKind::PaperConsent => cx.parse().map(|p| paper::consent(cx, p)),
        StatementKind::Printing => cx.parse().map(|p| paper::printing(cx, p)),
        StatementKind::Forward => cx.parse().map(|f| forward(cx, f)),
        StatementKind::Return => cx.parse::<Return>().map(|r| {
            let decided = Decision {
                message: r.message_id.to_string(),
                original: r.original_sha256,
                what: "returned to its author".into(),
                note: Some(r.note_sha256),
                state: MessageState::Returned,
            };
            decision(cx, decided)
        }),
        StatementKind::Withhold => cx.parse::<Withhold>().map(|w| {
            let decided = Decision {
                message: w.message_id.to_string(),
                original: w.original_sha256,
                what: format!("withheld ({})", w.reason.as_str()),
                note: None,
                state: MessageState::Withheld,
            };
            decision(cx, decided)
        }),
        StatementKind::Escalate => cx.parse::<Escalate>().map(|x| {
            let decided = Decision {
                message: x.message_id.to_string(),
                original: x.original_sha256,
                what: format!("escalated ({})", x.reason.as_str()),
                note: None,
                state: MessageState::Escalated,
            };
            decision(cx, decided)
        }),
        StatementKind::ReadReceipt => cx.parse().map(|r| read_receipt(cx, r)),
        other => {
            cx.problem(format!(
                "a {other} statement has no place in a case's record"
            ));
            Some(other.as_str().to_owned())
        }
    };
    line.unwrap_or_default()
}

/// A case is opened by a coordinator; it starts as referred.
fn case_open(cx: &mut Cx, o: CaseOpen) -> String {
    cx.coordinator("case opened");
    cx.case.case_state = Some(CaseState::Referred);
    cx.case.sensitivity = o.sensitivity.clone();
    format!(
        "opened: {} ({}), reference {}",
        o.category, o.sensitivity, o.reference
    )
}

/// A coordinator allocates a facilitator, who holds the accreditation a sensitive case needs;
/// a referred case is then preparing.
fn allocation(cx: &mut Cx, a: Allocation) -> String {
    cx.coordinator("allocation");
    let fac = a.facilitator.as_str();
    match cx.staff.staff.get(fac) {
        Some(st) if st.role == Role::Facilitator => {
            let sensitivity = &cx.case.sensitivity;
            if sensitivity != "standard" && !st.accreditations.contains(sensitivity) {
                cx.problem(format!(
                    "{} was allocated to {} case without that accreditation",
                    (cx.name)(fac),
                    ferry_crypto::with_article(sensitivity)
                ));
            }
        }
        _ => cx.problem(format!(
            "{} was allocated but is not a facilitator",
            (cx.name)(fac)
        )),
    }
    let member = Member {
        role: Role::Facilitator,
        consent: Consent::None,
        holding: false,
        on_paper: false,
    };
    cx.case.members.insert(fac.to_owned(), member);
    if cx.case.is(CaseState::Referred) {
        cx.case.case_state = Some(CaseState::Preparing);
    }
    format!("allocated facilitator {}", (cx.name)(fac))
}

/// A coordinator invites a participant to the case.
fn invitation(cx: &mut Cx, i: Invitation) -> String {
    cx.coordinator("invitation");
    cx.case.invitations.insert(i.invitation, i.role);
    format!(
        "invited {} (code hash {})",
        i.role.a_person(),
        short(&i.invitation.to_hex())
    )
}

/// A person joins the case with an invitation to it, used once, in the role it names.
fn enrolment(cx: &mut Cx, en: Enrolment) -> String {
    match cx.case.invitations.remove(&en.invitation) {
        Some(role) => {
            let member = Member {
                role,
                consent: Consent::None,
                holding: false,
                on_paper: false,
            };
            cx.case.members.insert(cx.signer().to_owned(), member);
            format!("enrolled as {}", role.a_person())
        }
        None => {
            cx.problem(format!(
                "{} enrolled without a valid invitation to this case",
                cx.signer_name()
            ));
            "enrolled (no invitation)".into()
        }
    }
}

/// A coordinator assesses the risk; "do not proceed" pauses an active case.
fn risk_assessment(cx: &mut Cx, r: RiskAssessment) -> String {
    cx.coordinator("risk assessment");
    cx.case.risk = Some(r.outcome);
    let proceed = r.outcome == RiskOutcome::Proceed;
    if !proceed && cx.case.is(CaseState::Active) {
        cx.case.case_state = Some(CaseState::Paused);
    }
    let outcome = if proceed { "proceed" } else { "do not proceed" };
    format!("risk assessment: {outcome}")
}

/// A coordinator pauses a preparing or active case, resumes a paused one (only with every
/// participant's consent: held deliveries are then released), or closes a case (held
/// deliveries are cancelled). A closed case never changes.
fn state_change(cx: &mut Cx, c: StateChange) -> String {
    cx.coordinator("case state change");
    let report = cx.report();
    let s = &mut *cx.case;
    match (c.action, s.case_state) {
        (_, Some(CaseState::Closed)) => report.problem("a closed case was changed".into()),
        (CaseAction::Pause, Some(CaseState::Active | CaseState::Preparing)) => {
            s.case_state = Some(CaseState::Paused);
        }
        (CaseAction::Resume, Some(CaseState::Paused)) => {
            let ready = s.ready();
            s.case_state = Some(CaseState::Active);
            release_held(s, None);
            if !ready {
                report.problem("the case was resumed without every participant's consent".into());
            }
        }
        (CaseAction::Close, _) => {
            s.case_state = Some(CaseState::Closed);
            settle_held(s, DeliveryState::Cancelled);
        }
        (action, _) => {
            let state = ferry_crypto::with_article(s.state_name());
            report.problem(format!("{action:?} of {state} case"));
        }
    }
    format!("case {:?}", c.action).to_lowercase()
}

/// Every held delivery of the case becomes `to`.
fn settle_held(s: &mut State, to: DeliveryState) {
    for d in s.deliveries.iter_mut() {
        if d.status == DeliveryState::Held {
            d.status = to;
        }
    }
}

/// What is held is released, to everyone who does not hold their own (or to `only` one).
fn release_held(s: &mut State, only: Option<&str>) {
    let holding: Vec<String> = s
        .members
        .iter()
        .filter(|(_, m)| m.holding)
        .map(|(a, _)| a.clone())
        .collect();
    for d in s.deliveries.iter_mut() {
        let chosen = only.is_none_or(|o| d.recipient == o);
        if d.status == DeliveryState::Held && chosen && !holding.contains(&d.recipient) {
            d.status = DeliveryState::Released;
        }
    }
}

/// Only a participant of the case holds what is passed on to them, or lets it through again;
/// letting it through releases what was held for them if the case is active. A closed case
/// never changes.
fn hold(cx: &mut Cx, h: Hold) -> String {
    let signer = cx.signer().to_owned();
    if cx.case.is(CaseState::Closed) {
        cx.problem(format!(
            "{} held deliveries of a closed case",
            (cx.name)(&signer)
        ));
    }
    match cx.case.members.get_mut(&signer) {
        Some(m) if m.role.is_participant() => m.holding = h.hold,
        _ => cx.problem(format!(
            "{} is not a participant of this case",
            (cx.name)(&signer)
        )),
    }
    if h.hold {
        return "holds what is passed on to them".into();
    }
    if cx.case.is(CaseState::Active) {
        release_held(cx.case, Some(&signer));
    }
    "lets what is passed on to them through again".into()
}

/// Only a participant of the case gives or withdraws consent; a withdrawal pauses an active
/// case at once.
fn consent(cx: &mut Cx, given: bool) -> String {
    let signer = cx.signer().to_owned();
    if cx.case.members.get(&signer).is_some_and(|m| m.on_paper) {
        cx.problem(format!(
            "{} takes part on paper, yet consent was signed with a key of theirs",
            (cx.name)(&signer)
        ));
    }
    set_consent(cx, &signer, given);
    if given {
        return "consent given".into();
    }
    "consent withdrawn: the case pauses".into()
}

/// Records `account`'s consent or withdrawal, which pauses an active case at once.
fn set_consent(cx: &mut Cx, account: &str, given: bool) {
    match cx.case.members.get_mut(account) {
        Some(m) if m.role.is_participant() => {
            m.consent = if given {
                Consent::Given
            } else {
                Consent::Withdrawn
            };
        }
        _ => cx.problem(format!(
            "{} is not a participant of this case",
            (cx.name)(account)
        )),
    }
    if !given && cx.case.is(CaseState::Active) {
        cx.case.case_state = Some(CaseState::Paused);
    }
}

/// Only a facilitator allocated to the case checks a participant's key.
fn key_verification(cx: &mut Cx, k: KeyVerification) -> String {
    if cx.case.allocated(cx.signer()) {
        cx.case.verified.insert(k.subject.to_string());
    } else {
        cx.problem(format!(
            "key verification by {}, who is not a facilitator of this case",
            cx.signer_name()
        ));
    }
    format!(
        "verified the key of {} (fingerprint {})",
        (cx.name)(k.subject.as_str()),
        short(&k.fingerprint.to_hex())
    )
}

/// A participant who has consented writes while the case is active (or, for a person on
/// paper, a facilitator allocated to the case enters what they wrote by hand); an answer
/// answers a question that was forwarded to its author (released, not held or cancelled).
fn submission(cx: &mut Cx, env: Envelope) -> String {
    let author = env.author.to_string();
    let name = (cx.name)(&author);
    if env.entered_by.is_some() {
        paper::entered(cx, &author);
    } else if cx.case.members.get(&author).is_some_and(|m| m.on_paper) {
        cx.problem(format!(
            "{name} takes part on paper, yet a message was signed with a key of theirs"
        ));
    }
    match cx.case.members.get(&author) {
        Some(m) if m.role.is_participant() => {
            if m.consent != Consent::Given {
                cx.problem(format!(
                    "{name} wrote before consenting (or after withdrawing)"
                ));
            }
        }
        _ => cx.problem(format!("{name} wrote a message but is not a participant")),
    }
    if !cx.case.is(CaseState::Active) {
        let state = cx.case.state_name();
        cx.problem(format!(
            "a message was submitted while the case was {state}"
        ));
    }
    if env.kind == MessageKind::Answer {
        let question = env.in_reply_to.as_ref().map(|q| q.to_string());
        let question = question.unwrap_or_default();
        if !answers_forwarded_question(cx.case, &question, &author) {
            cx.problem(format!(
                "answer {} refers to {}, which is not a question forwarded to its author",
                short(env.message_id.as_str()),
                short(&question)
            ));
        }
    }
    let line = cx.line(|| {
        let answers = env.in_reply_to.as_ref();
        let entered = match (&env.entered_by, &env.scan_sha256) {
            (Some(by), Some(scan)) => format!(
                ", written by hand by {name} and entered by {} (scan sha256 {})",
                (cx.name)(by.as_str()),
                short(&scan.to_hex())
            ),
            _ => String::new(),
        };
        format!(
            "{} {} for the {} ({} bytes, sha256 {}){}{entered}",
            env.kind,
            short(env.message_id.as_str()),
            env.recipient_role,
            env.ciphertext_size,
            short(&env.ciphertext_sha256.to_hex()),
            answers
                .map(|q| format!(", answers {}", short(q.as_str())))
                .unwrap_or_default()
        )
    });
    let message = Message {
        kind: env.kind,
        author,
        entered: env.entered_by.is_some(),
        recipient_role: env.recipient_role,
        sha: env.ciphertext_sha256,
        attachments: env.attachments.len(),
        state: MessageState::InReview,
    };
    cx.case.messages.insert(env.message_id.into(), message);
    line
}

/// Whether `question` is a question of the case delivered to `author` (not held or cancelled).
fn answers_forwarded_question(s: &State, question: &str, author: &str) -> bool {
    let is_question = s
        .messages
        .get(question)
        .is_some_and(|m| m.kind == MessageKind::Question);
    is_question
        && s.deliveries.iter().any(|d| {
            d.message_id == question
                && d.recipient == author
                && !matches!(d.status, DeliveryState::Held | DeliveryState::Cancelled)
        })
}

/// A facilitator allocated to the case forwards a submitted message, unchanged from what was
/// submitted, with a decision for each of its attachments, to its addressee who has
/// consented, while the case is active (released, or held while the recipient holds what
/// reaches them) or paused (held).
fn forward(cx: &mut Cx, f: Forward) -> String {
    let id = short(f.message_id.as_str());
    if !cx.case.allocated(cx.signer()) {
        cx.problem(format!(
            "forward of {id} approved by {}, who is not a facilitator allocated to this case",
            cx.signer_name()
        ));
    }
    let recipient = f.recipient.as_str();
    match cx.case.messages.get(f.message_id.as_str()) {
        None => cx.problem(format!("forward of {id}, which was never submitted")),
        Some(m) => forwarded_as_submitted(cx, &f, m),
    }
    let never_consented = cx
        .case
        .members
        .get(recipient)
        .is_some_and(|m| m.consent == Consent::None);
    if never_consented {
        cx.problem(format!(
            "forward to {}, who never consented",
            (cx.name)(recipient)
        ));
    }
    let status = match cx.case.case_state {
        Some(CaseState::Active | CaseState::Paused) => cx.case.delivery_status(recipient),
        _ => {
            let state = cx.case.state_name();
            cx.problem(format!("forward while the case was {state}"));
            DeliveryState::Released
        }
    };
    if let Some(m) = cx.case.messages.get_mut(f.message_id.as_str()) {
        m.state = MessageState::Forwarded;
    }
    cx.case.deliveries.push(Delivery {
        approval: cx.event.leaf.statement.body_hash(),
        message_id: f.message_id.to_string(),
        kind: DeliveryKind::Forward,
        recipient: recipient.to_owned(),
        hash: f.forwarded_sha256,
        status,
        attachments: f.attachments.len(),
    });
    cx.line(|| forward_line(&f, &(cx.name)(recipient), status))
}

/// Reports a forward that names another original, misses an attachment decision, or goes to
/// someone other than the message's addressee.
fn forwarded_as_submitted(cx: &Cx, f: &Forward, m: &Message) {
    let id = short(f.message_id.as_str());
    if m.sha != f.original_sha256 {
        cx.problem(format!("forward of {id} names a different original"));
    }
    if let Err(err) = f.check_decisions(Some(m.attachments), m.entered) {
        cx.problem(format!(
            "forward of {id} does not account for each of its {} attachment(s): {err}",
            m.attachments
        ));
    }
    let recipient = f.recipient.as_str();
    let to_role = cx.case.members.get(recipient).map(|r| r.role);
    if to_role != Some(m.recipient_role) || m.author == recipient {
        cx.problem(format!(
            "forward of {id} to {}, who is not its addressee",
            (cx.name)(recipient)
        ));
    }
}

/// A forward's line of the timeline.
fn forward_line(f: &Forward, recipient: &str, status: DeliveryState) -> String {
    let decisions: Vec<String> = f
        .attachment_decisions
        .iter()
        .enumerate()
        .map(|(i, d)| format!("#{i} {}", d.as_str()))
        .collect();
    let decisions = if decisions.is_empty() {
        String::new()
    } else {
        format!("; attachment {}", decisions.join(", "))
    };
    format!(
        "forwarded {} to {recipient}{}{} (sha256 {}){decisions}",
        short(f.message_id.as_str()),
        if f.redacted {
            ", redacted"
        } else {
            ", as written"
        },
        if status == DeliveryState::Held {
            ", held while paused"
        } else {
            ""
        },
        short(&f.forwarded_sha256.to_hex()),
    )
}

/// A facilitator's decision not to forward a message (return, withhold or escalate).
struct Decision {
    message: String,
    original: Sha256Hash,
    /// What was done, in words.
    what: String,
    /// A return's note, delivered to the author.
    note: Option<Sha256Hash>,
    state: MessageState,
}

/// A facilitator allocated to the case returns, withholds or escalates a message of the case,
/// as it was submitted; a return's note goes to its author (held while the case is paused or
/// the author holds what reaches them).
fn decision(cx: &mut Cx, d: Decision) -> String {
    let id = short(&d.message);
    if !cx.case.allocated(cx.signer()) {
        cx.problem(format!(
            "{id} {} by {}, who is not a facilitator of this case",
            d.what,
            cx.signer_name()
        ));
    }
    let report = cx.report();
    let approval = cx.event.leaf.statement.body_hash();
    let s = &mut *cx.case;
    match s.messages.get_mut(&d.message) {
        Some(m) if m.sha == d.original => {
            m.state = d.state;
            if let Some(hash) = d.note {
                let author = m.author.clone();
                let status = s.delivery_status(&author);
                s.deliveries.push(Delivery {
                    approval,
                    message_id: d.message.clone(),
                    kind: DeliveryKind::Return,
                    recipient: author,
                    hash,
                    status,
                    attachments: 0,
                });
            }
        }
        _ => report.problem(format!(
            "decision about {id}, which is not a message of this case"
        )),
    }
    format!("{id} {}", d.what)
}

/// Only its recipient reads a delivery, once it is released.
fn read_receipt(cx: &mut Cx, r: ReadReceipt) -> String {
    let id = short(r.message_id.as_str());
    let signer = cx.signer().to_owned();
    let (report, name) = (cx.report(), cx.name);
    let found = cx
        .case
        .deliveries
        .iter_mut()
        .find(|d| d.message_id == r.message_id.as_str() && d.hash == r.forwarded_sha256);
    match found {
        Some(d) if d.recipient == signer => {
            let was = d.status;
            d.status = DeliveryState::Read;
            if was != DeliveryState::Released {
                report.problem(format!("{} read {id} while it was {was}", name(&signer)));
            }
        }
        _ => report.problem(format!(
            "read receipt by {} for {id}, which was not delivered to them",
            name(&signer)
        )),
    }
    cx.line(|| format!("read {id}"))
}
