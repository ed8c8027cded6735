//! `ferry forward`: a facilitator passes a message on, as written or redacted. It first shows
//! exactly what will be sent (the text, what was removed from it, and what becomes of each
//! attachment) and asks; without a terminal it needs `--yes`, and sends only what this
//! facilitator has been shown in `ferry review` (or earlier in the same command): the message,
//! each attachment it keeps, and any redacted version made by `--redact-detected`. Every
//! attachment needs a decision: keep, drop, or replace with the facilitator's own file.

use std::io::{BufReader, Seek};
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use ferry_crypto::attachment::{reseal_attachment, seal_attachment};
use ferry_crypto::forward::{
    self, Addressee, AttachmentDecision, ForwardRequest, ForwardedAttachment,
};
use ferry_crypto::seal::AttachmentRef;
use ferry_crypto::{AccountId, Recipient};
use ferry_protocol::{Accepted, CaseView, DecisionRequest, DeliveryState, MemberView};

use super::review::{Reviewed, co_facilitators, redacted, show_review};
use super::review_files::{self, ReviewFile, safe_name};
use crate::client::{now, to_b64};
use crate::env::Env;
use crate::output::Out;
use crate::pii;
use crate::reviewed::Seen;
use crate::transfer;

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
    /// Send this file's text instead of the original (your redacted version).
    #[arg(long, conflicts_with_all = ["edit", "redact_detected"])]
    redacted_file: Option<PathBuf>,
    /// Redact in your editor before forwarding (details found are marked for you).
    #[arg(long, conflicts_with = "redact_detected")]
    edit: bool,
    /// Replace every detected identifying detail with "[… removed]", in the text and in text
    /// attachments (see the result first with `ferry review MSG --redact-detected`).
    #[arg(long)]
    redact_detected: bool,
    /// Pass attachment N on as its author sent it (repeat for several).
    #[arg(long = "keep", value_name = "N")]
    keep: Vec<usize>,
    /// Do not pass attachment N on (repeat for several).
    #[arg(long = "drop", value_name = "N")]
    drop: Vec<usize>,
    /// Send FILE in place of attachment N: your redacted version of it (repeat for several).
    #[arg(long = "replace", value_name = "N=FILE", value_parser = parse_replace)]
    replace: Vec<(usize, PathBuf)>,
    /// Send without asking: only what `ferry review` has shown you.
    #[arg(long)]
    yes: bool,
}

fn parse_replace(text: &str) -> Result<(usize, PathBuf), String> {
    let (n, file) = text
        .split_once('=')
        .ok_or_else(|| "give the attachment number and your file as N=FILE".to_owned())?;
    let n = n
        .trim()
        .parse()
        .map_err(|_| format!("{n:?} is not an attachment number"))?;
    Ok((n, PathBuf::from(file)))
}

/// What becomes of one attachment.
enum Choice {
    Keep,
    Drop,
    /// The facilitator's own file in its place.
    Replace(PathBuf),
    /// This text, with identifying details removed, in its place.
    Redacted(String),
}

impl Choice {
    fn decision(&self) -> AttachmentDecision {
        match self {
            Choice::Keep => AttachmentDecision::Kept,
            Choice::Drop => AttachmentDecision::Dropped,
            Choice::Replace(_) | Choice::Redacted(_) => AttachmentDecision::Replaced,
        }
    }
}

/// Where the text sent comes from.
#[derive(PartialEq)]
enum Text {
    /// The author's, unchanged.
    AsWritten,
    /// `--redact-detected`: made by Ferry, so it must have been shown.
    Detected(String),
    /// `--edit` or `--redacted-file`: written by the facilitator.
    Theirs(String),
}

