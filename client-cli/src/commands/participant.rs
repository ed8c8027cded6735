//! Participants' commands: consent, withdraw, write, read. Messages are sealed on this
//! machine to the case's facilitators; what arrives is verified before it is shown.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use ferry_crypto::actions::{Consent, Hold, Note, ReadReceipt, Withdrawal};
use ferry_crypto::attachment::open_attachment;
use ferry_crypto::forward::{AttachmentDecision, Forward, open_forwarded};
use ferry_crypto::seal::{self, Letter};
use ferry_crypto::{FORMAT_VERSION, Id, KeyCard, MessageKind, Role, Sha256Hash};
use ferry_protocol::{
    Accepted, CaseState, CaseView, DeliveryDetail, DeliveryKind, DeliveryState, DeliverySummary,
    SentMessage, SentState, SubmitRequest,
};

use super::members;
use super::sealing::{self, SealedFiles};
use crate::account::Account;
use crate::client::{b64, now, to_b64};
use crate::env::Env;
use crate::output::{Out, time};
use crate::transfer;

/// `ferry consent`
#[derive(clap::Args)]
pub struct ConsentCmd {
    /// The case (your only case if omitted).
    #[arg(long)]
    case: Option<String>,
}

/// `ferry withdraw`
#[derive(clap::Args)]
pub struct WithdrawCmd {
    /// The case (your only case if omitted).
    #[arg(long)]
    case: Option<String>,
    /// Withdraw without being asked to confirm.
    #[arg(long)]
    yes: bool,
}

/// `ferry hold [--off]`
#[derive(clap::Args)]
pub struct HoldCmd {
    /// The case (your only case if omitted).
    #[arg(long)]
    case: Option<String>,
    /// Let through what was held, and anything new from now on.
    #[arg(long)]
    off: bool,
}

impl HoldCmd {
    /// Signs the hold (or its end) and says what it means.
    pub fn run(self, env: &Env, profile: Option<&str>, out: &mut Out<'_>) -> Result<()> {
        let account = Account::open(env, profile)?;
        let case = account.case(self.case.as_deref())?;
        let a = account.post_signed(
            &format!("/v1/cases/{case}/hold"),
            &Hold {
                v: FORMAT_VERSION,
                participant: account.identity.account_id().clone(),
                case_id: case.clone(),
                hold: !self.off,
                seq: account.next_seq()?,
                created_at: now(),
            },
        )?;
        out.json(&a)?;
        out.line(if self.off {
            "Anything held for you is passed on now: `ferry inbox` shows it."
        } else {
            "Anything new for you is held until you run `ferry hold --off`. You can still write, \
             and your facilitator still reads what comes in."
        })?;
        Ok(())
    }
}

/// What withdrawing does, said before it is done.
const WITHDRAWING: &[&str] = &[
    "If you withdraw:",
    "  - the case pauses at once: nothing new is passed on, to you or from you;",
    "  - anything already approved for you but not yet delivered is held;",
    "  - everything you have already received stays yours to read;",
    "  - you can consent again later if you want to; your coordinator then decides whether the case goes on.",
];

impl WithdrawCmd {
    /// Says what a withdrawal does, asks, and signs it.
    pub fn run(self, env: &Env, profile: Option<&str>, out: &mut Out<'_>) -> Result<()> {
        for line in WITHDRAWING {
            out.line(line)?;
        }
        if !self.yes {
            if !env.can_ask() {
                bail!(
                    "Nothing was changed. To withdraw, run `ferry withdraw` in a terminal, or add \
                     --yes to confirm."
                );
            }
            if !env.confirm(out, "Do you want to withdraw now?", false)? {
                bail!("Nothing was changed: you have not withdrawn.");
            }
        }
        ConsentCmd { case: self.case }.run(env, profile, out, false)
    }
}

