//! Facilitators' commands: inbox, review, forward, return, withhold, escalate, verify-key.
//! Everything is decrypted and verified here, on the facilitator's machine.

use std::io::{BufReader, Seek};

use anyhow::{Context, Result, bail};
use ferry_crypto::actions::{Escalate, KeyVerification, Note, Return, Withhold, WithholdReason};
use ferry_crypto::attachment::reseal_attachment;
use ferry_crypto::forward::{self, ForwardRequest, Redaction};
use ferry_crypto::seal::{self, AttachmentBlob, Expect, OpenedMessage};
use ferry_crypto::{FORMAT_VERSION, Id, KeyCard, MessageKind, Role, Sha256Hash};
use ferry_server::wire::{
    Accepted, CaseView, DecisionRequest, DeliverySummary, MessageDetail, MessageSummary,
    WithholdRequest,
};

use crate::account::Account;
use crate::client::{b64, now, to_b64};
use crate::env::Env;
use crate::output::{Out, time};
use crate::pii;
use crate::transfer;

/// `ferry inbox`
#[derive(clap::Args)]
pub struct Inbox {}

impl Inbox {
    /// Lists messages to review (facilitators) and things delivered to the caller.
    pub fn run(self, env: &Env, profile: Option<&str>, out: &mut Out<'_>) -> Result<()> {
        let account = Account::open(env, profile)?;
        let me = account.me()?;
        let facilitates = me.cases.iter().any(|c| c.role == "facilitator");
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
                        m.kind.clone(),
                        format!("{} ({})", m.author_name, m.author_role),
                        m.recipient_role.clone(),
                        m.state.clone(),
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
                let what = match d.kind.as_str() {
                    "return" => format!("{} returned to you", d.message_kind),
                    _ => d.message_kind.clone(),
                };
                vec![
                    d.delivery_id.clone(),
                    d.case_id.clone(),
                    what,
                    d.state.clone(),
                    time(d.created_at),
                ]
            })
            .collect();
        out.table(
            &delivered,
            &["id", "case", "what", "state", "approved"],
            rows,
        )
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

/// Opens and fully verifies a message the caller may read.
pub fn open_message(
    account: &Account,
    case: &Id,
    detail: &MessageDetail,
) -> Result<(OpenedMessage, KeyCard)> {
    let author = account.card(&detail.summary.author)?;
    let message_id = Id::try_from(detail.summary.message_id.as_str())?;
    let kind: MessageKind = detail.summary.kind.parse()?;
    let role: Role = detail.summary.recipient_role.parse()?;
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
    Ok((opened, author))
}

/// A message a facilitator is deciding about, opened and verified.
struct Reviewed {
    account: Account,
    case: Id,
    detail: MessageDetail,
    opened: OpenedMessage,
    author: KeyCard,
}