impl Forward {
    /// Shows what will be sent, asks, then re-encrypts the message to its recipient and signs
    /// the forward.
    pub fn run(self, env: &Env, profile: Option<&str>, out: &mut Out<'_>) -> Result<()> {
        let r = Reviewed::load(env, profile, &self.message, self.case.as_deref())?;
        let id = r.message_id().clone();
        let view: CaseView = r.account.client.get(&format!("/v1/cases/{}", r.case))?;
        let recipient = self.recipient(&r, &view)?.clone();
        let mut files: Option<Vec<ReviewFile>> = None;
        let seen = match r.seen_before(env)? {
            Some(seen) => seen,
            None if env.can_ask() => {
                let shown = review_files::fetch_all(&r.account, env, &r.case, &r.opened)?;
                let seen = show_review(out, env, &r, &shown, false)?;
                r.remember(env, seen.clone())?;
                files = Some(shown);
                out.line("")?;
                seen
            }
            None => bail!(
                "You have not read message {id} yet, so it was not forwarded. Read it first with \
                 `ferry review {id}`, then forward it."
            ),
        };
        let needs_text = self.redact_detected && !r.opened.letter.attachments.is_empty();
        if needs_text && files.is_none() {
            files = Some(review_files::fetch_all(
                &r.account, env, &r.case, &r.opened,
            )?);
        }
        let choices = self.choices(env, out, &r, files.as_deref().unwrap_or(&[]))?;
        let text = self.text(env, out, &r)?;
        if !env.can_ask() {
            check_seen(&r, &seen, &text, &choices)?;
        }
        preview(out, &r, &recipient, &text, &choices)?;
        if !self.yes {
            let question = format!(
                "Send this to {} ({})?",
                recipient.display_name,
                recipient.role.person()
            );
            if !env.can_ask() {
                bail!(
                    "Nothing was sent. Check what is shown above; to send exactly that, run the \
                     command again with --yes (or run it in a terminal to be asked)."
                );
            }
            if !env.confirm(out, &question, false)? {
                bail!("Nothing was sent.");
            }
        }
        send(env, out, &r, &view, &recipient, text, choices)
    }

    /// The one person in the message's recipient role (or the one named with `--to`).
    fn recipient<'v>(&self, r: &Reviewed, view: &'v CaseView) -> Result<&'v MemberView> {
        let role = &r.detail.summary.recipient_role;
        let candidates: Vec<_> = view
            .members
            .iter()
            .filter(|m| &m.role == role && m.account_id != r.detail.summary.author)
            .filter(|m| self.to.as_ref().is_none_or(|to| &m.account_id == to))
            .collect();
        match candidates.as_slice() {
            [one] => Ok(one),
            [] => bail!(
                "nobody in this case can receive it (the {} is not enrolled)",
                role.person()
            ),
            _ => bail!(
                "several people hold the {} role: say which with --to",
                role.person()
            ),
        }
    }

    /// A decision for every attachment: from the options, from `--redact-detected` for text
    /// files, or asked; never assumed.
    fn choices(
        &self,
        env: &Env,
        out: &mut Out<'_>,
        r: &Reviewed,
        files: &[ReviewFile],
    ) -> Result<Vec<Choice>> {
        let attachments = &r.opened.letter.attachments;
        let named: Vec<usize> = self
            .keep
            .iter()
            .chain(&self.drop)
            .chain(self.replace.iter().map(|(n, _)| n))
            .copied()
            .collect();
        for n in &named {
            if *n >= attachments.len() {
                bail!(
                    "this message has {} attachment(s), numbered from 0; there is no #{n}",
                    attachments.len()
                );
            }
            if named.iter().filter(|m| *m == n).count() > 1 {
                bail!("attachment #{n} was given more than one decision");
            }
        }
        let mut choices = vec![];
        let mut undecided = vec![];
        for (i, a) in attachments.iter().enumerate() {
            let choice = if self.keep.contains(&i) {
                Choice::Keep
            } else if self.drop.contains(&i) {
                Choice::Drop
            } else if let Some((_, file)) = self.replace.iter().find(|(n, _)| *n == i) {
                Choice::Replace(file.clone())
            } else if let Some(text) = self
                .redact_detected
                .then(|| files.get(i).and_then(|f| f.text.as_deref()))
                .flatten()
            {
                let clean = redacted(text);
                if clean == text {
                    Choice::Keep
                } else {
                    Choice::Redacted(clean)
                }
            } else if env.can_ask() {
                ask_choice(env, out, i, a)?
            } else {
                undecided.push(format!("#{i} {}", a.name));
                continue;
            };
            choices.push(choice);
        }
        if !undecided.is_empty() {
            let how = if self.redact_detected {
                "--redact-detected removes details only from text; for "
            } else {
                "For "
            };
            bail!(
                "Nothing was sent: every attachment needs your decision. {how}{}, add --keep N, \
                 --drop N or --replace N=FILE (N is the attachment's number).",
                undecided.join(", ")
            );
        }
        Ok(choices)
    }

    /// The text to send.
    fn text(&self, env: &Env, out: &mut Out<'_>, r: &Reviewed) -> Result<Text> {
        let body = &r.opened.letter.body;
        let text = if let Some(path) = &self.redacted_file {
            Text::Theirs(
                std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))?,
            )
        } else if self.edit {
            Text::Theirs(crate::editor::redact(env, out, body, &pii::find(body))?)
        } else if self.redact_detected {
            Text::Detected(redacted(body))
        } else {
            Text::AsWritten
        };
        Ok(match text {
            Text::Detected(t) | Text::Theirs(t) if t.trim_end() == body.trim_end() => {
                Text::AsWritten
            }
            other => other,
        })
    }
}

