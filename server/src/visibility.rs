//! What a participant may see of their case's record: their own actions, what was forwarded
//! to them, and the facts of the case everyone in it shares (it was opened, who facilitates it,
//! when it paused or resumed, who takes part on paper). Never the other party's submissions,
//! consent or withdrawal (on paper too), nor any decision the facilitator made about the other
//! party's messages or letter printed for them.

use std::collections::HashSet;

use ferry_crypto::actions::{KeyVerification, ReadReceipt, Return};
use ferry_crypto::forward::Forward;
use ferry_crypto::{SignedStatement, StatementKind};
use serde::de::DeserializeOwned;

/// Whether a case event concerns `account`, a participant whose own messages are `own`.
pub fn concerns(account: &str, own: &HashSet<String>, statement: &SignedStatement) -> bool {
    if statement.signer.as_str() == account {
        return true;
    }
    fn body<T: DeserializeOwned>(s: &SignedStatement) -> Option<T> {
        serde_json::from_slice(&s.body).ok()
    }
    match statement.kind {
        // Who takes part on paper is a fact of the case everyone in it shares.
        StatementKind::CaseOpen
        | StatementKind::Allocation
        | StatementKind::CaseState
        | StatementKind::PaperMember => true,
        StatementKind::Forward => {
            body::<Forward>(statement).is_some_and(|f| f.recipient.as_str() == account)
        }
        StatementKind::Return => {
            body::<Return>(statement).is_some_and(|r| own.contains(r.message_id.as_str()))
        }
        StatementKind::ReadReceipt => {
            body::<ReadReceipt>(statement).is_some_and(|r| own.contains(r.message_id.as_str()))
        }
        StatementKind::KeyVerification => {
            body::<KeyVerification>(statement).is_some_and(|k| k.subject.as_str() == account)
        }
        _ => false,
    }
}

/// The ids of the messages `account` wrote in a case.
pub async fn own_messages(
    conn: &mut sqlx::AnyConnection,
    case_id: &str,
    account: &str,
) -> Result<HashSet<String>, sqlx::Error> {
    use sqlx::Row;
    sqlx::query("SELECT message_id FROM messages WHERE case_id = $1 AND author = $2")
        .bind(case_id)
        .bind(account)
        .fetch_all(conn)
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect()
}
