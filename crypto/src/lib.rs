//! Ferry's cryptographic core: identities and key cards, signed statements, sealed messages,
//! facilitator forwards, streaming attachments and the passphrase-protected keystore.
//!
//! This crate does no I/O beyond the `Read`/`Write` values it is handed. Every signature is
//! computed over `"ferry/v1/<kind>\0" || bytes`, where `bytes` is the exact JSON that travels;
//! verifiers check those bytes first and only then parse them (see [`statement`]).
//! Sealed payloads are standard age files, so any age implementation opens them.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod actions;
mod agefile;
pub mod attachment;
mod b64;
pub mod error;
pub mod forward;
pub mod hash;
pub mod identity;
pub mod ids;
pub mod keycard;
pub mod keystore;
pub mod log_format;
pub mod paper;
pub mod seal;
pub mod statement;

pub use age::secrecy::SecretString;
pub use age::x25519::Recipient;
pub use ed25519_dalek::VerifyingKey;
pub use error::{CryptoError, Result};
pub use hash::Sha256Hash;
pub use identity::Identity;
pub use ids::{AccountId, Id, MessageKind, Role, with_article};
pub use keycard::{Fingerprint, KeyCard};
pub use statement::{SignedStatement, Statement, StatementKind};

/// Version number carried in every statement body as `"v"`.
pub const FORMAT_VERSION: u32 = 1;

/// Largest signed statement (JSON bytes) accepted from anyone.
pub const MAX_STATEMENT_BYTES: usize = 64 * 1024;

/// Largest sealed message ciphertext (letters and notes; attachments stream separately).
pub const MAX_MESSAGE_BYTES: usize = 1024 * 1024;

/// Largest message body, in bytes of UTF-8 text.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