/// Asks what to do with one attachment.
fn ask_choice(env: &Env, out: &mut Out<'_>, i: usize, a: &AttachmentRef) -> Result<Choice> {
    loop {
        let answer = env.ask(
            out,
            &format!(
                "Attachment #{i} {} ({} bytes): keep it, drop it, or replace it with your own \
                 redacted file? [keep/drop/replace]",
                a.name, a.size
            ),
        )?;
        match answer.to_lowercase().as_str() {
            "k" | "keep" => return Ok(Choice::Keep),
            "d" | "drop" => return Ok(Choice::Drop),
            "r" | "replace" => {
                let file = env.ask(out, "Which file should be sent in its place?")?;
                return Ok(Choice::Replace(PathBuf::from(file)));
            }
            _ => out.line("Please answer keep, drop or replace.")?,
        }
    }
}

/// Without a terminal, only what this facilitator was shown may go: the message version,
/// a redacted text made by Ferry, and each attachment kept.
fn check_seen(r: &Reviewed, seen: &Seen, text: &Text, choices: &[Choice]) -> Result<()> {
    let id = r.message_id();
    let body = &r.opened.letter.body;
    let unseen_text = match text {
        Text::AsWritten => !seen.saw_text(body),
        Text::Detected(t) => !seen.saw_text(t),
        Text::Theirs(_) => false,
    };
    let unseen_redaction = choices
        .iter()
        .any(|c| matches!(c, Choice::Redacted(t) if !seen.saw_text(t)));
    if unseen_text || unseen_redaction {
        bail!(
            "Nothing was sent: you have not seen this redacted version yet. See it first with \
             `ferry review {id} --redact-detected`."
        );
    }
    for (i, c) in choices.iter().enumerate() {
        if matches!(c, Choice::Keep) && !seen.attachments.contains(&i) {
            bail!(
                "Nothing was sent: attachment #{i} has not been shown to you. `ferry review {id}` \
                 shows it."
            );
        }
    }
    Ok(())
}

/// Prints exactly what will be sent: the text, what changed from the original, and what
/// becomes of each attachment.
fn preview(
    out: &mut Out<'_>,
    r: &Reviewed,
    to: &MemberView,
    text: &Text,
    choices: &[Choice],
) -> Result<()> {
    let author = &r.detail.summary.author_name;
    let body = &r.opened.letter.body;
    out.line(format!(
        "What {} ({}) will receive, exactly:",
        to.display_name,
        to.role.person()
    ))?;
    let sent = match text {
        Text::AsWritten => body,
        Text::Detected(t) | Text::Theirs(t) => t,
    };
    for line in sent.lines() {
        out.line(format!("  | {line}"))?;
    }
    let entered = r.opened.letter.entered_by.is_some();
    match text {
        Text::AsWritten if entered => out.line(format!(
            "The text is as {} typed it up from {author}'s handwriting, carrying their signature; \
             {} is told it was written by hand and typed up.",
            r.author.display_name(),
            to.display_name
        ))?,
        Text::AsWritten => out.line(format!(
            "The text is as {author} wrote it, carrying {author}'s own signature."
        ))?,
        Text::Detected(t) | Text::Theirs(t) => {
            out.line("Changed from the original (removed [-like this-], added {+like this+}):")?;
            for line in changes(body, t).lines() {
                out.line(format!("  | {line}"))?;
            }
        }
    }
    for (i, (a, c)) in r.opened.letter.attachments.iter().zip(choices).enumerate() {
        let scan = entered && i == 0;
        let what = match c {
            Choice::Keep if scan => "the scan of the handwritten page, passed on".to_owned(),
            Choice::Keep => format!("passed on as {author} sent it"),
            Choice::Drop if scan => {
                "the scan of the handwritten page, NOT passed on (it stays with you)".to_owned()
            }
            Choice::Drop => "NOT passed on".to_owned(),
            Choice::Replace(file) => format!("replaced by your file {}", file.display()),
            Choice::Redacted(t) => {
                let mut s = "replaced by this text, with identifying details removed:".to_owned();
                for line in t.lines() {
                    s.push_str(&format!("\n    | {line}"));
                }
                s
            }
        };
        for (n, line) in format!("Attachment #{i} {} ({} bytes): {what}", a.name, a.size)
            .lines()
            .enumerate()
        {
            out.line(if n == 0 {
                line.to_owned()
            } else {
                format!("  {line}")
            })?;
        }
    }
    Ok(())
}

