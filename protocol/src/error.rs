//! Every error the API answers with, in one table: its stable code, its HTTP status and the
//! sentence it says when the handler has nothing more specific. The body is
//! `{"error":{"code":"…","message":"…"}}`. Handlers name a variant, never a string, and no
//! code branches on a message's text.

use ferry_crypto::CryptoError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

macro_rules! error_codes {
    ($($variant:ident => $code:literal, $status:literal, $sentence:literal;)*) => {
        /// A stable, machine-readable error code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum ErrorCode {
            $(#[doc = $sentence] $variant,)*
        }

        impl ErrorCode {
            /// Every code, in the table's order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The stable string.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                }
            }

            /// The HTTP status it is answered with.
            pub fn status(self) -> u16 {
                match self {
                    $(ErrorCode::$variant => $status,)*
                }
            }

            /// What it says when nothing more specific is said.
            pub fn sentence(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $sentence,)*
                }
            }
        }
    };
}

error_codes! {
    // The request itself.
    MalformedBody => "malformed_body", 400, "the request is not well-formed JSON of the expected shape";
    TooLarge => "too_large", 413, "the request is larger than the server accepts";
    UnsupportedMediaType => "unsupported_media_type", 415, "send the request as JSON (Content-Type: application/json)";
    InvalidField => "invalid_field", 400, "a field of the request is not valid";
    BadCursor => "bad_cursor", 400, "that is not a place to start a page from";
    BeyondLog => "beyond_log", 400, "the log does not hold that many events";
    UploadInterrupted => "upload_interrupted", 400, "the upload was interrupted; send it again";
    // Who is asking.
    Unauthorized => "unauthorized", 401, "this session has expired or is not valid; log in again";
    WrongRole => "wrong_role", 403, "your role does not allow this";
    NotWholeLogAuditor => "not_whole_log_auditor", 403, "only coordinators and service-wide auditors may read the whole log";
    NotYourStatement => "not_your_statement", 403, "a signed action must be signed by the person who sends it";
    NotAddressee => "not_addressee", 403, "only the person it was delivered to can do this";
    NotAccredited => "not_accredited", 403, "that facilitator is not accredited for this case";
    NotFound => "not_found", 404, "there is nothing here, or nothing you may see";
    // Signed statements and their bytes.
    Malformed => "malformed", 400, "a statement or its contents cannot be read";
    Invalid => "invalid", 400, "a statement breaks a rule of its format";
    BadSignature => "bad_signature", 422, "a signature does not verify";
    WrongKind => "wrong_kind", 400, "a statement is of another kind than expected";
    WrongSigner => "wrong_signer", 422, "a statement is signed by someone other than it names";
    Mismatch => "mismatch", 400, "the signed statement does not match the request";
    CiphertextMismatch => "ciphertext_mismatch", 400, "the ciphertext is not the one the statement signs";
    AttachmentMismatch => "attachment_mismatch", 400, "an attachment is not the one the statement signs";
    NotARecipient => "not_a_recipient", 400, "this was not sealed to the key that tried to open it";
    DecryptFailed => "decrypt_failed", 400, "this could not be decrypted";
    NoRecipients => "no_recipients", 400, "something was to be sealed to nobody";
    WrongPassphrase => "wrong_passphrase", 400, "the passphrase is not the keystore's";
    ExcessiveWork => "excessive_work", 400, "the keystore asks for more work than is allowed";
    DuplicateLabel => "duplicate_label", 400, "the keystore already holds keys under that name";
    BadCheckpoint => "bad_checkpoint", 400, "a checkpoint does not verify";
    BadProof => "bad_proof", 400, "a proof does not verify";
    BadSequence => "bad_sequence", 400, "the sequence number is not the next one";
    ReplayedSequence => "replayed_sequence", 409, "this sequence number was already used";
    // Enrolment and invitations.
    InvalidInvitation => "invalid_invitation", 403, "this invitation code is not valid: it may be mistyped, expired or already used";
    WrongServer => "wrong_server", 403, "this invitation is for another Ferry server";
    WeakOrMismatchedCode => "weak_or_mismatched_code", 400, "the invitation code must be a strong Ferry code matching the signed hash";
    InvalidExpiry => "invalid_expiry", 400, "an invitation must expire in the future and within 30 days";
    AlreadyStaff => "already_staff", 409, "this account already holds a service-wide role";
    AlreadyMember => "already_member", 409, "this person is already in this case";
    NoEmail => "no_email", 400, "Ferry has no e-mail address for you";
    // Cases.
    CaseClosed => "case_closed", 409, "this case is closed";
    CaseNotActive => "case_not_active", 409, "messages move only while a case is active";
    NotReady => "not_ready", 409, "the case is not ready yet";
    WrongState => "wrong_state", 409, "the case is not in a state that allows this";
    NoConsent => "no_consent", 409, "consent has not been given";
    NotAFacilitator => "not_a_facilitator", 400, "that account is not a facilitator";
    TooManyFacilitators => "too_many_facilitators", 409, "a case has at most two facilitators";
    FingerprintMismatch => "fingerprint_mismatch", 400, "the fingerprint is not the one on this person's key card";
    // Messages and deliveries.
    WrongRecipient => "wrong_recipient", 400, "that person cannot receive this message";
    BadReply => "bad_reply", 400, "a reply must refer to a message it can answer";
    TooManyAttachments => "too_many_attachments", 400, "a message has too many attachments";
    AlreadyDecided => "already_decided", 409, "this message is not waiting for a decision";
    AlreadyForwarded => "already_forwarded", 409, "this message was already forwarded to that person";
    AlreadyRead => "already_read", 409, "a receipt was already recorded for this delivery";
    AlreadyExists => "already_exists", 409, "that record already exists";
    NotOnPaper => "not_on_paper", 400, "that person does not take part on paper";
    OnPaper => "on_paper", 409, "that person takes part on paper, through their facilitator";
    NotReleased => "not_released", 409, "only a letter passed on and not held can be printed";
    TooManyChecks => "too_many_checks", 429, "too many checks from here; wait a minute, then try again";
    NotALetterCode => "not_a_letter_code", 400, "that is not a letter's code: it is twenty letters and digits, in four groups of five";
    MistypedLetterCode => "mistyped_letter_code", 400, "one of the letters or digits of that code is mistyped: check it against the letter";
    NoSuchLetter => "no_such_letter", 404, "no letter printed by this service has that code";
    // The server.
    Internal => "internal", 500, "the server could not complete this request; nothing was changed";
    NotDurable => "not_durable", 500, "the server could not be sure this was stored; send it again";
    StorageFailed => "storage_failed", 503, "the server cannot store anything at the moment; try again later";
    // Said by a client, never by the server: the answer was not one of Ferry's.
    HttpError => "http_error", 502, "the server answered with something that is not a Ferry answer";
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

impl std::str::FromStr for ErrorCode {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        Self::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == s)
            .ok_or(())
    }
}

