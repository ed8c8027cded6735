//! The bodies of every signed action other than letters and forwards: enrolment, login,
//! case management, consent, review decisions and receipts. Each names its signer and, where
//! it changes state, carries the signer's sequence number (strictly one more than their last,
//! so a replayed or reordered action is refused).

use serde::{Deserialize, Serialize};

use crate::hash::Sha256Hash;
use crate::ids::{AccountId, Id, Role};
use crate::keycard::{CROCKFORD, grouped, typed_symbol};

macro_rules! signed_by {
    ($ty:ty, $kind:ident, $field:ident) => {
        impl $crate::statement::Statement for $ty {
            const KIND: $crate::statement::StatementKind = $crate::statement::StatementKind::$kind;

            fn signer(&self) -> &$crate::ids::AccountId {
                &self.$field
            }
        }
    };
}
pub(crate) use signed_by;

/// A person accepting an invitation: binds their key card to the invitation's role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Enrolment {
    /// Format version.
    pub v: u32,
    /// The person enrolling.
    pub account_id: AccountId,
    /// SHA-256 of the invitation code (the code itself stays secret).
    pub invitation: Sha256Hash,
    /// When (Unix seconds).
    pub created_at: i64,
}
signed_by!(Enrolment, Enrolment, account_id);

/// The hash under which an invitation code is stored and referred to.
pub fn invitation_hash(code: &str) -> Sha256Hash {
    Sha256Hash::of_parts(&[b"ferry/v1/invitation-code\0", code.trim().as_bytes()])
}

/// A fresh invitation code: 150 random bits in Crockford base32, in six groups of five for
/// reading aloud or writing down.
pub fn new_invitation_code() -> String {
    let bytes: [u8; 30] = rand::random();
    grouped(bytes.iter().map(|b| CROCKFORD[usize::from(*b & 31)]))
}

/// Whether a code has the shape and strength of one Ferry makes (at least 125 bits).
pub fn plausible_invitation_code(code: &str) -> bool {
    let symbols: Vec<char> = code.trim().chars().filter(|c| *c != '-').collect();
    (25..=64).contains(&symbols.len())
        && symbols
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// Groups of the one-time code in an [`Invitation`]'s handed-over form.
const CODE_GROUPS: usize = 6;

/// An invitation as it is handed over: the one-time code, then the server key's fingerprint
/// ([`crate::Fingerprint::key_code`]), so the person enrolling checks the server before
/// sending it anything: ten groups of five, `CODE…-KEY…`.
#[derive(Clone, PartialEq, Eq)]
pub struct InvitationCode {
    /// The one-time code (six groups): its hash is what the invitation statement names.
    pub code: String,
    /// The fingerprint of the key of the server it is for (four groups).
    pub server_key: String,
}

impl std::fmt::Debug for InvitationCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The code is a secret until used.
        f.debug_struct("InvitationCode")
            .field("server_key", &self.server_key)
            .finish_non_exhaustive()
    }
}

/// Why a handed-over invitation cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationCodeError {
    /// Only the one-time code: the four groups that check the server are missing.
    NoServerKey,
    /// Not ten groups of five letters and digits.
    Malformed,
}

impl InvitationCode {
    /// The handed-over form of `code` for the server whose key has `server`'s fingerprint.
    pub fn new(code: &str, server: &crate::Fingerprint) -> Self {
        Self {
            code: code.to_owned(),
            server_key: server.key_code(),
        }
    }

    /// Reads a handed-over invitation as typed: any case, groups split by dashes or spaces,
    /// O read as 0 and I or L as 1.
    pub fn parse(text: &str) -> std::result::Result<Self, InvitationCodeError> {
        let groups = typed_groups(text).ok_or(InvitationCodeError::Malformed)?;
        match groups.len() {
            CODE_GROUPS => Err(InvitationCodeError::NoServerKey),
            n if n == CODE_GROUPS + crate::keycard::KEY_CODE_GROUPS => Ok(Self {
                code: groups[..CODE_GROUPS].join("-"),
                server_key: groups[CODE_GROUPS..].join("-"),
            }),
            _ => Err(InvitationCodeError::Malformed),
        }
    }
}

