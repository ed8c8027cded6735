//! A message's attachments as its facilitator reviews them: each is fetched, decrypted and
//! checked against the author's signed letter into a private folder (0700, under
//! FERRY_HOME) that is deleted once the message is decided. Text files are read back to be
//! shown and highlighted like the letter; other files are named there, to be opened.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use ferry_crypto::Id;
use ferry_crypto::attachment::{is_plain_file_name, open_attachment};
use ferry_crypto::seal::{AttachmentRef, OpenedMessage};

use crate::account::Account;
use crate::env::Env;
use crate::transfer;

/// Largest attachment shown as text.
const MAX_TEXT_BYTES: u64 = 256 << 10;

/// One attachment, decrypted and verified for review.
pub struct ReviewFile {
    /// Its number in the letter.
    pub index: usize,
    /// What the author's letter says of it.
    pub attachment: AttachmentRef,
    /// Where its plaintext is.
    pub path: PathBuf,
    /// Its text, when it is a small UTF-8 text file.
    pub text: Option<String>,
}

/// The private folder a message's attachments are decrypted into for review.
pub fn folder(env: &Env, message_id: &Id) -> PathBuf {
    env.home.join("review").join(message_id.as_str())
}

/// Deletes a decided message's review folder (the plaintext of its attachments).
pub fn remove(env: &Env, message_id: &Id) -> Result<()> {
    match std::fs::remove_dir_all(folder(env, message_id)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
        _ => Ok(()),
    }
}

/// A plain name to save attachment `index` under: the author's name when it is a plain file
/// name, otherwise `attachment-<index>`.
pub fn safe_name(index: usize, name: &str) -> String {
    if is_plain_file_name(name) && !name.starts_with('.') {
        name.to_owned()
    } else {
        format!("attachment-{index}")
    }
}

/// Fetches, decrypts and verifies every attachment of `opened` into its review folder.
pub fn fetch_all(
    account: &Account,
    env: &Env,
    case: &Id,
    opened: &OpenedMessage,
) -> Result<Vec<ReviewFile>> {
    let letter = &opened.letter;
    if letter.attachments.is_empty() {
        return Ok(vec![]);
    }
    let dir = folder(env, &letter.message_id);
    crate::store::private_dir(&dir)?;
    letter
        .attachments
        .iter()
        .enumerate()
        .map(|(index, attachment)| {
            let path = dir.join(format!("{index}-{}", safe_name(index, &attachment.name)));
            fetch_one(account, env, case, opened, index, &path)?;
            Ok(ReviewFile {
                index,
                attachment: attachment.clone(),
                text: read_text(&path, attachment.size),
                path,
            })
        })
        .collect()
}

fn fetch_one(
    account: &Account,
    env: &Env,
    case: &Id,
    opened: &OpenedMessage,
    index: usize,
    path: &Path,
) -> Result<()> {
    let attachment = &opened.letter.attachments[index];
    let blob = opened
        .envelope
        .attachments
        .get(index)
        .context("the envelope lists fewer attachments than the letter")?;
    let (reader, len) = account.client.get_stream(&format!(
        "/v1/cases/{case}/messages/{}/attachments/{index}",
        opened.letter.message_id
    ))?;
    let bar = transfer::bar(
        len.or(Some(blob.size)),
        &format!("decrypting {}", attachment.name),
        env,
    );
    let dir = path.parent().context("a review file needs a folder")?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    open_attachment(
        &account.identity,
        blob,
        attachment,
        bar.wrap_read(reader),
        tmp.as_file_mut(),
    )
    .with_context(|| format!("attachment #{index} failed verification and is not shown"))?;
    bar.finish_and_clear();
    tmp.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// The file's text, if it is small, UTF-8 and free of NUL bytes.
fn read_text(path: &Path, size: u64) -> Option<String> {
    if size > MAX_TEXT_BYTES {
        return None;
    }
    let text = String::from_utf8(std::fs::read(path).ok()?).ok()?;
    (!text.contains('\0')).then_some(text)
}

/// Opens a file with the platform's own program for it (not waiting for it to close).
pub fn open_with_platform(path: &Path) -> Result<()> {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(windows) {
        "explorer"
    } else {
        "xdg-open"
    };
    std::process::Command::new(opener)
        .arg(path)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {opener} to open {}", path.display()))?;
    Ok(())
}
