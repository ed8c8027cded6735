//! Round-trips: what is sealed opens to the same thing, for arbitrary payloads and recipient
//! sets; forwards open for their recipient with both signatures checked.

use ferry_crypto::forward::{self, ForwardRequest};
use ferry_crypto::seal::{self, Expect};
use ferry_crypto::{CryptoError, Id, Identity, MessageKind, Role};
use proptest::prelude::*;

use crate::common::{Case, NOW, card, letter};

fn kind() -> impl Strategy<Value = MessageKind> {
    prop_oneof![
        Just(MessageKind::Letter),
        Just(MessageKind::Question),
        Just(MessageKind::Answer)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn sealed_messages_open_for_every_recipient(
        body in "\\PC{0,2000}",
        kind in kind(),
        extra_recipients in 0usize..4,
        seq in any::<u64>(),
    ) {
        let author = Identity::generate("Author").unwrap();
        let others: Vec<Identity> = (0..=extra_recipients)
            .map(|i| Identity::generate(&format!("Facilitator {i}")).unwrap())
            .collect();
        let recipients: Vec<_> = others.iter().map(Identity::recipient).collect();
        let case = Id::try_from("case-p").unwrap();
        let l = letter(&case, &author, kind, Role::Harmed, &body);
        let sealed = seal::seal(&author, &l, seq, vec![], &recipients).unwrap();
        // Every facilitator, and the author, can open it; the letter is exactly what was sealed.
        for reader in others.iter().chain(std::iter::once(&author)) {
            let opened = seal::open(reader, &sealed.envelope, &sealed.ciphertext, &card(&author), &Expect::case(&case)).unwrap();
            prop_assert_eq!(&opened.letter, &l);
            prop_assert_eq!(opened.envelope.seq, seq);
        }
        // Nobody else can.
        let stranger = Identity::generate("Stranger").unwrap();
        let err = seal::open(&stranger, &sealed.envelope, &sealed.ciphertext, &card(&author), &Expect::case(&case)).unwrap_err();
        prop_assert!(matches!(err, CryptoError::NotARecipient), "{err:?}");
    }

    #[test]
    fn statements_round_trip_through_json(body in "\\PC{0,500}") {
        let author = Identity::generate("Author").unwrap();
        let case = Id::try_from("c").unwrap();
        let l = letter(&case, &author, MessageKind::Letter, Role::Responsible, &body);
        let signed = author.sign(&l).unwrap();
        let parsed = ferry_crypto::SignedStatement::from_json(&signed.to_json()).unwrap();
        prop_assert_eq!(&parsed, &signed);
        let back: seal::Letter = parsed.open(&card(&author)).unwrap();
        prop_assert_eq!(back, l);
    }

    #[test]
    fn forwards_open_for_the_recipient(body in "\\PC{1,800}", redacted_body in proptest::option::of("\\PC{1,400}")) {
        let case = Case::new();
        let sealed = case.seal_question(&body, 1);
        let opened = case.open_as_facilitator(&sealed).unwrap();
        let fwd = forward::forward(&case.facilitator, ForwardRequest {
            original: &opened,
            recipient: (&card(&case.responsible)).into(),
            redacted_body: redacted_body.clone(),
            co_facilitators: &[case.co_facilitator.recipient()],
            attachments: vec![],
            seq: 7,
            created_at: NOW + 60,
        }).unwrap();
        let delivered = forward::open_forwarded(
            &case.responsible, &fwd.forward, &fwd.ciphertext,
            &card(&case.facilitator), &card(&case.harmed), &case.id,
        ).unwrap();
        prop_assert_eq!(delivered.redacted, redacted_body.is_some());
        prop_assert_eq!(&delivered.body, redacted_body.as_ref().unwrap_or(&body));
        prop_assert_eq!(&delivered.author, case.harmed.account_id());
        prop_assert_eq!(&delivered.approved_by, case.facilitator.account_id());
        prop_assert_eq!(delivered.forward.original_sha256, opened.envelope.ciphertext_sha256);
        // The forward is also readable by the co-facilitator, never by the author's side.
        let err = forward::open_forwarded(
            &case.harmed, &fwd.forward, &fwd.ciphertext,
            &card(&case.facilitator), &card(&case.harmed), &case.id,
        ).unwrap_err();
        prop_assert!(matches!(err, CryptoError::Mismatch { field: "recipient", .. }), "{err:?}");
    }
}

#[test]
fn unredacted_forward_carries_the_authors_own_signature() {
    let case = Case::new();
    let sealed = case.seal_question("Why our house?", 1);
    let opened = case.open_as_facilitator(&sealed).unwrap();
    let fwd = forward::forward(
        &case.facilitator,
        ForwardRequest {
            original: &opened,
            recipient: (&card(&case.responsible)).into(),
            redacted_body: None,
            co_facilitators: &[],
            attachments: vec![],
            seq: 1,
            created_at: NOW,
        },
    )
    .unwrap();
    // Verified against the wrong author card, the carried letter fails: the recipient really
    // checks the author's signature, not just the facilitator's.
    let impostor = Identity::generate("Impostor").unwrap();
    let err = forward::open_forwarded(
        &case.responsible,
        &fwd.forward,
        &fwd.ciphertext,
        &card(&case.facilitator),
        &card(&impostor),
        &case.id,
    )
    .unwrap_err();
    assert!(matches!(err, CryptoError::WrongSigner { .. }), "{err:?}");
}

#[test]
fn safety_numbers_are_six_groups_of_five_digits_and_stable() {
    let id = Identity::generate("Sam").unwrap();
    let a = card(&id).fingerprint().safety_number();
    let groups: Vec<_> = a.split(' ').collect();
    assert_eq!(groups.len(), 6);
    assert!(
        groups
            .iter()
            .all(|g| g.len() == 5 && g.bytes().all(|b| b.is_ascii_digit()))
    );
    // A later card for the same keys (another time, another name) reads the same number.
    assert_eq!(
        id.key_card(NOW + 999)
            .unwrap()
            .fingerprint()
            .safety_number(),
        a
    );
    let other = Identity::generate("Sam").unwrap();
    assert_ne!(card(&other).fingerprint().safety_number(), a);
}