impl From<&CryptoError> for ErrorCode {
    fn from(err: &CryptoError) -> Self {
        match err {
            CryptoError::Malformed { .. } => ErrorCode::Malformed,
            CryptoError::Invalid { .. } => ErrorCode::Invalid,
            CryptoError::BadSignature { .. } => ErrorCode::BadSignature,
            CryptoError::WrongKind { .. } => ErrorCode::WrongKind,
            CryptoError::WrongSigner { .. } => ErrorCode::WrongSigner,
            CryptoError::Mismatch { .. } => ErrorCode::Mismatch,
            CryptoError::CiphertextMismatch => ErrorCode::CiphertextMismatch,
            CryptoError::AttachmentMismatch => ErrorCode::AttachmentMismatch,
            CryptoError::NotARecipient => ErrorCode::NotARecipient,
            CryptoError::Decrypt(_) => ErrorCode::DecryptFailed,
            CryptoError::NoRecipients => ErrorCode::NoRecipients,
            CryptoError::TooLarge { .. } => ErrorCode::TooLarge,
            CryptoError::WrongPassphrase => ErrorCode::WrongPassphrase,
            CryptoError::ExcessiveWork { .. } => ErrorCode::ExcessiveWork,
            CryptoError::DuplicateLabel(_) => ErrorCode::DuplicateLabel,
            CryptoError::Checkpoint(_) => ErrorCode::BadCheckpoint,
            CryptoError::Proof(_) => ErrorCode::BadProof,
            // Reading or writing failed on this side, and any kind of error the crypto
            // crate adds before this table learns it: the server's own failure.
            _ => ErrorCode::Internal,
        }
    }
}

/// Error body: `{"error":{"code":"...","message":"..."}}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// A stable code and a sentence for people.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `replayed_sequence` (one of [`ErrorCode`]; a client
    /// keeps a code it does not know as it is).
    #[schema(value_type = ErrorCode)]
    pub code: String,
    /// What went wrong, in plain language.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    #[test]
    fn every_code_is_one_string_with_one_status() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "{code} twice");
            assert_eq!(code.as_str().parse::<ErrorCode>(), Ok(*code));
            assert!((400..600).contains(&code.status()), "{code}");
            assert!(!code.sentence().is_empty(), "{code}");
            // The JSON form (and the OpenAPI document's) is the same string.
            assert_eq!(
                serde_json::to_string(code).ok(),
                Some(format!("\"{}\"", code.as_str()))
            );
        }
    }
}
