//! Taking part on paper: a person without a device (in prison, say) is represented by the
//! case's facilitators, openly. A coordinator adds them ([`PaperMember`]); a facilitator
//! records the consent they signed on paper ([`PaperConsent`]), types up their handwritten
//! replies (a [`crate::seal::Letter`] with `entered_by`), and prints what is passed on to them
//! ([`Printing`]).
//!
//! A printed letter carries a [`LetterCode`]: 95 random bits and a check symbol. The code's
//! hash finds the printing in the log; the code itself salts the hash of the printed text, so
//! the log reveals nothing that could be guessed from a short letter, and only someone holding
//! the letter can check its text.

use serde::{Deserialize, Serialize};

use crate::actions::signed_by;
use crate::hash::Sha256Hash;
use crate::ids::{AccountId, Id, MessageKind, Role};
use crate::keycard::{CROCKFORD, grouped, typed_symbol};
use crate::seal::AttachmentBlob;

/// A coordinator adding to a case a person who takes part on paper: they have no keys, and
/// the case's facilitators act for them. `person` is a new account id for them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaperMember {
    /// Format version.
    pub v: u32,
    /// The coordinator.
    pub coordinator: AccountId,
    /// The case.
    pub case_id: Id,
    /// The new account of the person on paper.
    pub person: AccountId,
    /// The name the case knows them by.
    pub display_name: String,
    /// Their role: harmed, responsible or supporter.
    pub role: Role,
    /// The coordinator's sequence number.
    pub seq: u64,
    /// When (Unix seconds).
    pub created_at: i64,
}

/// How a person on paper gave or withdrew their consent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Medium {
    /// A signed form, whose scan the statement binds.
    Paper,
    /// Said to the facilitator by telephone (withdrawal only).
    Telephone,
}

impl Medium {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Medium::Paper => "paper",
            Medium::Telephone => "telephone",
        }
    }
}

/// The scan of a signed paper form, sealed to the case's facilitators.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scan {
    /// SHA-256 of the scan file as scanned (before encryption).
    pub sha256: Sha256Hash,
    /// Its size in bytes.
    pub size: u64,
    /// The sealed scan as the server keeps it.
    pub sealed: AttachmentBlob,
}

/// A facilitator recording the consent, or the withdrawal, of a person on paper: who, when,
/// where, how, and the scan of the signed form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaperConsent {
    /// Format version.
    pub v: u32,
    /// The facilitator who records it.
    pub facilitator: AccountId,
    /// The case.
    pub case_id: Id,
    /// The person on paper.
    pub participant: AccountId,
    /// Consent given (true) or withdrawn (false).
    pub given: bool,
    /// On paper, or by telephone.
    pub medium: Medium,
    /// When the person signed or said it (Unix seconds).
    pub given_at: i64,
    /// Where (a prison visit, say); no address.
    pub place: String,
    /// The scan of the signed form (always for paper).
    pub scan: Option<Scan>,
    /// The facilitator's sequence number.
    pub seq: u64,
    /// When it was recorded (Unix seconds).
    pub created_at: i64,
}

/// A facilitator printing, for a person on paper, a letter passed on to them: binds the
/// forward it prints and a salted hash of the printed text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Printing {
    /// Format version.
    pub v: u32,
    /// The facilitator who printed it.
    pub facilitator: AccountId,
    /// The case.
    pub case_id: Id,
    /// The message printed.
    pub message_id: Id,
    /// Its kind.
    pub kind: MessageKind,
    /// The person on paper it is for.
    pub recipient: AccountId,
    /// [`crate::SignedStatement::body_hash`] of the forward that passed it on.
    pub forward: Sha256Hash,
    /// [`LetterCode::lookup`] of the letter's code.
    pub code: Sha256Hash,
    /// [`LetterCode::text_hash`] of the printed text.
    pub text_sha256: Sha256Hash,
    /// The facilitator's sequence number.
    pub seq: u64,
    /// When it was printed (Unix seconds).
    pub created_at: i64,
}

signed_by!(PaperMember, PaperMember, coordinator);
signed_by!(PaperConsent, PaperConsent, facilitator);
signed_by!(Printing, Printing, facilitator);

/// Random symbols in a letter code (19 × 5 = 95 bits).
const CODE_SYMBOLS: usize = 19;

/// A printed letter's verification code: 19 random Crockford base32 symbols and a check
/// symbol (Luhn mod 32), shown as four groups of five: `7KQ2M-9XD4F-HTB3W-NR8PQ`.
#[derive(Clone, PartialEq, Eq)]
pub struct LetterCode {
    symbols: String,
}

/// Why a typed code is not a letter code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LetterCodeError {
    /// Not twenty letters and digits.
    Malformed,
    /// The right shape, but the check symbol does not match: a typing mistake.
    Mistyped,
}

