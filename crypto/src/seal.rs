//! Sealed messages: the author signs the inner letter, encrypts it (with its signature) to
//! the case's facilitators and to themself with age, and signs an outer envelope that the
//! server can see and check: case, message id, author, kind, sequence number, the SHA-256 and
//! size of the ciphertext.
//!
//! Opening checks everything in order: the envelope's signature and that it is the one the
//! caller expects; the ciphertext against the envelope's hash; the inner letter's signature by
//! the same author; and that every inner field equals its envelope twin. A ciphertext moved to
//! another case, relabelled as another kind, or re-sent under another message id fails.

use serde::{Deserialize, Serialize};

use crate::agefile;
use crate::error::{CryptoError, Result};
use crate::hash::Sha256Hash;
use crate::identity::Identity;
use crate::ids::{AccountId, Id, MessageKind, Role};
use crate::keycard::KeyCard;
use crate::statement::{SignedStatement, Statement, StatementKind};
use crate::{FORMAT_VERSION, MAX_BODY_BYTES, MAX_MESSAGE_BYTES};

/// A plaintext attachment as the author's letter signs it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentRef {
    /// File name as the author gave it.
    pub name: String,
    /// Plaintext size in bytes.
    pub size: u64,
    /// SHA-256 of the plaintext.
    pub sha256: Sha256Hash,
}

/// An encrypted attachment blob as the server stores it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentBlob {
    /// Ciphertext size in bytes.
    pub size: u64,
    /// SHA-256 of the ciphertext.
    pub sha256: Sha256Hash,
}

/// The inner letter, question or answer, signed by its author. Only the facilitators, the
/// author and (once forwarded) the recipient ever see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Letter {
    /// Format version.
    pub v: u32,
    /// The case.
    pub case_id: Id,
    /// The message id (chosen by the author's client).
    pub message_id: Id,
    /// Letter, question or answer.
    pub kind: MessageKind,
    /// The author.
    pub author: AccountId,
    /// The role of the person it is for.
    pub recipient_role: Role,
    /// The question an answer answers.
    pub in_reply_to: Option<Id>,
    /// When it was written (Unix seconds, UTC).
    pub created_at: i64,
    /// The text.
    pub body: String,
    /// Attachments, in order.
    pub attachments: Vec<AttachmentRef>,
    /// For a person who takes part on paper: the facilitator who typed up their handwritten
    /// original, whose scan is then the first attachment. Such a letter is signed by that
    /// facilitator, as an `entered-letter`; it is still the author's for every other purpose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entered_by: Option<AccountId>,
}

impl Statement for Letter {
    const KIND: StatementKind = StatementKind::Letter;
    const OTHER_KIND: Option<StatementKind> = Some(StatementKind::EnteredLetter);

    fn signer(&self) -> &AccountId {
        self.entered_by.as_ref().unwrap_or(&self.author)
    }

    fn kind(&self) -> StatementKind {
        match self.entered_by {
            Some(_) => StatementKind::EnteredLetter,
            None => StatementKind::Letter,
        }
    }
}

/// The outer envelope of a sealed message: what the server sees and checks. No content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// Format version.
    pub v: u32,
    /// The case.
    pub case_id: Id,
    /// The message id.
    pub message_id: Id,
    /// Letter, question or answer.
    pub kind: MessageKind,
    /// The author.
    pub author: AccountId,
    /// The role of the person it is for.
    pub recipient_role: Role,
    /// The question an answer answers.
    pub in_reply_to: Option<Id>,
    /// The author's sequence number (strictly increasing per author; replays are refused).
    pub seq: u64,
    /// When it was sealed (Unix seconds, UTC).
    pub created_at: i64,
    /// SHA-256 of the age ciphertext.
    pub ciphertext_sha256: Sha256Hash,
    /// Size of the age ciphertext in bytes.
    pub ciphertext_size: u64,
    /// The encrypted attachment blobs, in the letter's order.
    pub attachments: Vec<AttachmentBlob>,
    /// For a message entered for a person on paper: the facilitator who entered it (and
    /// signed this envelope, as an `entered-submission`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entered_by: Option<AccountId>,
    /// For a message entered for a person on paper: SHA-256 of the scan of their handwritten
    /// original (the letter's first attachment, before encryption).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan_sha256: Option<Sha256Hash>,
}

impl Statement for Envelope {
    const KIND: StatementKind = StatementKind::Submission;
    const OTHER_KIND: Option<StatementKind> = Some(StatementKind::EnteredSubmission);

    fn signer(&self) -> &AccountId {
        self.entered_by.as_ref().unwrap_or(&self.author)
    }

    fn kind(&self) -> StatementKind {
        match self.entered_by {
            Some(_) => StatementKind::EnteredSubmission,
            None => StatementKind::Submission,
        }
    }
}

/// A sealed message: the signed envelope and the age ciphertext.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedMessage {
    /// The signed [`Envelope`].
    pub envelope: SignedStatement,
    /// The age file holding the signed [`Letter`].
    pub ciphertext: Vec<u8>,
}

