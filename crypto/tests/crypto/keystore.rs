//! The keystore: round-trip, wrong passphrase, work-factor limits, no secret leaks in Debug.

use ferry_crypto::keystore::Keystore;
use ferry_crypto::{CryptoError, Identity, SecretString};

use crate::common::card;

const FAST: u8 = 4;

fn pass(p: &str) -> SecretString {
    p.to_owned().into()
}

#[test]
fn keystore_round_trips_many_identities() {
    let mut ks = Keystore::new();
    let mut cards = vec![];
    for i in 0..25 {
        let id = Identity::generate(&format!("Facilitator, case {i}")).unwrap();
        cards.push(card(&id));
        ks.insert(&format!("ferry.example/case-{i}"), id).unwrap();
    }
    let mut file = vec![];
    ks.write_encrypted(&pass("correct horse battery staple"), FAST, &mut file)
        .unwrap();
    let back =
        Keystore::read_encrypted(&file[..], &pass("correct horse battery staple"), FAST).unwrap();
    assert_eq!(back.len(), 25);
    for (i, c) in cards.iter().enumerate() {
        let id = back.get(&format!("ferry.example/case-{i}")).unwrap();
        // Same keys: the reloaded identity produces the same card.
        assert_eq!(
            id.key_card(crate::common::NOW).unwrap().fingerprint(),
            c.fingerprint()
        );
        assert_eq!(id.account_id(), c.account_id());
    }
}

#[test]
fn wrong_passphrase_is_a_clear_error() {
    let mut ks = Keystore::new();
    ks.insert("me", Identity::generate("Me").unwrap()).unwrap();
    let mut file = vec![];
    ks.write_encrypted(&pass("right"), FAST, &mut file).unwrap();
    let err = Keystore::read_encrypted(&file[..], &pass("wrong"), FAST).unwrap_err();
    assert!(matches!(err, CryptoError::WrongPassphrase), "{err:?}");
    assert_eq!(err.to_string(), "wrong passphrase for this keystore");
}

#[test]
fn a_keystore_demanding_too_much_work_is_refused_before_working() {
    let mut ks = Keystore::new();
    ks.insert("me", Identity::generate("Me").unwrap()).unwrap();
    let mut file = vec![];
    ks.write_encrypted(&pass("p"), 10, &mut file).unwrap();
    let err = Keystore::read_encrypted(&file[..], &pass("p"), 8).unwrap_err();
    assert!(
        matches!(
            err,
            CryptoError::ExcessiveWork {
                required: 10,
                max: 8
            }
        ),
        "{err:?}"
    );
}

#[test]
fn the_file_holds_no_secret_in_clear_and_debug_shows_none() {
    let id = Identity::generate("Dana").unwrap();
    let secret = id.age_secret_key().to_string();
    let mut ks = Keystore::new();
    ks.insert("dana", id).unwrap();
    let mut file = vec![];
    ks.write_encrypted(&pass("p"), FAST, &mut file).unwrap();
    let text = String::from_utf8_lossy(&file);
    assert!(text.starts_with("age-encryption.org/v1\n-> scrypt "));
    assert!(!text.contains(&secret) && !text.contains("Dana"));
    let debug = format!("{ks:?} {:?}", ks.get("dana").unwrap());
    assert!(
        !debug.contains(&secret) && !debug.contains("AGE-SECRET-KEY"),
        "{debug}"
    );
}

#[test]
fn labels_are_unique() {
    let mut ks = Keystore::new();
    ks.insert("x", Identity::generate("A").unwrap()).unwrap();
    let err = ks
        .insert("x", Identity::generate("B").unwrap())
        .unwrap_err();
    assert!(matches!(err, CryptoError::DuplicateLabel(_)));
    assert!(ks.remove("x").is_some());
    assert!(ks.is_empty());
}

#[test]
fn a_recipient_file_is_not_a_keystore() {
    let id = Identity::generate("A").unwrap();
    let case = crate::common::Case::new();
    let sealed = case.seal_question("x", 1);
    let err = Keystore::read_encrypted(&sealed.ciphertext[..], &pass("p"), FAST).unwrap_err();
    assert!(
        matches!(
            err,
            CryptoError::Malformed {
                what: "keystore",
                ..
            }
        ),
        "{err:?}"
    );
    drop(id);
}