/// A server key's code (the last four groups of an invitation) as typed, read as
/// [`InvitationCode::parse`] reads groups; `None` unless it is four well-formed groups.
pub fn parse_key_code(text: &str) -> Option<String> {
    typed_groups(text)
        .filter(|g| g.len() == crate::keycard::KEY_CODE_GROUPS)
        .map(|g| g.join("-"))
}

/// Groups of five Crockford symbols as typed: any case, split by dashes or spaces, O read as
/// 0 and I or L as 1; `None` if any group is not five such symbols.
fn typed_groups(text: &str) -> Option<Vec<String>> {
    let groups: Vec<String> = text
        .split(|c: char| c == '-' || c.is_whitespace())
        .filter(|g| !g.is_empty())
        .map(|g| g.chars().map(typed_symbol).collect())
        .collect();
    groups
        .iter()
        .all(|g: &String| g.len() == 5 && g.bytes().all(|b| CROCKFORD.contains(&b)))
        .then_some(groups)
}

impl std::fmt::Display for InvitationCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.code, self.server_key)
    }
}

/// A login: the person signs the server's challenge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Session {
    /// Format version.
    pub v: u32,
    /// The person logging in.
    pub account_id: AccountId,
    /// The server's challenge, as given.
    pub challenge: String,
    /// When (Unix seconds).
    pub created_at: i64,
}
signed_by!(Session, Session, account_id);

/// A coordinator opening a case from a referral.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseOpen {
    /// Format version.
    pub v: u32,
    /// The coordinator.
    pub coordinator: AccountId,
    /// The new case's id.
    pub case_id: Id,
    /// The service's own reference for the case (no names).
    pub reference: String,
    /// Crime or harm category, e.g. `burglary`.
    pub category: String,
    /// `standard`, or an accreditation a facilitator must hold (`sexual_harm`,
    /// `domestic_abuse`, ...).
    pub sensitivity: String,
    /// The coordinator's sequence number.
    pub seq: u64,
    /// When (Unix seconds).
    pub created_at: i64,
}
signed_by!(CaseOpen, CaseOpen, coordinator);

/// A coordinator allocating a facilitator to a case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allocation {
    /// Format version.
    pub v: u32,
    /// The coordinator.
    pub coordinator: AccountId,
    /// The case.
    pub case_id: Id,
    /// The facilitator allocated.
    pub facilitator: AccountId,
    /// The coordinator's sequence number.
    pub seq: u64,
    /// When (Unix seconds).
    pub created_at: i64,
}
signed_by!(Allocation, Allocation, coordinator);

/// A coordinator inviting someone to a role (in a case, or service-wide for staff).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Invitation {
    /// Format version.
    pub v: u32,
    /// The coordinator.
    pub coordinator: AccountId,
    /// The case, for participants; `None` for service-wide roles.
    pub case_id: Option<Id>,
    /// The role offered.
    pub role: Role,
    /// Accreditations, for facilitators (e.g. `sexual_harm`).
    pub accreditations: Vec<String>,
    /// [`invitation_hash`] of the code.
    pub invitation: Sha256Hash,
    /// When the code stops working (Unix seconds).
    pub expires_at: i64,
    /// The coordinator's sequence number.
    pub seq: u64,
    /// When (Unix seconds).
    pub created_at: i64,
}
signed_by!(Invitation, Invitation, coordinator);

/// Outcomes of a risk assessment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskOutcome {
    /// Communication may go ahead.
    Proceed,
    /// Communication must not go ahead.
    DoNotProceed,
}

/// A coordinator recording the outcome of the risk assessment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskAssessment {
    /// Format version.
    pub v: u32,
    /// The coordinator.
    pub coordinator: AccountId,
    /// The case.
    pub case_id: Id,
    /// The outcome.
    pub outcome: RiskOutcome,
    /// The coordinator's sequence number.
    pub seq: u64,
    /// When (Unix seconds).
    pub created_at: i64,
}
signed_by!(RiskAssessment, RiskAssessment, coordinator);

/// Changes of case state a coordinator makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseAction {
    /// Stop all movement of messages.
    Pause,
    /// Let messages move again (every participant must consent).
    Resume,
    /// End the case for good.
    Close,
}

/// A coordinator pausing, resuming or closing a case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseState {
    /// Format version.
    pub v: u32,
    /// The coordinator.
    pub coordinator: AccountId,
    /// The case.
    pub case_id: Id,
    /// What to do.
    pub action: CaseAction,
    /// The coordinator's sequence number.
    pub seq: u64,
    /// When (Unix seconds).
    pub created_at: i64,
}
signed_by!(CaseState, CaseState, coordinator);

