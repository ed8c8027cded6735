//! The keystore: one file holding a person's private keys (a facilitator's may hold many
//! cases' worth), encrypted with age's scrypt passphrase mode. This module reads and writes
//! through `Read`/`Write`; the caller creates the file with mode 0600.

use std::io::{Read, Write};

use age::secrecy::SecretString;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::agefile;
use crate::error::{CryptoError, Result};
use crate::identity::Identity;
use crate::ids::AccountId;

/// Largest keystore plaintext accepted (thousands of identities).
const MAX_KEYSTORE_BYTES: usize = 16 * 1024 * 1024;

/// scrypt work factor (log2 N) for new keystores: about a second on a laptop.
pub const DEFAULT_WORK_FACTOR: u8 = 18;

/// Highest work factor accepted when opening, so that a hostile file cannot stall a client.
pub const MAX_WORK_FACTOR: u8 = 22;

/// A set of labelled identities. Not `Clone`; `Debug` shows labels and account ids only.
#[derive(Default)]
pub struct Keystore {
    entries: Vec<(String, Identity)>,
}

/// The serialised form, zeroized on drop.
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
struct StoredKeystore {
    v: u32,
    identities: Vec<StoredIdentity>,
}

#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
struct StoredIdentity {
    label: String,
    display_name: String,
    #[serde(with = "crate::b64::array")]
    signing_secret: [u8; 32],
    age_secret: String,
}

impl Keystore {
    /// An empty keystore.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an identity under a label (for example `"server/case"`); labels are unique.
    pub fn insert(&mut self, label: &str, identity: Identity) -> Result<()> {
        if label.is_empty() || label.len() > 200 || label.chars().any(char::is_control) {
            return Err(CryptoError::invalid(
                "keystore label",
                "must be 1 to 200 bytes without control characters",
            ));
        }
        if self.get(label).is_some() {
            return Err(CryptoError::DuplicateLabel(label.to_owned()));
        }
        self.entries.push((label.to_owned(), identity));
        Ok(())
    }

    /// The identity under `label`.
    pub fn get(&self, label: &str) -> Option<&Identity> {
        self.entries
            .iter()
            .find(|(l, _)| l == label)
            .map(|(_, i)| i)
    }

    /// Removes and returns the identity under `label`.
    pub fn remove(&mut self, label: &str) -> Option<Identity> {
        let pos = self.entries.iter().position(|(l, _)| l == label)?;
        Some(self.entries.remove(pos).1)
    }

    /// Labels with their account ids, in insertion order.
    pub fn list(&self) -> impl Iterator<Item = (&str, &AccountId)> {
        self.entries
            .iter()
            .map(|(l, i)| (l.as_str(), i.account_id()))
    }

    /// Number of identities.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Encrypts the keystore with `passphrase` (scrypt work factor `work_factor`) into `out`.
    pub fn write_encrypted<W: Write>(
        &self,
        passphrase: &SecretString,
        work_factor: u8,
        out: W,
    ) -> Result<()> {
        if !(1..=MAX_WORK_FACTOR).contains(&work_factor) {
            return Err(CryptoError::invalid(
                "work factor",
                format!("must be between 1 and {MAX_WORK_FACTOR}"),
            ));
        }
        let stored = StoredKeystore {
            v: crate::FORMAT_VERSION,
            identities: self
                .entries
                .iter()
                .map(|(label, id)| StoredIdentity {
                    label: label.clone(),
                    display_name: id.display_name().to_owned(),
                    signing_secret: *id.signing_secret(),
                    age_secret: id.age_secret_key().to_string(),
                })
                .collect(),
        };
        let plaintext = Zeroizing::new(
            serde_json::to_vec(&stored).map_err(|e| CryptoError::malformed("keystore", e))?,
        );
        let mut recipient = age::scrypt::Recipient::new(passphrase.clone());
        recipient.set_work_factor(work_factor);
        let encryptor =
            age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
                .map_err(|e| CryptoError::invalid("keystore", e))?;
        let mut writer = encryptor.wrap_output(out)?;
        writer.write_all(&plaintext)?;
        writer.finish()?.flush()?;
        Ok(())
    }

    /// Decrypts a keystore. A wrong passphrase is [`CryptoError::WrongPassphrase`]; a file
    /// asking for more than `max_work_factor` is refused before any work is done.
    pub fn read_encrypted<R: Read>(
        input: R,
        passphrase: &SecretString,
        max_work_factor: u8,
    ) -> Result<Self> {
        let decryptor = age::Decryptor::new(input).map_err(CryptoError::from_age)?;
        if !decryptor.is_scrypt() {
            return Err(CryptoError::malformed(
                "keystore",
                "not a passphrase-encrypted file",
            ));
        }
        let mut identity = age::scrypt::Identity::new(passphrase.clone());
        identity.set_max_work_factor(max_work_factor);
        let reader = decryptor
            .decrypt(std::iter::once(&identity as &dyn age::Identity))
            .map_err(|e| match e {
                // scrypt reports a wrong passphrase as a failed key decryption.
                age::DecryptError::DecryptionFailed
                | age::DecryptError::KeyDecryptionFailed
                | age::DecryptError::NoMatchingKeys => CryptoError::WrongPassphrase,
                age::DecryptError::ExcessiveWork { required, .. } => CryptoError::ExcessiveWork {
                    required,
                    max: max_work_factor,
                },
                other => CryptoError::from_age(other),
            })?;
        let plaintext = agefile::read_limited(reader, MAX_KEYSTORE_BYTES, 4096, "keystore")?;
        let stored: StoredKeystore = serde_json::from_slice(&plaintext)
            .map_err(|e| CryptoError::malformed("keystore", e))?;
        if stored.v != crate::FORMAT_VERSION {
            return Err(CryptoError::invalid(
                "keystore",
                format!("unsupported version {}", stored.v),
            ));
        }
        let mut keystore = Keystore::new();
        for s in &stored.identities {
            let identity =
                Identity::from_secrets(&s.display_name, &s.signing_secret, &s.age_secret)?;
            keystore.insert(&s.label, identity)?;
        }
        Ok(keystore)
    }
}

impl std::fmt::Debug for Keystore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.list()).finish()
    }
}