/// The changes from `old` to `new`, word by word: removed text `[-so-]`, added `{+so+}`. A
/// space between two changed words stays inside the change, so a phrase reads as one.
fn changes(old: &str, new: &str) -> String {
    use similar::{ChangeTag, TextDiff};
    let diff = TextDiff::from_words(old, new);
    let mut out = String::new();
    let (mut removed, mut added, mut space) = (String::new(), String::new(), String::new());
    let flush = |out: &mut String, removed: &mut String, added: &mut String| {
        if !removed.is_empty() {
            out.push_str(&format!("[-{removed}-]"));
        }
        if !added.is_empty() {
            out.push_str(&format!("{{+{added}+}}"));
        }
        removed.clear();
        added.clear();
    };
    for change in diff.iter_all_changes() {
        let word = change.value();
        let changing = !removed.is_empty() || !added.is_empty();
        match change.tag() {
            ChangeTag::Equal if changing && word.trim().is_empty() => space.push_str(word),
            ChangeTag::Equal => {
                flush(&mut out, &mut removed, &mut added);
                out.push_str(&space);
                space.clear();
                out.push_str(word);
            }
            tag => {
                for side in [&mut removed, &mut added] {
                    if !side.is_empty() {
                        side.push_str(&space);
                    }
                }
                space.clear();
                if tag == ChangeTag::Delete {
                    removed.push_str(word);
                } else {
                    added.push_str(word);
                }
            }
        }
    }
    flush(&mut out, &mut removed, &mut added);
    out.push_str(&space);
    out
}