impl LetterCode {
    /// A fresh code.
    pub fn generate() -> Self {
        let bytes: [u8; CODE_SYMBOLS] = rand::random();
        let mut symbols: String = bytes
            .iter()
            .map(|b| char::from(CROCKFORD[usize::from(*b & 31)]))
            .collect();
        symbols.push(check_symbol(&symbols));
        Self { symbols }
    }

    /// Reads a code as typed: any case, with or without dashes and spaces, O read as 0 and I
    /// or L as 1.
    pub fn parse(text: &str) -> Result<Self, LetterCodeError> {
        let symbols: String = text
            .chars()
            .filter(|c| *c != '-' && !c.is_whitespace())
            .map(typed_symbol)
            .collect();
        let well_formed =
            symbols.len() == CODE_SYMBOLS + 1 && symbols.bytes().all(|b| CROCKFORD.contains(&b));
        if !well_formed {
            return Err(LetterCodeError::Malformed);
        }
        let (random, check) = symbols.split_at(CODE_SYMBOLS);
        if !check.starts_with(check_symbol(random)) {
            return Err(LetterCodeError::Mistyped);
        }
        Ok(Self { symbols })
    }

    /// The hash under which the log names the printing of the letter with this code.
    pub fn lookup(&self) -> Sha256Hash {
        Sha256Hash::of_parts(&[b"ferry/v1/letter-code\0", self.symbols.as_bytes()])
    }

    /// The salted hash of a printed letter's text ([`canonical_text`] of it).
    pub fn text_hash(&self, printed: &str) -> Sha256Hash {
        Sha256Hash::of_parts(&[
            b"ferry/v1/printed-letter\0",
            self.symbols.as_bytes(),
            b"\0",
            canonical_text(printed).as_bytes(),
        ])
    }
}

impl std::fmt::Display for LetterCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&grouped(self.symbols.bytes()))
    }
}

impl std::fmt::Debug for LetterCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The code salts the text's hash: it stays with the letter.
        f.write_str("LetterCode(…)")
    }
}

/// A printed text as it is hashed: its words, in order, separated by single spaces. Line
/// breaks and page layout do not count; every word, digit and mark does.
pub fn canonical_text(printed: &str) -> String {
    printed.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The Luhn mod 32 check symbol of `symbols` (each a Crockford base32 symbol): any single
/// mistyped symbol, and almost any two neighbours swapped, change it.
fn check_symbol(symbols: &str) -> char {
    let n = CROCKFORD.len();
    let mut sum = 0;
    for (i, b) in symbols.bytes().rev().enumerate() {
        let value = CROCKFORD.iter().position(|c| *c == b).unwrap_or(0);
        let addend = if i % 2 == 0 { value * 2 } else { value };
        sum += addend / n + addend % n;
    }
    char::from(CROCKFORD[(n - sum % n) % n])
}

#[cfg(test)]
mod tests {
    use super::{LetterCode, LetterCodeError, canonical_text};

    #[test]
    fn a_code_reads_back_as_typed_and_catches_a_typo() {
        let code = LetterCode::generate();
        let shown = code.to_string();
        assert_eq!(shown.len(), 23);
        assert_eq!(shown.split('-').count(), 4);
        let typed = shown.to_lowercase().replace('-', " ").replace('0', "o");
        assert_eq!(LetterCode::parse(&typed), Ok(code.clone()));
        // Every single-symbol change, at every place, is caught as a typo.
        let plain: Vec<char> = shown.replace('-', "").chars().collect();
        for i in 0..plain.len() {
            for c in "0123456789ABCDEFGHJKMNPQRSTVWXYZ".chars() {
                if c == plain[i] {
                    continue;
                }
                let mut typo = plain.clone();
                typo[i] = c;
                let typo: String = typo.into_iter().collect();
                assert_eq!(LetterCode::parse(&typo), Err(LetterCodeError::Mistyped));
            }
        }
        for bad in [
            "",
            "ABCDE",
            &format!("{shown}-X"),
            "UUUUU-UUUUU-UUUUU-UUUUU",
        ] {
            assert_eq!(
                LetterCode::parse(bad),
                Err(LetterCodeError::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_text_hash_is_salted_by_the_code_and_ignores_only_layout() {
        let (a, b) = (LetterCode::generate(), LetterCode::generate());
        let text = "Dear Rory,\n\nI want to know why.\n  Harriet";
        assert_eq!(
            a.text_hash(text),
            a.text_hash("Dear Rory, I want\nto know why. Harriet")
        );
        assert_ne!(a.text_hash(text), b.text_hash(text));
        assert_ne!(
            a.text_hash(text),
            a.text_hash("Dear Rory, I want to know how. Harriet")
        );
        assert_ne!(a.lookup(), b.lookup());
        assert_eq!(canonical_text(" a \n b\tc "), "a b c");
    }
}
