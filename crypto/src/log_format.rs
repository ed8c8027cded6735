//! The trail's formats. Each accepted signed statement becomes an event whose **leaf** — the
//! exact JSON bytes below — is a leaf of one global RFC 6962 Merkle log and a link in its
//! case's hash chain (`prev_hash` = SHA-256 of the previous leaf of the same case). The server
//! signs **checkpoints** (c2sp.org/tlog-checkpoint) as c2sp.org/signed-note Ed25519 notes.
//!
//! Hashing and proofs come from `tlog_tiles` (RFC 6962 with stored interior hashes); notes from
//! `signed_note`. This module wraps them in Ferry's types and errors.

use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};
pub use tlog_tiles::checkpoint::Checkpoint;
use tlog_tiles::tlog;
pub use tlog_tiles::tlog::{Error as TreeError, Hash as TreeHash, HashReader};

use crate::error::{CryptoError, Result};
use crate::hash::Sha256Hash;
use crate::identity::Identity;
use crate::statement::SignedStatement;

/// Largest leaf accepted from a server.
pub const MAX_LEAF_BYTES: usize = 256 * 1024;

/// An event as it is hashed into the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Leaf {
    /// Format version.
    pub v: u32,
    /// Position in the global log, from 0.
    pub idx: u64,
    /// The case, for case events.
    pub case_id: Option<String>,
    /// Position in the case's chain, from 0.
    pub seq_in_case: Option<u64>,
    /// [`event_hash`] of the case's previous leaf (none for the first).
    pub prev_hash: Option<Sha256Hash>,
    /// When the server accepted it (Unix seconds).
    pub server_time: i64,
    /// The signed statement, exactly as received.
    pub statement: SignedStatement,
}

impl Leaf {
    /// Parses leaf bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        if bytes.len() > MAX_LEAF_BYTES {
            return Err(CryptoError::TooLarge {
                what: "event",
                size: bytes.len() as u64,
                limit: MAX_LEAF_BYTES as u64,
            });
        }
        serde_json::from_slice(bytes).map_err(|e| CryptoError::malformed("event", e))
    }

    /// The leaf's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        LeafOut {
            v: self.v,
            idx: self.idx,
            case_id: self.case_id.as_deref(),
            seq_in_case: self.seq_in_case,
            prev_hash: self.prev_hash.as_ref(),
            server_time: self.server_time,
            statement: &self.statement,
        }
        .to_bytes()
    }
}

/// A (version 1) leaf's fields other than its statement: for making a leaf's bytes around a
/// statement already serialized, as the server does for each submission in a batch.
#[derive(Clone, Copy, Debug)]
pub struct LeafHead<'a> {
    /// Position in the global log, from 0.
    pub idx: u64,
    /// The case, for case events.
    pub case_id: Option<&'a str>,
    /// Position in the case's chain, from 0.
    pub seq_in_case: Option<u64>,
    /// [`event_hash`] of the case's previous leaf (none for the first).
    pub prev_hash: Option<&'a Sha256Hash>,
    /// When the server accepted it (Unix seconds).
    pub server_time: i64,
}

impl LeafHead<'_> {
    /// The bytes of the leaf of this head and the statement whose
    /// [`SignedStatement::to_json`] is `statement_json`: the bytes [`Leaf::to_bytes`] gives,
    /// without serializing the statement again.
    pub fn bytes_with(&self, statement_json: &[u8]) -> Result<Vec<u8>> {
        let statement: &serde_json::value::RawValue = serde_json::from_slice(statement_json)
            .map_err(|e| CryptoError::malformed("statement", e))?;
        Ok(LeafOut {
            v: 1,
            idx: self.idx,
            case_id: self.case_id,
            seq_in_case: self.seq_in_case,
            prev_hash: self.prev_hash,
            server_time: self.server_time,
            statement,
        }
        .to_bytes())
    }
}

/// What a leaf's bytes are made from: the one definition of their field order, whatever
/// form the statement is in.
#[derive(Serialize)]
struct LeafOut<'a, S: ?Sized> {
    v: u32,
    idx: u64,
    case_id: Option<&'a str>,
    seq_in_case: Option<u64>,
    prev_hash: Option<&'a Sha256Hash>,
    server_time: i64,
    statement: &'a S,
}

