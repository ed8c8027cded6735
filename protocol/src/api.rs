//! The JSON bodies of the API, shared by the server and the `ferry` client. Signed statements
//! travel as [`SignedStatement`] objects; ciphertexts as standard base64 strings.

use std::ops::Range;

use ferry_crypto::SignedStatement;

use crate::state::SignedStatementDoc;

use crate::state::{
    CaseState, Consent, DeliveryKind, DeliveryState, MailKind, MailState, MessageKind,
    MessageState, Notifications, Role, SentState, StaffRole,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Server identity and version.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ServerInfo {
    /// Software version.
    pub version: String,
    /// The server's key card (signs the bootstrap invitation and, later, checkpoints).
    #[schema(value_type = SignedStatementDoc)]
    pub key_card: SignedStatement,
    /// Whether a case becomes active only once every participant's key was checked.
    #[serde(default)]
    pub require_key_checks: bool,
    /// The service's name, printed at the head of letters for people on paper.
    #[serde(default)]
    pub service_name: String,
    /// The address people reach this server at, if set (printed letters point to its
    /// `/verify` page).
    #[serde(default)]
    pub public_url: Option<String>,
}

/// Enrolment: a new key card and the signed acceptance of an invitation code.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EnrolRequest {
    /// The single-use invitation code.
    pub code: String,
    /// The new person's self-signed key card.
    #[schema(value_type = SignedStatementDoc)]
    pub key_card: SignedStatement,
    /// The signed `enrolment` statement.
    #[schema(value_type = SignedStatementDoc)]
    pub enrolment: SignedStatement,
}

/// What an enrolment gave.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EnrolResponse {
    /// The new account.
    pub account_id: String,
    /// The role granted.
    #[schema(schema_with = crate::state::role_schema)]
    pub role: Role,
    /// The case, for case roles.
    pub case_id: Option<String>,
}

/// A login challenge.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Challenge {
    /// Random text to sign in a `session` statement.
    pub challenge: String,
    /// When it stops being accepted (Unix seconds).
    pub expires_at: i64,
}

/// A signed `session` statement answering a challenge.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SessionRequest {
    /// The signed `session` statement.
    #[schema(value_type = SignedStatementDoc)]
    pub statement: SignedStatement,
}

/// A bearer token.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SessionToken {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    /// When it expires (Unix seconds).
    pub expires_at: i64,
}

/// The caller's own account.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Me {
    /// Account id.
    pub account_id: String,
    /// Display name.
    pub display_name: String,
    /// Service-wide role, for staff.
    pub staff_role: Option<StaffRole>,
    /// Accreditations, for facilitators.
    pub accreditations: Vec<String>,
    /// The sequence number the next signed action must carry.
    pub next_seq: u64,
    /// Cases the caller belongs to, with their role.
    pub cases: Vec<Membership>,
    /// The caller's e-mail address for notifications, if any.
    pub email: Option<String>,
    /// immediate, daily or none.
    pub notifications: Notifications,
}

/// A member of staff, as coordinators see the staff list.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StaffMember {
    /// Account id.
    pub account_id: String,
    /// Display name.
    pub display_name: String,
    /// coordinator, facilitator or auditor.
    pub role: StaffRole,
    /// Accreditations, for facilitators.
    pub accreditations: Vec<String>,
    /// Cases they are allocated to that are not closed (facilitators).
    pub open_cases: u64,
}

/// A role in a case.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Membership {
    /// The case.
    pub case_id: String,
    /// The role.
    #[schema(schema_with = crate::state::role_schema)]
    pub role: Role,
    /// Whether the caller asked that what is passed on to them in the case be held until they
    /// let it through.
    #[serde(default)]
    pub holding: bool,
}

/// Any signed action posted on its own.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StatementRequest {
    /// The signed statement.
    #[schema(value_type = SignedStatementDoc)]
    pub statement: SignedStatement,
}

