//! Facilitators' commands: inbox, review, forward, return, withhold, escalate, verify-key.
//! Everything is decrypted and verified here, on the facilitator's machine.

use anyhow::{Context, Result, bail};
use ferry_crypto::actions::{Escalate, KeyVerification, Note, Return, Withhold, WithholdReason};
use ferry_crypto::seal::{self, Expect, OpenedMessage};
use ferry_crypto::{FORMAT_VERSION, Id, KeyCard, Role, Sha256Hash};
use ferry_protocol::{
    Accepted, CaseView, DecisionRequest, DeliveryKind, DeliveryState, DeliverySummary,
    MessageDetail, MessageSummary, WithholdRequest,
};

use super::members;
use super::review_files::{self, ReviewFile};
use crate::account::Account;
use crate::client::{b64, now, to_b64};
use crate::env::Env;
use crate::output::{Out, time};
use crate::pii;
use crate::reviewed::{self, Seen};

/// `ferry inbox`
#[derive(clap::Args)]
pub struct Inbox {}

impl Inbox {
    /// Lists messages to review (facilitators) and things delivered to the caller.
    pub fn run(self, env: &Env, profile: Option<&str>, out: &mut Out<'_>) -> Result<()> {
        let account = Account::open(env, profile)?;
        let me = account.me()?;
        let facilitates = me.cases.iter().any(|c| c.role == Role::Facilitator);
        let review: Vec<MessageSummary> = if facilitates {
            account.client.get("/v1/review")?
        } else {
            vec![]
        };
        let delivered: Vec<DeliverySummary> = account.client.get("/v1/inbox")?;
        if out.json {
            return out.json(&serde_json::json!({ "review": review, "delivered": delivered }));
        }
        if facilitates {
            out.line("Waiting for your review:")?;
            let rows = review
                .iter()
                .map(|m| {
                    vec![
                        m.message_id.clone(),
                        m.case_id.clone(),
                        m.kind.to_string(),
                        format!("{} ({})", m.author_name, m.author_role),
                        m.recipient_role.to_string(),
                        m.state.to_string(),
                        time(m.created_at),
                    ]
                })
                .collect();
            out.table(
                &review,
                &["message", "case", "kind", "from", "for", "state", "written"],
                rows,
            )?;
        }
        if facilitates && delivered.is_empty() {
            return Ok(());
        }
        out.line("Delivered to you:")?;
        let rows = delivered
            .iter()
            .map(|d| {
                let what = match d.kind {
                    DeliveryKind::Return => format!("{} returned to you", d.message_kind),
                    DeliveryKind::Forward => d.message_kind.to_string(),
                };
                vec![
                    d.message_id.clone(),
                    d.case_id.clone(),
                    what,
                    match d.state {
                        DeliveryState::Released => "new".to_owned(),
                        other => other.to_string(),
                    },
                    time(d.created_at),
                ]
            })
            .collect();
        out.table(
            &delivered,
            &["message", "case", "what", "state", "approved"],
            rows,
        )?;
        if !delivered.is_empty() {
            out.line("To read one: ferry read MESSAGE")?;
        }
        Ok(())
    }
}

/// Finds a message among the caller's cases.
pub fn find_message(
    account: &Account,
    message: &str,
    case: Option<&str>,
) -> Result<(Id, MessageDetail)> {
    let cases: Vec<String> = match case {
        Some(c) => vec![c.to_owned()],
        None => account.me()?.cases.into_iter().map(|c| c.case_id).collect(),
    };
    for c in cases {
        match account
            .client
            .get::<MessageDetail>(&format!("/v1/cases/{c}/messages/{message}"))
        {
            Ok(detail) => return Ok((Id::try_from(c.as_str())?, detail)),
            Err(e) if crate::client::api_failure(&e).is_some_and(|f| f.status == 404) => continue,
            Err(e) => return Err(e),
        }
    }
    bail!("no message {message} in your cases")
}