/// Re-encrypts what passes to the recipient, signs the forward, and sends it.
fn send(
    env: &Env,
    out: &mut Out<'_>,
    r: &Reviewed,
    view: &CaseView,
    to: &MemberView,
    text: Text,
    choices: Vec<Choice>,
) -> Result<()> {
    let account = &r.account;
    // A person on paper has no keys: what is passed on to them is sealed to the facilitators,
    // who print it for them.
    let recipient_card = match to.on_paper {
        true => None,
        false => Some(account.card(&to.account_id)?),
    };
    let on_paper = AccountId::try_from(to.account_id.clone())?;
    let co_facilitators = co_facilitators(account, view)?;
    let recipients: Vec<Recipient> = recipient_card
        .iter()
        .map(|c| c.recipient().clone())
        .chain(co_facilitators.iter().cloned())
        .collect();
    let decisions: Vec<AttachmentDecision> = choices.iter().map(Choice::decision).collect();
    let mut sealed: Vec<tempfile::NamedTempFile> = vec![];
    let mut attachments = vec![];
    for (i, choice) in choices.into_iter().enumerate() {
        let mut tmp = tempfile::NamedTempFile::new_in(transfer::scratch(env)?)?;
        let forwarded = match choice {
            Choice::Drop => {
                attachments.push(ForwardedAttachment::Dropped);
                continue;
            }
            Choice::Keep => ForwardedAttachment::Kept(reseal(r, env, i, &recipients, &mut tmp)?),
            Choice::Replace(path) => {
                let name = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .context("the replacement file needs a plain file name")?
                    .to_owned();
                let file = std::fs::File::open(&path)
                    .with_context(|| format!("cannot open {}", path.display()))?;
                ForwardedAttachment::Replaced(seal_attachment(
                    &account.identity,
                    &recipients,
                    &name,
                    BufReader::new(file),
                    tmp.as_file_mut(),
                )?)
            }
            Choice::Redacted(t) => {
                let name = safe_name(i, &r.opened.letter.attachments[i].name);
                ForwardedAttachment::Replaced(seal_attachment(
                    &account.identity,
                    &recipients,
                    &name,
                    t.as_bytes(),
                    tmp.as_file_mut(),
                )?)
            }
        };
        attachments.push(forwarded);
        sealed.push(tmp);
    }
    let redacted_body = match text {
        Text::AsWritten => None,
        Text::Detected(t) | Text::Theirs(t) => Some(t),
    };
    let fwd = forward::forward(
        &account.identity,
        ForwardRequest {
            original: &r.opened,
            recipient: match &recipient_card {
                Some(card) => card.into(),
                None => Addressee::OnPaper(&on_paper),
            },
            redacted_body,
            attachments,
            co_facilitators: &co_facilitators,
            seq: account.next_seq()?,
            created_at: now(),
        },
    )?;
    let id = r.message_id();
    let accepted: Accepted = account.client.post(
        &format!("/v1/cases/{}/messages/{id}/forward", r.case),
        &DecisionRequest {
            statement: fwd.forward.clone(),
            ciphertext: to_b64(&fwd.ciphertext),
        },
    )?;
    let delivery = accepted.id.clone().unwrap_or_default();
    let mut state = accepted.state.clone().unwrap_or_default();
    for (i, mut tmp) in sealed.into_iter().enumerate() {
        tmp.as_file_mut().rewind()?;
        let size = tmp.as_file().metadata().map(|m| m.len()).ok();
        let bar = transfer::bar(size, &format!("uploading attachment #{i}"), env);
        let a: Accepted = account.client.put_stream(
            &format!("/v1/deliveries/{delivery}/attachments/{i}"),
            &mut bar.wrap_read(BufReader::new(tmp.as_file())),
        )?;
        bar.finish_and_clear();
        state = a.state.unwrap_or(state);
    }
    let redacted = serde_json::from_slice::<forward::Forward>(&fwd.forward.body)?.redacted;
    review_files::remove(env, id)?;
    out.json(&serde_json::json!({
        "delivery_id": delivery, "state": state, "redacted": redacted,
        "recipient": to.account_id, "event": accepted.event,
        "attachments": decisions.iter().map(|d| d.as_str()).collect::<Vec<_>>(),
    }))?;
    out.line(format!(
        "Forwarded {id} to {} ({}{}){}: {}.",
        to.display_name,
        to.role,
        if to.on_paper { ", on paper" } else { "" },
        if redacted {
            ", redacted"
        } else {
            " as written"
        },
        match state.parse() {
            Ok(DeliveryState::Held) => {
                "held (the case is paused, or the recipient asked to hold anything new)"
            }
            Ok(DeliveryState::Released) if to.on_paper => "ready to print",
            Ok(DeliveryState::Released) => "delivered",
            _ => state.as_str(),
        }
    ))?;
    if to.on_paper && state == DeliveryState::Released.as_str() {
        out.line(format!(
            "Print it for them with `ferry paper print {id} --case {}`.",
            r.case
        ))?;
    }
    Ok(())
}

/// Re-encrypts attachment `i` as its author sent it to `recipients`, into `tmp`.
fn reseal(
    r: &Reviewed,
    env: &Env,
    i: usize,
    recipients: &[Recipient],
    tmp: &mut tempfile::NamedTempFile,
) -> Result<ferry_crypto::seal::AttachmentBlob> {
    let a = &r.opened.letter.attachments[i];
    let blob = &r.opened.envelope.attachments[i];
    let (reader, len) = r.account.client.get_stream(&format!(
        "/v1/cases/{}/messages/{}/attachments/{i}",
        r.case,
        r.message_id()
    ))?;
    let bar = transfer::bar(
        len.or(Some(blob.size)),
        &format!("re-encrypting {}", a.name),
        env,
    );
    let resealed = reseal_attachment(
        &r.account.identity,
        blob,
        a,
        recipients,
        bar.wrap_read(reader),
        tmp.as_file_mut(),
    )?;
    bar.finish_and_clear();
    Ok(resealed)
}

#[cfg(test)]
mod tests {
    use super::changes;

    #[test]
    fn changes_are_marked_word_by_word() {
        assert_eq!(
            changes(
                "Ring me on 07700 900461 please.",
                "Ring me on [phone removed] please."
            ),
            "Ring me on [-07700 900461-]{+[phone removed]+} please."
        );
        assert_eq!(changes("same", "same"), "same");
        assert_eq!(
            changes("We live at 14 Acacia Avenue now", "We live nearby now"),
            "We live [-at 14 Acacia Avenue-]{+nearby+} now"
        );
    }
}
