//! Attachments (a scanned handwritten reply, a photo, an audio file) as streaming age files.
//! Memory use is one age chunk (64 KiB) plus copy buffers, whatever the file's size.
//!
//! When opening, the ciphertext and plaintext digests are only known at the end: a caller
//! writing to a file must write to a temporary file and keep it only if this returns `Ok`.

use std::io::{self, Read, Write};

use crate::agefile;
use crate::error::{CryptoError, Result};
use crate::hash::{HashingReader, HashingWriter};
use crate::identity::Identity;
use crate::seal::{AttachmentBlob, AttachmentRef};

/// The digests of a sealed attachment: the plaintext (for the letter) and the blob (for the
/// envelope and the server).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedAttachment {
    /// The plaintext reference, to put in the signed letter.
    pub plaintext: AttachmentRef,
    /// The ciphertext digest, to put in the envelope.
    pub blob: AttachmentBlob,
}

/// Encrypts `input` to `recipients` (plus `sender`), streaming into `output`.
pub fn seal_attachment<R: Read, W: Write>(
    sender: &Identity,
    recipients: &[age::x25519::Recipient],
    name: &str,
    input: R,
    output: W,
) -> Result<SealedAttachment> {
    check_name(name)?;
    let own = sender.recipient();
    let set = agefile::recipient_set(recipients.iter().chain(std::iter::once(&own)))?;
    let mut reader = HashingReader::new(input);
    let mut writer = agefile::encrypt_stream(&set, HashingWriter::new(output))?;
    io::copy(&mut reader, &mut writer)?;
    let mut hashing = writer.finish()?;
    hashing.flush()?;
    let (_, blob_sha, blob_size) = hashing.finish();
    let (plain_sha, plain_size) = reader.finish();
    Ok(SealedAttachment {
        plaintext: AttachmentRef {
            name: name.to_owned(),
            size: plain_size,
            sha256: plain_sha,
        },
        blob: AttachmentBlob {
            size: blob_size,
            sha256: blob_sha,
        },
    })
}

/// Decrypts a blob streaming into `output`, then checks it against the blob digest the
/// envelope or forward signs and the plaintext digest the letter signs. Returns the number
/// of plaintext bytes written.
pub fn open_attachment<R: Read, W: Write>(
    identity: &Identity,
    blob: &AttachmentBlob,
    expected: &AttachmentRef,
    input: R,
    mut output: W,
) -> Result<u64> {
    let mut hashed_in = HashingReader::new(input);
    let (plain_sha, plain_size) = {
        let decrypting = agefile::decrypt_stream(identity.age_identity(), &mut hashed_in)?;
        let mut plain = HashingReader::new(decrypting);
        copy_decrypting(&mut plain, &mut output)?;
        plain.finish()
    };
    // Anything after the age stream's final chunk is not part of the blob.
    let mut trailing = [0u8; 1];
    if hashed_in.read(&mut trailing)? != 0 {
        return Err(CryptoError::CiphertextMismatch);
    }
    let (blob_sha, blob_size) = hashed_in.finish();
    if blob_sha != blob.sha256 || blob_size != blob.size {
        return Err(CryptoError::CiphertextMismatch);
    }
    if plain_sha != expected.sha256 || plain_size != expected.size {
        return Err(CryptoError::AttachmentMismatch);
    }
    output.flush()?;
    Ok(plain_size)
}

/// Decrypts a blob and re-encrypts it to new recipients in one pass (for a forward),
/// checking it as [`open_attachment`] does. Returns the new blob's digest.
pub fn reseal_attachment<R: Read, W: Write>(
    identity: &Identity,
    blob: &AttachmentBlob,
    expected: &AttachmentRef,
    recipients: &[age::x25519::Recipient],
    input: R,
    output: W,
) -> Result<AttachmentBlob> {
    let own = identity.recipient();
    let set = agefile::recipient_set(recipients.iter().chain(std::iter::once(&own)))?;
    let mut writer = agefile::encrypt_stream(&set, HashingWriter::new(output))?;
    open_attachment(identity, blob, expected, input, &mut writer)?;
    let mut hashing = writer.finish()?;
    hashing.flush()?;
    let (_, sha256, size) = hashing.finish();
    Ok(AttachmentBlob { size, sha256 })
}

/// `io::copy`, but read errors from the decrypting side are reported as tampering.
fn copy_decrypting<R: Read, W: Write>(reader: &mut R, writer: &mut W) -> Result<u64> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CryptoError::from_stream_io(e)),
        };
        writer.write_all(&buf[..n])?;
        total += n as u64;
    }
}

fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 255
        && !name.contains(['/', '\\'])
        && !name.chars().any(char::is_control)
        && name != "."
        && name != "..";
    if ok {
        Ok(())
    } else {
        Err(CryptoError::invalid(
            "attachment name",
            "must be a plain file name of 1 to 255 bytes",
        ))
    }
}