impl<S: ?Sized + Serialize> LeafOut<'_, S> {
    fn to_bytes(&self) -> Vec<u8> {
        // Numbers, strings and already valid JSON cannot fail to serialize.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// The hash that links a case's chain: SHA-256 of the leaf bytes.
pub fn event_hash(leaf: &[u8]) -> Sha256Hash {
    Sha256Hash::of(leaf)
}

/// The RFC 6962 leaf hash, `SHA-256(0x00 || leaf)`.
pub fn leaf_hash(leaf: &[u8]) -> TreeHash {
    tlog::record_hash(leaf)
}

/// The root of a tree built one leaf at a time, holding only the right edge (one hash per
/// complete subtree): how a whole-log audit recomputes the root without stored hashes.
#[derive(Default)]
pub struct TreeBuilder {
    /// Complete subtrees, left to right, with their sizes (strictly decreasing powers of two).
    edge: Vec<(TreeHash, u64)>,
    size: u64,
}

impl TreeBuilder {
    /// Adds the next leaf, by its [`leaf_hash`].
    pub fn push(&mut self, leaf_hash: TreeHash) {
        let (mut hash, mut size) = (leaf_hash, 1);
        while let Some(&(left, left_size)) = self.edge.last() {
            if left_size != size {
                break;
            }
            self.edge.pop();
            hash = tlog::node_hash(left, hash);
            size *= 2;
        }
        self.edge.push((hash, size));
        self.size += 1;
    }

    /// How many leaves were added.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The RFC 6962 root of the leaves added so far.
    pub fn root(&self) -> TreeHash {
        let mut subtrees = self.edge.iter().rev().map(|(h, _)| *h);
        match subtrees.next() {
            None => tlog::EMPTY_HASH,
            Some(last) => subtrees.fold(last, |right, left| tlog::node_hash(left, right)),
        }
    }
}

/// The stored indexes of the complete subtrees on the right edge of a tree of `n` leaves:
/// the only stored hashes that appending leaves `n`, `n + 1`, … reads besides its own.
pub fn right_edge(n: u64) -> Vec<u64> {
    (0..64u8)
        .filter(|level| (n >> level) & 1 == 1)
        .map(|level| tlog::stored_hash_index(level, (n >> level) - 1))
        .collect()
}

/// The hashes to store when appending leaf number `n` (see `tlog_tiles::tlog::stored_hashes`);
/// they go at stored indexes `stored_index(n)..`.
pub fn stored_hashes<R: HashReader>(n: u64, leaf: &[u8], reader: &R) -> Result<Vec<TreeHash>> {
    tlog::stored_hashes(n, leaf, reader).map_err(|e| CryptoError::Proof(e.to_string()))
}

/// Where the stored hashes of leaf `n` begin.
pub fn stored_index(n: u64) -> u64 {
    tlog::stored_hash_index(0, n)
}

/// The root hash of the tree of the first `n` leaves.
pub fn tree_hash<R: HashReader>(n: u64, reader: &R) -> Result<TreeHash> {
    tlog::tree_hash(n, reader).map_err(|e| CryptoError::Proof(e.to_string()))
}

/// An inclusion proof for leaf `index` in the tree of `size` leaves.
pub fn prove_inclusion<R: HashReader>(size: u64, index: u64, reader: &R) -> Result<Vec<TreeHash>> {
    if index >= size {
        return Err(CryptoError::Proof(format!(
            "leaf {index} is not in a tree of {size}"
        )));
    }
    tlog::prove_record(size, index, reader).map_err(|e| CryptoError::Proof(e.to_string()))
}

/// A consistency proof from the tree of `old` leaves to the tree of `new` leaves.
pub fn prove_consistency<R: HashReader>(new: u64, old: u64, reader: &R) -> Result<Vec<TreeHash>> {
    if old > new {
        return Err(CryptoError::Proof(format!(
            "a tree of {old} cannot grow into {new}"
        )));
    }
    tlog::prove_tree(new, old, reader).map_err(|e| CryptoError::Proof(e.to_string()))
}

/// Checks that `leaf` is leaf `index` of the tree of `size` leaves with root `root`.
pub fn check_inclusion(
    proof: &[TreeHash],
    size: u64,
    root: TreeHash,
    index: u64,
    leaf: &[u8],
) -> Result<()> {
    if index >= size {
        return Err(CryptoError::Proof(format!(
            "leaf {index} is not in a tree of {size}"
        )));
    }
    tlog::check_record(&proof.to_vec(), size, root, index, leaf_hash(leaf)).map_err(|_| {
        CryptoError::Proof(format!(
            "event {index} is not included in the log of {size} events"
        ))
    })
}

/// Checks that the tree of `old` leaves with `old_root` is a prefix of the tree of `new`
/// leaves with `new_root`.
pub fn check_consistency(
    proof: &[TreeHash],
    new: u64,
    new_root: TreeHash,
    old: u64,
    old_root: TreeHash,
) -> Result<()> {
    if old > new {
        return Err(CryptoError::Proof(format!(
            "the log shrank from {old} to {new} events: it was rolled back"
        )));
    }
    tlog::check_tree(&proof.to_vec(), new, new_root, old, old_root).map_err(|_| {
        CryptoError::Proof(format!(
            "the log of {new} events is not an extension of the log of {old} events seen before: it was forked or rewritten"
        ))
    })
}

/// A signer for notes with a Ferry identity.
struct NoteSigner<'a> {
    identity: &'a Identity,
    name: &'a str,
    id: u32,
}

