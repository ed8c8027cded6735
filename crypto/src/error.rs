//! The one error type of the crypto core. Every variant has a stable code for APIs and a
//! sentence a person can act on; none carries plaintext or key material.

use std::io;

/// Result alias for this crate.
pub type Result<T, E = CryptoError> = std::result::Result<T, E>;

/// Everything that can go wrong while signing, verifying, sealing, opening or storing keys.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// Bytes that should hold a structure do not parse as one.
    #[error("malformed {what}: {detail}")]
    Malformed {
        /// What was being parsed.
        what: &'static str,
        /// Why it did not parse.
        detail: String,
    },
    /// A value is outside what Ferry accepts (length, characters, range).
    #[error("invalid {what}: {detail}")]
    Invalid {
        /// Which value.
        what: &'static str,
        /// What is wrong with it.
        detail: String,
    },
    /// An Ed25519 signature does not verify over the signed bytes.
    #[error("the signature on this {kind} statement does not verify")]
    BadSignature {
        /// The statement kind whose signature failed.
        kind: &'static str,
    },
    /// A statement of another kind was presented where one kind was expected.
    #[error("expected a {expected} statement, found {found}")]
    WrongKind {
        /// The kind that was expected.
        expected: &'static str,
        /// The kind that was found.
        found: String,
    },
    /// A statement was signed by someone other than the expected person.
    #[error("signed by account {found}, but account {expected} was expected")]
    WrongSigner {
        /// The account that should have signed.
        expected: String,
        /// The account that did sign.
        found: String,
    },
    /// A signed field differs from the value the context requires (case, kind, author, ...).
    #[error("the {field} does not match: expected {expected}, found {found}")]
    Mismatch {
        /// Which field.
        field: &'static str,
        /// What the context requires.
        expected: String,
        /// What the signed data says.
        found: String,
    },
    /// Ciphertext bytes differ from the hash or size that their signed statement binds.
    #[error("the ciphertext does not match the hash and size its signed statement binds")]
    CiphertextMismatch,
    /// A decrypted attachment differs from the digest its letter signs.
    #[error("the attachment does not match the digest its letter signs")]
    AttachmentMismatch,
    /// None of the given keys can open this age file.
    #[error("this message is not encrypted to any of your keys")]
    NotARecipient,
    /// The age file is damaged or was tampered with.
    #[error("the encrypted data is damaged or was tampered with ({0})")]
    Decrypt(String),
    /// Sealing needs at least one recipient.
    #[error("there is nobody to encrypt to")]
    NoRecipients,
    /// Data is larger than Ferry accepts.
    #[error("{what} is too large: {size} bytes, the limit is {limit}")]
    TooLarge {
        /// What was too large.
        what: &'static str,
        /// Its size in bytes.
        size: u64,
        /// The limit in bytes.
        limit: u64,
    },
    /// The keystore passphrase is wrong.
    #[error("wrong passphrase for this keystore")]
    WrongPassphrase,
    /// The keystore demands more scrypt work than this device allows.
    #[error("the keystore asks for scrypt work factor {required}, more than the allowed {max}")]
    ExcessiveWork {
        /// The work factor the file asks for.
        required: u8,
        /// The most this device accepts.
        max: u8,
    },
    /// A keystore already holds an identity under this label.
    #[error("the keystore already holds an identity labelled {0:?}")]
    DuplicateLabel(String),
    /// A checkpoint does not parse, is for another log, or its signature does not verify.
    #[error("checkpoint rejected: {0}")]
    Checkpoint(String),
    /// An inclusion or consistency proof does not hold.
    #[error("proof rejected: {0}")]
    Proof(String),
    /// Reading or writing failed.
    #[error("input/output error: {0}")]
    Io(#[from] io::Error),
}

impl CryptoError {
    pub(crate) fn malformed(what: &'static str, detail: impl ToString) -> Self {
        Self::Malformed {
            what,
            detail: detail.to_string(),
        }
    }

    pub(crate) fn invalid(what: &'static str, detail: impl ToString) -> Self {
        Self::Invalid {
            what,
            detail: detail.to_string(),
        }
    }

    pub(crate) fn mismatch(
        field: &'static str,
        expected: impl ToString,
        found: impl ToString,
    ) -> Self {
        Self::Mismatch {
            field,
            expected: expected.to_string(),
            found: found.to_string(),
        }
    }

    /// Maps an age decryption error to ours. An I/O error that wraps a STREAM failure is
    /// tampering, not a disk problem, so it is reported as such.
    pub(crate) fn from_age(err: age::DecryptError) -> Self {
        match err {
            age::DecryptError::NoMatchingKeys => Self::NotARecipient,
            age::DecryptError::ExcessiveWork { required, target } => Self::ExcessiveWork {
                required,
                max: target,
            },
            age::DecryptError::Io(e) => Self::from_stream_io(e),
            other => Self::Decrypt(other.to_string()),
        }
    }

    /// Maps an I/O error raised while reading a decrypting stream.
    pub(crate) fn from_stream_io(err: io::Error) -> Self {
        match err.kind() {
            io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof => {
                Self::Decrypt(err.to_string())
            }
            _ => Self::Io(err),
        }
    }
}