/// An invitation: the signed statement and the code (kept only as a hash).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InvitationRequest {
    /// The signed `invitation` statement, naming the code's hash.
    #[schema(value_type = SignedStatementDoc)]
    pub statement: SignedStatement,
    /// The code; checked against the statement's hash, then forgotten (or e-mailed).
    pub code: String,
    /// Where to e-mail the invitation, if anywhere (kept out of the signed record).
    #[serde(default)]
    pub email: Option<String>,
}

/// A case as coordinators, facilitators and participants see it: metadata only.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CaseView {
    /// Case id.
    pub case_id: String,
    /// The service's reference.
    pub reference: String,
    /// Crime or harm category.
    pub category: String,
    /// `standard` or the accreditation required.
    pub sensitivity: String,
    /// referred, preparing, active, paused or closed.
    pub state: CaseState,
    /// The risk assessment outcome, once recorded.
    pub risk_outcome: Option<String>,
    /// Who is in the case.
    pub members: Vec<MemberView>,
    /// Messages per state (for a participant: their own messages only).
    pub message_counts: Vec<StateCount>,
    /// Forwards waiting for the case to resume (for a participant: those for them).
    pub held_deliveries: u64,
    /// What the case waits for before it can be active, in plain words (for a participant:
    /// only what they can do themself).
    pub waiting_for: Vec<String>,
    /// When it was opened (Unix seconds).
    pub created_at: i64,
}

/// A person in a case.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MemberView {
    /// Account id.
    pub account_id: String,
    /// Display name.
    pub display_name: String,
    /// Role in the case.
    #[schema(schema_with = crate::state::role_schema)]
    pub role: Role,
    /// none, given or withdrawn: for participants, and shown to a participant only for
    /// themself.
    pub consent: Option<Consent>,
    /// True for a person who takes part on paper: the case's facilitators act for them.
    #[serde(default)]
    pub on_paper: bool,
}

/// A count of messages in one state.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StateCount {
    /// The state.
    pub state: MessageState,
    /// How many.
    pub count: u64,
}

/// A sealed message submission.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SubmitRequest {
    /// The author's signed envelope.
    #[schema(value_type = SignedStatementDoc)]
    pub envelope: SignedStatement,
    /// The age ciphertext, base64.
    pub ciphertext: String,
}

/// A message as listed (no content).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MessageSummary {
    /// Message id.
    pub message_id: String,
    /// Case id.
    pub case_id: String,
    /// Author's account.
    pub author: String,
    /// Author's display name.
    pub author_name: String,
    /// Author's role in the case.
    #[schema(schema_with = crate::state::role_schema)]
    pub author_role: Role,
    /// letter, question or answer.
    #[schema(schema_with = crate::state::message_kind_schema)]
    pub kind: MessageKind,
    /// The role it is for.
    #[schema(schema_with = crate::state::role_schema)]
    pub recipient_role: Role,
    /// The question it answers.
    pub in_reply_to: Option<String>,
    /// uploading, in_review, forwarded, returned, withheld or escalated.
    pub state: MessageState,
    /// Number of attachments.
    pub attachments: u64,
    /// When it was submitted (Unix seconds).
    pub created_at: i64,
    /// For a person on paper: the facilitator who typed up their handwritten original (its
    /// scan is the first attachment).
    #[serde(default)]
    pub entered_by: Option<String>,
}

/// One of the caller's own messages and what became of it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SentMessage {
    /// Message id.
    pub message_id: String,
    /// Case id.
    pub case_id: String,
    /// letter, question or answer.
    #[schema(schema_with = crate::state::message_kind_schema)]
    pub kind: MessageKind,
    /// The role it is for.
    #[schema(schema_with = crate::state::role_schema)]
    pub recipient_role: Role,
    /// The question it answers.
    pub in_reply_to: Option<String>,
    /// When it was written (Unix seconds).
    pub created_at: i64,
    /// uploading, with_facilitator, returned, passed_on, passed_on_redacted or
    /// not_passed_on.
    pub state: SentState,
}

