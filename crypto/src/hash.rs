//! SHA-256 digests, shown as lowercase hex, and hashing adapters for streams.

use std::fmt;
use std::io::{self, Read, Write};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

/// A SHA-256 digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sha256Hash(pub [u8; 32]);

impl Sha256Hash {
    /// Hashes `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }

    /// Hashes the concatenation of `parts` (no separators: callers add their own framing).
    pub fn of_parts(parts: &[&[u8]]) -> Self {
        let mut h = Sha256::new();
        for p in parts {
            h.update(p);
        }
        Self(h.finalize().into())
    }

    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 64 hex digits.
    pub fn from_hex(text: &str) -> Result<Self, hex::FromHexError> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(text, &mut out)?;
        Ok(Self(out))
    }
}

impl fmt::Display for Sha256Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Sha256Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256Hash({})", self.to_hex())
    }
}

impl Serialize for Sha256Hash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Sha256Hash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Read in place: hashes are parsed by the million in a whole-log audit.
        struct LowerHex;
        impl serde::de::Visitor<'_> for LowerHex {
            type Value = Sha256Hash;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a SHA-256 hash in lowercase hex")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Sha256Hash, E> {
                if text.bytes().any(|b| b.is_ascii_uppercase()) {
                    return Err(E::custom("hash must be lowercase hex"));
                }
                Sha256Hash::from_hex(text).map_err(E::custom)
            }
        }
        d.deserialize_str(LowerHex)
    }
}

/// A running SHA-256 over a byte count, for streams.
#[derive(Default, Clone)]
pub struct StreamDigest {
    hasher: Sha256,
    len: u64,
}

impl StreamDigest {
    /// Feeds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.hasher.update(bytes);
        self.len += bytes.len() as u64;
    }

    /// The digest and number of bytes seen.
    pub fn finish(self) -> (Sha256Hash, u64) {
        (Sha256Hash(self.hasher.finalize().into()), self.len)
    }
}

/// A reader that hashes everything read through it.
pub struct HashingReader<R> {
    inner: R,
    digest: StreamDigest,
}

impl<R: Read> HashingReader<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            digest: StreamDigest::default(),
        }
    }

    /// The digest and length of what was read.
    pub fn finish(self) -> (Sha256Hash, u64) {
        self.digest.finish()
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.digest.update(&buf[..n]);
        Ok(n)
    }
}

/// A writer that hashes everything written through it.
pub struct HashingWriter<W> {
    inner: W,
    digest: StreamDigest,
}

impl<W: Write> HashingWriter<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            digest: StreamDigest::default(),
        }
    }

    /// The wrapped writer, the digest and length of what was written.
    pub fn finish(self) -> (W, Sha256Hash, u64) {
        let (hash, len) = self.digest.finish();
        (self.inner, hash, len)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.digest.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::Sha256Hash;

    #[test]
    fn hashes_read_from_json_only_as_64_lowercase_hex_digits() {
        let hash = Sha256Hash::of(b"ferry");
        let json = format!("\"{}\"", hash.to_hex());
        assert_eq!(serde_json::from_str::<Sha256Hash>(&json).unwrap(), hash);
        // An escaped character still reads as itself.
        let escaped = format!(
            "\"\\u00{:x}{}\"",
            hash.to_hex().as_bytes()[0],
            &hash.to_hex()[1..]
        );
        assert_eq!(serde_json::from_str::<Sha256Hash>(&escaped).unwrap(), hash);
        for bad in [
            json.to_uppercase(),
            format!("\"{}\"", &hash.to_hex()[2..]),
            format!("\"{}00\"", hash.to_hex()),
            "\"not hex at all\"".to_owned(),
            "42".to_owned(),
        ] {
            assert!(serde_json::from_str::<Sha256Hash>(&bad).is_err(), "{bad}");
        }
    }
}
