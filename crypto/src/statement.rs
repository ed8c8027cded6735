//! Signed statements: `sig = Ed25519(key, "ferry/v1/<kind>\0" || bytes)`, where `bytes` is the
//! exact JSON that travels. A verifier checks the signature over those bytes first and only
//! then parses them; nothing is ever re-serialised to be verified, which is what lets a
//! browser client sign and verify the same statements.
//!
//! On the wire a statement is `{"kind":"…","signer":"<account id>","body":"<base64 of the
//! JSON bytes>","sig":"<base64 of 64 bytes>"}`.

use ed25519_dalek::{Signature, VerifyingKey};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{CryptoError, Result};
use crate::hash::Sha256Hash;
use crate::ids::AccountId;
use crate::keycard::KeyCard;
use crate::{MAX_STATEMENT_BYTES, b64};

macro_rules! statement_kinds {
    ($($variant:ident => $name:literal, $doc:literal;)*) => {
        /// Every kind of signed statement, each with its own domain-separation prefix.
        /// This is the one place where kinds are enumerated.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum StatementKind {
            $(#[doc = $doc] #[serde(rename = $name)] $variant,)*
        }

        impl StatementKind {
            /// Every kind.
            pub const ALL: &'static [StatementKind] = &[$(StatementKind::$variant,)*];

            /// The wire name, as used in the signing prefix.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(StatementKind::$variant => $name,)*
                }
            }
        }
    };
}

statement_kinds! {
    KeyCard => "key-card", "A person's self-signed public keys.";
    KeyVerification => "key-verification", "A facilitator's record that they read out and matched a person's safety number.";
    Letter => "letter", "The inner letter, question or answer, signed by its author (sealed; never seen by the server).";
    RedactedLetter => "redacted-letter", "A redacted version of a letter, signed by the facilitator who redacted it (sealed).";
    Submission => "submission", "The outer envelope of a sealed message, signed by its author.";
    Forward => "forward", "A facilitator's approval that carries a message to its recipient.";
    Return => "return", "A facilitator returning a message to its author for changes.";
    Withhold => "withhold", "A facilitator withholding a message, with a reason category.";
    Escalate => "escalate", "A facilitator escalating a message to the coordinator.";
    ReadReceipt => "read-receipt", "A recipient's receipt for a forwarded message.";
    Consent => "consent", "A participant's consent to take part.";
    Withdrawal => "withdrawal", "A participant's withdrawal of consent.";
    Hold => "hold", "A participant asking that anything new for them be held until they say, or letting it through again.";
    CaseOpen => "case-open", "A coordinator opening a case.";
    Allocation => "allocation", "A coordinator allocating a facilitator to a case.";
    Invitation => "invitation", "A coordinator inviting a person to a role in a case.";
    Enrolment => "enrolment", "A person accepting an invitation with their key card.";
    RiskAssessment => "risk-assessment", "A coordinator recording the outcome of the risk assessment.";
    CaseState => "case-state", "A coordinator pausing, resuming or closing a case.";
    Session => "session", "A person answering a server's login challenge.";
    Note => "note", "A facilitator's note (sealed): to an author on return, or on a withheld message.";
    PaperMember => "paper-member", "A coordinator adding a person who takes part on paper, through the case's facilitators.";
    PaperConsent => "paper-consent", "A facilitator recording, for a person on paper, the consent or withdrawal they gave on paper or by telephone.";
    EnteredLetter => "entered-letter", "A handwritten letter, question or answer typed up by a facilitator for a person on paper (sealed).";
    EnteredSubmission => "entered-submission", "The outer envelope of a message entered for a person on paper, signed by the facilitator who entered it.";
    Printing => "printing", "A facilitator printing a passed-on letter for a person on paper: binds a salted hash of the printed text.";
}

impl std::fmt::Display for StatementKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

impl std::str::FromStr for StatementKind {
    type Err = CryptoError;

