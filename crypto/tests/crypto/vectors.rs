//! Pinned wire formats: a keystore, key cards, a sealed question and a redacted forward,
//! checked into `crypto/tests/vectors/`. They must keep opening, byte for byte, as the code
//! evolves; a change that breaks them breaks every stored message.
//!
//! To write a new set (only when the format version changes on purpose):
//! `cargo test -p ferry-crypto --test crypto -- --ignored regenerate_vectors`.

use std::path::PathBuf;

use ferry_crypto::forward::{self, ForwardRequest};
use ferry_crypto::keystore::Keystore;
use ferry_crypto::seal::{self, Expect};
use ferry_crypto::{Id, Identity, KeyCard, MessageKind, Role, SecretString, SignedStatement};

const PASSPHRASE: &str = "ferry test vectors";
const QUESTION: &str = "Why did you pick our house? Had you been watching us before that night?";
const REDACTED: &str = "Why did you pick our house? Had you been watching us [before that night]?";

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(dir().join(name)).unwrap_or_else(|e| panic!("vector {name}: {e}"))
}

fn pass() -> SecretString {
    PASSPHRASE.to_owned().into()
}

#[test]
fn pinned_vectors_still_open() {
    let ks = Keystore::read_encrypted(&read("keystore.age")[..], &pass(), 4).unwrap();
    let harmed_card = KeyCard::from_json(&read("harmed.card.json")).unwrap();
    let facilitator_card = KeyCard::from_json(&read("facilitator.card.json")).unwrap();
    let responsible_card = KeyCard::from_json(&read("responsible.card.json")).unwrap();

    // The key cards are the keystore's identities, with the safety numbers once printed.
    assert_eq!(
        ks.get("harmed").unwrap().account_id(),
        harmed_card.account_id()
    );
    assert_eq!(harmed_card.display_name(), "Harriet Harmed");
    assert_eq!(
        harmed_card.fingerprint().safety_number(),
        PINNED_HARMED_SAFETY_NUMBER
    );
    assert_eq!(
        facilitator_card.fingerprint().safety_number(),
        PINNED_FACILITATOR_SAFETY_NUMBER
    );

    // The facilitator opens the sealed question.
    let case = Id::try_from("case-vectors").unwrap();
    let envelope = SignedStatement::from_json(&read("question.envelope.json")).unwrap();
    let opened = seal::open(
        ks.get("facilitator").unwrap(),
        &envelope,
        &read("question.age"),
        &harmed_card,
        &Expect {
            kind: Some(MessageKind::Question),
            recipient_role: Some(Role::Responsible),
            ..Expect::case(&case)
        },
    )
    .unwrap();
    assert_eq!(opened.letter.body, QUESTION);
    assert_eq!(opened.envelope.seq, 1);
    assert_eq!(opened.letter.message_id.as_str(), "m-0001");

    // The responsible person opens the redacted forward.
    let fwd = SignedStatement::from_json(&read("forward.json")).unwrap();
    let delivered = forward::open_forwarded(
        ks.get("responsible").unwrap(),
        &fwd,
        &read("forward.age"),
        &facilitator_card,
        &harmed_card,
        &case,
    )
    .unwrap();
    assert!(delivered.redacted);
    assert_eq!(delivered.body, REDACTED);
    assert_eq!(
        delivered.forward.original_sha256,
        opened.envelope.ciphertext_sha256
    );
    let _ = responsible_card;
}

const PINNED_HARMED_SAFETY_NUMBER: &str = "00753 73292 07984 88443 80793 70190";
const PINNED_FACILITATOR_SAFETY_NUMBER: &str = "62730 50674 90860 22420 70397 50222";

#[test]
#[ignore = "writes a new set of pinned vectors"]
fn regenerate_vectors() {
    let harmed = Identity::generate("Harriet Harmed").unwrap();
    let facilitator = Identity::generate("Fiona Facilitator").unwrap();
    let responsible = Identity::generate("Rory Responsible").unwrap();
    let at = 1_790_000_000;
    let write = |name: &str, bytes: &[u8]| std::fs::write(dir().join(name), bytes).unwrap();
    write("harmed.card.json", &harmed.key_card(at).unwrap().to_json());
    write(
        "facilitator.card.json",
        &facilitator.key_card(at).unwrap().to_json(),
    );
    write(
        "responsible.card.json",
        &responsible.key_card(at).unwrap().to_json(),
    );

    let case = Id::try_from("case-vectors").unwrap();
    let letter = seal::Letter {
        v: ferry_crypto::FORMAT_VERSION,
        case_id: case.clone(),
        message_id: Id::try_from("m-0001").unwrap(),
        kind: MessageKind::Question,
        author: harmed.account_id().clone(),
        recipient_role: Role::Responsible,
        in_reply_to: None,
        created_at: at,
        body: QUESTION.into(),
        attachments: vec![],
        entered_by: None,
    };
    let sealed = seal::seal(&harmed, &letter, 1, vec![], &[facilitator.recipient()]).unwrap();
    write("question.envelope.json", &sealed.envelope.to_json());
    write("question.age", &sealed.ciphertext);
    let opened = seal::open(
        &facilitator,
        &sealed.envelope,
        &sealed.ciphertext,
        &harmed.key_card(at).unwrap(),
        &Expect::case(&case),
    )
    .unwrap();
    let fwd = forward::forward(
        &facilitator,
        ForwardRequest {
            original: &opened,
            recipient: (&responsible.key_card(at).unwrap()).into(),
            redacted_body: Some(REDACTED.into()),
            co_facilitators: &[],
            attachments: vec![],
            seq: 1,
            created_at: at + 3600,
        },
    )
    .unwrap();
    write("forward.json", &fwd.forward.to_json());
    write("forward.age", &fwd.ciphertext);

    let mut ks = Keystore::new();
    println!(
        "harmed safety number: {}",
        harmed.key_card(at).unwrap().fingerprint().safety_number()
    );
    println!(
        "facilitator safety number: {}",
        facilitator
            .key_card(at)
            .unwrap()
            .fingerprint()
            .safety_number()
    );
    ks.insert("harmed", harmed).unwrap();
    ks.insert("facilitator", facilitator).unwrap();
    ks.insert("responsible", responsible).unwrap();
    let mut file = vec![];
    ks.write_encrypted(&pass(), 4, &mut file).unwrap();
    write("keystore.age", &file);
}
