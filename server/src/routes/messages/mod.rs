//! Messages: what the relay keeps of each sealed letter, question and answer, and the
//! routes that serve them, by what they serve: [`listing`] (lists and one message),
//! [`attachments`] (their blobs), [`decisions`] (what a facilitator decides) and [`delivery`]
//! (what a decision passes on). Submission is in `submit.rs`.

pub mod attachments;
pub mod decisions;
pub mod delivery;
pub mod listing;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ferry_crypto::seal::{AttachmentBlob, Envelope};
use ferry_crypto::{Role, SignedStatement};
use sqlx::Row;

use crate::auth::Caller;
use crate::db::{Tx, parsed};
use crate::error::{ApiError, ApiResult};
use crate::sql::{Value, Writes};
use crate::{AppState, cases};
use ferry_protocol::{ErrorCode, MessageSummary};

pub(crate) use attachments::{expected_blob, mark_stored};

/// Most attachments on one message.
pub(super) const MAX_ATTACHMENTS: usize = 16;

pub(super) const PARTICIPANTS: &[Role] = &[Role::Harmed, Role::Responsible, Role::Supporter];

/// Decodes base64 `text`, of at most `limit` bytes once decoded.
pub(crate) fn decode_b64(what: &'static str, text: &str, limit: usize) -> ApiResult<Vec<u8>> {
    if text.len() > limit / 3 * 4 + 8 {
        return Err(ApiError::new(
            ErrorCode::TooLarge,
            format!("the {what} is larger than the server accepts"),
        ));
    }
    B64.decode(text).map_err(|_| {
        ApiError::new(
            ErrorCode::MalformedBody,
            format!("the {what} is not valid base64"),
        )
    })
}

const SUMMARY_COLUMNS: &str = "SELECT m.message_id, m.case_id, m.author, a.display_name, mem.role, \
    m.kind, m.recipient_role, m.in_reply_to, m.state, m.created_at, \
    (SELECT COUNT(*) FROM blobs b WHERE b.owner_id = m.message_id), m.entered_by";
const SUMMARY_FROM: &str = "FROM messages m JOIN accounts a ON a.account_id = m.author \
    LEFT JOIN members mem ON mem.case_id = m.case_id AND mem.account_id = m.author";

fn summary(row: &sqlx::any::AnyRow) -> ApiResult<MessageSummary> {
    Ok(MessageSummary {
        message_id: row.try_get(0)?,
        case_id: row.try_get(1)?,
        author: row.try_get(2)?,
        author_name: row.try_get(3)?,
        author_role: parsed(row, 4)?,
        kind: parsed(row, 5)?,
        recipient_role: parsed(row, 6)?,
        in_reply_to: row.try_get(7)?,
        state: parsed(row, 8)?,
        created_at: row.try_get(9)?,
        attachments: row.try_get::<i64, _>(10)? as u64,
        entered_by: row.try_get(11)?,
    })
}

/// A message's stored row.
struct Stored {
    summary: MessageSummary,
    envelope: SignedStatement,
    ciphertext: Vec<u8>,
}

async fn load_message<'e, E>(db: E, case_id: &str, message_id: &str) -> ApiResult<Stored>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!(
        "{SUMMARY_COLUMNS}, m.envelope, m.ciphertext {SUMMARY_FROM} \
         WHERE m.case_id = $1 AND m.message_id = $2"
    );
    let row = sqlx::query(&sql)
        .bind(case_id)
        .bind(message_id)
        .fetch_optional(db)
        .await?
        .ok_or_else(|| ApiError::not_found("message"))?;
    let envelope: Vec<u8> = row.try_get(12)?;
    Ok(Stored {
        summary: summary(&row)?,
        envelope: SignedStatement::from_json(&envelope).map_err(ApiError::internal)?,
        ciphertext: row.try_get(13)?,
    })
}

fn envelope_of(stored: &Stored) -> ApiResult<Envelope> {
    serde_json::from_slice(&stored.envelope.body).map_err(ApiError::internal)
}

/// Records the attachment blobs `owner` (a message or a delivery) is to receive, in one
/// multi-row insert.
pub(super) async fn insert_blobs(
    tx: &mut Tx<'_>,
    owner: &str,
    blobs: &[AttachmentBlob],
) -> ApiResult<()> {
    let mut writes = Writes::default();
    hold_blobs(&mut writes, [(owner, blobs)]);
    writes.run(tx, None, false).await
}

/// Holds in `writes` one insert of the rows of the attachment blobs each owner is to receive.
pub(super) fn hold_blobs<'a>(
    writes: &mut Writes,
    owners: impl IntoIterator<Item = (&'a str, &'a [AttachmentBlob])>,
) {
    let mut rows = vec![];
    for (owner, blobs) in owners {
        for (n, blob) in blobs.iter().enumerate() {
            rows.extend([
                Value::from(owner),
                Value::from(n as i64),
                Value::from(blob.sha256.to_hex()),
                Value::from(blob.size as i64),
            ]);
        }
    }
    writes.insert("blobs (owner_id, idx, sha256, size)", 4, rows);
}

/// Loads a message for one of its case's facilitators or its author. Anyone else gets the
/// answer a message that does not exist gets, whether or not the case or message exists.
async fn load_readable(
    app: &AppState,
    caller: &Caller,
    case_id: &str,
    message_id: &str,
) -> ApiResult<Stored> {
    let hidden = || ApiError::not_found("message");
    let member = cases::member(&app.pool, case_id, &caller.account_id)
        .await?
        .ok_or_else(hidden)?;
    let stored = load_message(&app.pool, case_id, message_id).await?;
    if member.role == Role::Facilitator || stored.summary.author == caller.account_id.as_str() {
        Ok(stored)
    } else {
        Err(hidden())
    }
}