    fn from_str(s: &str) -> Result<Self> {
        StatementKind::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| CryptoError::invalid("statement kind", format!("unknown kind {s:?}")))
    }
}

/// The exact bytes an Ed25519 signature covers: `"ferry/v1/<kind>\0" || body`.
pub fn signing_input(kind: StatementKind, body: &[u8]) -> Vec<u8> {
    let mut input = Vec::with_capacity(signing_input_len(kind, body));
    append_signing_input(&mut input, kind, body);
    input
}

fn signing_input_len(kind: StatementKind, body: &[u8]) -> usize {
    10 + kind.as_str().len() + body.len()
}

fn append_signing_input(out: &mut Vec<u8>, kind: StatementKind, body: &[u8]) {
    out.extend_from_slice(b"ferry/v1/");
    out.extend_from_slice(kind.as_str().as_bytes());
    out.push(0);
    out.extend_from_slice(body);
}

/// A statement body type: its kind, and the field naming who must have signed it.
pub trait Statement: Serialize + DeserializeOwned {
    /// The kind of statement this body is signed as.
    const KIND: StatementKind;

    /// Another kind a body of this type may be signed as, when its fields say so (a letter
    /// entered for a person on paper, say); see [`Statement::kind`].
    const OTHER_KIND: Option<StatementKind> = None;

    /// The account that must have signed this body.
    fn signer(&self) -> &AccountId;

    /// The kind this body is signed as: [`Statement::KIND`] unless its fields make it the
    /// [`Statement::OTHER_KIND`].
    fn kind(&self) -> StatementKind {
        Self::KIND
    }

    /// Whether a statement of `kind` can hold a body of this type.
    fn admits(kind: StatementKind) -> bool {
        kind == Self::KIND || Self::OTHER_KIND == Some(kind)
    }
}

/// A signed statement as it travels: kind, signer, the exact body bytes and the signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedStatement {
    /// The statement kind (part of the signed prefix).
    pub kind: StatementKind,
    /// The account that signed.
    pub signer: AccountId,
    /// The exact JSON bytes that were signed.
    #[serde(with = "b64::vec")]
    pub body: Vec<u8>,
    /// The Ed25519 signature over [`signing_input`].
    #[serde(with = "b64::array")]
    pub sig: [u8; 64],
}

impl SignedStatement {
    /// Parses a statement from its JSON form (at most [`MAX_STATEMENT_BYTES`]).
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        if bytes.len() > MAX_STATEMENT_BYTES {
            return Err(CryptoError::TooLarge {
                what: "statement",
                size: bytes.len() as u64,
                limit: MAX_STATEMENT_BYTES as u64,
            });
        }
        serde_json::from_slice(bytes).map_err(|e| CryptoError::malformed("statement", e))
    }

    /// The JSON form.
    pub fn to_json(&self) -> Vec<u8> {
        // Serialising plain strings and byte arrays cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// SHA-256 of the signed input (`prefix || body`): the statement's identity in hashes
    /// that other statements and the trail refer to.
    pub fn body_hash(&self) -> Sha256Hash {
        Sha256Hash::of(&signing_input(self.kind, &self.body))
    }

    /// Checks the signature over the exact bytes with `key` (strict RFC 8032 verification:
    /// non-canonical and small-order encodings are refused).
    pub fn verify_signature(&self, key: &VerifyingKey) -> Result<()> {
        let sig = Signature::from_bytes(&self.sig);
        key.verify_strict(&signing_input(self.kind, &self.body), &sig)
            .map_err(|_| CryptoError::BadSignature {
                kind: self.kind.as_str(),
            })
    }

    /// Verifies this statement as a `T` signed by the holder of `card`, then parses it.
    ///
    /// Checks, in order: the kind is one `T` can be; the signer named outside is the card's
    /// account; the signature verifies over the exact bytes; the bytes parse as `T`, whose
    /// fields make it of the same kind; and the signer named inside the body is the same
    /// account.
    pub fn open<T: Statement>(&self, card: &KeyCard) -> Result<T> {
        self.expect_kind_of::<T>()?;
        if &self.signer != card.account_id() {
            return Err(CryptoError::WrongSigner {
                expected: card.account_id().to_string(),
                found: self.signer.to_string(),
            });
        }
        self.verify_signature(card.verifying_key())?;
        let value: T = parse_body(&self.body, self.kind)?;
        if value.kind() != self.kind {
            return Err(CryptoError::WrongKind {
                expected: value.kind().as_str(),
                found: self.kind.as_str().to_owned(),
            });
        }
        if value.signer() != &self.signer {
            return Err(CryptoError::WrongSigner {
                expected: self.signer.to_string(),
                found: value.signer().to_string(),
            });
        }
        Ok(value)
    }

    /// Fails unless this statement is of a kind that holds a `T`.
    pub fn expect_kind_of<T: Statement>(&self) -> Result<()> {
        if T::admits(self.kind) {
            Ok(())
        } else {
            Err(CryptoError::WrongKind {
                expected: T::KIND.as_str(),
                found: self.kind.as_str().to_owned(),
            })
        }
    }

    /// Fails unless this statement is of `kind`.
    pub fn expect_kind(&self, kind: StatementKind) -> Result<()> {
        if self.kind == kind {
            Ok(())
        } else {
            Err(CryptoError::WrongKind {
                expected: kind.as_str(),
                found: self.kind.as_str().to_owned(),
            })
        }
    }
}

