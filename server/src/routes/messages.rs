//! Messages: submission of sealed letters, questions and answers; the facilitators' review
//! queue; and their signed decisions (forward, return, withhold, escalate).

use axum::Json;
use axum::body::Body as RawBody;
use axum::extract::{Path, State};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ferry_crypto::actions::{Escalate, Return, Withhold};
use ferry_crypto::forward::Forward;
use ferry_crypto::seal::{AttachmentBlob, Envelope, check_ciphertext};
use ferry_crypto::{Id, MAX_MESSAGE_BYTES, Role, SignedStatement};
use sqlx::Row;

use crate::auth::Caller;
use crate::db::{self, Tx, parsed};
use crate::error::{ApiError, ApiResult};
use crate::extract::Body;
use crate::intake::accept;
use crate::sql::{Value, Writes};
use crate::{AppState, blobs, cases, now};
use ferry_protocol::{
    Accepted, CaseState, Consent, DecisionRequest, DeliveryKind, DeliveryState, ErrorCode,
    MessageDetail, MessageState, MessageSummary, StaffRole, StatementRequest, WithholdRequest,
};

/// Most attachments on one message.
pub(super) const MAX_ATTACHMENTS: usize = 16;

pub(super) const PARTICIPANTS: &[Role] = &[Role::Harmed, Role::Responsible, Role::Supporter];

pub(crate) fn decode_b64(what: &'static str, text: &str) -> ApiResult<Vec<u8>> {
    if text.len() > MAX_MESSAGE_BYTES / 3 * 4 + 8 {
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
    (SELECT COUNT(*) FROM blobs b WHERE b.owner_id = m.message_id)";
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
    let envelope: Vec<u8> = row.try_get(11)?;
    Ok(Stored {
        summary: summary(&row)?,
        envelope: SignedStatement::from_json(&envelope).map_err(ApiError::internal)?,
        ciphertext: row.try_get(12)?,
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

/// Messages of a case, without content: all of them for facilitators, coordinators and
/// auditors; a participant's own for participants.
#[utoipa::path(get, path = "/v1/cases/{case_id}/messages", tag = "messages", security(("bearer" = [])),
    params(("case_id" = String, Path, description = "Case id")),
    responses((status = 200, body = Vec<MessageSummary>)))]
pub async fn list_messages(
    State(app): State<AppState>,
    caller: Caller,
    Path(case_id): Path<String>,
) -> ApiResult<Json<Vec<MessageSummary>>> {
    let own_only = if caller.staff_role == Some(StaffRole::Coordinator) {
        cases::load(&app.pool, &case_id).await?;
        false
    } else {
        let m = cases::require_member(&app.pool, &case_id, &caller.account_id, &Role::ALL).await?;
        m.role.is_participant()
    };
    // Participants see only their own messages: the author is then bound as well.
    let author = if own_only { "AND m.author = $2" } else { "" };
    let sql = format!(
        "{SUMMARY_COLUMNS} {SUMMARY_FROM} WHERE m.case_id = $1 {author} \
         ORDER BY m.created_at, m.message_id"
    );
    let mut query = sqlx::query(&sql).bind(&case_id);
    if own_only {
        query = query.bind(caller.account_id.as_str());
    }
    let rows = query.fetch_all(&app.pool).await?;
    Ok(Json(rows.iter().map(summary).collect::<Result<_, _>>()?))
}

/// Messages waiting for review in every case the caller facilitates.
#[utoipa::path(get, path = "/v1/review", tag = "messages", security(("bearer" = [])),
    responses((status = 200, body = Vec<MessageSummary>)))]
pub async fn review_queue(
    State(app): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<MessageSummary>>> {
    let sql = format!(
        "{SUMMARY_COLUMNS} {SUMMARY_FROM} WHERE m.state IN ('in_review', 'escalated') AND m.case_id IN \
         (SELECT case_id FROM members WHERE account_id = $1 AND role = 'facilitator') \
         ORDER BY m.created_at, m.message_id"
    );
    let rows = sqlx::query(&sql)
        .bind(caller.account_id.as_str())
        .fetch_all(&app.pool)
        .await?;
    Ok(Json(rows.iter().map(summary).collect::<Result<_, _>>()?))
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

/// A sealed message with its envelope, for the case's facilitators and its author.
#[utoipa::path(get, path = "/v1/cases/{case_id}/messages/{message_id}", tag = "messages",
    security(("bearer" = [])),
    params(("case_id" = String, Path, description = "Case id"), ("message_id" = String, Path, description = "Message id")),
    responses((status = 200, body = MessageDetail), (status = 404, body = ferry_protocol::ErrorBody)))]
