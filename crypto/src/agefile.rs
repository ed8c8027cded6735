//! Thin helpers over the `age` crate: encrypt to a recipient set, decrypt with a limit.

use std::collections::HashSet;
use std::io::{BufRead, Read, Write};

use zeroize::Zeroizing;

use crate::error::{CryptoError, Result};

/// Deduplicates recipients, keeping order; refuses an empty set.
pub(crate) fn recipient_set<'a>(
    recipients: impl IntoIterator<Item = &'a age::x25519::Recipient>,
) -> Result<Vec<&'a age::x25519::Recipient>> {
    let mut seen = HashSet::new();
    let set: Vec<_> = recipients.into_iter().filter(|r| seen.insert(*r)).collect();
    if set.is_empty() {
        return Err(CryptoError::NoRecipients);
    }
    Ok(set)
}

/// Starts an age stream to `recipients` over `output`.
pub(crate) fn encrypt_stream<W: Write>(
    recipients: &[&age::x25519::Recipient],
    output: W,
) -> Result<age::stream::StreamWriter<W>> {
    let encryptor =
        age::Encryptor::with_recipients(recipients.iter().map(|r| *r as &dyn age::Recipient))
            .map_err(|e| match e {
                age::EncryptError::MissingRecipients => CryptoError::NoRecipients,
                age::EncryptError::Io(e) => CryptoError::Io(e),
                other => CryptoError::Decrypt(other.to_string()),
            })?;
    Ok(encryptor.wrap_output(output)?)
}

/// Encrypts `plaintext` to `recipients` as one age file.
pub(crate) fn encrypt(recipients: &[&age::x25519::Recipient], plaintext: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(plaintext.len() + 512);
    let mut w = encrypt_stream(recipients, &mut out)?;
    w.write_all(plaintext)?;
    w.finish()?;
    Ok(out)
}

/// Opens an age stream with `identity`.
pub(crate) fn decrypt_stream<R: Read>(
    identity: &dyn age::Identity,
    input: R,
) -> Result<age::stream::StreamReader<R>> {
    start_decrypting(identity, age::Decryptor::new(input))
}

/// Opens an age stream with `identity`, reading the header through `input`'s own buffer.
pub(crate) fn decrypt_buffered<R: BufRead>(
    identity: &dyn age::Identity,
    input: R,
) -> Result<age::stream::StreamReader<R>> {
    start_decrypting(identity, age::Decryptor::new_buffered(input))
}

fn start_decrypting<R: Read>(
    identity: &dyn age::Identity,
    decryptor: std::result::Result<age::Decryptor<R>, age::DecryptError>,
) -> Result<age::stream::StreamReader<R>> {
    let decryptor = decryptor.map_err(CryptoError::from_age)?;
    if decryptor.is_scrypt() {
        // A passphrase file where a recipient file is expected: not ours to open.
        return Err(CryptoError::NotARecipient);
    }
    decryptor
        .decrypt(std::iter::once(identity))
        .map_err(CryptoError::from_age)
}

/// Decrypts a whole age file held in memory, refusing plaintext over `limit` bytes.
pub(crate) fn decrypt(
    identity: &dyn age::Identity,
    ciphertext: &[u8],
    limit: usize,
) -> Result<Zeroizing<Vec<u8>>> {
    let reader = decrypt_stream(identity, ciphertext)?;
    read_limited(reader, limit, ciphertext.len(), "decrypted message")
}

/// Reads a decrypting stream to its end, at most `limit` bytes; `size_hint` (such as the
/// ciphertext length) pre-sizes the buffer.
pub(crate) fn read_limited<R: Read>(
    reader: R,
    limit: usize,
    size_hint: usize,
    what: &'static str,
) -> Result<Zeroizing<Vec<u8>>> {
    // Sized up front so that growing never leaves unzeroized copies behind.
    let mut plaintext = Zeroizing::new(Vec::with_capacity(size_hint.min(limit) + 1));
    reader
        .take(limit as u64 + 1)
        .read_to_end(&mut plaintext)
        .map_err(CryptoError::from_stream_io)?;
    if plaintext.len() > limit {
        return Err(CryptoError::TooLarge {
            what,
            size: plaintext.len() as u64,
            limit: limit as u64,
        });
    }
    Ok(plaintext)
}