/// A participant's consent to take part in a case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Consent {
    /// Format version.
    pub v: u32,
    /// The participant.
    pub participant: AccountId,
    /// The case.
    pub case_id: Id,
    /// The participant's sequence number.
    pub seq: u64,
    /// When (Unix seconds).
    pub created_at: i64,
}
signed_by!(Consent, Consent, participant);

/// A participant withdrawing consent: the case pauses at once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Withdrawal {
    /// Format version.
    pub v: u32,
    /// The participant.
    pub participant: AccountId,
    /// The case.
    pub case_id: Id,
    /// The participant's sequence number.
    pub seq: u64,
    /// When (Unix seconds).
    pub created_at: i64,
}
signed_by!(Withdrawal, Withdrawal, participant);

/// A participant pausing what reaches them: while `hold` is true, anything passed on to them
/// in the case is held; with `hold` false, what was held is let through (if the case is
/// active). Their consent, and the case, are unchanged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hold {
    /// Format version.
    pub v: u32,
    /// The participant.
    pub participant: AccountId,
    /// The case.
    pub case_id: Id,
    /// Hold (true) or let through (false).
    pub hold: bool,
    /// The participant's sequence number.
    pub seq: u64,
    /// When (Unix seconds).
    pub created_at: i64,
}
signed_by!(Hold, Hold, participant);

/// A facilitator returning a message to its author for changes, with a sealed note.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Return {
    /// Format version.
    pub v: u32,
    /// The facilitator.
    pub facilitator: AccountId,
    /// The case.
    pub case_id: Id,
    /// The message returned.
    pub message_id: Id,
    /// SHA-256 of the original message's ciphertext.
    pub original_sha256: Sha256Hash,
    /// SHA-256 of the sealed note's ciphertext (encrypted to the author and facilitators).
    pub note_sha256: Sha256Hash,
    /// Size of the sealed note's ciphertext.
    pub note_size: u64,
    /// The facilitator's sequence number.
    pub seq: u64,
    /// When (Unix seconds).
    pub created_at: i64,
}
signed_by!(Return, Return, facilitator);

/// Why a message was withheld (content-free categories).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WithholdReason {
    /// It could put someone at risk of harm.
    RiskOfHarm,
    /// It is abusive, threatening or blaming.
    Abusive,
    /// It identifies someone or reveals where they are, beyond redaction.
    Identifying,
    /// It is outside what was agreed for this communication.
    OutsideAgreement,
    /// Another reason, explained in the facilitators' note.
    Other,
}

impl WithholdReason {
    /// Every reason, in a fixed order.
    pub const ALL: [WithholdReason; 5] = [
        WithholdReason::RiskOfHarm,
        WithholdReason::Abusive,
        WithholdReason::Identifying,
        WithholdReason::OutsideAgreement,
        WithholdReason::Other,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            WithholdReason::RiskOfHarm => "risk_of_harm",
            WithholdReason::Abusive => "abusive",
            WithholdReason::Identifying => "identifying",
            WithholdReason::OutsideAgreement => "outside_agreement",
            WithholdReason::Other => "other",
        }
    }
}

impl std::str::FromStr for WithholdReason {
    type Err = crate::CryptoError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                crate::CryptoError::invalid("withhold reason", format!("unknown reason {s:?}"))
            })
    }
}

/// A facilitator withholding a message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Withhold {
    /// Format version.
    pub v: u32,
    /// The facilitator.
    pub facilitator: AccountId,
    /// The case.
    pub case_id: Id,
    /// The message withheld.
    pub message_id: Id,
    /// SHA-256 of the original message's ciphertext.
    pub original_sha256: Sha256Hash,
    /// The reason category.
    pub reason: WithholdReason,
    /// SHA-256 of the sealed note (to the facilitators), if any.
    pub note_sha256: Option<Sha256Hash>,
    /// The facilitator's sequence number.
    pub seq: u64,
    /// When (Unix seconds).
    pub created_at: i64,
}
signed_by!(Withhold, Withhold, facilitator);

