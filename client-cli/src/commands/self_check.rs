//! `ferry self-check`: the crypto core end to end, with generated keys, printed as a transcript.

use anyhow::{Context, Result, ensure};
use ferry_crypto::forward::{self, ForwardRequest};
use ferry_crypto::keystore::Keystore;
use ferry_crypto::seal::{self, Expect, Letter};
use ferry_crypto::{CryptoError, FORMAT_VERSION, Id, Identity, MessageKind, Role, SecretString};

/// Arguments of `ferry self-check`.
#[derive(clap::Args)]
pub struct Cmd {}

impl Cmd {
    /// Runs the check.
    pub fn run(self, out: &mut crate::output::Out<'_>) -> Result<()> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or_default();
        let mut steps: Vec<String> = vec![];
        let mut say = |line: String| -> Result<()> {
            out.line(&line)?;
            steps.push(line);
            Ok(())
        };

        let harmed = Identity::generate("Harriet (harmed)")?;
        let responsible = Identity::generate("Rory (responsible)")?;
        let facilitator = Identity::generate("Fiona (facilitator)")?;
        let cards = [
            harmed.key_card(now)?,
            responsible.key_card(now)?,
            facilitator.key_card(now)?,
        ];
        for card in &cards {
            say(format!(
                "key card   {:<20} account {}  safety number {}",
                card.display_name(),
                card.account_id(),
                card.fingerprint().safety_number()
            ))?;
        }
        let [harmed_card, responsible_card, facilitator_card] = &cards;

        let case = Id::try_from("self-check")?;
        let question = Letter {
            v: FORMAT_VERSION,
            case_id: case.clone(),
            message_id: Id::random(),
            kind: MessageKind::Question,
            author: harmed.account_id().clone(),
            recipient_role: Role::Responsible,
            in_reply_to: None,
            created_at: now,
            body: "Why did you pick our house? My phone is 07700 900461.".into(),
            attachments: vec![],
            entered_by: None,
        };
        let sealed = seal::seal(&harmed, &question, 1, vec![], &[facilitator.recipient()])?;
        say(format!(
            "sealed     question from Harriet to the facilitator: {} bytes of age ciphertext",
            sealed.ciphertext.len()
        ))?;

        let err = seal::open(
            &responsible,
            &sealed.envelope,
            &sealed.ciphertext,
            harmed_card,
            &Expect::case(&case),
        )
        .err();
        ensure!(
            matches!(err, Some(CryptoError::NotARecipient)),
            "the other party could open an unreviewed message"
        );
        say("refused    Rory cannot open it before review".into())?;

        let opened = seal::open(
            &facilitator,
            &sealed.envelope,
            &sealed.ciphertext,
            harmed_card,
            &Expect::case(&case),
        )
        .context("the facilitator could not open the question")?;
        ensure!(opened.letter == question, "the opened question differs");
        say(
            "opened     the facilitator verified Harriet's signature and read the question".into(),
        )?;

        let fwd = forward::forward(
            &facilitator,
            ForwardRequest {
                original: &opened,
                recipient: (responsible_card).into(),
                redacted_body: Some("Why did you pick our house? My phone is [removed].".into()),
                co_facilitators: &[],
                attachments: vec![],
                seq: 1,
                created_at: now,
            },
        )?;
        say("forwarded  a redacted version, signed by the facilitator, encrypted to Rory".into())?;

        let delivered = forward::open_forwarded(
            &responsible,
            &fwd.forward,
            &fwd.ciphertext,
            facilitator_card,
            harmed_card,
            &case,
        )?;
        ensure!(
            delivered.redacted && !delivered.body.contains("07700"),
            "the redaction did not reach the recipient"
        );
        say(format!(
            "read       Rory verified the forward and read: {:?}",
            delivered.body
        ))?;

        let mut tampered = fwd.ciphertext.clone();
        if let Some(byte) = tampered.last_mut() {
            *byte ^= 1;
        }
        let err = forward::open_forwarded(
            &responsible,
            &fwd.forward,
            &tampered,
            facilitator_card,
            harmed_card,
            &case,
        )
        .err();
        ensure!(
            matches!(err, Some(CryptoError::CiphertextMismatch)),
            "a tampered forward was accepted"
        );
        say("refused    a forward with one flipped bit".into())?;

        let mut keystore = Keystore::new();
        keystore.insert("self-check/facilitator", facilitator)?;
        let passphrase: SecretString = "self-check passphrase".to_owned().into();
        let mut file = vec![];
        keystore.write_encrypted(&passphrase, 10, &mut file)?;
        let wrong: SecretString = "not it".to_owned().into();
        ensure!(
            matches!(
                Keystore::read_encrypted(&file[..], &wrong, 10),
                Err(CryptoError::WrongPassphrase)
            ),
            "a wrong passphrase opened the keystore"
        );
        let back = Keystore::read_encrypted(&file[..], &passphrase, 10)?;
        ensure!(
            back.get("self-check/facilitator").map(Identity::account_id)
                == Some(facilitator_card.account_id()),
            "the keystore did not round-trip"
        );
        say("keystore   passphrase-encrypted, reopened; a wrong passphrase is refused".into())?;
        say("self-check passed".into())?;

        out.json(&serde_json::json!({ "ok": true, "steps": steps }))?;
        Ok(())
    }
}