impl ConsentCmd {
    /// Signs consent (`give`) or a withdrawal.
    pub fn run(
        self,
        env: &Env,
        profile: Option<&str>,
        out: &mut Out<'_>,
        give: bool,
    ) -> Result<()> {
        let account = Account::open(env, profile)?;
        let case = account.case(self.case.as_deref())?;
        let participant = account.identity.account_id().clone();
        let seq = account.next_seq()?;
        let a = if give {
            account.post_signed(
                &format!("/v1/cases/{case}/consent"),
                &Consent {
                    v: FORMAT_VERSION,
                    participant,
                    case_id: case.clone(),
                    seq,
                    created_at: now(),
                },
            )?
        } else {
            account.post_signed(
                &format!("/v1/cases/{case}/withdrawal"),
                &Withdrawal {
                    v: FORMAT_VERSION,
                    participant,
                    case_id: case.clone(),
                    seq,
                    created_at: now(),
                },
            )?
        };
        out.json(&a)?;
        let state = a.case_state.map(|s| s.to_string()).unwrap_or_default();
        if give {
            out.line(format!("Your consent is recorded. The case is {state}."))?;
            if a.case_state != Some(CaseState::Active) {
                let view: CaseView = account.client.get(&format!("/v1/cases/{case}"))?;
                if !view.waiting_for.is_empty() {
                    out.line(format!(
                        "Before anything can be sent it is waiting for {}.",
                        view.waiting_for.join(" and ")
                    ))?;
                }
            }
        } else {
            out.line(format!(
                "Your withdrawal is recorded. The case is {state}: nothing new will be passed on unless \
                 you consent again and the coordinator resumes it. What you already received stays \
                 readable with `ferry inbox` and `ferry read`."
            ))?;
        }
        Ok(())
    }
}

/// `ferry write question|letter|answer`
#[derive(clap::Args)]
pub struct Write {
    /// question, letter or answer.
    kind: MessageKind,
    /// The case (your only case if omitted).
    #[arg(long)]
    case: Option<String>,
    /// For an answer: the question it answers (its message id, as shown by `ferry read`).
    #[arg(long)]
    in_reply_to: Option<String>,
    /// Read the text from this file (otherwise your editor opens).
    #[arg(long)]
    file: Option<PathBuf>,
    /// Attach a file (repeat for several).
    #[arg(long = "attach")]
    attach: Vec<PathBuf>,
    /// Who it is for: harmed, responsible or supporter (default: the other party).
    #[arg(long)]
    to: Option<Role>,
}

impl Write {
    /// Seals and submits the message.
    pub fn run(self, env: &Env, profile: Option<&str>, out: &mut Out<'_>) -> Result<()> {
        let account = Account::open(env, profile)?;
        let case = account.case(self.case.as_deref())?;
        let me = account.me()?;
        let my_role: Role = me
            .cases
            .iter()
            .find(|c| c.case_id == case.as_str())
            .context("you are not in that case")?
            .role;
        let (to, body) = sealing::draft(
            env,
            self.kind,
            self.in_reply_to.as_deref(),
            self.to,
            my_role,
            self.file.as_deref(),
        )?;
        let facilitators = sealing::facilitators(&account, &case)?;
        let recipients: Vec<_> = facilitators.iter().map(|c| c.recipient().clone()).collect();
        let files = SealedFiles::seal(env, &account.identity, &recipients, &self.attach)?;
        let message_id = Id::random();
        let letter = Letter {
            v: FORMAT_VERSION,
            case_id: case.clone(),
            message_id: message_id.clone(),
            kind: self.kind,
            author: account.identity.account_id().clone(),
            recipient_role: to,
            in_reply_to: self.in_reply_to.as_deref().map(Id::try_from).transpose()?,
            created_at: now(),
            body,
            attachments: files.refs.clone(),
            entered_by: None,
        };
        let blobs = files.blobs.clone();
        let sealed = seal::seal(&account.identity, &letter, me.next_seq, blobs, &recipients)?;
        let mut accepted: Accepted = account.client.post(
            &format!("/v1/cases/{case}/messages"),
            &SubmitRequest {
                envelope: sealed.envelope,
                ciphertext: to_b64(&sealed.ciphertext),
            },
        )?;
        if let Some(last) = files.upload(env, &account, &case, &message_id)? {
            accepted = last;
        }
        out.json(&serde_json::json!({"message_id": message_id, "case_id": case, "state": accepted.state}))?;
        out.line(format!(
            "Your {} ({message_id}) is sealed to your facilitator{} and waiting for review.",
            self.kind,
            if facilitators.len() > 1 { "s" } else { "" }
        ))?;
        Ok(())
    }
}