/// Opens and fully verifies a message the caller may read. The key card returned is that of
/// whoever signed it: its author, or, for a person on paper, the facilitator of the case who
/// entered it.
pub fn open_message(
    account: &Account,
    case: &Id,
    detail: &MessageDetail,
) -> Result<(OpenedMessage, KeyCard)> {
    let signer = detail.envelope.signer.as_str();
    if signer != detail.summary.author {
        // Entered for a person on paper: only by a facilitator of the case, for a member of it
        // who takes part on paper.
        let view: CaseView = account.client.get(&format!("/v1/cases/{case}"))?;
        anyhow::ensure!(
            members::may_type_up_for(&view, signer, &detail.summary.author),
            "this message was entered by someone who may not act for its author; it is not shown"
        );
    }
    let author = account.card(signer)?;
    let message_id = Id::try_from(detail.summary.message_id.as_str())?;
    let kind = detail.summary.kind;
    let role = detail.summary.recipient_role;
    let opened = seal::open(
        &account.identity,
        &detail.envelope,
        &b64(&detail.ciphertext)?,
        &author,
        &Expect {
            case_id: case,
            message_id: Some(&message_id),
            kind: Some(kind),
            recipient_role: Some(role),
        },
    )
    .context("this message failed verification and was not shown")?;
    anyhow::ensure!(
        opened.envelope.author.as_str() == detail.summary.author,
        "this message names another author than the server says; it is not shown"
    );
    Ok((opened, author))
}

/// A message a facilitator is deciding about, opened and verified.
pub(crate) struct Reviewed {
    pub account: Account,
    pub case: Id,
    pub detail: MessageDetail,
    pub opened: OpenedMessage,
    pub author: KeyCard,
}

impl Reviewed {
    pub(crate) fn load(
        env: &Env,
        profile: Option<&str>,
        message: &str,
        case: Option<&str>,
    ) -> Result<Self> {
        let account = Account::open(env, profile)?;
        let (case, detail) = find_message(&account, message, case)?;
        let (opened, author) = open_message(&account, &case, &detail)?;
        Ok(Self {
            account,
            case,
            detail,
            opened,
            author,
        })
    }

    /// The message's id.
    pub(crate) fn message_id(&self) -> &Id {
        &self.opened.letter.message_id
    }

    /// What this facilitator was shown of this version of the message before, if anything.
    pub(crate) fn seen_before(&self, env: &Env) -> Result<Option<Seen>> {
        let record = reviewed::Record::load(env, &self.account.profile_name)?;
        Ok(record
            .seen(
                self.message_id().as_str(),
                &self.opened.envelope.ciphertext_sha256,
            )
            .cloned())
    }

    /// Remembers what was shown.
    pub(crate) fn remember(&self, env: &Env, seen: Seen) -> Result<()> {
        reviewed::Record::load(env, &self.account.profile_name)?
            .add(self.message_id().as_str(), seen)
    }

    /// Forgets the message and deletes its attachments' plaintext, once it is decided.
    pub(crate) fn decided(&self, env: &Env) -> Result<()> {
        reviewed::Record::load(env, &self.account.profile_name)?
            .forget(self.message_id().as_str())?;
        review_files::remove(env, self.message_id())
    }
}

/// `ferry review <message>`
#[derive(clap::Args)]
pub struct Review {
    /// The message id.
    message: String,
    /// The case (found automatically if omitted).
    #[arg(long)]
    case: Option<String>,
    /// Also show the message as `ferry forward --redact-detected` would send it.
    #[arg(long)]
    redact_detected: bool,
    /// Open attachments that are not text with this computer's program for them.
    #[arg(long)]
    open: bool,
}