/// Parses verified body bytes as `T`.
pub(crate) fn parse_body<T: DeserializeOwned>(body: &[u8], kind: StatementKind) -> Result<T> {
    serde_json::from_slice(body).map_err(|e| CryptoError::Malformed {
        what: kind.as_str(),
        detail: e.to_string(),
    })
}

/// Statements checked per Ed25519 batch.
const BATCH: usize = 64;

/// Verifies statements, each against its signer's key, in Ed25519 batches of 64 on the
/// calling thread (spread them over threads to use every core). Returns the positions
/// (ascending) whose signature does not verify.
///
/// A batch that fails is re-checked one by one with [`SignedStatement::verify_signature`], so
/// every failure is named. A batch that passes proves each signature was made with its key;
/// unlike strict single verification it does not refuse the non-canonical variants (small-order
/// `R`, torsion components) that only the key's holder could make. Keys must come from verified
/// key cards, which already refuse weak keys.
pub fn verify_batched(items: &[(&SignedStatement, &VerifyingKey)]) -> Vec<usize> {
    let mut bad = vec![];
    for (b, batch) in items.chunks(BATCH).enumerate() {
        // The batch's signed inputs end to end in one buffer.
        let size = batch
            .iter()
            .map(|(st, _)| signing_input_len(st.kind, &st.body))
            .sum();
        let mut inputs = Vec::with_capacity(size);
        let mut ends = Vec::with_capacity(batch.len());
        for (st, _) in batch {
            append_signing_input(&mut inputs, st.kind, &st.body);
            ends.push(inputs.len());
        }
        let messages: Vec<&[u8]> = ends
            .iter()
            .scan(0, |start, &end| {
                let input = &inputs[*start..end];
                *start = end;
                Some(input)
            })
            .collect();
        let sigs: Vec<Signature> = batch
            .iter()
            .map(|(st, _)| Signature::from_bytes(&st.sig))
            .collect();
        let keys: Vec<VerifyingKey> = batch.iter().map(|(_, k)| **k).collect();
        if ed25519_dalek::verify_batch(&messages, &sigs, &keys).is_err() {
            bad.extend(
                batch
                    .iter()
                    .enumerate()
                    .filter(|(_, (st, key))| st.verify_signature(key).is_err())
                    .map(|(i, _)| b * BATCH + i),
            );
        }
    }
    bad
}