impl Reviewed {
    fn load(env: &Env, profile: Option<&str>, message: &str, case: Option<&str>) -> Result<Self> {
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
}

/// `ferry review <message>`
#[derive(clap::Args)]
pub struct Review {
    /// The message id.
    message: String,
    /// The case (found automatically if omitted).
    #[arg(long)]
    case: Option<String>,
}

impl Review {
    /// Shows the decrypted, verified message with identifying details highlighted.
    pub fn run(self, env: &Env, profile: Option<&str>, out: &mut Out<'_>) -> Result<()> {
        let Reviewed {
            account: _,
            case,
            detail,
            opened,
            author,
        } = Reviewed::load(env, profile, &self.message, self.case.as_deref())?;
        let letter = &opened.letter;
        let findings = pii::find(&letter.body);
        if out.json {
            return out.json(&serde_json::json!({
                "summary": detail.summary, "body": letter.body, "attachments": letter.attachments,
                "identifying_details": findings,
                "author_safety_number": author.fingerprint().safety_number(),
            }));
        }
        let s = &detail.summary;
        out.line(format!(
            "Message {} in case {case} — signature verified",
            s.message_id
        ))?;
        out.line(format!(
            "  from      {} ({}), safety number {}",
            s.author_name,
            s.author_role,
            author.fingerprint().safety_number()
        ))?;
        out.line(format!(
            "  kind      {} for the {}",
            s.kind,
            crate::output::person(&s.recipient_role)
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
        let (open, close) = if env.color {
            ("\x1b[7m", "\x1b[0m")
        } else {
            ("[[", "]]")
        };
        for line in pii::highlight_lines(&letter.body, &findings, open, close) {
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
            out.line("Forward with --redact-detected, --edit or --redacted-file to remove them.")?;
        }
        Ok(())
    }
}

/// `ferry forward <message>`
#[derive(clap::Args)]
pub struct Forward {
    /// The message id.
    message: String,
    /// The case (found automatically if omitted).
    #[arg(long)]
    case: Option<String>,
    /// The recipient's account id, when several people hold the recipient's role.
    #[arg(long)]
    to: Option<String>,
    /// Forward this file's text instead of the original (a redacted version).
    #[arg(long, conflicts_with_all = ["edit", "redact_detected"])]
    redacted_file: Option<std::path::PathBuf>,
    /// Redact in your editor before forwarding.
    #[arg(long, conflicts_with = "redact_detected")]
    edit: bool,
    /// Replace every detected identifying detail with "[… removed]".
    #[arg(long)]
    redact_detected: bool,
}

impl Forward {
    /// Re-encrypts the message to its recipient and signs the forward.
    pub fn run(self, env: &Env, profile: Option<&str>, out: &mut Out<'_>) -> Result<()> {
        let Reviewed {
            account,
            case,
            detail,
            opened,
            ..
        } = Reviewed::load(env, profile, &self.message, self.case.as_deref())?;
        let view: CaseView = account.client.get(&format!("/v1/cases/{case}"))?;
        let candidates: Vec<_> = view
            .members
            .iter()
            .filter(|m| {
                m.role == detail.summary.recipient_role && m.account_id != detail.summary.author
            })
            .filter(|m| self.to.as_ref().is_none_or(|to| &m.account_id == to))
            .collect();
        let recipient = match candidates.as_slice() {
            [one] => one,
            [] => bail!(
                "nobody in this case can receive it (the {} is not enrolled)",
                crate::output::person(&detail.summary.recipient_role)
            ),
            _ => bail!(
                "several people hold the {} role: say which with --to",
                detail.summary.recipient_role
            ),
        };
        let recipient_card = account.card(&recipient.account_id)?;
        let co_facilitators = co_facilitators(&account, &view)?;
        let body = &opened.letter.body;
        let redacted_body = if let Some(path) = &self.redacted_file {
            Some(
                std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))?,
            )
        } else if self.edit {
            Some(crate::editor::edit(env, body)?)
        } else if self.redact_detected {
            Some(pii::redact(body, &pii::find(body)))
        } else {
            None
        };
        let redaction = match redacted_body {
            Some(text) if text.trim_end() == body.trim_end() => {
                out.line("The text was not changed, so it is forwarded as written, with the author's signature.")?;
                None
            }
            Some(text) => Some(Redaction {
                body: text,
                keep_attachments: (0..opened.letter.attachments.len()).collect(),
            }),
            None => None,
        };
        let recipients: Vec<_> = std::iter::once(recipient_card.recipient().clone())
            .chain(co_facilitators.iter().cloned())
            .collect();
        let mut resealed: Vec<(tempfile::NamedTempFile, AttachmentBlob)> = vec![];
        for (i, a) in opened.letter.attachments.iter().enumerate() {
            let (reader, len) = account.client.get_stream(&format!(
                "/v1/cases/{case}/messages/{}/attachments/{i}",
                detail.summary.message_id
            ))?;
            let bar = transfer::bar(
                len.or(Some(opened.envelope.attachments[i].size)),
                &format!("re-encrypting {}", a.name),
                env,
            );
            let mut tmp = tempfile::NamedTempFile::new_in(transfer::scratch(env)?)?;
            let blob = reseal_attachment(
                &account.identity,
                &opened.envelope.attachments[i],
                a,
                &recipients,
                bar.wrap_read(reader),
                tmp.as_file_mut(),
            )?;
            bar.finish_and_clear();
            resealed.push((tmp, blob));
        }
        let redacted = redaction.is_some();
        let fwd = forward::forward(
            &account.identity,
            ForwardRequest {
                original: &opened,
                recipient: &recipient_card,
                redaction,
                co_facilitators: &co_facilitators,
                attachments: resealed.iter().map(|(_, b)| b.clone()).collect(),
                seq: account.next_seq()?,
                created_at: now(),
            },
        )?;
        let accepted: Accepted = account.client.post(
            &format!(
                "/v1/cases/{case}/messages/{}/forward",
                detail.summary.message_id
            ),
            &DecisionRequest {
                statement: fwd.forward,
                ciphertext: to_b64(&fwd.ciphertext),
            },
        )?;
        let delivery = accepted.id.clone().unwrap_or_default();
        let mut state = accepted.state.clone().unwrap_or_default();
        for (i, (mut tmp, blob)) in resealed.into_iter().enumerate() {
            tmp.as_file_mut().rewind()?;
            let bar = transfer::bar(Some(blob.size), &format!("uploading attachment #{i}"), env);
            let a: Accepted = account.client.put_stream(
                &format!("/v1/deliveries/{delivery}/attachments/{i}"),
                &mut bar.wrap_read(BufReader::new(tmp.as_file())),
            )?;
            bar.finish_and_clear();
            state = a.state.unwrap_or(state);
        }
        out.json(&serde_json::json!({"delivery_id": delivery, "state": state, "redacted": redacted, "recipient": recipient.account_id, "event": accepted.event}))?;
        out.line(format!(
            "Forwarded {} to {} ({}){}: {}.",
            detail.summary.message_id,
            recipient.display_name,
            recipient.role,
            if redacted {
                ", redacted"
            } else {
                " as written"
            },
            match state.as_str() {
                "held" => "held until the case resumes",
                "released" => "delivered",
                other => other,
            }
        ))?;
        Ok(())
    }
}

/// The age recipients of the case's other facilitators.
fn co_facilitators(account: &Account, view: &CaseView) -> Result<Vec<ferry_crypto::Recipient>> {
    view.members
        .iter()
        .filter(|m| {
            m.role == "facilitator" && m.account_id != account.identity.account_id().as_str()
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
        let Reviewed {
            account,
            case,
            detail,
            opened,
            author,
        } = Reviewed::load(env, profile, &self.message, self.case.as_deref())?;
        let view: CaseView = account.client.get(&format!("/v1/cases/{case}"))?;
        let mut recipients = co_facilitators(&account, &view)?;
        recipients.push(author.recipient().clone());
        let message_id = opened.letter.message_id.clone();
        let note = seal_note(&account, &case, &message_id, self.note, &recipients)?;
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
        let Reviewed {
            account,
            case,
            detail: _,
            opened,
            ..
        } = Reviewed::load(env, profile, &self.message, self.case.as_deref())?;
        let message_id = opened.letter.message_id.clone();
        let note = match self.note {
            Some(text) => {
                let view: CaseView = account.client.get(&format!("/v1/cases/{case}"))?;
                Some(seal_note(
                    &account,
                    &case,
                    &message_id,
                    text,
                    &co_facilitators(&account, &view)?,
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
            anyhow::ensure!(
                env.interactive,
                "confirm with --yes once the numbers matched"
            );
            out.line("Did it match? [y/N] ")?;
            let mut answer = String::new();
            std::io::stdin().read_line(&mut answer)?;
            if !matches!(answer.trim(), "y" | "Y" | "yes") {
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