impl Review {
    /// Shows the decrypted, verified message and every attachment, with identifying details
    /// highlighted, and remembers what was shown.
    pub fn run(self, env: &Env, profile: Option<&str>, out: &mut Out<'_>) -> Result<()> {
        let r = Reviewed::load(env, profile, &self.message, self.case.as_deref())?;
        let files = review_files::fetch_all(&r.account, env, &r.case, &r.opened)?;
        let seen = if out.json {
            json_review(out, &r, &files, self.redact_detected)?
        } else {
            show_review(out, env, &r, &files, self.redact_detected)?
        };
        if self.open {
            for f in files.iter().filter(|f| f.text.is_none()) {
                review_files::open_with_platform(&f.path)?;
            }
        }
        r.remember(env, seen)
    }
}

/// The review as JSON (what was shown is remembered just the same).
fn json_review(
    out: &mut Out<'_>,
    r: &Reviewed,
    files: &[ReviewFile],
    preview: bool,
) -> Result<Seen> {
    let letter = &r.opened.letter;
    let mut seen = shown_of(r, files);
    let attachments: Vec<_> = files
        .iter()
        .map(|f| {
            let redacted = f.text.as_deref().filter(|_| preview).map(redacted);
            if let Some(t) = &redacted {
                seen.texts.insert(reviewed::text_hash(t));
            }
            serde_json::json!({
                "index": f.index, "name": f.attachment.name, "size": f.attachment.size,
                "saved_to": f.path, "text": f.text,
                "identifying_details": f.text.as_deref().map(pii::find),
                "redacted_text": redacted,
            })
        })
        .collect();
    let redacted_body = preview.then(|| redacted(&letter.body));
    if let Some(t) = &redacted_body {
        seen.texts.insert(reviewed::text_hash(t));
    }
    out.json(&serde_json::json!({
        "summary": r.detail.summary, "body": letter.body, "attachments": attachments,
        "identifying_details": pii::find(&letter.body),
        "redacted_body": redacted_body,
        "author_safety_number": r.author.fingerprint().safety_number(),
    }))?;
    Ok(seen)
}

/// `text` with every detected identifying detail replaced by "[… removed]".
pub(crate) fn redacted(text: &str) -> String {
    pii::redact(text, &pii::find(text))
}

/// What showing `r` with `files` shows: the body, every attachment, every text attachment.
fn shown_of(r: &Reviewed, files: &[ReviewFile]) -> Seen {
    let mut seen = Seen {
        version: r.opened.envelope.ciphertext_sha256.to_hex(),
        ..Seen::default()
    };
    seen.texts
        .insert(reviewed::text_hash(&r.opened.letter.body));
    for f in files {
        seen.attachments.insert(f.index);
        if let Some(text) = &f.text {
            seen.texts.insert(reviewed::text_hash(text));
        }
    }
    seen
}

/// Prints a text with its identifying details highlighted, and lists them.
fn show_text(out: &mut Out<'_>, env: &Env, text: &str) -> Result<usize> {
    let findings = pii::find(text);
    let (open, close) = if env.color {
        ("\x1b[7m", "\x1b[0m")
    } else {
        ("[[", "]]")
    };
    for line in pii::highlight_lines(text, &findings, open, close) {
        out.styled(&format!("  | {line}"))?;
    }
    out.line("")?;
    if findings.is_empty() {
        out.line("No identifying details found (check by eye as well).")?;
    } else {
        out.line(format!("Identifying details found ({}):", findings.len()))?;
        for f in &findings {
            out.line(format!("  - {:<21} {}", f.kind.replace('_', " "), f.text))?;
        }
    }
    Ok(findings.len())
}

