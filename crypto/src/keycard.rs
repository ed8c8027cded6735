//! Key cards: a person's account id, display name and both public keys, self-signed; their
//! fingerprint, and the safety number a facilitator reads aloud to check it.

use std::fmt;
use std::str::FromStr;

use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};

use crate::error::{CryptoError, Result};
use crate::hash::Sha256Hash;
use crate::identity::check_display_name;
use crate::ids::AccountId;
use crate::statement::{SignedStatement, Statement, StatementKind, parse_body};
use crate::{FORMAT_VERSION, b64};

/// The signed body of a key card.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyCardBody {
    /// Format version.
    pub v: u32,
    /// Derived from `signing_key`.
    pub account_id: AccountId,
    /// The name shown to others.
    pub display_name: String,
    /// Ed25519 public key.
    #[serde(with = "b64::array")]
    pub signing_key: [u8; 32],
    /// age X25519 recipient (`age1…`).
    pub age_recipient: String,
    /// When the card was made (Unix seconds, UTC).
    pub created_at: i64,
}

impl Statement for KeyCardBody {
    const KIND: StatementKind = StatementKind::KeyCard;

    fn signer(&self) -> &AccountId {
        &self.account_id
    }
}

/// A verified key card. The only way to get one is [`KeyCard::verify`] (or
/// [`KeyCard::from_json`]), so holding one means its self-signature and id were checked.
#[derive(Clone)]
pub struct KeyCard {
    body: KeyCardBody,
    verifying_key: VerifyingKey,
    recipient: age::x25519::Recipient,
    statement: SignedStatement,
}

impl KeyCard {
    /// Verifies a self-signed key card statement: kind, well-formed keys, the account id
    /// derived from the signing key, and the signature over the exact bytes.
    pub fn verify(statement: SignedStatement) -> Result<Self> {
        statement.expect_kind(StatementKind::KeyCard)?;
        // A card is self-signed, so its key comes from its own body: parse to find the key,
        // verify the exact bytes with it, and only then trust anything else in it.
        let body: KeyCardBody = parse_body(&statement.body, StatementKind::KeyCard)?;
        let verifying_key = VerifyingKey::from_bytes(&body.signing_key).map_err(|_| {
            CryptoError::invalid("key card", "the signing key is not a valid Ed25519 point")
        })?;
        statement.verify_signature(&verifying_key)?;
        let derived = AccountId::for_signing_key(&body.signing_key);
        if body.account_id != derived || statement.signer != derived {
            return Err(CryptoError::mismatch(
                "account id",
                derived,
                &body.account_id,
            ));
        }
        if body.v != FORMAT_VERSION {
            return Err(CryptoError::invalid(
                "key card",
                format!("unsupported version {}", body.v),
            ));
        }
        check_display_name(&body.display_name)?;
        let recipient = age::x25519::Recipient::from_str(&body.age_recipient)
            .map_err(|e| CryptoError::invalid("key card", format!("age recipient: {e}")))?;
        Ok(Self {
            body,
            verifying_key,
            recipient,
            statement,
        })
    }

    /// Parses and verifies a key card from its JSON statement form.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        Self::verify(SignedStatement::from_json(bytes)?)
    }

    /// The JSON statement form.
    pub fn to_json(&self) -> Vec<u8> {
        self.statement.to_json()
    }

    /// The signed statement.
    pub fn statement(&self) -> &SignedStatement {
        &self.statement
    }

    /// The card's contents.
    pub fn body(&self) -> &KeyCardBody {
        &self.body
    }

    /// The holder's account id.
    pub fn account_id(&self) -> &AccountId {
        &self.body.account_id
    }

    /// The holder's display name.
    pub fn display_name(&self) -> &str {
        &self.body.display_name
    }

    /// The holder's Ed25519 public key.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.verifying_key
    }

    /// The holder's age recipient.
    pub fn recipient(&self) -> &age::x25519::Recipient {
        &self.recipient
    }

    /// The fingerprint: `SHA-256("ferry/v1/fingerprint\0" || account id || ed25519 key ||
    /// age recipient)`. The display name is left out so that renaming keeps the number.
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint(Sha256Hash::of_parts(&[
            b"ferry/v1/fingerprint\0",
            self.body.account_id.as_str().as_bytes(),
            &self.body.signing_key,
            self.body.age_recipient.as_bytes(),
        ]))
    }
}

impl fmt::Debug for KeyCard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyCard")
            .field("account_id", &self.body.account_id)
            .field("display_name", &self.body.display_name)
            .finish_non_exhaustive()
    }
}

impl PartialEq for KeyCard {
    fn eq(&self, other: &Self) -> bool {
        self.statement == other.statement
    }
}

impl Eq for KeyCard {}

/// A key card's fingerprint.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Fingerprint(pub Sha256Hash);

/// Groups in a safety number.
pub const SAFETY_NUMBER_GROUPS: usize = 6;

impl Fingerprint {
    /// The safety number: six groups of five digits (about 100 bits), easy to read aloud in
    /// a preparation meeting. Group `i` is bytes `5i..5i+5` as a big-endian number mod 100000.
    pub fn safety_number(&self) -> String {
        let bytes = &self.0.0;
        (0..SAFETY_NUMBER_GROUPS)
            .map(|i| {
                let chunk = bytes[5 * i..5 * i + 5]
                    .iter()
                    .fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
                format!("{:05}", chunk % 100_000)
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Groups of five symbols in a [`Fingerprint::key_code`].
pub const KEY_CODE_GROUPS: usize = 4;

/// The alphabet of invitation codes and key codes: Crockford's base 32 (no I, L, O or U).
pub(crate) const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

impl Fingerprint {
    /// The fingerprint as a key code: four groups of five letters and digits (the first 100
    /// bits), as the server key's fingerprint is printed by `ferry-server init` and carried
    /// in every invitation.
    pub fn key_code(&self) -> String {
        let bytes = &self.0.0;
        grouped((0..KEY_CODE_GROUPS * 5).map(|i| {
            let bit = i * 5;
            let pair = u16::from_be_bytes([bytes[bit / 8], bytes[bit / 8 + 1]]);
            CROCKFORD[usize::from((pair >> (11 - bit % 8)) & 31)]
        }))
    }
}

/// A Crockford symbol as someone typed it: any case, O read as 0 and I or L as 1.
pub(crate) fn typed_symbol(c: char) -> char {
    match c.to_ascii_uppercase() {
        'O' => '0',
        'I' | 'L' => '1',
        other => other,
    }
}

/// Symbols of [`CROCKFORD`] in dash-separated groups of five, for reading aloud or writing
/// down.
pub(crate) fn grouped(symbols: impl Iterator<Item = u8>) -> String {
    let symbols: Vec<u8> = symbols.collect();
    symbols
        .chunks(5)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}
