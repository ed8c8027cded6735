//! Attachments (a scanned handwritten reply, a photo, an audio file) as streaming age files.
//! Memory use is one age chunk (64 KiB) plus copy buffers, whatever the file's size.
//!
//! When opening, the ciphertext and plaintext digests are only known at the end: a caller
//! writing to a file must write to a temporary file and keep it only if this returns `Ok`.
//!
//! The two SHA-256 digests (plaintext and ciphertext) are computed on a helper thread while
//! the calling thread encrypts or decrypts, so a large file costs about as long as the
//! encryption alone on a machine with a spare core. Bytes go over in 256 KiB pieces that come
//! back to be refilled, and the hand-over queue is bounded, so memory stays flat.

use std::io::{self, BufRead, Read, Write};
use std::sync::mpsc::{Receiver, SyncSender, channel, sync_channel};

use crate::agefile;
use crate::error::{CryptoError, Result};
use crate::hash::{HashingWriter, Sha256Hash, StreamDigest};
use crate::identity::Identity;
use crate::seal::{AttachmentBlob, AttachmentRef};

/// Copy size for streaming: one age chunk.
const CHUNK: usize = 64 * 1024;

/// Bytes handed to the hashing thread at a time: big enough that it is woken rarely, small
/// enough to stay in cache (1 MiB measured slower).
const PIECE: usize = 256 * 1024;

/// Pieces queued for the hashing thread before the caller waits.
const QUEUED: usize = 8;

/// A piece of a stream on its way to be hashed: which stream, the buffer, and how much of it
/// is filled.
type Piece = (usize, Vec<u8>, usize);

/// One stream hashed by the hashing thread. Bytes are gathered into a piece buffer and handed
/// over when it is full; the buffer comes back to be filled again, so a stream of any length
/// uses a fixed handful of buffers. Readers can fill the piece directly ([`Side::read_from`],
/// [`SideReader`]), which saves copying the bytes a second time.
struct Side {
    to_hasher: Option<SyncSender<Piece>>,
    which: usize,
    returned: Receiver<Vec<u8>>,
    piece: Vec<u8>,
    filled: usize,
}

impl Side {
    /// Copies `bytes` into the stream.
    fn feed(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let room = self.room();
            let n = room.len().min(bytes.len());
            room[..n].copy_from_slice(&bytes[..n]);
            self.filled += n;
            bytes = &bytes[n..];
        }
    }

    /// Reads at most one age chunk from `reader` straight into the stream; returns what was
    /// read (empty at the end).
    fn read_from(&mut self, reader: &mut impl Read) -> io::Result<&[u8]> {
        let room = self.room();
        let max = room.len().min(CHUNK);
        let n = reader.read(&mut room[..max])?;
        let start = self.filled;
        self.filled += n;
        Ok(&self.piece[start..self.filled])
    }

    /// The unfilled part of the piece, after handing a full one over.
    fn room(&mut self) -> &mut [u8] {
        if self.filled == PIECE {
            self.send();
        }
        &mut self.piece[self.filled..]
    }

    /// Hands the piece over and takes an empty one (a returned one if there is one).
    fn send(&mut self) {
        let next = self.returned.try_recv().unwrap_or_else(|_| vec![0; PIECE]);
        let full = std::mem::replace(&mut self.piece, next);
        let filled = std::mem::take(&mut self.filled);
        if let Some(tx) = &self.to_hasher {
            // The hashing thread only stops when every sender is dropped.
            let _ = tx.send((self.which, full, filled));
        }
    }

    /// Hands over what is left and lets the hashing thread finish.
    fn close(&mut self) {
        if self.filled > 0 {
            self.send();
        }
        self.to_hasher = None;
    }
}

/// A digest and a byte count.
type Digest = (Sha256Hash, u64);