/// Prints the review of a message: who wrote it, the text and every attachment, with
/// identifying details highlighted; with `preview`, also what `--redact-detected` would send.
/// Returns what was shown.
pub(crate) fn show_review(
    out: &mut Out<'_>,
    env: &Env,
    r: &Reviewed,
    files: &[ReviewFile],
    preview: bool,
) -> Result<Seen> {
    let letter = &r.opened.letter;
    let s = &r.detail.summary;
    let mut seen = shown_of(r, files);
    out.line(format!(
        "Message {} in case {} — signature verified",
        s.message_id, r.case
    ))?;
    match &letter.entered_by {
        None => out.line(format!(
            "  from      {} ({}), safety number {}",
            s.author_name,
            s.author_role,
            r.author.fingerprint().safety_number()
        ))?,
        Some(_) => out.line(format!(
            "  from      {} ({}), written by hand and typed up by {} (safety number {}); \
             attachment #0 is the scan",
            s.author_name,
            s.author_role,
            r.author.display_name(),
            r.author.fingerprint().safety_number()
        ))?,
    }
    out.line(format!(
        "  kind      {} for the {}",
        s.kind,
        s.recipient_role.person()
    ))?;
    if let Some(q) = &s.in_reply_to {
        out.line(format!("  answers   {q}"))?;
    }
    out.line(format!("  written   {} UTC", time(letter.created_at)))?;
    out.line(format!("  state     {}", s.state))?;
    for (i, a) in letter.attachments.iter().enumerate() {
        out.line(format!("  attached  #{i} {} ({} bytes)", a.name, a.size))?;
    }
    out.line("")?;
    let mut found = show_text(out, env, &letter.body)?;
    for f in files {
        out.line("")?;
        match &f.text {
            Some(text) => {
                out.line(format!(
                    "Attachment #{} {} ({} bytes), a text file:",
                    f.index, f.attachment.name, f.attachment.size
                ))?;
                found += show_text(out, env, text)?;
            }
            None => {
                out.line(format!(
                    "Attachment #{} {} ({} bytes) is not text. It is saved, checked against \
                     the author's signature, for you to open and look at:",
                    f.index, f.attachment.name, f.attachment.size
                ))?;
                out.line(format!("    {}", f.path.display()))?;
                out.line(
                    "  (only you can open that folder; it is deleted once you decide about this message)",
                )?;
            }
        }
    }
    if preview {
        out.line("")?;
        out.line("With --redact-detected, this is what would be sent:")?;
        let body = redacted(&letter.body);
        for line in body.lines() {
            out.line(format!("  | {line}"))?;
        }
        seen.texts.insert(reviewed::text_hash(&body));
        for f in files {
            if let Some(text) = &f.text {
                let text = redacted(text);
                out.line(format!("Attachment #{} {}:", f.index, f.attachment.name))?;
                for line in text.lines() {
                    out.line(format!("  | {line}"))?;
                }
                seen.texts.insert(reviewed::text_hash(&text));
            }
        }
    }
    out.line("")?;
    let id = &s.message_id;
    if found > 0 && !preview {
        out.line(format!(
            "To see the text with these details removed: ferry review {id} --redact-detected"
        ))?;
    }
    out.line(format!(
        "To pass it on: ferry forward {id} (add --redact-detected, --edit or --redacted-file \
         FILE to remove details)."
    ))?;
    if !letter.attachments.is_empty() {
        out.line(
            "Decide about each attachment when you forward it: --keep N, --drop N or --replace N=FILE.",
        )?;
    }
    Ok(seen)
}

/// The age recipients of the case's other facilitators.
pub(crate) fn co_facilitators(
    account: &Account,
    view: &CaseView,
) -> Result<Vec<ferry_crypto::Recipient>> {
    view.members
        .iter()
        .filter(|m| {
            m.role == Role::Facilitator && m.account_id != account.identity.account_id().as_str()
        })
        .map(|m| Ok(account.card(&m.account_id)?.recipient().clone()))
        .collect()
}

/// Seals a facilitator's signed note about a message to `recipients` (and the facilitator).
fn seal_note(
    account: &Account,
    case: &Id,
    message_id: &Id,
    body: String,
    recipients: &[ferry_crypto::Recipient],
) -> Result<Vec<u8>> {
    let note = Note {
        v: FORMAT_VERSION,
        facilitator: account.identity.account_id().clone(),
        case_id: case.clone(),
        message_id: message_id.clone(),
        body,
        created_at: now(),
    };
    Ok(seal::seal_signed(&account.identity, &note, recipients)?)
}