impl signed_note::Signer for NoteSigner<'_> {
    fn name(&self) -> &str {
        self.name
    }

    fn key_id(&self) -> u32 {
        self.id
    }

    fn sign(&self, msg: &[u8]) -> std::result::Result<Vec<u8>, signature_error::Error> {
        self.identity
            .sign_note_text(msg)
            .map(|s| s.to_vec())
            .map_err(|_| signature_error::Error::new())
    }
}

mod signature_error {
    pub use ed25519_dalek::ed25519::signature::Error;
}

/// The signed-note verifier key for a server key under a log origin.
pub fn verifier_key(origin: &str, key: &VerifyingKey) -> String {
    signed_note::new_ed25519_verifier_key(origin, key)
}

/// Reads a signed-note verifier key (`<name>+<key id>+<base64 of 0x01 and the Ed25519 key>`),
/// as `ferry-server init` prints it: the log's origin and the server's key. The key id must
/// be the one the name and key give.
pub fn parse_verifier_key(vkey: &str) -> Result<(String, VerifyingKey)> {
    let bad = |why: &str| CryptoError::invalid("server verifier key", why);
    let vkey = vkey.trim();
    let mut parts = vkey.splitn(3, '+');
    let (Some(name), Some(_), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad("expected <name>+<key id>+<key>"));
    };
    let bytes = crate::b64::decode(key).map_err(|_| bad("the key is not base64"))?;
    let key = match bytes.as_slice() {
        [1, key @ ..] => <[u8; 32]>::try_from(key)
            .ok()
            .and_then(|k| VerifyingKey::from_bytes(&k).ok())
            .ok_or_else(|| bad("not an Ed25519 key"))?,
        _ => return Err(bad("not an Ed25519 verifier key")),
    };
    if verifier_key(name, &key) != vkey {
        return Err(bad("its key id does not match its name and key"));
    }
    Ok((name.to_owned(), key))
}

fn key_id(origin: &str, key: &VerifyingKey) -> Result<u32> {
    let vkey = verifier_key(origin, key);
    let id = vkey
        .split('+')
        .nth(1)
        .and_then(|h| u32::from_str_radix(h, 16).ok())
        .ok_or_else(|| CryptoError::Checkpoint("cannot derive the key id".into()))?;
    Ok(id)
}

/// Signs a checkpoint for `origin` over `size` leaves with root `root`, as a signed note
/// whose key name is the origin.
pub fn sign_checkpoint(
    identity: &Identity,
    origin: &str,
    size: u64,
    root: TreeHash,
) -> Result<Vec<u8>> {
    let checkpoint = Checkpoint::new(origin, size, root, "")
        .map_err(|_| CryptoError::Checkpoint(format!("invalid origin {origin:?}")))?;
    let mut note = signed_note::Note::new(&checkpoint.to_bytes(), &[])
        .map_err(|e| CryptoError::Checkpoint(e.to_string()))?;
    let signer = NoteSigner {
        identity,
        name: origin,
        id: key_id(origin, &identity.verifying_key())?,
    };
    note.add_sigs(&[&signer])
        .map_err(|e| CryptoError::Checkpoint(e.to_string()))?;
    Ok(note.to_bytes())
}

/// Verifies a checkpoint note: signed by `key` under the name `origin`, for that origin.
pub fn verify_checkpoint(note: &[u8], origin: &str, key: &VerifyingKey) -> Result<Checkpoint> {
    let parsed = signed_note::Note::from_bytes(note)
        .map_err(|e| CryptoError::Checkpoint(format!("not a signed note: {e}")))?;
    let verifier = signed_note::StandardVerifier::new(&verifier_key(origin, key))
        .map_err(|e| CryptoError::Checkpoint(e.to_string()))?;
    let list = signed_note::VerifierList::new(vec![Box::new(verifier)]);
    parsed
        .verify(&list)
        .map_err(|e| CryptoError::Checkpoint(format!("not signed by this server's key: {e}")))?;
    let checkpoint = Checkpoint::from_bytes(parsed.text())
        .map_err(|_| CryptoError::Checkpoint("the note is not a checkpoint".into()))?;
    if checkpoint.origin() != origin {
        return Err(CryptoError::Checkpoint(format!(
            "the checkpoint is for log {:?}, not {origin:?}",
            checkpoint.origin()
        )));
    }
    Ok(checkpoint)
}

/// A tree hash as lowercase hex.
pub fn hash_hex(h: &TreeHash) -> String {
    hex::encode(h.0)
}

/// Parses a tree hash from hex.
pub fn hash_from_hex(text: &str) -> Result<TreeHash> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out)
        .map_err(|_| CryptoError::malformed("hash", "expected 64 hex digits"))?;
    Ok(TreeHash(out))
}