/// Seals `letter` as `author`: signs it, encrypts it to `recipients` and to the author, and
/// signs the envelope with sequence number `seq`. `blobs` are the sealed attachments, one per
/// entry of `letter.attachments`, in order. For a letter entered for a person on paper,
/// `author` is the facilitator who entered it (`letter.entered_by`), and `seq` theirs.
pub fn seal(
    author: &Identity,
    letter: &Letter,
    seq: u64,
    blobs: Vec<AttachmentBlob>,
    recipients: &[age::x25519::Recipient],
) -> Result<SealedMessage> {
    check_letter(letter)?;
    if blobs.len() != letter.attachments.len() {
        return Err(CryptoError::mismatch(
            "attachment count",
            letter.attachments.len(),
            blobs.len(),
        ));
    }
    let inner = author.sign(letter)?;
    let own = author.recipient();
    let set = agefile::recipient_set(recipients.iter().chain(std::iter::once(&own)))?;
    let ciphertext = agefile::encrypt(&set, &inner.to_json())?;
    let envelope = Envelope {
        v: FORMAT_VERSION,
        case_id: letter.case_id.clone(),
        message_id: letter.message_id.clone(),
        kind: letter.kind,
        author: letter.author.clone(),
        recipient_role: letter.recipient_role,
        in_reply_to: letter.in_reply_to.clone(),
        seq,
        created_at: letter.created_at,
        ciphertext_sha256: Sha256Hash::of(&ciphertext),
        ciphertext_size: ciphertext.len() as u64,
        attachments: blobs,
        entered_by: letter.entered_by.clone(),
        scan_sha256: letter.scan().map(|scan| scan.sha256),
    };
    Ok(SealedMessage {
        envelope: author.sign(&envelope)?,
        ciphertext,
    })
}

/// What the caller knows a message must be, from where it found it.
#[derive(Clone, Debug)]
pub struct Expect<'a> {
    /// The case it was listed under (always checked).
    pub case_id: &'a Id,
    /// The message id it was listed under, if known.
    pub message_id: Option<&'a Id>,
    /// The kind it was listed as, if known.
    pub kind: Option<MessageKind>,
    /// The recipient role it was listed for, if known.
    pub recipient_role: Option<Role>,
}

impl<'a> Expect<'a> {
    /// Expect only the case.
    pub fn case(case_id: &'a Id) -> Self {
        Self {
            case_id,
            message_id: None,
            kind: None,
            recipient_role: None,
        }
    }
}

/// A message opened and fully verified.
#[derive(Clone, Debug)]
pub struct OpenedMessage {
    /// The verified envelope.
    pub envelope: Envelope,
    /// The verified inner letter.
    pub letter: Letter,
    /// The author's signed inner letter, kept so that an unredacted forward can carry the
    /// author's own signature to the recipient.
    pub signed_letter: SignedStatement,
}

/// Opens a sealed message as one of its recipients. `author` is the key card of the person
/// who signed the envelope (its author, or the facilitator who entered it for a person on
/// paper); the caller must have it from a trusted source.
pub fn open(
    identity: &Identity,
    envelope: &SignedStatement,
    ciphertext: &[u8],
    author: &KeyCard,
    expect: &Expect<'_>,
) -> Result<OpenedMessage> {
    let env: Envelope = envelope.open(author)?;
    check_expected(&env, expect)?;
    check_ciphertext(ciphertext, &env.ciphertext_sha256, env.ciphertext_size)?;
    let plaintext = agefile::decrypt(identity.age_identity(), ciphertext, MAX_MESSAGE_BYTES)?;
    let signed_letter = SignedStatement::from_json(&plaintext)?;
    let letter: Letter = signed_letter.open(author)?;
    check_letter_matches(&letter, &env)?;
    Ok(OpenedMessage {
        envelope: env,
        letter,
        signed_letter,
    })
}

/// Checks that ciphertext bytes are the ones a statement binds.
pub fn check_ciphertext(ciphertext: &[u8], sha256: &Sha256Hash, size: u64) -> Result<()> {
    if ciphertext.len() as u64 != size || &Sha256Hash::of(ciphertext) != sha256 {
        return Err(CryptoError::CiphertextMismatch);
    }
    Ok(())
}

fn check_expected(env: &Envelope, expect: &Expect<'_>) -> Result<()> {
    if &env.case_id != expect.case_id {
        return Err(CryptoError::mismatch("case", expect.case_id, &env.case_id));
    }
    if let Some(id) = expect.message_id
        && &env.message_id != id
    {
        return Err(CryptoError::mismatch("message id", id, &env.message_id));
    }
    if let Some(kind) = expect.kind
        && env.kind != kind
    {
        return Err(CryptoError::mismatch("message kind", kind, env.kind));
    }
    if let Some(role) = expect.recipient_role
        && env.recipient_role != role
    {
        return Err(CryptoError::mismatch(
            "recipient role",
            role,
            env.recipient_role,
        ));
    }
    Ok(())
}