pub async fn get_message(
    State(app): State<AppState>,
    caller: Caller,
    Path((case_id, message_id)): Path<(String, String)>,
) -> ApiResult<Json<MessageDetail>> {
    let stored = load_readable(&app, &caller, &case_id, &message_id).await?;
    let author = ferry_crypto::AccountId::try_from(stored.summary.author.clone())
        .map_err(ApiError::internal)?;
    let card = app
        .key_cards
        .load(&app.pool, &author)
        .await?
        .ok_or_else(|| ApiError::not_found("account"))?;
    Ok(Json(MessageDetail {
        ciphertext: B64.encode(&stored.ciphertext),
        envelope: stored.envelope,
        summary: stored.summary,
        author_card: card.statement().clone(),
    }))
}

/// Uploads an attachment's encrypted blob (the author, after submitting the message).
#[utoipa::path(put, path = "/v1/cases/{case_id}/messages/{message_id}/attachments/{idx}", tag = "messages",
    security(("bearer" = [])),
    params(("case_id" = String, Path, description = "Case id"), ("message_id" = String, Path, description = "Message id"),
        ("idx" = u64, Path, description = "Attachment number, from 0")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = Accepted), (status = 400, body = ferry_protocol::ErrorBody)))]
pub async fn upload_attachment(
    State(app): State<AppState>,
    caller: Caller,
    Path((case_id, message_id, idx)): Path<(String, String, u64)>,
    body: RawBody,
) -> ApiResult<Json<Accepted>> {
    let stored = load_message(&app.pool, &case_id, &message_id).await?;
    if stored.summary.author != caller.account_id.as_str() {
        return Err(ApiError::not_found("message"));
    }
    let blob = expected_blob(&app, &message_id, idx).await?;
    blobs::store(&app.config.blob_dir, &message_id, idx, &blob, body).await?;
    let mut tx = db::begin_write(&app.pool).await?;
    let newly = mark_stored(&mut tx, &message_id, idx).await?;
    if newly {
        sqlx::query(
            "UPDATE messages SET attachments_pending = attachments_pending - 1, \
             state = CASE WHEN attachments_pending = 1 THEN 'in_review' ELSE state END, updated_at = $1 \
             WHERE message_id = $2",
        )
        .bind(now())
        .bind(&message_id)
        .execute(&mut *tx)
        .await?;
    }
    let state: MessageState = parsed(
        &sqlx::query("SELECT state FROM messages WHERE message_id = $1")
            .bind(&message_id)
            .fetch_one(&mut *tx)
            .await?,
        0,
    )?;
    if newly && state == MessageState::InReview {
        let kind = crate::mail::Kind::ReviewWaiting;
        crate::mail::outbox::notify_role(
            &mut tx,
            &app.config,
            &case_id,
            Role::Facilitator,
            kind,
            now(),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Json(Accepted {
        event: 0,
        case_state: None,
        id: Some(message_id),
        state: Some(state.to_string()),
        mailed: false,
    }))
}

pub(crate) async fn expected_blob(
    app: &AppState,
    owner: &str,
    idx: u64,
) -> ApiResult<AttachmentBlob> {
    let row = sqlx::query("SELECT sha256, size FROM blobs WHERE owner_id = $1 AND idx = $2")
        .bind(owner)
        .bind(idx as i64)
        .fetch_optional(&app.pool)
        .await?
        .ok_or_else(|| ApiError::not_found("attachment"))?;
    let sha: String = row.try_get(0)?;
    Ok(AttachmentBlob {
        sha256: ferry_crypto::Sha256Hash::from_hex(&sha).map_err(ApiError::internal)?,
        size: row.try_get::<i64, _>(1)? as u64,
    })
}

/// Marks a blob stored; true if it was not already.
pub(crate) async fn mark_stored(tx: &mut Tx<'_>, owner: &str, idx: u64) -> ApiResult<bool> {
    Ok(
        sqlx::query("UPDATE blobs SET stored = 1 WHERE owner_id = $1 AND idx = $2 AND stored = 0")
            .bind(owner)
            .bind(idx as i64)
            .execute(&mut **tx)
            .await?
            .rows_affected()
            == 1,
    )
}

/// Downloads an attachment's encrypted blob (the case's facilitators and the author).
#[utoipa::path(get, path = "/v1/cases/{case_id}/messages/{message_id}/attachments/{idx}", tag = "messages",
    security(("bearer" = [])),
    params(("case_id" = String, Path, description = "Case id"), ("message_id" = String, Path, description = "Message id"),
        ("idx" = u64, Path, description = "Attachment number, from 0")),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>),
        (status = 404, body = ferry_protocol::ErrorBody)))]