/// `ferry read <message>`
#[derive(clap::Args)]
pub struct Read {
    /// The message id, as `ferry inbox` shows it.
    id: String,
    /// Save attachments into this directory.
    #[arg(long)]
    save_attachments: Option<PathBuf>,
    /// Do not sign a read receipt.
    #[arg(long)]
    no_receipt: bool,
}

impl Read {
    /// Verifies every signature, shows the message and who approved it, and signs a receipt.
    pub fn run(self, env: &Env, profile: Option<&str>, out: &mut Out<'_>) -> Result<()> {
        let account = Account::open(env, profile)?;
        let delivery = delivery_of(&account, &self.id)?;
        let detail: DeliveryDetail = account.client.get(&format!("/v1/deliveries/{delivery}"))?;
        let case = Id::try_from(detail.summary.case_id.as_str())?;
        let facilitator = KeyCard::verify(detail.facilitator_card.clone())?;
        anyhow::ensure!(
            facilitator.account_id() == &detail.statement.signer,
            "the approving facilitator's key card does not match the approval"
        );
        // Only a facilitator allocated to this case may approve anything for it.
        let view: CaseView = account.client.get(&format!("/v1/cases/{case}"))?;
        anyhow::ensure!(
            members::is_facilitator(&view, facilitator.account_id().as_str()),
            "this was approved by someone who is not a facilitator of the case; it is not shown"
        );
        let author = KeyCard::verify(detail.author_card.clone())?;
        let ciphertext = b64(&detail.ciphertext)?;
        let receipt_hash = Sha256Hash::of(&ciphertext);
        if detail.summary.kind == DeliveryKind::Return {
            let note: Note = seal::open_signed(&account.identity, &ciphertext, &facilitator)
                .context("the note failed verification and is not shown")?;
            out.json(&serde_json::json!({"kind": DeliveryKind::Return.as_str(), "message_id": note.message_id, "note": note.body, "facilitator": facilitator.display_name()}))?;
            out.line(format!(
                "Your {} {} was returned for changes by {} ({} UTC). Their note:",
                detail.summary.message_kind,
                note.message_id,
                facilitator.display_name(),
                time(note.created_at)
            ))?;
            for line in note.body.lines() {
                out.line(format!("  | {line}"))?;
            }
            out.line("You can write a new version with `ferry write`.")?;
        } else {
            let delivered = open_forwarded(
                &account.identity,
                &detail.statement,
                &ciphertext,
                &facilitator,
                &author,
                &case,
            )
            .context("this message failed verification and is not shown")?;
            let author_member = view
                .members
                .iter()
                .find(|m| m.account_id == delivered.author.as_str());
            let author_role = author_member
                .map(|m| m.role.to_string())
                .unwrap_or_default();
            // Written by hand: typed up by a facilitator of the case, for a person on paper.
            if let Some(by) = &delivered.entered_by {
                anyhow::ensure!(
                    members::may_type_up_for(&view, by.as_str(), delivered.author.as_str()),
                    "this was typed up by someone who may not act for its author; it is not shown"
                );
            }
            let author_name = author_member
                .map(|m| m.display_name.clone())
                .unwrap_or_else(|| author.display_name().to_owned());
            if out.json {
                out.json(&serde_json::json!({
                    "kind": delivered.kind, "message_id": delivered.forward.message_id,
                    "author": delivered.author, "author_name": author_name,
                    "entered_by": delivered.entered_by,
                    "in_reply_to": delivered.in_reply_to, "body": delivered.body,
                    "redacted": delivered.redacted, "approved_by": facilitator.display_name(),
                    "attachments": delivered.attachments,
                    "attachment_decisions": delivered.forward.attachment_decisions,
                }))?;
            }
            out.line(format!(
                "{} {} from {} ({author_role}), written {} UTC",
                capitalise(delivered.kind.as_str()),
                delivered.forward.message_id,
                author_name,
                time(delivered.created_at)
            ))?;
            if let Some(q) = &delivered.in_reply_to {
                out.line(format!("  in answer to {q}"))?;
            }
            out.line(format!(
                "  approved by {} (facilitator) on {} UTC — signature verified",
                facilitator.display_name(),
                time(delivered.forward.created_at)
            ))?;
            let scan = delivered.entered_by.is_some();
            if scan {
                out.line(format!(
                    "  written by hand by {author_name} and typed up by {} (facilitator) — signature verified",
                    author.display_name()
                ))?;
                let decisions = &delivered.forward.attachment_decisions;
                out.line(if decisions.first() == Some(&AttachmentDecision::Dropped) {
                    "  the handwritten page stays with the facilitator"
                } else {
                    "  attachment #0 is the scan of the handwritten page"
                })?;
            }
            out.line(if delivered.redacted {
                "  the facilitator edited this message before passing it on".to_owned()
            } else if scan {
                "  these are their words, as the facilitator typed them up".to_owned()
            } else {
                format!("  {author_name}'s own signature verified: these are their exact words")
            })?;
            out.line("")?;
            for line in delivered.body.lines() {
                out.line(format!("  | {line}"))?;
            }
            for (i, what) in removed_or_replaced(&delivered.forward)
                .into_iter()
                .enumerate()
            {
                if let Some(what) = what.filter(|_| !(scan && i == 0)) {
                    out.line(format!("  the author's attachment #{i} {what}"))?;
                }
            }
            let replaced = replaced_positions(&delivered.forward);
            for (i, a) in delivered.attachments.iter().enumerate() {
                if replaced.contains(&i) {
                    out.line(format!(
                        "  attachment #{i} {} is your facilitator's edited version",
                        a.name
                    ))?;
                }
                match &self.save_attachments {
                    Some(dir) => {
                        let path = save_attachment(
                            &account,
                            env,
                            &delivery,
                            i,
                            &delivered.forward,
                            a,
                            dir,
                        )?;
                        out.line(format!(
                            "  attachment #{i} {} saved to {}",
                            a.name,
                            path.display()
                        ))?;
                    }
                    None => out.line(format!(
                        "  attachment #{i} {} ({} bytes): use --save-attachments DIR",
                        a.name, a.size
                    ))?,
                }
            }
            if delivered.kind == MessageKind::Question {
                out.line("")?;
                out.line(format!(
                    "To answer: ferry write answer --in-reply-to {}",
                    delivered.forward.message_id
                ))?;
            }
        }
        if !self.no_receipt && detail.summary.state == DeliveryState::Released {
            let message_id = Id::try_from(detail.summary.message_id.as_str())?;
            account.post_signed(
                &format!("/v1/deliveries/{delivery}/receipt"),
                &ReadReceipt {
                    v: FORMAT_VERSION,
                    reader: account.identity.account_id().clone(),
                    case_id: case,
                    message_id,
                    forwarded_sha256: receipt_hash,
                    seq: account.next_seq()?,
                    created_at: now(),
                },
            )?;
            out.line("(read receipt signed)")?;
        }
        Ok(())
    }
}

