//! Identifiers and the small vocabularies that signed statements use.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::CryptoError;
use crate::hash::Sha256Hash;

/// A person's account id: the first 16 bytes of `SHA-256("ferry/v1/account-id\0" || ed25519
/// public key)`, as 32 lowercase hex digits. Deriving it from the key makes it self-certifying:
/// nobody can sign a key card under somebody else's id.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccountId(String);

impl AccountId {
    /// A new account id for a person who takes part on paper, who has no key to derive one
    /// from: 128 random bits, shaped as every other.
    pub fn on_paper() -> Self {
        let bytes: [u8; 16] = rand::random();
        Self(hex::encode(bytes))
    }

    /// The account id belonging to an Ed25519 public key.
    pub fn for_signing_key(public_key: &[u8; 32]) -> Self {
        let h = Sha256Hash::of_parts(&[b"ferry/v1/account-id\0", public_key]);
        Self(hex::encode(&h.0[..16]))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for AccountId {
    type Error = CryptoError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        if s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            Ok(Self(s))
        } else {
            Err(CryptoError::invalid(
                "account id",
                "expected 32 lowercase hexadecimal digits",
            ))
        }
    }
}

impl From<AccountId> for String {
    fn from(id: AccountId) -> Self {
        id.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountId({})", self.0)
    }
}

/// An identifier of a case, message or other record: 1 to 64 characters from
/// `A-Z a-z 0-9 - _`, so it is safe in URLs, file names and log lines.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Id(String);

impl Id {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A fresh random id (128 bits, hex) for records the client names, such as messages.
    pub fn random() -> Self {
        let bytes: [u8; 16] = rand::random();
        Self(hex::encode(bytes))
    }
}

impl TryFrom<String> for Id {
    type Error = CryptoError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(s))
        } else {
            Err(CryptoError::invalid(
                "id",
                "expected 1 to 64 characters from A-Z, a-z, 0-9, '-' and '_'",
            ))
        }
    }
}

impl TryFrom<&str> for Id {
    type Error = CryptoError;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::try_from(s.to_owned())
    }
}

impl From<Id> for String {
    fn from(id: Id) -> Self {
        id.0
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({})", self.0)
    }
}

/// A person's role in a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Runs the service: opens cases, allocates facilitators, invites participants.
    Coordinator,
    /// Reviews and carries every message.
    Facilitator,
    /// The person harmed.
    Harmed,
    /// The person responsible for the harm.
    Responsible,
    /// Someone supporting a participant (a relative, a friend).
    Supporter,
    /// Checks the record; never sees content.
    Auditor,
}

impl Role {
    /// Every role, in a fixed order.
    pub const ALL: [Role; 6] = [
        Role::Coordinator,
        Role::Facilitator,
        Role::Harmed,
        Role::Responsible,
        Role::Supporter,
        Role::Auditor,
    ];

    /// The wire name (`"harmed"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Coordinator => "coordinator",
            Role::Facilitator => "facilitator",
            Role::Harmed => "harmed",
            Role::Responsible => "responsible",
            Role::Supporter => "supporter",
            Role::Auditor => "auditor",
        }
    }

    /// Whether this role writes and receives messages.
    pub fn is_participant(self) -> bool {
        matches!(self, Role::Harmed | Role::Responsible | Role::Supporter)
    }

    /// The role as a person, for sentences: "facilitator", "harmed person".
    pub fn person(self) -> &'static str {
        match self {
            Role::Harmed => "harmed person",
            Role::Responsible => "responsible person",
            other => other.as_str(),
        }
    }

    /// [`Role::person`] with its article: "a facilitator", "an auditor", "a harmed person".
    pub fn a_person(self) -> String {
        with_article(self.person())
    }
}

/// `word` with "a" or "an" before it, by its first letter ("an auditor", "an active case").
pub fn with_article(word: &str) -> String {
    let an = word
        .chars()
        .next()
        .is_some_and(|c| "aeiouAEIOU".contains(c));
    format!("{} {word}", if an { "an" } else { "a" })
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = CryptoError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| CryptoError::invalid("role", format!("unknown role {s:?}")))
    }
}

/// What a message is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// A letter.
    Letter,
    /// A question for the other party.
    Question,
    /// An answer to a question (it names the question it answers).
    Answer,
}

impl MessageKind {
    /// Every kind, in a fixed order.
    pub const ALL: [MessageKind; 3] = [
        MessageKind::Letter,
        MessageKind::Question,
        MessageKind::Answer,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Letter => "letter",
            MessageKind::Question => "question",
            MessageKind::Answer => "answer",
        }
    }
}

impl fmt::Display for MessageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl std::str::FromStr for MessageKind {
    type Err = CryptoError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MessageKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| CryptoError::invalid("message kind", format!("unknown kind {s:?}")))
    }
}
