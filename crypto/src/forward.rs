//! Forwarding: after review, a facilitator re-encrypts a message to its recipient (and to the
//! case's facilitators) and signs a forward statement binding the original ciphertext's hash,
//! the forwarded ciphertext's hash and whether it was redacted.
//!
//! An unredacted forward carries the author's own signed letter, so the recipient verifies
//! the author's signature as well as the facilitator's. A redacted forward carries a
//! [`RedactedLetter`] signed by the facilitator, naming the hash of the original it came from.
//!
//! Every attachment of the original gets a decision (kept, dropped, or replaced by a redacted
//! file the facilitator made), recorded in the forward statement, in the original's order. A
//! forward that drops or replaces anything, or changes the text, is redacted.

use serde::{Deserialize, Serialize};

use crate::agefile;
use crate::attachment::{SealedAttachment, check_name};
use crate::error::{CryptoError, Result};
use crate::hash::Sha256Hash;
use crate::identity::Identity;
use crate::ids::{AccountId, Id, MessageKind, Role};
use crate::keycard::KeyCard;
use crate::seal::{
    AttachmentBlob, AttachmentRef, Letter, OpenedMessage, check_ciphertext, check_letter_shape,
};
use crate::statement::{SignedStatement, Statement, StatementKind};
use crate::{FORMAT_VERSION, MAX_MESSAGE_BYTES};

/// A facilitator's signed approval to carry a message to one recipient.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Forward {
    /// Format version.
    pub v: u32,
    /// The case.
    pub case_id: Id,
    /// The original message.
    pub message_id: Id,
    /// The facilitator who approved it.
    pub facilitator: AccountId,
    /// The person it is carried to.
    pub recipient: AccountId,
    /// That person's role.
    pub recipient_role: Role,
    /// SHA-256 of the original message's ciphertext (as in its envelope).
    pub original_sha256: Sha256Hash,
    /// SHA-256 of the forwarded ciphertext.
    pub forwarded_sha256: Sha256Hash,
    /// Size of the forwarded ciphertext in bytes.
    pub forwarded_size: u64,
    /// Whether the facilitator changed the text or dropped or replaced attachments.
    pub redacted: bool,
    /// The forwarded attachment blobs (re-encrypted to the recipient), in order.
    pub attachments: Vec<AttachmentBlob>,
    /// What became of each of the original's attachments, in the original's order (absent
    /// when it had none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachment_decisions: Vec<AttachmentDecision>,
    /// The facilitator's sequence number.
    pub seq: u64,
    /// When it was approved (Unix seconds, UTC).
    pub created_at: i64,
}

impl Statement for Forward {
    const KIND: StatementKind = StatementKind::Forward;

    fn signer(&self) -> &AccountId {
        &self.facilitator
    }
}

impl Forward {
    /// Checks the attachment decisions against the rest of the statement: each kept or
    /// replaced attachment has a forwarded blob, and dropping or replacing one makes the
    /// forward redacted. With `original` (the original's attachment count, when known) there
    /// must be a decision for each. With `scan_first` (the original was entered for a person on
    /// paper) the first attachment is the scan of their handwritten original: the facilitator
    /// passes it on or not without that being a redaction.
    pub fn check_decisions(&self, original: Option<usize>, scan_first: bool) -> Result<()> {
        let decisions = &self.attachment_decisions;
        if let Some(n) = original
            && decisions.len() != n
        {
            return Err(CryptoError::mismatch(
                "attachment decisions",
                n,
                decisions.len(),
            ));
        }
        if decisions.is_empty() {
            return Ok(());
        }
        let passed = decisions
            .iter()
            .filter(|d| **d != AttachmentDecision::Dropped)
            .count();
        if passed != self.attachments.len() {
            return Err(CryptoError::mismatch(
                "forwarded attachments",
                passed,
                self.attachments.len(),
            ));
        }
        let changed = |(i, d): (usize, &AttachmentDecision)| d.changes_letter(i, scan_first);
        if !self.redacted && decisions.iter().enumerate().any(changed) {
            return Err(CryptoError::invalid(
                StatementKind::Forward.as_str(),
                "an attachment was dropped or replaced but the forward is not marked redacted",
            ));
        }
        Ok(())
    }
}

/// What a facilitator decided about one attachment of a message they forward.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttachmentDecision {
    /// Passed on as the author sent it.
    Kept,
    /// Not passed on.
    Dropped,
    /// Replaced by a redacted file the facilitator provided.
    Replaced,
}