/// The delivery to read for `id`: what was delivered to the caller about that message (the
/// latest, if there were several), or `id` itself when it is a delivery id.
fn delivery_of(account: &Account, id: &str) -> Result<String> {
    let inbox: Vec<DeliverySummary> = account.client.get("/v1/inbox")?;
    inbox
        .iter()
        .rev()
        .find(|d| d.message_id == id || d.delivery_id == id)
        .map(|d| d.delivery_id.clone())
        .with_context(|| {
            format!(
                "nothing delivered to you is called {id}; `ferry inbox` lists what you can read"
            )
        })
}

/// `ferry sent`
#[derive(clap::Args)]
pub struct Sent {
    /// Only this case.
    #[arg(long)]
    case: Option<String>,
}

impl Sent {
    /// Lists what the caller wrote and what became of each.
    pub fn run(self, env: &Env, profile: Option<&str>, out: &mut Out<'_>) -> Result<()> {
        let account = Account::open(env, profile)?;
        let sent: Vec<SentMessage> = account.client.get("/v1/sent")?;
        let sent: Vec<SentMessage> = sent
            .into_iter()
            .filter(|m| self.case.as_ref().is_none_or(|c| &m.case_id == c))
            .collect();
        let rows = sent
            .iter()
            .map(|m| {
                vec![
                    m.message_id.clone(),
                    m.case_id.clone(),
                    m.kind.to_string(),
                    m.recipient_role.person().to_owned(),
                    outcome_in_words(m.state).to_owned(),
                    time(m.created_at),
                ]
            })
            .collect();
        out.table(
            &sent,
            &["message", "case", "kind", "for", "what happened", "written"],
            rows,
        )?;
        if sent.iter().any(|m| m.state == SentState::Returned) {
            out.line("A returned message has a note from your facilitator: `ferry read MESSAGE` shows it.")?;
        }
        Ok(())
    }
}

