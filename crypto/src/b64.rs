//! Serde helpers: byte fields travel as standard, padded base64 (what `atob` reads).

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::de::{Error, Visitor};
use serde::{Deserializer, Serializer};

pub(crate) fn encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

pub(crate) fn decode(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    STANDARD.decode(text)
}

/// `Vec<u8>` as base64.
pub(crate) mod vec {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&encode(bytes))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        d.deserialize_str(Text(|text: &str| decode(text).map_err(|e| e.to_string())))
    }
}

/// `[u8; N]` as base64.
pub(crate) mod array {
    use super::*;

    pub(crate) fn serialize<S: Serializer, const N: usize>(
        bytes: &[u8; N],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_str(&encode(bytes))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        d: D,
    ) -> Result<[u8; N], D::Error> {
        d.deserialize_str(Text(|text: &str| {
            // Decoded on the stack: a base64 text of more than `N` bytes is refused either way.
            let mut buf = [0u8; 128];
            let wrong = |len: usize| format!("expected {N} bytes, found {len}");
            if N + 3 > buf.len() {
                let bytes = decode(text).map_err(|e| e.to_string())?;
                return <[u8; N]>::try_from(bytes.as_slice()).map_err(|_| wrong(bytes.len()));
            }
            if text.len() > (N + 3) / 3 * 4 {
                return Err(wrong(text.len() / 4 * 3));
            }
            let len = STANDARD
                .decode_slice(text, &mut buf)
                .map_err(|e| e.to_string())?;
            <[u8; N]>::try_from(&buf[..len]).map_err(|_| wrong(len))
        }))
    }
}

/// A visitor that reads a string where serde has it (borrowed from the input, or its own
/// unescaped copy) and converts it with `F`: no owned copy of the text is made.
struct Text<F>(F);

impl<'de, T, F: FnOnce(&str) -> Result<T, String>> Visitor<'de> for Text<F> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a base64 string")
    }

    fn visit_str<E: Error>(self, text: &str) -> Result<T, E> {
        (self.0)(text).map_err(E::custom)
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    struct Both {
        #[serde(with = "super::vec")]
        body: Vec<u8>,
        #[serde(with = "super::array")]
        sig: [u8; 64],
    }

    fn parse(body: &str, sig: &str) -> Result<Both, String> {
        serde_json::from_str(&format!(r#"{{"body":"{body}","sig":"{sig}"}}"#))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn base64_fields_decode_exactly_and_refuse_wrong_lengths() {
        let sig = super::encode(&[7; 64]);
        let both = parse(&super::encode(b"hello"), &sig).unwrap();
        assert_eq!((both.body.as_slice(), both.sig), (&b"hello"[..], [7; 64]));
        // JSON escapes are undone before decoding ("\/" is "/", a base64 character).
        let escaped = super::encode(&[0xff; 3]).replace('/', "\\/");
        assert_eq!(parse(&escaped, &sig).unwrap().body, [0xff; 3]);
        for wrong in [63, 65, 96, 200] {
            let err = parse("", &super::encode(&vec![1; wrong])).unwrap_err();
            assert!(err.contains("expected 64 bytes"), "{wrong}: {err}");
        }
        assert!(parse("not base64!", &sig).is_err());
        assert!(parse("", "not base64!").is_err());
    }
}