fn check_letter_matches(letter: &Letter, env: &Envelope) -> Result<()> {
    if letter.case_id != env.case_id {
        return Err(CryptoError::mismatch("case", &env.case_id, &letter.case_id));
    }
    if letter.message_id != env.message_id {
        return Err(CryptoError::mismatch(
            "message id",
            &env.message_id,
            &letter.message_id,
        ));
    }
    if letter.kind != env.kind {
        return Err(CryptoError::mismatch("message kind", env.kind, letter.kind));
    }
    if letter.author != env.author {
        return Err(CryptoError::mismatch("author", &env.author, &letter.author));
    }
    if letter.recipient_role != env.recipient_role {
        return Err(CryptoError::mismatch(
            "recipient role",
            env.recipient_role,
            letter.recipient_role,
        ));
    }
    if letter.in_reply_to != env.in_reply_to {
        return Err(CryptoError::mismatch(
            "in-reply-to",
            display_opt(&env.in_reply_to),
            display_opt(&letter.in_reply_to),
        ));
    }
    if letter.created_at != env.created_at {
        return Err(CryptoError::mismatch(
            "creation time",
            env.created_at,
            letter.created_at,
        ));
    }
    if letter.attachments.len() != env.attachments.len() {
        return Err(CryptoError::mismatch(
            "attachment count",
            env.attachments.len(),
            letter.attachments.len(),
        ));
    }
    if letter.entered_by != env.entered_by {
        return Err(CryptoError::mismatch(
            "entered by",
            display_opt(&env.entered_by),
            display_opt(&letter.entered_by),
        ));
    }
    let scan = letter.scan().map(|a| a.sha256);
    if scan != env.scan_sha256 {
        return Err(CryptoError::mismatch(
            "scan",
            display_opt(&env.scan_sha256),
            display_opt(&scan),
        ));
    }
    check_letter(letter)
}

fn display_opt<T: std::fmt::Display>(value: &Option<T>) -> String {
    value
        .as_ref()
        .map_or_else(|| "none".to_owned(), T::to_string)
}

/// Structural rules every letter follows, checked when sealing and again when opening.
pub(crate) fn check_letter_shape(
    v: u32,
    kind: MessageKind,
    in_reply_to: Option<&Id>,
    recipient_role: Role,
    body: &str,
) -> Result<()> {
    if v != FORMAT_VERSION {
        return Err(CryptoError::invalid(
            StatementKind::Letter.as_str(),
            format!("unsupported version {v}"),
        ));
    }
    if body.len() > MAX_BODY_BYTES {
        return Err(CryptoError::TooLarge {
            what: "message body",
            size: body.len() as u64,
            limit: MAX_BODY_BYTES as u64,
        });
    }
    if !recipient_role.is_participant() {
        return Err(CryptoError::invalid(
            StatementKind::Letter.as_str(),
            format!("messages go to participants, not to the {recipient_role}"),
        ));
    }
    if kind == MessageKind::Answer && in_reply_to.is_none() {
        return Err(CryptoError::invalid(
            StatementKind::Letter.as_str(),
            "an answer must name the question it answers",
        ));
    }
    Ok(())
}

fn check_letter(letter: &Letter) -> Result<()> {
    check_letter_shape(
        letter.v,
        letter.kind,
        letter.in_reply_to.as_ref(),
        letter.recipient_role,
        &letter.body,
    )?;
    if letter.entered_by.is_some() && letter.scan().is_none() {
        return Err(CryptoError::invalid(
            StatementKind::EnteredLetter.as_str(),
            "a letter entered for a person on paper carries the scan of their handwritten \
             original as its first attachment",
        ));
    }
    Ok(())
}

impl Letter {
    /// For a letter entered for a person on paper, the scan of their handwritten original.
    pub fn scan(&self) -> Option<&AttachmentRef> {
        self.entered_by.as_ref()?;
        self.attachments.first()
    }
}

/// Seals any signed statement (a facilitator's note, say) to `recipients` and the signer.
pub fn seal_signed<T: Statement>(
    signer: &Identity,
    body: &T,
    recipients: &[age::x25519::Recipient],
) -> Result<Vec<u8>> {
    let signed = signer.sign(body)?;
    let own = signer.recipient();
    let set = agefile::recipient_set(recipients.iter().chain(std::iter::once(&own)))?;
    agefile::encrypt(&set, &signed.to_json())
}

/// Opens what [`seal_signed`] sealed, verifying it was signed by the holder of `signer`.
pub fn open_signed<T: Statement>(
    identity: &Identity,
    ciphertext: &[u8],
    signer: &KeyCard,
) -> Result<T> {
    let plaintext = agefile::decrypt(identity.age_identity(), ciphertext, MAX_MESSAGE_BYTES)?;
    SignedStatement::from_json(&plaintext)?.open(signer)
}