/// `ferry return <message> --note TEXT`
#[derive(clap::Args)]
pub struct ReturnCmd {
    /// The message id.
    message: String,
    /// The case (found automatically if omitted).
    #[arg(long)]
    case: Option<String>,
    /// What to tell the author (sealed to the author and the facilitators).
    #[arg(long)]
    note: String,
}

impl ReturnCmd {
    /// Returns the message to its author with a sealed note.
    pub fn run(self, env: &Env, profile: Option<&str>, out: &mut Out<'_>) -> Result<()> {
        let r = Reviewed::load(env, profile, &self.message, self.case.as_deref())?;
        let Reviewed {
            account,
            case,
            detail,
            opened,
            author,
        } = &r;
        let view: CaseView = account.client.get(&format!("/v1/cases/{case}"))?;
        let mut recipients = co_facilitators(account, &view)?;
        recipients.push(author.recipient().clone());
        let message_id = opened.letter.message_id.clone();
        let note = seal_note(account, case, &message_id, self.note, &recipients)?;
        let statement = account.sign(&Return {
            v: FORMAT_VERSION,
            facilitator: account.identity.account_id().clone(),
            case_id: case.clone(),
            message_id: message_id.clone(),
            original_sha256: opened.envelope.ciphertext_sha256,
            note_sha256: Sha256Hash::of(&note),
            note_size: note.len() as u64,
            seq: account.next_seq()?,
            created_at: now(),
        })?;
        let a: Accepted = account.client.post(
            &format!("/v1/cases/{case}/messages/{message_id}/return"),
            &DecisionRequest {
                statement,
                ciphertext: to_b64(&note),
            },
        )?;
        r.decided(env)?;
        out.json(&a)?;
        out.line(format!(
            "Returned {message_id} to {} with your note.",
            detail.summary.author_name
        ))?;
        Ok(())
    }
}

/// `ferry withhold <message> --reason R`
#[derive(clap::Args)]
pub struct WithholdCmd {
    /// The message id.
    message: String,
    /// The case (found automatically if omitted).
    #[arg(long)]
    case: Option<String>,
    /// risk_of_harm, abusive, identifying, outside_agreement or other.
    #[arg(long)]
    reason: WithholdReason,
    /// A note for the case's facilitators (sealed to them only).
    #[arg(long)]
    note: Option<String>,
}

impl WithholdCmd {
    /// Withholds the message.
    pub fn run(self, env: &Env, profile: Option<&str>, out: &mut Out<'_>) -> Result<()> {
        let r = Reviewed::load(env, profile, &self.message, self.case.as_deref())?;
        let Reviewed {
            account,
            case,
            opened,
            ..
        } = &r;
        let message_id = opened.letter.message_id.clone();
        let note = match self.note {
            Some(text) => {
                let view: CaseView = account.client.get(&format!("/v1/cases/{case}"))?;
                Some(seal_note(
                    account,
                    case,
                    &message_id,
                    text,
                    &co_facilitators(account, &view)?,
                )?)
            }
            None => None,
        };
        let statement = account.sign(&Withhold {
            v: FORMAT_VERSION,
            facilitator: account.identity.account_id().clone(),
            case_id: case.clone(),
            message_id: message_id.clone(),
            original_sha256: opened.envelope.ciphertext_sha256,
            reason: self.reason,
            note_sha256: note.as_deref().map(Sha256Hash::of),
            seq: account.next_seq()?,
            created_at: now(),
        })?;
        let a: Accepted = account.client.post(
            &format!("/v1/cases/{case}/messages/{message_id}/withhold"),
            &WithholdRequest {
                statement,
                note: note.as_deref().map(to_b64),
            },
        )?;
        r.decided(env)?;
        out.json(&a)?;
        out.line(format!("Withheld {message_id} ({}).", self.reason.as_str()))?;
        Ok(())
    }
}