impl AttachmentDecision {
    /// Whether this decision about attachment `i` changes what the author sent (and so makes
    /// the forward redacted): replacing any, or dropping any but the scan of a handwritten
    /// original (`scan_first`: attachment 0 of a letter entered for a person on paper).
    pub fn changes_letter(self, i: usize, scan_first: bool) -> bool {
        match self {
            AttachmentDecision::Kept => false,
            AttachmentDecision::Dropped => !(scan_first && i == 0),
            AttachmentDecision::Replaced => true,
        }
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            AttachmentDecision::Kept => "kept",
            AttachmentDecision::Dropped => "dropped",
            AttachmentDecision::Replaced => "replaced",
        }
    }
}

/// A redacted version of a letter, signed by the facilitator who redacted it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedactedLetter {
    /// Format version.
    pub v: u32,
    /// The case.
    pub case_id: Id,
    /// The original message id.
    pub message_id: Id,
    /// Letter, question or answer.
    pub kind: MessageKind,
    /// The original author.
    pub author: AccountId,
    /// The role of the person it is for.
    pub recipient_role: Role,
    /// The question an answer answers.
    pub in_reply_to: Option<Id>,
    /// When the author wrote it.
    pub created_at: i64,
    /// The redacted text.
    pub body: String,
    /// The attachments kept, in order.
    pub attachments: Vec<AttachmentRef>,
    /// The facilitator who redacted it.
    pub redacted_by: AccountId,
    /// [`SignedStatement::body_hash`] of the author's original signed letter, so the original
    /// can later be shown to be the source.
    pub original_letter_sha256: Sha256Hash,
    /// For a letter entered for a person on paper: the facilitator who typed it up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entered_by: Option<AccountId>,
}

impl Statement for RedactedLetter {
    const KIND: StatementKind = StatementKind::RedactedLetter;

    fn signer(&self) -> &AccountId {
        &self.redacted_by
    }
}

/// Who a forward is for.
#[derive(Clone, Copy, Debug)]
pub enum Addressee<'a> {
    /// A person with keys: their verified key card.
    Keyed(&'a KeyCard),
    /// A person who takes part on paper: the forward is sealed to the facilitators only, who
    /// print it for them.
    OnPaper(&'a AccountId),
}

impl<'a> From<&'a KeyCard> for Addressee<'a> {
    fn from(card: &'a KeyCard) -> Self {
        Addressee::Keyed(card)
    }
}

impl Addressee<'_> {
    fn account_id(&self) -> &AccountId {
        match self {
            Addressee::Keyed(card) => card.account_id(),
            Addressee::OnPaper(account) => account,
        }
    }
}

/// What a facilitator forwards.
pub struct ForwardRequest<'a> {
    /// The message as opened and verified by the facilitator.
    pub original: &'a OpenedMessage,
    /// The recipient.
    pub recipient: Addressee<'a>,
    /// The text to send in place of the author's, when the facilitator changed it.
    pub redacted_body: Option<String>,
    /// What becomes of each of the original's attachments, in its order.
    pub attachments: Vec<ForwardedAttachment>,
    /// Other facilitators of the case, who can then re-read what was sent.
    pub co_facilitators: &'a [age::x25519::Recipient],
    /// The facilitator's sequence number.
    pub seq: u64,
    /// Now (Unix seconds, UTC).
    pub created_at: i64,
}

/// One of the original's attachments in a forward.
#[derive(Clone, Debug)]
pub enum ForwardedAttachment {
    /// The author's file as it is, re-encrypted to the recipient
    /// ([`crate::attachment::reseal_attachment`]).
    Kept(AttachmentBlob),
    /// Not passed on.
    Dropped,
    /// A redacted file the facilitator sealed to the recipient in its place
    /// ([`crate::attachment::seal_attachment`]).
    Replaced(SealedAttachment),
}

impl ForwardedAttachment {
    /// The decision it records.
    pub fn decision(&self) -> AttachmentDecision {
        match self {
            ForwardedAttachment::Kept(_) => AttachmentDecision::Kept,
            ForwardedAttachment::Dropped => AttachmentDecision::Dropped,
            ForwardedAttachment::Replaced(_) => AttachmentDecision::Replaced,
        }
    }
}

/// A forward ready to submit: the signed statement and the ciphertext for the recipient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForwardedMessage {
    /// The signed [`Forward`].
    pub forward: SignedStatement,
    /// The age file holding the author's signed letter or the signed redacted letter.
    pub ciphertext: Vec<u8>,
}

