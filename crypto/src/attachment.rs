//! Attachments (a scanned handwritten reply, a photo, an audio file) as streaming age files.
//! Memory use is one age chunk (64 KiB) plus copy buffers, whatever the file's size.
//!
//! When opening, the ciphertext and plaintext digests are only known at the end: a caller
//! writing to a file must write to a temporary file and keep it only if this returns `Ok`.
//!
//! The two SHA-256 digests (plaintext and ciphertext) are computed on two helper threads while
//! the calling thread encrypts or decrypts, so a large file costs about as long as the
//! encryption alone on a machine with a spare core. The hand-over queues are bounded, so memory
//! stays flat.

use std::io::{self, Read, Write};
use std::sync::mpsc::{SyncSender, sync_channel};

use crate::agefile;
use crate::error::{CryptoError, Result};
use crate::hash::{HashingWriter, Sha256Hash, StreamDigest};
use crate::identity::Identity;
use crate::seal::{AttachmentBlob, AttachmentRef};

/// Copy size for streaming: one age chunk.
const CHUNK: usize = 64 * 1024;

/// Hands bytes to a SHA-256 running on another thread.
struct Side(SyncSender<Vec<u8>>);

impl Side {
    fn feed(&self, bytes: &[u8]) {
        if !bytes.is_empty() {
            // The hashing thread only stops when this sender is dropped.
            let _ = self.0.send(bytes.to_vec());
        }
    }
}

/// A digest and a byte count.
type Digest = (Sha256Hash, u64);

/// Runs `f` with two side hashers and returns its result with both digests.
fn with_side_hashes<T>(f: impl FnOnce(&Side, &Side) -> T) -> Result<(T, Digest, Digest)> {
    std::thread::scope(|scope| {
        let spawn = |rx: std::sync::mpsc::Receiver<Vec<u8>>| {
            scope.spawn(move || {
                let mut d = StreamDigest::default();
                for chunk in rx {
                    d.update(&chunk);
                }
                d.finish()
            })
        };
        let (a_tx, a_rx) = sync_channel(16);
        let (b_tx, b_rx) = sync_channel(16);
        let (a, b) = (spawn(a_rx), spawn(b_rx));
        let result = {
            let (a_side, b_side) = (Side(a_tx), Side(b_tx));
            f(&a_side, &b_side)
        };
        let lost = || CryptoError::Io(io::Error::other("a hashing thread stopped"));
        Ok((
            result,
            a.join().map_err(|_| lost())?,
            b.join().map_err(|_| lost())?,
        ))
    })
}

/// A reader that hands what it reads to a side hasher.
struct SideReader<'a, R> {
    inner: R,
    side: &'a Side,
}

impl<R: Read> Read for SideReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.side.feed(&buf[..n]);
        Ok(n)
    }
}

/// A writer that hands what it writes to a side hasher.
struct SideWriter<'a, W> {
    inner: W,
    side: &'a Side,
}

impl<W: Write> Write for SideWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.side.feed(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

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
    let (copied, (plain_sha, plain_size), (blob_sha, blob_size)) =
        with_side_hashes(|plain, blob| {
            let mut reader = SideReader {
                inner: input,
                side: plain,
            };
            let mut writer = agefile::encrypt_stream(
                &set,
                SideWriter {
                    inner: output,
                    side: blob,
                },
            )?;
            copy(&mut reader, &mut writer, CryptoError::Io)?;
            writer.finish()?.flush()?;
            Ok::<_, CryptoError>(())
        })?;
    copied?;
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
    let (opened, (plain_sha, plain_size), (blob_sha, blob_size)) =
        with_side_hashes(|plain, cipher| {
            // Big reads, so the ciphertext reaches its hasher in few large pieces.
            let mut hashed_in = io::BufReader::with_capacity(
                4 * CHUNK,
                SideReader {
                    inner: input,
                    side: cipher,
                },
            );
            {
                let decrypting = agefile::decrypt_stream(identity.age_identity(), &mut hashed_in)?;
                let mut out = SideWriter {
                    inner: &mut output,
                    side: plain,
                };
                copy(&mut { decrypting }, &mut out, CryptoError::from_stream_io)?;
            }
            // Anything after the age stream's final chunk is not part of the blob.
            let mut trailing = [0u8; 1];
            if hashed_in.read(&mut trailing)? != 0 {
                return Err(CryptoError::CiphertextMismatch);
            }
            Ok(())
        })?;
    opened?;
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

/// Copies in age-chunk-sized pieces; read errors are mapped by `on_read` (for a decrypting
/// stream, into tampering), write errors are I/O errors.
fn copy<R: Read, W: Write>(
    reader: &mut R,
    writer: &mut W,
    on_read: fn(io::Error) -> CryptoError,
) -> Result<u64> {
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(on_read(e)),
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