pub async fn download_attachment(
    State(app): State<AppState>,
    caller: Caller,
    Path((case_id, message_id, idx)): Path<(String, String, u64)>,
) -> ApiResult<RawBody> {
    load_readable(&app, &caller, &case_id, &message_id).await?;
    blobs::read(&app.config.blob_dir, &message_id, idx).await
}

/// A facilitator's decision about one message.
pub(crate) trait Decision:
    ferry_crypto::Statement + ferry_crypto::actions::Sequenced
{
    /// The case and message it is about, and the original ciphertext's hash it names.
    fn target(&self) -> (&Id, &Id, &ferry_crypto::Sha256Hash);
}

macro_rules! decision {
    ($($ty:ty),*) => {
        $(impl Decision for $ty {
            fn target(&self) -> (&Id, &Id, &ferry_crypto::Sha256Hash) {
                (&self.case_id, &self.message_id, &self.original_sha256)
            }
        })*
    };
}

decision!(Forward, Return, Withhold, Escalate);

/// Begins a decision: the caller must be a facilitator of the case; the statement must be
/// theirs, correctly signed and in sequence, and about this very message and ciphertext.
async fn begin_decision<T: Decision>(
    app: &AppState,
    caller: &Caller,
    case_id: &str,
    message_id: &str,
    statement: &SignedStatement,
) -> ApiResult<(Tx<'static>, T, Stored)> {
    let mut tx = db::begin_write(&app.pool).await?;
    cases::require_member(&mut *tx, case_id, &caller.account_id, &[Role::Facilitator]).await?;
    let decision: T = accept(&mut tx, caller, statement).await?;
    let (signed_case, signed_message, original) = decision.target();
    if signed_case.as_str() != case_id || signed_message.as_str() != message_id {
        return Err(ApiError::new(
            ErrorCode::Mismatch,
            "the decision is signed for another message",
        ));
    }
    let stored = load_message(&mut *tx, case_id, message_id).await?;
    if envelope_of(&stored)?.ciphertext_sha256 != *original {
        return Err(ApiError::new(
            ErrorCode::Mismatch,
            "the decision names a different ciphertext than the message's",
        ));
    }
    Ok((tx, decision, stored))
}

fn require_undecided(stored: &Stored, also: &[MessageState]) -> ApiResult<()> {
    let state = stored.summary.state;
    if state == MessageState::InReview || state == MessageState::Escalated || also.contains(&state)
    {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::AlreadyDecided,
            format!("this message is {state} and is not waiting for a decision"),
        ))
    }
}