/// Prepares a forward as `facilitator`.
pub fn forward(facilitator: &Identity, req: ForwardRequest<'_>) -> Result<ForwardedMessage> {
    let letter = &req.original.letter;
    let role = letter.recipient_role;
    if req.attachments.len() != letter.attachments.len() {
        return Err(CryptoError::mismatch(
            "attachment decisions",
            letter.attachments.len(),
            req.attachments.len(),
        ));
    }
    let decisions: Vec<AttachmentDecision> = req.attachments.iter().map(|a| a.decision()).collect();
    let mut refs = vec![];
    let mut blobs = vec![];
    for (original, a) in letter.attachments.iter().zip(&req.attachments) {
        match a {
            ForwardedAttachment::Kept(blob) => {
                check_name(&original.name)?;
                refs.push(original.clone());
                blobs.push(blob.clone());
            }
            ForwardedAttachment::Dropped => {}
            ForwardedAttachment::Replaced(sealed) => {
                check_name(&sealed.plaintext.name)?;
                refs.push(sealed.plaintext.clone());
                blobs.push(sealed.blob.clone());
            }
        }
    }
    // Not passing on the scan of a handwritten original is not a change to the letter.
    let scan_first = letter.entered_by.is_some();
    let changed = decisions
        .iter()
        .enumerate()
        .any(|(i, d)| d.changes_letter(i, scan_first));
    let (payload, redacted) = match (&req.redacted_body, changed) {
        (None, false) => (req.original.signed_letter.clone(), false),
        (body, _) => {
            let redacted = RedactedLetter {
                v: FORMAT_VERSION,
                case_id: letter.case_id.clone(),
                message_id: letter.message_id.clone(),
                kind: letter.kind,
                author: letter.author.clone(),
                recipient_role: role,
                in_reply_to: letter.in_reply_to.clone(),
                created_at: letter.created_at,
                body: body.clone().unwrap_or_else(|| letter.body.clone()),
                attachments: refs,
                redacted_by: facilitator.account_id().clone(),
                original_letter_sha256: req.original.signed_letter.body_hash(),
                entered_by: letter.entered_by.clone(),
            };
            check_redacted(&redacted)?;
            (facilitator.sign(&redacted)?, true)
        }
    };
    let own = facilitator.recipient();
    let addressee = match req.recipient {
        Addressee::Keyed(card) => Some(card.recipient()),
        Addressee::OnPaper(_) => None,
    };
    let set = agefile::recipient_set(
        addressee
            .into_iter()
            .chain(req.co_facilitators)
            .chain(std::iter::once(&own)),
    )?;
    let ciphertext = agefile::encrypt(&set, &payload.to_json())?;
    let statement = Forward {
        v: FORMAT_VERSION,
        case_id: letter.case_id.clone(),
        message_id: letter.message_id.clone(),
        facilitator: facilitator.account_id().clone(),
        recipient: req.recipient.account_id().clone(),
        recipient_role: role,
        original_sha256: req.original.envelope.ciphertext_sha256,
        forwarded_sha256: Sha256Hash::of(&ciphertext),
        forwarded_size: ciphertext.len() as u64,
        redacted,
        attachments: blobs,
        attachment_decisions: decisions,
        seq: req.seq,
        created_at: req.created_at,
    };
    Ok(ForwardedMessage {
        forward: facilitator.sign(&statement)?,
        ciphertext,
    })
}

/// A forwarded message as its recipient reads it, fully verified.
#[derive(Clone, Debug)]
pub struct DeliveredMessage {
    /// The verified forward statement.
    pub forward: Forward,
    /// The letter's kind.
    pub kind: MessageKind,
    /// The original author.
    pub author: AccountId,
    /// The question an answer answers.
    pub in_reply_to: Option<Id>,
    /// When the author wrote it.
    pub created_at: i64,
    /// The text (redacted if `redacted`).
    pub body: String,
    /// Attachments, in order (pair with `forward.attachments`).
    pub attachments: Vec<AttachmentRef>,
    /// True when the facilitator changed it; then the author's signature is not carried.
    pub redacted: bool,
    /// Who approved it.
    pub approved_by: AccountId,
    /// For a person on paper: the facilitator who typed up their handwritten original.
    pub entered_by: Option<AccountId>,
}

/// Opens a forwarded message as its recipient. `facilitator` is the key card of the
/// facilitator the forward claims approved it (the caller checks, from the trail, that this
/// facilitator was allocated to the case); `author` is the key card of whoever signed the
/// original letter: its author, or, for a person on paper, the facilitator who entered it
/// (the caller checks that they too are a facilitator of the case).
pub fn open_forwarded(
    identity: &Identity,
    forward: &SignedStatement,
    ciphertext: &[u8],
    facilitator: &KeyCard,
    author: &KeyCard,
    case_id: &Id,
) -> Result<DeliveredMessage> {
    let who = Reader::Recipient;
    open_as(
        identity,
        who,
        forward,
        ciphertext,
        facilitator,
        author,
        case_id,
    )
}

/// Opens a forwarded message as anyone it was sealed to, checking everything
/// [`open_forwarded`] does but who it is for: a facilitator reads a forward this way to print
/// it for a person on paper.
pub fn read_forwarded(
    identity: &Identity,
    forward: &SignedStatement,
    ciphertext: &[u8],
    facilitator: &KeyCard,
    author: &KeyCard,
    case_id: &Id,
) -> Result<DeliveredMessage> {
    let who = Reader::Facilitator;
    open_as(
        identity,
        who,
        forward,
        ciphertext,
        facilitator,
        author,
        case_id,
    )
}