/// A message with its sealed content, for its facilitators and its author.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MessageDetail {
    /// The summary.
    pub summary: MessageSummary,
    /// The author's signed envelope.
    #[schema(value_type = SignedStatementDoc)]
    pub envelope: SignedStatement,
    /// The age ciphertext, base64.
    pub ciphertext: String,
    /// The key card of whoever signed the envelope: the author, or the facilitator who
    /// entered it for a person on paper.
    #[schema(value_type = SignedStatementDoc)]
    pub author_card: SignedStatement,
}

/// A decision with a sealed payload: a forward (payload for the recipient) or a return
/// (note to the author).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DecisionRequest {
    /// The facilitator's signed `forward` or `return` statement.
    #[schema(value_type = SignedStatementDoc)]
    pub statement: SignedStatement,
    /// The sealed payload or note, base64.
    pub ciphertext: String,
}

/// A withholding, with an optional sealed note for the facilitators.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WithholdRequest {
    /// The facilitator's signed `withhold` statement.
    #[schema(value_type = SignedStatementDoc)]
    pub statement: SignedStatement,
    /// The sealed note, base64, if the statement names one.
    pub note: Option<String>,
}

/// Something delivered to a person: a forwarded message, or a returned one's note.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeliverySummary {
    /// Delivery id.
    pub delivery_id: String,
    /// Case id.
    pub case_id: String,
    /// The message it is about.
    pub message_id: String,
    /// forward or return.
    pub kind: DeliveryKind,
    /// letter, question or answer.
    #[schema(schema_with = crate::state::message_kind_schema)]
    pub message_kind: MessageKind,
    /// held, uploading, released, read or cancelled.
    pub state: DeliveryState,
    /// The recipient.
    pub recipient: String,
    /// When it was approved (Unix seconds).
    pub created_at: i64,
}

/// A delivery with everything its recipient needs to verify and open it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeliveryDetail {
    /// The summary.
    pub summary: DeliverySummary,
    /// The facilitator's signed statement.
    #[schema(value_type = SignedStatementDoc)]
    pub statement: SignedStatement,
    /// The sealed payload, base64.
    pub ciphertext: String,
    /// The approving facilitator's key card.
    #[schema(value_type = SignedStatementDoc)]
    pub facilitator_card: SignedStatement,
    /// The original author's key card.
    #[schema(value_type = SignedStatementDoc)]
    pub author_card: SignedStatement,
    /// The original message's envelope (forwards only, for hashes and order).
    #[schema(value_type = Option<SignedStatementDoc>)]
    pub original_envelope: Option<SignedStatement>,
}

/// A key card.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct KeyCardResponse {
    /// The self-signed key card.
    #[schema(value_type = SignedStatementDoc)]
    pub key_card: SignedStatement,
}

/// The public key cards of a case's facilitators, to seal messages to.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct KeyCards {
    /// Key cards.
    #[schema(value_type = Vec<SignedStatementDoc>)]
    pub key_cards: Vec<SignedStatement>,
}

/// An accepted action.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Accepted {
    /// Index of the event in the log.
    pub event: u64,
    /// The case's state afterwards, for case actions.
    pub case_state: Option<CaseState>,
    /// The id of what was created (message, delivery), if anything.
    pub id: Option<String>,
    /// State of what was created or changed.
    pub state: Option<String>,
    /// Whether an e-mail was queued (invitations).
    #[serde(default)]
    pub mailed: bool,
}

/// A signed checkpoint of the log.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CheckpointView {
    /// The log's origin (first line of the checkpoint, and the signature's key name).
    pub origin: String,
    /// Number of events covered.
    pub size: u64,
    /// RFC 6962 root hash, hex.
    pub root: String,
    /// The c2sp.org/tlog-checkpoint signed note, as text.
    pub note: String,
}