/// Runs `f` with two streams hashed on one helper thread and returns its result with both
/// digests. One thread for both leaves the caller a core of its own on a two-core machine.
fn with_side_hashes<T>(f: impl FnOnce(&mut Side, &mut Side) -> T) -> Result<(T, Digest, Digest)> {
    std::thread::scope(|scope| {
        let (to_hasher, pieces) = sync_channel::<Piece>(QUEUED);
        let (a_back, a_returned) = channel();
        let (b_back, b_returned) = channel();
        let hasher = scope.spawn(move || {
            let mut digests = [StreamDigest::default(), StreamDigest::default()];
            let backs = [a_back, b_back];
            for (which, piece, filled) in pieces {
                digests[which].update(&piece[..filled]);
                // The caller may have finished and stopped taking pieces back.
                let _ = backs[which].send(piece);
            }
            let [a, b] = digests;
            (a.finish(), b.finish())
        });
        let side = |which, returned| Side {
            to_hasher: Some(to_hasher.clone()),
            which,
            returned,
            piece: vec![0; PIECE],
            filled: 0,
        };
        let (mut a_side, mut b_side) = (side(0, a_returned), side(1, b_returned));
        drop(to_hasher);
        let result = f(&mut a_side, &mut b_side);
        a_side.close();
        b_side.close();
        let (a, b) = hasher
            .join()
            .map_err(|_| CryptoError::Io(io::Error::other("the hashing thread stopped")))?;
        Ok((result, a, b))
    })
}

/// A buffered reader whose buffer is the side's piece: everything read from `inner` is hashed,
/// whether or not the consumer asks for it.
struct SideReader<'a, R> {
    inner: R,
    side: &'a mut Side,
    consumed: usize,
}

impl<R: Read> BufRead for SideReader<'_, R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.consumed == self.side.filled {
            if self.side.filled == PIECE {
                self.side.send();
                self.consumed = 0;
            }
            self.side.read_from(&mut self.inner)?;
        }
        Ok(&self.side.piece[self.consumed..self.side.filled])
    }

    fn consume(&mut self, amount: usize) {
        self.consumed = (self.consumed + amount).min(self.side.filled);
    }
}

impl<R: Read> Read for SideReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

/// A writer that hands what it writes to a side hasher.
struct SideWriter<'a, W> {
    inner: W,
    side: &'a mut Side,
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
            let mut writer = agefile::encrypt_stream(
                &set,
                SideWriter {
                    inner: output,
                    side: blob,
                },
            )?;
            copy(plain, &mut { input }, &mut writer, CryptoError::Io)?;
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
            let mut hashed_in = SideReader {
                inner: input,
                side: cipher,
                consumed: 0,
            };
            let mut decrypting =
                agefile::decrypt_buffered(identity.age_identity(), &mut hashed_in)?;
            copy(
                plain,
                &mut decrypting,
                &mut output,
                CryptoError::from_stream_io,
            )?;
            drop(decrypting);
            // Anything after the age stream's final chunk is not part of the blob.
            if !hashed_in.fill_buf()?.is_empty() {
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

/// Copies `reader` to `writer` through `side`'s pieces, in age-chunk-sized reads; read errors
/// are mapped by `on_read` (for a decrypting stream, into tampering), write errors are I/O
/// errors.
fn copy<R: Read, W: Write>(
    side: &mut Side,
    reader: &mut R,
    writer: &mut W,
    on_read: fn(io::Error) -> CryptoError,
) -> Result<u64> {
    let mut total = 0u64;
    loop {
        let read = match side.read_from(reader) {
            Ok([]) => return Ok(total),
            Ok(read) => read,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(on_read(e)),
        };
        writer.write_all(read)?;
        total += read.len() as u64;
    }
}

/// Whether an attachment name is a plain file name: 1 to 255 bytes, no folder separators, no
/// control characters, not `.` or `..`.
pub fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name.contains(['/', '\\'])
        && !name.chars().any(char::is_control)
        && name != "."
        && name != ".."
}

/// Fails unless `name` [`is_plain_file_name`].
pub(crate) fn check_name(name: &str) -> Result<()> {
    if is_plain_file_name(name) {
        Ok(())
    } else {
        Err(CryptoError::invalid(
            "attachment name",
            "must be a plain file name of 1 to 255 bytes",
        ))
    }
}
