//! What a facilitator has been shown, remembered on their own machine: for each message they
//! opened in `ferry review`, the version (its ciphertext hash), which attachments were shown,
//! and the hashes of every text shown (the message as written, and any redacted version
//! previewed). `ferry forward` without a terminal sends only what is remembered here, so
//! nothing goes out that its facilitator has not seen. Kept in `reviewed/<profile>.json`
//! (0600); it holds hashes, never content.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use anyhow::{Context, Result};
use ferry_crypto::Sha256Hash;
use serde::{Deserialize, Serialize};

use crate::env::Env;
use crate::store::write_private;

/// What was shown of one message.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    /// The version shown: the SHA-256 of the message's ciphertext, hex.
    pub version: String,
    /// The attachments shown (inline, or saved to the review folder), by number.
    pub attachments: BTreeSet<usize>,
    /// SHA-256 (hex) of every text shown in full: the body as written, redacted previews,
    /// text attachments and their redacted previews.
    pub texts: BTreeSet<String>,
}

impl Seen {
    /// Whether `text` was shown in full.
    pub fn saw_text(&self, text: &str) -> bool {
        self.texts.contains(&text_hash(text))
    }
}

/// The hash under which a shown text is remembered.
pub fn text_hash(text: &str) -> String {
    Sha256Hash::of(text.as_bytes()).to_hex()
}

/// A profile's record of what was shown.
pub struct Record {
    path: PathBuf,
    messages: BTreeMap<String, Seen>,
}

impl Record {
    /// Loads the record of `profile` (empty if there is none yet).
    pub fn load(env: &Env, profile: &str) -> Result<Self> {
        let path = env.home.join("reviewed").join(format!("{profile}.json"));
        let messages = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .with_context(|| format!("{} is damaged", path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        Ok(Self { path, messages })
    }

    /// What was shown of this version of a message, if anything.
    pub fn seen(&self, message_id: &str, version: &Sha256Hash) -> Option<&Seen> {
        self.messages
            .get(message_id)
            .filter(|s| s.version == version.to_hex())
    }

    /// Remembers what was just shown of a message (added to what was shown of the same
    /// version before) and saves the record.
    pub fn add(&mut self, message_id: &str, shown: Seen) -> Result<()> {
        let entry = self.messages.entry(message_id.to_owned()).or_default();
        if entry.version != shown.version {
            *entry = Seen {
                version: shown.version,
                ..Seen::default()
            };
        }
        entry.attachments.extend(shown.attachments);
        entry.texts.extend(shown.texts);
        write_private(&self.path, &serde_json::to_vec_pretty(&self.messages)?)
    }

    /// Forgets a message once it is decided.
    pub fn forget(&mut self, message_id: &str) -> Result<()> {
        if self.messages.remove(message_id).is_some() {
            write_private(&self.path, &serde_json::to_vec_pretty(&self.messages)?)?;
        }
        Ok(())
    }
}