async fn set_message_state(
    tx: &mut Tx<'_>,
    message_id: &str,
    state: MessageState,
    now: i64,
) -> ApiResult<()> {
    sqlx::query("UPDATE messages SET state = $1, updated_at = $2 WHERE message_id = $3")
        .bind(state.as_str())
        .bind(now)
        .bind(message_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Creates a delivery; it is released now if the case is active, held if paused.
#[allow(clippy::too_many_arguments)]
async fn deliver(
    tx: &mut Tx<'_>,
    config: &crate::Config,
    case_id: &str,
    message_id: &str,
    recipient: &str,
    kind: DeliveryKind,
    statement: &SignedStatement,
    ciphertext: Vec<u8>,
    attachments: &[AttachmentBlob],
    now: i64,
) -> ApiResult<(String, DeliveryState)> {
    let case = cases::load(&mut **tx, case_id).await?;
    let state = match (case.state, attachments.is_empty()) {
        (CaseState::Active, true) => DeliveryState::Released,
        (CaseState::Paused, true) => DeliveryState::Held,
        (CaseState::Active | CaseState::Paused, false) => DeliveryState::Uploading,
        (other, _) => {
            return Err(ApiError::new(
                ErrorCode::CaseNotActive,
                format!(
                    "nothing is delivered in {} case",
                    ferry_crypto::with_article(other.as_str())
                ),
            ));
        }
    };
    let delivery_id = Id::random().to_string();
    sqlx::query(
        "INSERT INTO deliveries (delivery_id, case_id, message_id, recipient, kind, statement, ciphertext, \
         state, attachments_pending, created_at, released_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&delivery_id)
    .bind(case_id)
    .bind(message_id)
    .bind(recipient)
    .bind(kind.as_str())
    .bind(statement.to_json())
    .bind(ciphertext)
    .bind(state.as_str())
    .bind(attachments.len() as i64)
    .bind(now)
    .bind((state == DeliveryState::Released).then_some(now))
    .execute(&mut **tx)
    .await?;
    insert_blobs(tx, &delivery_id, attachments).await?;
    if state == DeliveryState::Released {
        crate::mail::outbox::notify(
            tx,
            config,
            recipient,
            crate::mail::Kind::NewMessage,
            case_id,
            now,
        )
        .await?;
    }
    Ok((delivery_id, state))
}

/// Forwards a reviewed message to its recipient (facilitators of the case). While the case is
/// paused the forward is held, and released only if the case resumes.
#[utoipa::path(post, path = "/v1/cases/{case_id}/messages/{message_id}/forward", tag = "decisions",
    security(("bearer" = [])),
    params(("case_id" = String, Path, description = "Case id"), ("message_id" = String, Path, description = "Message id")),
    request_body = DecisionRequest,
    responses((status = 200, body = Accepted), (status = 403, body = ferry_protocol::ErrorBody),
        (status = 409, body = ferry_protocol::ErrorBody)))]
pub async fn forward(
    State(app): State<AppState>,
    caller: Caller,
    Path((case_id, message_id)): Path<(String, String)>,
    Body(req): Body<DecisionRequest>,
) -> ApiResult<Json<Accepted>> {
    let ciphertext = decode_b64("ciphertext", &req.ciphertext)?;
    let now = now();
    let (mut tx, fwd, stored): (_, Forward, _) =
        begin_decision(&app, &caller, &case_id, &message_id, &req.statement).await?;
    require_undecided(&stored, &[MessageState::Forwarded])?;
    check_ciphertext(&ciphertext, &fwd.forwarded_sha256, fwd.forwarded_size)?;
    let to = cases::member(&mut *tx, &case_id, &fwd.recipient)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::WrongRecipient,
                "the recipient is not in this case",
            )
        })?;
    if to.role != stored.summary.recipient_role || fwd.recipient_role != to.role {
        return Err(ApiError::new(
            ErrorCode::WrongRecipient,
            format!(
                "this message is for the {} role",
                stored.summary.recipient_role
            ),
        ));
    }
    if fwd.recipient.as_str() == stored.summary.author {
        return Err(ApiError::new(
            ErrorCode::WrongRecipient,
            "a message is not forwarded to its author",
        ));
    }
    // Someone who never consented gets nothing. After a withdrawal the case is paused, so the
    // forward is held, and released only if they consent again and the case resumes.
    if to.consent == Consent::None {
        return Err(ApiError::new(
            ErrorCode::NoConsent,
            "the recipient has not consented",
        ));
    }
    let already: i64 = sqlx::query(
        "SELECT COUNT(*) FROM deliveries WHERE message_id = $1 AND recipient = $2 AND kind = 'forward' \
         AND state <> 'cancelled'",
    )
    .bind(&message_id)
    .bind(fwd.recipient.as_str())
    .fetch_one(&mut *tx)
    .await?
    .try_get(0)?;
    if already > 0 {
        return Err(ApiError::new(
            ErrorCode::AlreadyForwarded,
            "this message was already forwarded to that person",
        ));
    }
    // Every attachment of the original has a decision, and what passes matches them.
    fwd.check_decisions(Some(stored.summary.attachments as usize))
        .map_err(|e| {
            ApiError::new(ErrorCode::AttachmentMismatch,
                format!(
                    "the forward must say what becomes of each of the message's {} attachment(s): {e}",
                    stored.summary.attachments
                ),
            )
        })?;
    let (id, state) = deliver(
        &mut tx,
        &app.config,
        &case_id,
        &message_id,
        fwd.recipient.as_str(),
        DeliveryKind::Forward,
        &req.statement,
        ciphertext,
        &fwd.attachments,
        now,
    )
    .await?;
    set_message_state(&mut tx, &message_id, MessageState::Forwarded, now).await?;
    let state = Some(state.to_string());
    super::record(tx, &case_id, &req.statement, now, Some(id), state).await
}

/// Returns a message to its author for changes, with a sealed note (facilitators).
#[utoipa::path(post, path = "/v1/cases/{case_id}/messages/{message_id}/return", tag = "decisions",
    security(("bearer" = [])),
    params(("case_id" = String, Path, description = "Case id"), ("message_id" = String, Path, description = "Message id")),
    request_body = DecisionRequest,
    responses((status = 200, body = Accepted), (status = 409, body = ferry_protocol::ErrorBody)))]