/// `ferry escalate <message> --reason R`
#[derive(clap::Args)]
pub struct EscalateCmd {
    /// The message id.
    message: String,
    /// The case (found automatically if omitted).
    #[arg(long)]
    case: Option<String>,
    /// risk_of_harm, abusive, identifying, outside_agreement or other.
    #[arg(long)]
    reason: WithholdReason,
}

impl EscalateCmd {
    /// Escalates the message to the coordinator.
    pub fn run(self, env: &Env, profile: Option<&str>, out: &mut Out<'_>) -> Result<()> {
        let Reviewed {
            account,
            case,
            detail: _,
            opened,
            ..
        } = Reviewed::load(env, profile, &self.message, self.case.as_deref())?;
        let message_id = opened.letter.message_id.clone();
        let a = account.post_signed(
            &format!("/v1/cases/{case}/messages/{message_id}/escalate"),
            &Escalate {
                v: FORMAT_VERSION,
                facilitator: account.identity.account_id().clone(),
                case_id: case.clone(),
                message_id: message_id.clone(),
                original_sha256: opened.envelope.ciphertext_sha256,
                reason: self.reason,
                seq: account.next_seq()?,
                created_at: now(),
            },
        )?;
        out.json(&a)?;
        out.line(format!(
            "Escalated {message_id} to the coordinator ({}).",
            self.reason.as_str()
        ))?;
        Ok(())
    }
}

/// `ferry verify-key <person> [--case C]`
#[derive(clap::Args)]
pub struct VerifyKey {
    /// The person: their account id or their name as shown in `ferry case show`.
    person: String,
    /// The case (your only case if omitted).
    #[arg(long)]
    case: Option<String>,
    /// Record the match without asking (after reading the number aloud).
    #[arg(long)]
    yes: bool,
}

impl VerifyKey {
    /// Reads out the safety number and, once confirmed, signs the verification.
    pub fn run(self, env: &Env, profile: Option<&str>, out: &mut Out<'_>) -> Result<()> {
        let account = Account::open(env, profile)?;
        let case = account.case(self.case.as_deref())?;
        let view: CaseView = account.client.get(&format!("/v1/cases/{case}"))?;
        let matches: Vec<_> = view
            .members
            .iter()
            .filter(|m| m.account_id == self.person || m.display_name == self.person)
            .collect();
        let person = match matches.as_slice() {
            [one] => one.account_id.clone(),
            [] => bail!("nobody called {:?} is in case {case}", self.person),
            _ => bail!(
                "several people are called {:?}: give the account id",
                self.person
            ),
        };
        let card = account.card(&person)?;
        let number = card.fingerprint().safety_number();
        out.line(format!("{} ({})", card.display_name(), card.account_id()))?;
        out.line(format!("Safety number: {number}"))?;
        out.line(
            "Ask them to read their safety number (`ferry whoami`) aloud; it must match exactly.",
        )?;
        if !self.yes {
            anyhow::ensure!(env.can_ask(), "confirm with --yes once the numbers matched");
            if !env.confirm(out, "Did it match?", false)? {
                bail!(
                    "not recorded: the numbers did not match. Do not send anything until this is resolved."
                );
            }
        }
        let a = account.post_signed(
            &format!("/v1/cases/{case}/key-verifications"),
            &KeyVerification {
                v: FORMAT_VERSION,
                facilitator: account.identity.account_id().clone(),
                case_id: case.clone(),
                subject: card.account_id().clone(),
                fingerprint: card.fingerprint().0,
                seq: account.next_seq()?,
                created_at: now(),
            },
        )?;
        out.json(&serde_json::json!({"verified": card.account_id(), "safety_number": number, "event": a.event}))?;
        out.line(format!("Recorded: {}'s key verified.", card.display_name()))?;
        Ok(())
    }
}
