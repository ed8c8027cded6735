//! A person's private identity: an Ed25519 signing key and an age X25519 identity.

use std::fmt;
use std::str::FromStr;

use age::secrecy::ExposeSecret;
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use zeroize::Zeroizing;

use crate::error::{CryptoError, Result};
use crate::ids::AccountId;
use crate::keycard::{KeyCard, KeyCardBody};
use crate::statement::{SignedStatement, Statement, signing_input};

/// Longest display name, in characters.
pub const MAX_DISPLAY_NAME_CHARS: usize = 100;

/// A person's private keys. Not `Clone`, not serialisable, and its `Debug` shows only the
/// account id; both secrets are zeroized when it is dropped.
pub struct Identity {
    display_name: String,
    signing: SigningKey,
    decryption: age::x25519::Identity,
    account_id: AccountId,
}

impl Identity {
    /// Generates fresh keys for a person who will be shown as `display_name`.
    pub fn generate(display_name: &str) -> Result<Self> {
        let signing = SigningKey::generate(&mut rand::rngs::OsRng);
        Self::from_parts(display_name, signing, age::x25519::Identity::generate())
    }

    fn from_parts(
        display_name: &str,
        signing: SigningKey,
        decryption: age::x25519::Identity,
    ) -> Result<Self> {
        check_display_name(display_name)?;
        let account_id = AccountId::for_signing_key(signing.verifying_key().as_bytes());
        Ok(Self {
            display_name: display_name.to_owned(),
            signing,
            decryption,
            account_id,
        })
    }

    /// Rebuilds an identity from its secret encodings (as held in a keystore).
    pub(crate) fn from_secrets(
        display_name: &str,
        signing_secret: &[u8; 32],
        age_secret: &str,
    ) -> Result<Self> {
        let signing = SigningKey::from_bytes(signing_secret);
        let decryption = age::x25519::Identity::from_str(age_secret)
            .map_err(|e| CryptoError::malformed("age identity", e))?;
        Self::from_parts(display_name, signing, decryption)
    }

    /// Both secrets and the display name as one line of text (for a server's own key file;
    /// people keep theirs in a [`crate::keystore::Keystore`]). Write it with mode 0600.
    pub fn export_secret(&self) -> Zeroizing<String> {
        Zeroizing::new(format!(
            "ferry-identity-v1 {} {} {}",
            crate::b64::encode(self.signing_secret().as_slice()),
            self.age_secret_key().as_str(),
            crate::b64::encode(self.display_name.as_bytes()),
        ))
    }

    /// Reads what [`Identity::export_secret`] wrote.
    pub fn import_secret(text: &str) -> Result<Self> {
        let bad = || {
            CryptoError::malformed(
                "identity file",
                "expected `ferry-identity-v1 <key> <age key> <name>`",
            )
        };
        let mut parts = text.split_whitespace();
        if parts.next() != Some("ferry-identity-v1") {
            return Err(bad());
        }
        let signing =
            Zeroizing::new(crate::b64::decode(parts.next().ok_or_else(bad)?).map_err(|_| bad())?);
        let signing: &[u8; 32] = signing.as_slice().try_into().map_err(|_| bad())?;
        let age_secret = parts.next().ok_or_else(bad)?;
        let name = crate::b64::decode(parts.next().ok_or_else(bad)?).map_err(|_| bad())?;
        let name = String::from_utf8(name).map_err(|_| bad())?;
        if parts.next().is_some() {
            return Err(bad());
        }
        Self::from_secrets(&name, signing, age_secret)
    }

    /// The Ed25519 secret key bytes, for the keystore only.
    pub(crate) fn signing_secret(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.signing.to_bytes())
    }

    /// The age identity in its `AGE-SECRET-KEY-1…` encoding. Handle with care: this is the
    /// key that opens every message sent to this person (for example, to hand to another age
    /// implementation).
    pub fn age_secret_key(&self) -> Zeroizing<String> {
        Zeroizing::new(self.decryption.to_string().expose_secret().to_owned())
    }

    /// The self-certifying account id.
    pub fn account_id(&self) -> &AccountId {
        &self.account_id
    }

    /// The name shown to others.
    pub fn display_name(&self) -> &str {
        &self.display_name
    }

    /// The Ed25519 public key.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }

    /// The age recipient others encrypt to.
    pub fn recipient(&self) -> age::x25519::Recipient {
        self.decryption.to_public()
    }

    pub(crate) fn age_identity(&self) -> &age::x25519::Identity {
        &self.decryption
    }

    /// Signs `body` as a statement of its kind. Refuses a body that names another signer.
    pub fn sign<T: Statement>(&self, body: &T) -> Result<SignedStatement> {
        if body.signer() != &self.account_id {
            return Err(CryptoError::WrongSigner {
                expected: body.signer().to_string(),
                found: self.account_id.to_string(),
            });
        }
        let kind = body.kind();
        let bytes =
            serde_json::to_vec(body).map_err(|e| CryptoError::malformed(kind.as_str(), e))?;
        Ok(self.sign_bytes(kind, bytes))
    }

    /// Signs exact bytes as a statement of `kind` (for bytes built elsewhere, such as by a
    /// browser client's format). The bytes are not checked.
    pub fn sign_bytes(&self, kind: crate::StatementKind, body: Vec<u8>) -> SignedStatement {
        let sig = self.signing.sign(&signing_input(kind, &body)).to_bytes();
        SignedStatement {
            kind,
            signer: self.account_id.clone(),
            body,
            sig,
        }
    }

    /// Signs the text of a c2sp.org/signed-note (a checkpoint) with the Ed25519 key. Note text
    /// is printable UTF-8 and never holds a NUL byte, while every statement's signed input
    /// does (`"ferry/v1/<kind>\0"`), so the two can never be confused.
    pub fn sign_note_text(&self, text: &[u8]) -> Result<[u8; 64]> {
        let printable = std::str::from_utf8(text)
            .map(|t| t.ends_with('\n') && !t.chars().any(|c| c < ' ' && c != '\n'))
            .unwrap_or(false);
        if !printable {
            return Err(CryptoError::invalid(
                "note text",
                "must be printable UTF-8 lines ending in a newline",
            ));
        }
        Ok(self.signing.sign(text).to_bytes())
    }

    /// This person's public key card, self-signed.
    pub fn key_card(&self, created_at: i64) -> Result<KeyCard> {
        let body = KeyCardBody {
            v: crate::FORMAT_VERSION,
            account_id: self.account_id.clone(),
            display_name: self.display_name.clone(),
            signing_key: self.verifying_key().to_bytes(),
            age_recipient: self.recipient().to_string(),
            created_at,
        };
        KeyCard::verify(self.sign(&body)?)
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("account_id", &self.account_id)
            .finish_non_exhaustive()
    }
}

/// Display names: 1–100 characters, no control characters, no leading/trailing space.
pub(crate) fn check_display_name(name: &str) -> Result<()> {
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_DISPLAY_NAME_CHARS {
        return Err(CryptoError::invalid(
            "display name",
            format!("must be 1 to {MAX_DISPLAY_NAME_CHARS} characters"),
        ));
    }
    if name.chars().any(char::is_control) || name.trim() != name {
        return Err(CryptoError::invalid(
            "display name",
            "must not contain control characters or start or end with spaces",
        ));
    }
    Ok(())
}