/// An RFC 6962 proof: hashes in hex, in the order tlog lists them.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Proof {
    /// For an inclusion proof, the event's index; for a consistency proof, the older size.
    pub from: u64,
    /// The tree size the proof is against.
    pub size: u64,
    /// The proof's hashes, hex.
    pub proof: Vec<String>,
}

/// An event's leaf with its inclusion proof.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProvenEvent {
    /// The leaf bytes exactly as hashed, base64.
    pub leaf: String,
    /// Inclusion proof against the bundle's or response's checkpoint, hex hashes.
    pub proof: Vec<String>,
}

/// [`AuditBundle::format`] of a whole case's record (auditors, coordinators, facilitators).
pub const CASE_BUNDLE: &str = "ferry-audit-bundle/v1";

/// [`AuditBundle::format`] of one participant's own record: only the events that concern them,
/// each proven in the log; it cannot show that nothing else happened in the case.
pub const PARTICIPANT_RECORD: &str = "ferry-participant-record/v1";

/// Everything an auditor needs to verify a case offline, without content: the server's key
/// card, a signed checkpoint, the case's events and the events they depend on (key cards,
/// staff enrolments and the invitations behind them), each with its inclusion proof.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditBundle {
    /// [`CASE_BUNDLE`], or [`PARTICIPANT_RECORD`] for a participant's own record.
    pub format: String,
    /// The case.
    pub case_id: String,
    /// The log's origin.
    pub origin: String,
    /// The server's self-signed key card (its Ed25519 key signs checkpoints).
    #[schema(value_type = SignedStatementDoc)]
    pub server_key_card: SignedStatement,
    /// The signed checkpoint every proof is against.
    pub checkpoint: String,
    /// The case's chain, in order.
    pub events: Vec<ProvenEvent>,
    /// Events outside the chain that its events rely on.
    pub context: Vec<ProvenEvent>,
    /// The states the server keeps for the case, for the auditor to check against the events
    /// (whole case records only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub states: Option<CaseStates>,
}

/// The states a server keeps for one case, read together at one moment: what the signed
/// events must explain. An auditor replays the events and reports any state they do not.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CaseStates {
    /// The case.
    pub case_id: String,
    /// The log index of the case's last event when the states were read.
    pub last_event: Option<u64>,
    /// The case's state.
    pub state: String,
    /// Whether the server makes a case active only once every participant's key was checked.
    pub require_key_checks: bool,
    /// Each person in the case.
    pub members: Vec<KeptMember>,
    /// Each message.
    pub messages: Vec<KeptMessage>,
    /// Each delivery (a forward, or a returned message's note).
    pub deliveries: Vec<KeptDelivery>,
}

/// A person's role and consent in a case, as the server keeps them.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct KeptMember {
    /// Account id.
    pub account_id: String,
    /// Role.
    pub role: String,
    /// none, given or withdrawn.
    pub consent: String,
    /// Whether they hold what is passed on to them.
    #[serde(default)]
    pub holding: bool,
}

/// A message's state, as the server keeps it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct KeptMessage {
    /// Message id.
    pub message_id: String,
    /// uploading, in_review, forwarded, returned, withheld or escalated.
    pub state: String,
}

/// A page of cases' states (whole-log audits). A case too big for one page comes in parts,
/// each with the case's last event.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StatesPage {
    /// Cases (or parts of them), in case id order.
    pub cases: Vec<CaseStates>,
    /// Where the next page starts, if there is one.
    pub next: Option<StatesCursor>,
}

/// Where a page of states starts: after the row with `key` in `section` of `case`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, utoipa::IntoParams)]
pub struct StatesCursor {
    /// The case.
    pub case: String,
    /// 0 members, 1 messages, 2 deliveries, 3 past the whole case.
    pub section: u8,
    /// The key of the last row already sent (account, message or delivery id).
    pub key: String,
}

