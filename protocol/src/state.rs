//! The states and roles of the relay, each an enum with one string form: the same string in
//! JSON, in the OpenAPI document, in the database's text columns and in what people read.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use ferry_crypto::{MessageKind, Role, StatementKind};

macro_rules! string_enum {
    ($(#[doc = $doc:literal])* $name:ident { $($(#[doc = $vdoc:literal])* $variant:ident => $text:literal,)* }) => {
        $(#[doc = $doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[doc = $vdoc])* $variant,)*
        }

        impl $name {
            /// Every value, in order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The one string form.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.pad(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownValue;

            fn from_str(s: &str) -> Result<Self, UnknownValue> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| UnknownValue(stringify!($name), s.to_owned()))
            }
        }
    };
}

/// A string that is none of an enum's forms (from a newer peer, or a damaged row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownValue(pub &'static str, pub String);

impl std::fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} is not a {}", self.1, self.0)
    }
}

impl std::error::Error for UnknownValue {}

string_enum! {
    /// A case's place in its lifecycle: `referred → preparing → active ⇄ paused → closed`.
    CaseState {
        /// Opened from a referral; nobody allocated yet.
        Referred => "referred",
        /// A facilitator allocated; getting ready.
        Preparing => "preparing",
        /// Messages move.
        Active => "active",
        /// Nothing moves (a coordinator paused it, or someone withdrew).
        Paused => "paused",
        /// Ended for good.
        Closed => "closed",
    }
}

string_enum! {
    /// A message's state, as its facilitators see it.
    MessageState {
        /// Submitted; its attachments are still being uploaded.
        Uploading => "uploading",
        /// Waiting for a facilitator's decision.
        InReview => "in_review",
        /// Passed on to its recipient.
        Forwarded => "forwarded",
        /// Sent back to its author for changes.
        Returned => "returned",
        /// Not passed on.
        Withheld => "withheld",
        /// Referred to the coordinator; still waiting for a decision.
        Escalated => "escalated",
    }
}

string_enum! {
    /// What a delivery carries: a forwarded message, or a returned message's note.
    DeliveryKind {
        /// A forwarded message, for its recipient.
        Forward => "forward",
        /// A returned message's note, for its author.
        Return => "return",
    }
}

string_enum! {
    /// A delivery's state.
    DeliveryState {
        /// Approved while the case was paused: waits for it to resume.
        Held => "held",
        /// Approved; its attachments are still being uploaded.
        Uploading => "uploading",
        /// Its recipient can read it.
        Released => "released",
        /// Its recipient signed a receipt.
        Read => "read",
        /// The case closed before it was released.
        Cancelled => "cancelled",
    }
}

string_enum! {
    /// A participant's consent.
    Consent {
        /// Not given yet.
        None => "none",
        /// Given.
        Given => "given",
        /// Withdrawn (the case paused at once).
        Withdrawn => "withdrawn",
    }
}

string_enum! {
    /// A service-wide role.
    StaffRole {
        /// Runs the service.
        Coordinator => "coordinator",
        /// Reviews and carries messages.
        Facilitator => "facilitator",
        /// Checks the record.
        Auditor => "auditor",
        /// The server's own account (signs checkpoints and the first invitation).
        Server => "server",
    }
}

string_enum! {
    /// What became of a message, as its author is told.
    SentState {
        /// Its attachments are still being uploaded.
        Uploading => "uploading",
        /// With the facilitator.
        WithFacilitator => "with_facilitator",
        /// Returned to its author with a note.
        Returned => "returned",
        /// Passed on as written.
        PassedOn => "passed_on",
        /// Passed on, with some details removed.
        PassedOnRedacted => "passed_on_redacted",
        /// Not passed on.
        NotPassedOn => "not_passed_on",
    }
}

string_enum! {
    /// How a person wants to hear that something is waiting.
    Notifications {
        /// An e-mail each time.
        Immediate => "immediate",
        /// One e-mail a day at most.
        Daily => "daily",
        /// No e-mail.
        None => "none",
    }
}

string_enum! {
    /// What an e-mail is about.
    MailKind {
        /// An invitation with its enrolment code.
        Invitation => "invitation",
        /// Something was delivered to the person.
        NewMessage => "new_message",
        /// A message waits for a facilitator's review.
        ReviewWaiting => "review_waiting",
        /// A case needs a coordinator's attention (escalation, withdrawal).
        CaseAttention => "case_attention",
        /// The daily digest.
        Digest => "digest",
    }
}

string_enum! {
    /// Where an e-mail is in the outbox.
    MailState {
        /// Waiting to be sent.
        Pending => "pending",
        /// Waiting to be folded into the person's daily digest.
        Digest => "digest",
        /// Folded into a digest (never sent on its own).
        Folded => "folded",
        /// Being sent.
        Sending => "sending",
        /// Sent.
        Sent => "sent",
        /// Given up on after repeated failures.
        Failed => "failed",
    }
}

/// A signed statement as it travels (`ferry_crypto::SignedStatement`, described for the
/// OpenAPI document). The signature is Ed25519 over `"ferry/v1/" || kind || "\0" || body`
/// (the body's bytes): verify the exact bytes, then parse them.
#[derive(ToSchema)]
#[schema(as = SignedStatement)]
#[allow(dead_code)]
pub struct SignedStatementDoc {
    /// What the statement is.
    #[schema(schema_with = statement_kind_schema)]
    kind: String,
    /// The account that signed it.
    signer: String,
    /// Standard base64 of the exact JSON bytes signed.
    #[schema(format = Byte)]
    body: String,
    /// Standard base64 of the 64-byte Ed25519 signature.
    #[schema(format = Byte)]
    sig: String,
}

/// The OpenAPI schema of a statement kind: one of [`StatementKind::ALL`].
pub fn statement_kind_schema() -> utoipa::openapi::schema::Object {
    text_enum(
        "A kind of signed statement.",
        StatementKind::ALL.iter().map(|k| k.as_str()),
    )
}

/// The OpenAPI schema of a case role: one of [`Role::ALL`].
pub fn role_schema() -> utoipa::openapi::schema::Object {
    text_enum("A role in a case.", Role::ALL.iter().map(|r| r.as_str()))
}

/// The OpenAPI schema of a message kind: one of [`MessageKind::ALL`].
pub fn message_kind_schema() -> utoipa::openapi::schema::Object {
    text_enum(
        "What a message is.",
        MessageKind::ALL.iter().map(|k| k.as_str()),
    )
}

fn text_enum<'a>(
    description: &str,
    values: impl Iterator<Item = &'a str>,
) -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .description(Some(description))
        .enum_values(Some(values))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trips<T>(all: &[T])
    where
        T: Copy + std::fmt::Display + std::str::FromStr + PartialEq + std::fmt::Debug + Serialize,
        <T as std::str::FromStr>::Err: std::fmt::Debug,
    {
        for v in all {
            let text = v.to_string();
            assert_eq!(text.parse::<T>().ok(), Some(*v));
            assert_eq!(serde_json::to_string(v).ok(), Some(format!("\"{text}\"")));
        }
    }

    #[test]
    fn each_value_has_one_string_form() {
        round_trips(CaseState::ALL);
        round_trips(MessageState::ALL);
        round_trips(DeliveryKind::ALL);
        round_trips(DeliveryState::ALL);
        round_trips(Consent::ALL);
        round_trips(StaffRole::ALL);
        round_trips(SentState::ALL);
        round_trips(Notifications::ALL);
        round_trips(MailKind::ALL);
        round_trips(MailState::ALL);
        assert!("nope".parse::<CaseState>().is_err());
    }
}
