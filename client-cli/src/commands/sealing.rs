//! Files sealed to a case's facilitators before a message is sent, and uploaded after it: a
//! participant's attachments, or the scan of a handwritten original a facilitator enters.

use std::io::{BufReader, Seek};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use ferry_crypto::attachment::seal_attachment;
use ferry_crypto::seal::{AttachmentBlob, AttachmentRef};
use ferry_crypto::{Id, Identity, KeyCard, MessageKind, Recipient, Role};
use ferry_protocol::{Accepted, KeyCards};

use crate::account::Account;
use crate::env::Env;
use crate::transfer;

/// The verified key cards of the facilitators of `case`; fails if it has none yet.
pub(crate) fn facilitators(account: &Account, case: &Id) -> Result<Vec<KeyCard>> {
    let cards: KeyCards = account
        .client
        .get(&format!("/v1/cases/{case}/facilitators"))?;
    let facilitators = cards
        .key_cards
        .into_iter()
        .map(|c| KeyCard::verify(c).context("a facilitator's key card does not verify"))
        .collect::<Result<Vec<_>>>()?;
    if facilitators.is_empty() {
        bail!("this case has no facilitator yet; nothing was sent");
    }
    Ok(facilitators)
}

/// What a message is to say and whom it is for: the text from `file` (or the editor), who it
/// is for (`to`, or the other party of someone in `from`'s role), checked before anything is
/// sealed: an answer names its question, and the text is not empty.
pub(crate) fn draft(
    env: &Env,
    kind: MessageKind,
    in_reply_to: Option<&str>,
    to: Option<Role>,
    from: Role,
    file: Option<&Path>,
) -> Result<(Role, String)> {
    let to = match (to, from) {
        (Some(r), _) => r,
        (None, Role::Harmed) => Role::Responsible,
        (None, Role::Responsible) => Role::Harmed,
        (None, _) => bail!("say who it is for with --to harmed or --to responsible"),
    };
    if kind == MessageKind::Answer && in_reply_to.is_none() {
        bail!("an answer needs --in-reply-to <question id>");
    }
    let body = match file {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?,
        None => crate::editor::edit(env, "")?,
    };
    if body.trim().is_empty() {
        bail!("the text is empty; nothing was sent");
    }
    Ok((to, body))
}

/// Files sealed on this machine, waiting to be uploaded once their message is accepted.
pub(crate) struct SealedFiles {
    /// What the letter signs of each (name, size, hash).
    pub refs: Vec<AttachmentRef>,
    /// What the envelope signs of each sealed blob.
    pub blobs: Vec<AttachmentBlob>,
    files: Vec<tempfile::NamedTempFile>,
}

impl SealedFiles {
    /// Seals each of `paths`, in order, as `sender` to `recipients` (and the sender).
    pub(crate) fn seal(
        env: &Env,
        sender: &Identity,
        recipients: &[Recipient],
        paths: &[PathBuf],
    ) -> Result<Self> {
        let mut sealed = Self {
            refs: vec![],
            blobs: vec![],
            files: vec![],
        };
        for path in paths {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .context("an attachment needs a plain file name")?;
            let file = std::fs::File::open(path)
                .with_context(|| format!("cannot open {}", path.display()))?;
            let len = file.metadata().map(|m| m.len()).ok();
            let bar = transfer::bar(len, &format!("encrypting {name}"), env);
            let mut tmp = tempfile::NamedTempFile::new_in(transfer::scratch(env)?)?;
            let s = seal_attachment(
                sender,
                recipients,
                name,
                bar.wrap_read(BufReader::new(file)),
                tmp.as_file_mut(),
            )?;
            bar.finish_and_clear();
            sealed.refs.push(s.plaintext);
            sealed.blobs.push(s.blob);
            sealed.files.push(tmp);
        }
        Ok(sealed)
    }

    /// Uploads each file to the accepted message `message_id` of `case`; returns the last
    /// answer (the message's state once all are in), if there were any.
    pub(crate) fn upload(
        self,
        env: &Env,
        account: &Account,
        case: &Id,
        message_id: &Id,
    ) -> Result<Option<Accepted>> {
        let mut last = None;
        for (i, (mut tmp, r)) in self.files.into_iter().zip(&self.refs).enumerate() {
            tmp.as_file_mut().rewind()?;
            let len = tmp.as_file().metadata().map(|m| m.len()).ok();
            let bar = transfer::bar(len, &format!("uploading {}", r.name), env);
            last = Some(account.client.put_stream(
                &format!("/v1/cases/{case}/messages/{message_id}/attachments/{i}"),
                &mut bar.wrap_read(BufReader::new(tmp.as_file())),
            )?);
            bar.finish_and_clear();
        }
        Ok(last)
    }
}
