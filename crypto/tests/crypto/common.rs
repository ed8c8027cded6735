//! Shared fixtures.

use ferry_crypto::seal::{self, Expect, Letter, OpenedMessage, SealedMessage};
use ferry_crypto::{FORMAT_VERSION, Id, Identity, KeyCard, MessageKind, Role};

pub const NOW: i64 = 1_790_000_000;

/// A small case: a harmed person, a responsible person and two facilitators.
pub struct Case {
    pub id: Id,
    pub harmed: Identity,
    pub responsible: Identity,
    pub facilitator: Identity,
    pub co_facilitator: Identity,
}

impl Case {
    pub fn new() -> Self {
        Self {
            id: Id::try_from("case-1").unwrap(),
            harmed: Identity::generate("Harriet Harmed").unwrap(),
            responsible: Identity::generate("Rory Responsible").unwrap(),
            facilitator: Identity::generate("Fiona Facilitator").unwrap(),
            co_facilitator: Identity::generate("Colin Cofacilitator").unwrap(),
        }
    }

    pub fn facilitator_recipients(&self) -> Vec<ferry_crypto::Recipient> {
        vec![
            self.facilitator.recipient(),
            self.co_facilitator.recipient(),
        ]
    }

    pub fn question(&self, body: &str) -> Letter {
        letter(
            &self.id,
            &self.harmed,
            MessageKind::Question,
            Role::Responsible,
            body,
        )
    }

    pub fn seal_question(&self, body: &str, seq: u64) -> SealedMessage {
        seal::seal(
            &self.harmed,
            &self.question(body),
            seq,
            vec![],
            &self.facilitator_recipients(),
        )
        .unwrap()
    }

    pub fn open_as_facilitator(
        &self,
        sealed: &SealedMessage,
    ) -> ferry_crypto::Result<OpenedMessage> {
        seal::open(
            &self.facilitator,
            &sealed.envelope,
            &sealed.ciphertext,
            &card(&self.harmed),
            &Expect::case(&self.id),
        )
    }
}

pub fn card(identity: &Identity) -> KeyCard {
    identity.key_card(NOW).unwrap()
}

pub fn letter(case: &Id, author: &Identity, kind: MessageKind, to: Role, body: &str) -> Letter {
    Letter {
        v: FORMAT_VERSION,
        case_id: case.clone(),
        message_id: Id::random(),
        kind,
        author: author.account_id().clone(),
        recipient_role: to,
        in_reply_to: (kind == MessageKind::Answer).then(|| Id::try_from("q-1").unwrap()),
        created_at: NOW,
        body: body.to_owned(),
        attachments: vec![],
        entered_by: None,
    }
}

/// Flips one bit of byte `i`.
pub fn flipped(bytes: &[u8], i: usize) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[i] ^= 0x01;
    out
}