/// Who opens a forward.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reader {
    /// The person it is for.
    Recipient,
    /// A facilitator it was also sealed to.
    Facilitator,
}

fn open_as(
    identity: &Identity,
    who: Reader,
    forward: &SignedStatement,
    ciphertext: &[u8],
    facilitator: &KeyCard,
    author: &KeyCard,
    case_id: &Id,
) -> Result<DeliveredMessage> {
    let fwd: Forward = forward.open(facilitator)?;
    if &fwd.case_id != case_id {
        return Err(CryptoError::mismatch("case", case_id, &fwd.case_id));
    }
    if who == Reader::Recipient && &fwd.recipient != identity.account_id() {
        return Err(CryptoError::mismatch(
            "recipient",
            identity.account_id(),
            &fwd.recipient,
        ));
    }
    check_ciphertext(ciphertext, &fwd.forwarded_sha256, fwd.forwarded_size)?;
    let plaintext = agefile::decrypt(identity.age_identity(), ciphertext, MAX_MESSAGE_BYTES)?;
    let inner = SignedStatement::from_json(&plaintext)?;
    let delivered = match (inner.kind, fwd.redacted) {
        (StatementKind::Letter | StatementKind::EnteredLetter, false) => {
            let letter: Letter = inner.open(author)?;
            check_same(
                &fwd,
                &letter.case_id,
                &letter.message_id,
                letter.recipient_role,
            )?;
            check_letter_shape(
                letter.v,
                letter.kind,
                letter.in_reply_to.as_ref(),
                letter.recipient_role,
                &letter.body,
            )?;
            fwd.check_decisions(Some(letter.attachments.len()), letter.scan().is_some())?;
            // What was passed on: every attachment but a scan left with the facilitator.
            let attachments = letter
                .attachments
                .into_iter()
                .zip(&fwd.attachment_decisions)
                .filter(|(_, d)| **d != AttachmentDecision::Dropped)
                .map(|(a, _)| a)
                .collect();
            DeliveredMessage {
                kind: letter.kind,
                author: letter.author,
                in_reply_to: letter.in_reply_to,
                created_at: letter.created_at,
                body: letter.body,
                attachments,
                redacted: false,
                approved_by: fwd.facilitator.clone(),
                entered_by: letter.entered_by,
                forward: fwd,
            }
        }
        (StatementKind::RedactedLetter, true) => {
            fwd.check_decisions(None, false)?;
            let r: RedactedLetter = inner.open(facilitator)?;
            check_same(&fwd, &r.case_id, &r.message_id, r.recipient_role)?;
            let signed_by = r.entered_by.as_ref().unwrap_or(&r.author);
            if signed_by != author.account_id() {
                return Err(CryptoError::mismatch(
                    "author",
                    author.account_id(),
                    signed_by,
                ));
            }
            check_redacted(&r)?;
            DeliveredMessage {
                kind: r.kind,
                author: r.author,
                in_reply_to: r.in_reply_to,
                created_at: r.created_at,
                body: r.body,
                attachments: r.attachments,
                redacted: true,
                approved_by: fwd.facilitator.clone(),
                entered_by: r.entered_by,
                forward: fwd,
            }
        }
        (found, redacted) => {
            return Err(CryptoError::WrongKind {
                expected: if redacted {
                    StatementKind::RedactedLetter.as_str()
                } else {
                    StatementKind::Letter.as_str()
                },
                found: found.as_str().to_owned(),
            });
        }
    };
    if delivered.attachments.len() != delivered.forward.attachments.len() {
        return Err(CryptoError::mismatch(
            "attachment count",
            delivered.forward.attachments.len(),
            delivered.attachments.len(),
        ));
    }
    // The names are the author's (or facilitator's) choice: the recipient's machine takes
    // only plain file names.
    for a in &delivered.attachments {
        check_name(&a.name)?;
    }
    Ok(delivered)
}

fn check_same(fwd: &Forward, case_id: &Id, message_id: &Id, role: Role) -> Result<()> {
    if case_id != &fwd.case_id {
        return Err(CryptoError::mismatch("case", &fwd.case_id, case_id));
    }
    if message_id != &fwd.message_id {
        return Err(CryptoError::mismatch(
            "message id",
            &fwd.message_id,
            message_id,
        ));
    }
    if role != fwd.recipient_role {
        return Err(CryptoError::mismatch(
            "recipient role",
            fwd.recipient_role,
            role,
        ));
    }
    Ok(())
}

fn check_redacted(r: &RedactedLetter) -> Result<()> {
    check_letter_shape(
        r.v,
        r.kind,
        r.in_reply_to.as_ref(),
        r.recipient_role,
        &r.body,
    )
}
