//! Tampering: any single flipped byte in ciphertext, signature, envelope or key card fails
//! with the right error; wrong keys, wrong recipients and wrong cases fail.

use ferry_crypto::seal::{self, Envelope, Expect};
use ferry_crypto::statement::SignedStatement;
use ferry_crypto::{CryptoError, Id, Identity, KeyCard, MessageKind, Role};

use crate::common::{Case, NOW, card, flipped};

fn open(case: &Case, envelope: &SignedStatement, ciphertext: &[u8]) -> ferry_crypto::Result<()> {
    seal::open(
        &case.facilitator,
        envelope,
        ciphertext,
        &card(&case.harmed),
        &Expect::case(&case.id),
    )
    .map(|_| ())
}

#[test]
fn every_flipped_ciphertext_byte_is_caught_by_the_envelope_hash() {
    let case = Case::new();
    let sealed = case.seal_question("Had you been watching us?", 1);
    for i in 0..sealed.ciphertext.len() {
        let err = open(&case, &sealed.envelope, &flipped(&sealed.ciphertext, i)).unwrap_err();
        assert!(
            matches!(err, CryptoError::CiphertextMismatch),
            "byte {i}: {err:?}"
        );
    }
    // Truncated or extended ciphertext too.
    let short = &sealed.ciphertext[..sealed.ciphertext.len() - 1];
    assert!(matches!(
        open(&case, &sealed.envelope, short),
        Err(CryptoError::CiphertextMismatch)
    ));
}

#[test]
fn every_flipped_ciphertext_byte_is_caught_by_age_itself() {
    // A hostile author who signs an envelope over a damaged ciphertext still gets nowhere:
    // age's header MAC and STREAM tags catch every byte.
    let case = Case::new();
    let sealed = case.seal_question("Did you know the children were upstairs?", 1);
    let env: Envelope = sealed.envelope.open(&card(&case.harmed)).unwrap();
    for i in 0..sealed.ciphertext.len() {
        let bad = flipped(&sealed.ciphertext, i);
        let resigned = case
            .harmed
            .sign(&Envelope {
                ciphertext_sha256: ferry_crypto::Sha256Hash::of(&bad),
                ..env.clone()
            })
            .unwrap();
        let err = open(&case, &resigned, &bad).unwrap_err();
        assert!(
            matches!(
                err,
                CryptoError::Decrypt(_)
                    | CryptoError::NotARecipient
                    | CryptoError::Malformed { .. }
            ),
            "byte {i}: {err:?}"
        );
    }
}

#[test]
fn every_flipped_envelope_or_signature_byte_fails_the_signature() {
    let case = Case::new();
    let sealed = case.seal_question("What was going through your head?", 3);
    for i in 0..sealed.envelope.body.len() {
        let mut env = sealed.envelope.clone();
        env.body = flipped(&env.body, i);
        let err = open(&case, &env, &sealed.ciphertext).unwrap_err();
        assert!(
            matches!(err, CryptoError::BadSignature { kind: "submission" }),
            "byte {i}: {err:?}"
        );
    }
    for i in 0..64 {
        let mut env = sealed.envelope.clone();
        env.sig[i] ^= 0x80;
        let err = open(&case, &env, &sealed.ciphertext).unwrap_err();
        assert!(
            matches!(err, CryptoError::BadSignature { .. }),
            "sig byte {i}: {err:?}"
        );
    }
}

#[test]
fn every_flipped_byte_of_the_envelope_json_is_refused() {
    let case = Case::new();
    let sealed = case.seal_question("Q", 1);
    let json = sealed.envelope.to_json();
    for i in 0..json.len() {
        let result = SignedStatement::from_json(&flipped(&json, i))
            .and_then(|env| open(&case, &env, &sealed.ciphertext));
        assert!(
            result.is_err(),
            "byte {i} of the envelope JSON was accepted"
        );
    }
}

#[test]
fn every_flipped_key_card_byte_fails() {
    let id = Identity::generate("Kim Keycard").unwrap();
    let statement = card(&id).statement().clone();
    for i in 0..statement.body.len() {
        let mut bad = statement.clone();
        bad.body = flipped(&bad.body, i);
        let err = KeyCard::verify(bad).unwrap_err();
        // Most flips break the signature; a flip inside the public key itself may yield a
        // point that is not on the curve, which is refused before the signature is checked.
        assert!(
            matches!(
                err,
                CryptoError::BadSignature { kind: "key-card" }
                    | CryptoError::Invalid {
                        what: "key card",
                        ..
                    }
                    | CryptoError::Malformed { .. }
            ),
            "byte {i}: {err:?}"
        );
    }
    for i in 0..64 {
        let mut bad = statement.clone();
        bad.sig[i] ^= 0x01;
        assert!(matches!(
            KeyCard::verify(bad),
            Err(CryptoError::BadSignature { .. })
        ));
    }
    let json = statement.to_json();
    for i in 0..json.len() {
        assert!(
            KeyCard::from_json(&flipped(&json, i)).is_err(),
            "byte {i} of the card JSON"
        );
    }
}