/// What became of a message, as its author is told.
fn outcome_in_words(state: SentState) -> &'static str {
    match state {
        SentState::Uploading => "attachments still uploading",
        SentState::WithFacilitator => "with your facilitator",
        SentState::Returned => "returned to you with a note",
        SentState::PassedOn => "passed on as you wrote it",
        SentState::PassedOnRedacted => "passed on, with some details removed",
        SentState::NotPassedOn => "not passed on",
    }
}

/// For each of the original's attachments, what the facilitator did with it, if it was not
/// passed on as sent.
fn removed_or_replaced(forward: &Forward) -> Vec<Option<&'static str>> {
    forward
        .attachment_decisions
        .iter()
        .map(|d| match d {
            AttachmentDecision::Kept => None,
            AttachmentDecision::Dropped => Some("was not passed on by your facilitator"),
            AttachmentDecision::Replaced => {
                Some("was replaced by a version your facilitator edited")
            }
        })
        .collect()
}

/// Which of the forwarded attachments are facilitators' replacements, by their number in
/// the forward.
fn replaced_positions(forward: &Forward) -> Vec<usize> {
    forward
        .attachment_decisions
        .iter()
        .filter(|d| **d != AttachmentDecision::Dropped)
        .enumerate()
        .filter(|(_, d)| **d == AttachmentDecision::Replaced)
        .map(|(i, _)| i)
        .collect()
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// Downloads, decrypts and verifies an attachment into `dir`, keeping it only if it verifies.
fn save_attachment(
    account: &Account,
    env: &Env,
    delivery: &str,
    i: usize,
    forward: &Forward,
    expected: &ferry_crypto::seal::AttachmentRef,
    dir: &std::path::Path,
) -> Result<PathBuf> {
    let blob = forward
        .attachments
        .get(i)
        .context("the forward lists fewer attachments than the letter")?;
    let (reader, len) = account
        .client
        .get_stream(&format!("/v1/deliveries/{delivery}/attachments/{i}"))?;
    std::fs::create_dir_all(dir)?;
    let bar = transfer::bar(
        len.or(Some(blob.size)),
        &format!("downloading {}", expected.name),
        env,
    );
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    open_attachment(
        &account.identity,
        blob,
        expected,
        bar.wrap_read(reader),
        tmp.as_file_mut(),
    )
    .context("the attachment failed verification and was not saved")?;
    bar.finish_and_clear();
    // Only a plain file name, inside the folder asked for.
    let path = dir.join(super::review_files::safe_name(i, &expected.name));
    tmp.persist_noclobber(&path)
        .with_context(|| format!("{} already exists; not overwritten", path.display()))?;
    Ok(path)
}
