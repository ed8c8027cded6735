//! Ferry's API as both sides speak it: the JSON bodies of every request and answer
//! ([`api`]), the error codes with their statuses and sentences ([`error`]), the states and
//! roles ([`state`]), and the clock ([`time`]); each with its OpenAPI schema. The server and
//! every client link this crate, and nothing of each other.
#![forbid(unsafe_code)]

pub mod api;
pub mod error;
pub mod state;
pub mod time;

pub use api::*;
pub use error::{ErrorBody, ErrorCode, ErrorDetail};
pub use state::{
    CaseState, Consent, DeliveryKind, DeliveryState, MailKind, MailState, MessageKind,
    MessageState, Notifications, Role, SentState, StaffRole,
};
pub use time::{format_date, format_time, now, parse_date};