/// A delivery's state, as the server keeps it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct KeptDelivery {
    /// Delivery id.
    pub delivery_id: String,
    /// The message it is about.
    pub message_id: String,
    /// forward or return.
    pub kind: String,
    /// Who it is for.
    pub recipient: String,
    /// The signed hash of what is delivered (the forwarded payload or the note), hex.
    pub sha256: String,
    /// held, uploading, released, read or cancelled.
    pub state: String,
    /// Whether attachments are still being uploaded to it.
    pub uploading: bool,
}

/// A range of the log's leaves, in order, for an audit of the whole log (which recomputes the
/// tree instead of checking one proof per event).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LogLeaves {
    /// The index of the first leaf.
    pub start: u64,
    /// The leaf bytes exactly as hashed, base64, for indexes `start`, `start + 1`, ….
    pub leaves: Vec<String>,
}

/// The media type a client accepts to get [`RawLeaves`] instead of [`LogLeaves`].
pub const LEAVES_BINARY: &str = "application/octet-stream";

/// A range of the log's leaves in binary form, which spares both sides base64 and JSON over
/// a million leaves: the first leaf's index as 8 bytes big-endian, then each leaf as its length
/// (4 bytes big-endian) followed by its bytes, and nothing after the last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawLeaves {
    /// The index of the first leaf.
    pub start: u64,
    /// The leaf bytes exactly as hashed.
    pub leaves: Vec<Vec<u8>>,
}

impl RawLeaves {
    /// The binary form.
    pub fn to_bytes(&self) -> Vec<u8> {
        Self::bytes_of(self.start, self.leaves.iter().map(Vec::as_slice))
    }

    /// The binary form of `leaves` from index `start`, without gathering them first.
    pub fn bytes_of<'a>(start: u64, leaves: impl Iterator<Item = &'a [u8]> + Clone) -> Vec<u8> {
        let size = 8 + leaves.clone().map(|l| 4 + l.len()).sum::<usize>();
        let mut out = Vec::with_capacity(size);
        out.extend_from_slice(&start.to_be_bytes());
        for leaf in leaves {
            // A leaf is far below 4 GiB (the trail caps leaves at a few MiB).
            out.extend_from_slice(&(leaf.len() as u32).to_be_bytes());
            out.extend_from_slice(leaf);
        }
        out
    }

    /// Reads the binary form; `None` if it is cut short or has bytes after its last leaf.
    pub fn parse(bytes: &[u8]) -> Option<Self> {
        let (start, leaves) = Self::ranges(bytes)?;
        Some(Self {
            start,
            leaves: leaves.into_iter().map(|r| bytes[r].to_vec()).collect(),
        })
    }

    /// Reads the binary form without copying: the first leaf's index and where in `bytes` each
    /// leaf is; `None` if it is cut short or has bytes after its last leaf.
    pub fn ranges(bytes: &[u8]) -> Option<(u64, Vec<Range<usize>>)> {
        let (start, _) = bytes.split_first_chunk::<8>()?;
        let start = u64::from_be_bytes(*start);
        let mut at = 8;
        let mut leaves = vec![];
        while at < bytes.len() {
            let (len, _) = bytes[at..].split_first_chunk::<4>()?;
            let len = usize::try_from(u32::from_be_bytes(*len)).ok()?;
            let leaf = at + 4..(at + 4).checked_add(len)?;
            if leaf.end > bytes.len() {
                return None;
            }
            at = leaf.end;
            leaves.push(leaf);
        }
        Some((start, leaves))
    }
}

#[cfg(test)]
mod tests {
    use super::RawLeaves;

    #[test]
    fn binary_leaves_read_back_and_refuse_cut_or_padded_forms() {
        let page = RawLeaves {
            start: 41,
            leaves: vec![b"{}".to_vec(), vec![], vec![0xff; 300]],
        };
        let bytes = page.to_bytes();
        assert_eq!(RawLeaves::parse(&bytes), Some(page));
        for cut in 0..bytes.len() {
            let parsed = RawLeaves::parse(&bytes[..cut]);
            // Cutting exactly between leaves leaves a shorter valid page, never a wrong leaf.
            assert!(
                parsed.is_none() || matches!(cut, 8 | 14 | 18),
                "cut at {cut} parsed"
            );
        }
        let mut padded = bytes.clone();
        padded.push(0);
        assert_eq!(RawLeaves::parse(&padded), None);
        let mut huge = 7u64.to_be_bytes().to_vec();
        huge.extend_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(RawLeaves::parse(&huge), None);
    }
}