#[test]
fn a_key_card_cannot_claim_someone_elses_account_id() {
    let victim = Identity::generate("Victim").unwrap();
    let attacker = Identity::generate("Attacker").unwrap();
    let mut body = card(&attacker).body().clone();
    body.account_id = victim.account_id().clone();
    // The attacker cannot even sign it as someone else…
    assert!(matches!(
        attacker.sign(&body),
        Err(CryptoError::WrongSigner { .. })
    ));
    // …and bytes signed by the attacker but naming the victim's id are refused.
    let forged = attacker.sign_bytes(
        ferry_crypto::StatementKind::KeyCard,
        serde_json::to_vec(&body).unwrap(),
    );
    assert!(KeyCard::verify(forged).is_err());
}

#[test]
fn wrong_key_wrong_recipient_and_wrong_case_fail() {
    let case = Case::new();
    let sealed = case.seal_question("Why?", 1);

    // Wrong key: a stranger is not a recipient.
    let stranger = Identity::generate("Stranger").unwrap();
    let err = seal::open(
        &stranger,
        &sealed.envelope,
        &sealed.ciphertext,
        &card(&case.harmed),
        &Expect::case(&case.id),
    )
    .unwrap_err();
    assert!(matches!(err, CryptoError::NotARecipient), "{err:?}");

    // Wrong recipient: the other party cannot read a message not yet forwarded to them.
    let err = seal::open(
        &case.responsible,
        &sealed.envelope,
        &sealed.ciphertext,
        &card(&case.harmed),
        &Expect::case(&case.id),
    )
    .unwrap_err();
    assert!(matches!(err, CryptoError::NotARecipient), "{err:?}");

    // Wrong author card: the envelope claims someone it was not signed by.
    let err = seal::open(
        &case.facilitator,
        &sealed.envelope,
        &sealed.ciphertext,
        &card(&case.responsible),
        &Expect::case(&case.id),
    )
    .unwrap_err();
    assert!(matches!(err, CryptoError::WrongSigner { .. }), "{err:?}");

    // Wrong case: the message shown under another case.
    let other = Id::try_from("case-2").unwrap();
    let err = seal::open(
        &case.facilitator,
        &sealed.envelope,
        &sealed.ciphertext,
        &card(&case.harmed),
        &Expect::case(&other),
    )
    .unwrap_err();
    assert!(
        matches!(err, CryptoError::Mismatch { field: "case", .. }),
        "{err:?}"
    );

    // Relabelled: listed as a letter when it is a question.
    let expect = Expect {
        kind: Some(MessageKind::Letter),
        ..Expect::case(&case.id)
    };
    let err = seal::open(
        &case.facilitator,
        &sealed.envelope,
        &sealed.ciphertext,
        &card(&case.harmed),
        &expect,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            CryptoError::Mismatch {
                field: "message kind",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn a_ciphertext_moved_into_a_new_envelope_fails() {
    // The author re-uses a sealed inner letter under an envelope for another case, message id
    // or kind: the signed inner fields no longer match.
    let case = Case::new();
    let sealed = case.seal_question("Why?", 1);
    let env: Envelope = sealed.envelope.open(&card(&case.harmed)).unwrap();
    let cases = [
        (
            "case",
            Envelope {
                case_id: Id::try_from("case-2").unwrap(),
                ..env.clone()
            },
        ),
        (
            "message id",
            Envelope {
                message_id: Id::random(),
                ..env.clone()
            },
        ),
        (
            "message kind",
            Envelope {
                kind: MessageKind::Letter,
                ..env.clone()
            },
        ),
        (
            "recipient role",
            Envelope {
                recipient_role: Role::Supporter,
                ..env.clone()
            },
        ),
    ];
    for (field, moved) in cases {
        let resigned = case.harmed.sign(&moved).unwrap();
        let err = seal::open(
            &case.facilitator,
            &resigned,
            &sealed.ciphertext,
            &card(&case.harmed),
            &Expect::case(&moved.case_id),
        )
        .unwrap_err();
        assert!(
            matches!(&err, CryptoError::Mismatch { field: f, .. } if *f == field),
            "{field}: {err:?}"
        );
    }
}

#[test]
fn a_statement_of_another_kind_is_refused() {
    let case = Case::new();
    let sealed = case.seal_question("Why?", 1);
    let mut relabelled = sealed.envelope.clone();
    relabelled.kind = ferry_crypto::StatementKind::Forward;
    let err = open(&case, &relabelled, &sealed.ciphertext).unwrap_err();
    assert!(
        matches!(
            err,
            CryptoError::WrongKind {
                expected: "submission",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn a_forward_signed_by_someone_else_or_tampered_fails_for_the_recipient() {
    use ferry_crypto::forward::{self, ForwardRequest};
    let case = Case::new();
    let sealed = case.seal_question("Why our house?", 1);
    let opened = case.open_as_facilitator(&sealed).unwrap();
    let fwd = forward::forward(
        &case.facilitator,
        ForwardRequest {
            original: &opened,
            recipient: (&card(&case.responsible)).into(),
            redacted_body: Some("Why our [house]?".into()),
            co_facilitators: &[],
            attachments: vec![],
            seq: 1,
            created_at: NOW,
        },
    )
    .unwrap();
    let open_fwd = |statement: &SignedStatement, ciphertext: &[u8], facilitator: &Identity| {
        forward::open_forwarded(
            &case.responsible,
            statement,
            ciphertext,
            &card(facilitator),
            &card(&case.harmed),
            &case.id,
        )
    };
    assert!(open_fwd(&fwd.forward, &fwd.ciphertext, &case.facilitator).is_ok());
    // Claimed to come from the co-facilitator: wrong signer.
    let err = open_fwd(&fwd.forward, &fwd.ciphertext, &case.co_facilitator).unwrap_err();
    assert!(matches!(err, CryptoError::WrongSigner { .. }), "{err:?}");
    // Any flipped byte of the forward body or the forwarded ciphertext.
    for i in 0..fwd.forward.body.len() {
        let mut bad = fwd.forward.clone();
        bad.body = flipped(&bad.body, i);
        let err = open_fwd(&bad, &fwd.ciphertext, &case.facilitator).unwrap_err();
        assert!(
            matches!(err, CryptoError::BadSignature { kind: "forward" }),
            "byte {i}: {err:?}"
        );
    }
    for i in 0..fwd.ciphertext.len() {
        let err = open_fwd(
            &fwd.forward,
            &flipped(&fwd.ciphertext, i),
            &case.facilitator,
        )
        .unwrap_err();
        assert!(
            matches!(err, CryptoError::CiphertextMismatch),
            "byte {i}: {err:?}"
        );
    }
    // A forward presented in another case.
    let err = forward::open_forwarded(
        &case.responsible,
        &fwd.forward,
        &fwd.ciphertext,
        &card(&case.facilitator),
        &card(&case.harmed),
        &Id::try_from("case-9").unwrap(),
    )
    .unwrap_err();
    assert!(
        matches!(err, CryptoError::Mismatch { field: "case", .. }),
        "{err:?}"
    );
}

#[test]
fn a_forward_claiming_unredacted_must_carry_the_authors_letter() {
    use ferry_crypto::forward::{self, Forward};
    // A facilitator rewrites the text but labels the forward "unredacted": the payload is then
    // a redacted letter, and the recipient's client refuses it.
    let case = Case::new();
    let sealed = case.seal_question("Original words", 1);
    let opened = case.open_as_facilitator(&sealed).unwrap();
    let redacted = forward::forward(
        &case.facilitator,
        forward::ForwardRequest {
            original: &opened,
            recipient: (&card(&case.responsible)).into(),
            redacted_body: Some("Other words".into()),
            co_facilitators: &[],
            attachments: vec![],
            seq: 1,
            created_at: NOW,
        },
    )
    .unwrap();
    let mut lie: Forward = redacted.forward.open(&card(&case.facilitator)).unwrap();
    lie.redacted = false;
    let lie = case.facilitator.sign(&lie).unwrap();
    let err = forward::open_forwarded(
        &case.responsible,
        &lie,
        &redacted.ciphertext,
        &card(&case.facilitator),
        &card(&case.harmed),
        &case.id,
    )
    .unwrap_err();
    assert!(
        matches!(err, CryptoError::WrongKind { expected: "letter", found } if found == "redacted-letter")
    );
}

#[test]
fn malformed_input_never_panics() {
    // Random and structured junk through every parser of untrusted bytes.
    let samples: Vec<Vec<u8>> = vec![
        vec![],
        b"{}".to_vec(),
        b"null".to_vec(),
        b"{\"kind\":\"letter\",\"signer\":\"x\",\"body\":\"!!\",\"sig\":\"\"}".to_vec(),
        b"{\"kind\":\"nope\",\"signer\":\"00000000000000000000000000000000\",\"body\":\"\",\"sig\":\"\"}".to_vec(),
        b"age-encryption.org/v1\n-> X25519 \n---".to_vec(),
        vec![0xff; 300],
        vec![b'['; 10_000],
        vec![b' '; ferry_crypto::MAX_STATEMENT_BYTES + 1],
    ];
    let case = Case::new();
    for s in &samples {
        assert!(SignedStatement::from_json(s).is_err());
        assert!(KeyCard::from_json(s).is_err());
        let sealed = case.seal_question("x", 1);
        assert!(open(&case, &sealed.envelope, s).is_err());
        assert!(
            ferry_crypto::keystore::Keystore::read_encrypted(&s[..], &"p".to_owned().into(), 10)
                .is_err()
        );
    }
}