pub async fn return_to_author(
    State(app): State<AppState>,
    caller: Caller,
    Path((case_id, message_id)): Path<(String, String)>,
    Body(req): Body<DecisionRequest>,
) -> ApiResult<Json<Accepted>> {
    let note = decode_b64("note", &req.ciphertext)?;
    let now = now();
    let (mut tx, ret, stored): (_, Return, _) =
        begin_decision(&app, &caller, &case_id, &message_id, &req.statement).await?;
    require_undecided(&stored, &[])?;
    check_ciphertext(&note, &ret.note_sha256, ret.note_size)?;
    let author = stored.summary.author.clone();
    let (id, state) = deliver(
        &mut tx,
        &app.config,
        &case_id,
        &message_id,
        &author,
        DeliveryKind::Return,
        &req.statement,
        note,
        &[],
        now,
    )
    .await?;
    set_message_state(&mut tx, &message_id, MessageState::Returned, now).await?;
    let state = Some(state.to_string());
    super::record(tx, &case_id, &req.statement, now, Some(id), state).await
}

/// Withholds a message, with a reason category and an optional sealed note (facilitators).
#[utoipa::path(post, path = "/v1/cases/{case_id}/messages/{message_id}/withhold", tag = "decisions",
    security(("bearer" = [])),
    params(("case_id" = String, Path, description = "Case id"), ("message_id" = String, Path, description = "Message id")),
    request_body = WithholdRequest,
    responses((status = 200, body = Accepted), (status = 409, body = ferry_protocol::ErrorBody)))]
pub async fn withhold(
    State(app): State<AppState>,
    caller: Caller,
    Path((case_id, message_id)): Path<(String, String)>,
    Body(req): Body<WithholdRequest>,
) -> ApiResult<Json<Accepted>> {
    let note = req
        .note
        .as_deref()
        .map(|n| decode_b64("note", n))
        .transpose()?;
    let now = now();
    let (mut tx, w, stored): (_, Withhold, _) =
        begin_decision(&app, &caller, &case_id, &message_id, &req.statement).await?;
    require_undecided(&stored, &[])?;
    match (&note, &w.note_sha256) {
        (None, None) => {}
        (Some(n), Some(h)) if ferry_crypto::Sha256Hash::of(n) == *h => {}
        _ => {
            return Err(ApiError::new(
                ErrorCode::Mismatch,
                "the note does not match the signed note hash",
            ));
        }
    }
    sqlx::query(
        "UPDATE messages SET state = $1, decision_note = $2, updated_at = $3 WHERE message_id = $4",
    )
    .bind(MessageState::Withheld.as_str())
    .bind(note)
    .bind(now)
    .bind(&message_id)
    .execute(&mut *tx)
    .await?;
    super::record(
        tx,
        &case_id,
        &req.statement,
        now,
        Some(message_id),
        Some(MessageState::Withheld.to_string()),
    )
    .await
}

/// Escalates a message to the coordinator (facilitators).
#[utoipa::path(post, path = "/v1/cases/{case_id}/messages/{message_id}/escalate", tag = "decisions",
    security(("bearer" = [])),
    params(("case_id" = String, Path, description = "Case id"), ("message_id" = String, Path, description = "Message id")),
    request_body = StatementRequest,
    responses((status = 200, body = Accepted), (status = 409, body = ferry_protocol::ErrorBody)))]
pub async fn escalate(
    State(app): State<AppState>,
    caller: Caller,
    Path((case_id, message_id)): Path<(String, String)>,
    Body(req): Body<StatementRequest>,
) -> ApiResult<Json<Accepted>> {
    let now = now();
    let (mut tx, _, stored): (_, Escalate, _) =
        begin_decision(&app, &caller, &case_id, &message_id, &req.statement).await?;
    if stored.summary.state != MessageState::InReview {
        return Err(ApiError::new(
            ErrorCode::AlreadyDecided,
            "only a message in review can be escalated",
        ));
    }
    set_message_state(&mut tx, &message_id, MessageState::Escalated, now).await?;
    crate::mail::outbox::notify_coordinators(&mut tx, &app.config, &case_id, now).await?;
    super::record(
        tx,
        &case_id,
        &req.statement,
        now,
        Some(message_id),
        Some(MessageState::Escalated.to_string()),
    )
    .await
}