/// One event with its proof and the checkpoint it is proven against.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EventView {
    /// The event and its inclusion proof.
    pub event: ProvenEvent,
    /// The checkpoint.
    pub checkpoint: CheckpointView,
}

/// How a person wants to hear that something is waiting.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NotificationsRequest {
    /// immediate, daily (one digest a day) or none.
    pub preference: String,
    /// A new address for notifications, if changing it.
    #[serde(default)]
    pub email: Option<String>,
}

/// A mail in the outbox, as a coordinator sees it: no text, the address partly hidden.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OutboxEntry {
    /// Stable id (the Message-ID is built from it).
    pub id: String,
    /// What it is about.
    pub kind: MailKind,
    /// The case, if any.
    pub case_id: Option<String>,
    /// The recipient, partly hidden.
    pub to: String,
    /// pending, sending, sent or failed.
    pub state: MailState,
    /// Attempts so far.
    pub attempts: u64,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it was queued.
    pub created_at: i64,
    /// When it was sent.
    pub sent_at: Option<i64>,
}

/// A person added to a case on paper, or their consent recorded from paper.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PaperConsentRequest {
    /// The facilitator's signed `paper-consent` statement.
    #[schema(value_type = SignedStatementDoc)]
    pub statement: SignedStatement,
    /// The sealed scan of the signed form, base64 (required on paper).
    pub scan: Option<String>,
}

/// A printed letter's code, to be checked.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LetterCheckRequest {
    /// The code as printed on the letter (any case; dashes and spaces do not matter).
    pub code: String,
}

/// What the service can say of a printed letter's code: whether a facilitator of the service
/// approved and printed a letter with it, when, and the letter's fingerprint. Never content.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LetterCheck {
    /// letter, question or answer.
    #[schema(schema_with = crate::state::message_kind_schema)]
    pub kind: MessageKind,
    /// When a facilitator approved it to be passed on (Unix seconds).
    pub approved_at: i64,
    /// When it was printed (Unix seconds).
    pub printed_at: i64,
    /// The printed text's salted SHA-256, hex: its fingerprint.
    pub text_sha256: String,
    /// The log event of the printing.
    pub event: u64,
    /// The facilitator's signed `printing` statement.
    #[schema(value_type = SignedStatementDoc)]
    pub printing: SignedStatement,
    /// The printing facilitator's key card.
    #[schema(value_type = SignedStatementDoc)]
    pub facilitator_card: SignedStatement,
}

/// A letter passed on to a person on paper, for the case's facilitators to print.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PaperLetter {
    /// The delivery.
    pub delivery_id: String,
    /// The message passed on.
    pub message_id: String,
    /// letter, question or answer.
    #[schema(schema_with = crate::state::message_kind_schema)]
    pub kind: MessageKind,
    /// held, released (ready to print) or read.
    pub state: DeliveryState,
    /// The person on paper.
    pub recipient: String,
    /// Their name.
    pub recipient_name: String,
    /// When it was passed on (Unix seconds).
    pub passed_on_at: i64,
    /// How many times it was printed.
    pub printed: u64,
}

/// A paper consent or withdrawal as recorded, with the sealed scan of the form, for the case's
/// facilitators.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PaperForm {
    /// The log event that recorded it.
    pub event: u64,
    /// The facilitator's signed `paper-consent` statement.
    #[schema(value_type = SignedStatementDoc)]
    pub statement: SignedStatement,
    /// The sealed scan of the form, base64 (none for a withdrawal by telephone).
    pub scan: Option<String>,
}