/// A facilitator escalating a message to the coordinator (who sees no content).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Escalate {
    /// Format version.
    pub v: u32,
    /// The facilitator.
    pub facilitator: AccountId,
    /// The case.
    pub case_id: Id,
    /// The message escalated.
    pub message_id: Id,
    /// SHA-256 of the original message's ciphertext.
    pub original_sha256: Sha256Hash,
    /// The reason category.
    pub reason: WithholdReason,
    /// The facilitator's sequence number.
    pub seq: u64,
    /// When (Unix seconds).
    pub created_at: i64,
}
signed_by!(Escalate, Escalate, facilitator);

/// A recipient's receipt for a forwarded message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadReceipt {
    /// Format version.
    pub v: u32,
    /// The reader (the forward's addressee).
    pub reader: AccountId,
    /// The case.
    pub case_id: Id,
    /// The original message.
    pub message_id: Id,
    /// SHA-256 of the forwarded ciphertext that was read.
    pub forwarded_sha256: Sha256Hash,
    /// The reader's sequence number.
    pub seq: u64,
    /// When (Unix seconds).
    pub created_at: i64,
}
signed_by!(ReadReceipt, ReadReceipt, reader);

/// A facilitator's record that they read out a person's safety number and it matched.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyVerification {
    /// Format version.
    pub v: u32,
    /// The facilitator.
    pub facilitator: AccountId,
    /// The case.
    pub case_id: Id,
    /// The person whose key was verified.
    pub subject: AccountId,
    /// The fingerprint that was read out.
    pub fingerprint: Sha256Hash,
    /// The facilitator's sequence number.
    pub seq: u64,
    /// When (Unix seconds).
    pub created_at: i64,
}
signed_by!(KeyVerification, KeyVerification, facilitator);

/// A facilitator's note (sealed like a letter): the reason given to an author when a
/// message is returned, or the facilitators' own note on a withheld message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Note {
    /// Format version.
    pub v: u32,
    /// The facilitator.
    pub facilitator: AccountId,
    /// The case.
    pub case_id: Id,
    /// The message it is about.
    pub message_id: Id,
    /// The text.
    pub body: String,
    /// When (Unix seconds).
    pub created_at: i64,
}
signed_by!(Note, Note, facilitator);

/// The sequence number a state-changing action carries, if it has one.
pub trait Sequenced {
    /// The signer's sequence number.
    fn seq(&self) -> u64;
}

macro_rules! sequenced {
    ($($ty:ty),*) => {
        $(impl Sequenced for $ty {
            fn seq(&self) -> u64 {
                self.seq
            }
        })*
    };
}

sequenced!(
    CaseOpen,
    Allocation,
    Invitation,
    RiskAssessment,
    CaseState,
    Consent,
    Withdrawal,
    Hold,
    Return,
    Withhold,
    Escalate,
    ReadReceipt,
    KeyVerification,
    crate::seal::Envelope,
    crate::forward::Forward,
    crate::paper::PaperMember,
    crate::paper::PaperConsent,
    crate::paper::Printing
);

#[cfg(test)]
mod tests {
    use super::{InvitationCode, InvitationCodeError, new_invitation_code};
    use crate::Identity;

    #[test]
    fn an_invitation_carries_the_server_key_and_reads_back_as_typed() {
        let server = Identity::generate("Ferry server")
            .and_then(|i| i.key_card(0))
            .map(|c| c.fingerprint());
        let Ok(server) = server else {
            return assert!(server.is_ok());
        };
        let key = server.key_code();
        assert_eq!(key.len(), 23);
        assert_eq!(key.split('-').count(), 4);
        let code = new_invitation_code();
        let handed = InvitationCode::new(&code, &server).to_string();
        assert_eq!(handed.split('-').count(), 10);
        let typed = handed.to_lowercase().replace('-', " ").replace('0', "o");
        assert_eq!(
            InvitationCode::parse(&typed),
            Ok(InvitationCode {
                code: code.clone(),
                server_key: key
            })
        );
        assert_eq!(
            InvitationCode::parse(&code),
            Err(InvitationCodeError::NoServerKey)
        );
        for bad in [
            "",
            "ABCDE",
            "ABCDE-FGHJK-KMNPQ-RSTVW-XYZ01-2345U",
            &format!("{handed}-ABCDE"),
        ] {
            assert_eq!(
                InvitationCode::parse(bad),
                Err(InvitationCodeError::Malformed),
                "{bad}"
            );
        }
    }
}
