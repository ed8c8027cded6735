//! Submitting a sealed message. What needs no lock is checked first and concurrently (the
//! signature over the exact bytes, the envelope against its ciphertext); submissions arriving
//! together are then decided together in one transaction, with a few statements per batch
//! rather than per request, and made durable by one commit.

use ferry_crypto::MAX_MESSAGE_BYTES;
use std::collections::{HashMap, HashSet};

use axum::Json;
use axum::extract::{Path, State};
use ferry_crypto::actions::Sequenced;
use ferry_crypto::seal::{Envelope, check_ciphertext};
use ferry_crypto::{AccountId, Id, KeyCard, MessageKind, SignedStatement};
use sqlx::Row;

use super::messages::{MAX_ATTACHMENTS, PARTICIPANTS, decode_b64, hold_blobs};
use crate::auth::{self, Bearer};
use crate::cases::{self, Member};
use crate::commit::{Batch, Batched};
use crate::error::{ApiError, ApiResult};
use crate::extract::Body;
use crate::sql::Value;
use crate::{AppState, intake, now};
use ferry_protocol::{Accepted, CaseState, Consent, ErrorCode, MessageState, Role, SubmitRequest};

/// Submits a sealed message (participants, while the case is active and they consent).
#[utoipa::path(post, path = "/v1/cases/{case_id}/messages", tag = "messages", security(("bearer" = [])),
    params(("case_id" = String, Path, description = "Case id")), request_body = SubmitRequest,
    responses((status = 200, description = "Stored and on disk (committed and fsync'd)", body = Accepted),
        (status = 400, description = "Malformed, or the envelope does not match its ciphertext, case or reply", body = ferry_protocol::ErrorBody),
        (status = 401, description = "No live session", body = ferry_protocol::ErrorBody),
        (status = 403, description = "Not the caller's own statement, or not a consenting participant of this case", body = ferry_protocol::ErrorBody),
        (status = 404, description = "No such case", body = ferry_protocol::ErrorBody),
        (status = 409, description = "Not the author's next sequence number, a message id already used, \
            no consent recorded, or the case is not active", body = ferry_protocol::ErrorBody),
        (status = 413, description = "Too large", body = ferry_protocol::ErrorBody),
        (status = 415, description = "Not sent as JSON", body = ferry_protocol::ErrorBody),
        (status = 422, description = "The signature does not verify, or is not its author's", body = ferry_protocol::ErrorBody),
        (status = 500, description = "`not_durable`: committed, but the disk did not confirm it; \
            check before sending it again", body = ferry_protocol::ErrorBody),
        (status = 503, description = "`storage_failed`: the server's storage failed; it takes no \
            more messages until restarted", body = ferry_protocol::ErrorBody)))]
pub async fn submit(
    State(app): State<AppState>,
    bearer: Bearer,
    Path(case_id): Path<String>,
    body: Result<Body<SubmitRequest>, ApiError>,
) -> ApiResult<Json<Accepted>> {
    // The session is checked in the batch's transaction, with the others', so an accepted
    // submission costs no lookup of its own. Key cards never change, so the signature is
    // checked before that, with the card of the account that signed. Whatever is refused
    // before the batch is answered as if the session had been looked up first: a token that
    // names no live session gets 401 whatever the body.
    let req = match body {
        Ok(Body(req)) => req,
        Err(refused) => {
            bearer.caller(&app).await?;
            return Err(refused);
        }
    };
    let signer = &req.envelope.signer;
    let early = match app.key_cards.load(&app.pool, signer).await? {
        Some(card) => check_request(&app, &case_id, &req, signer, &card),
        None => Err(intake::not_yours()),
    };
    let (env, ciphertext) = match early {
        Ok(checked) => checked,
        // Refused before the batch: the caller's own card decides how, once their session is
        // known to be live.
        Err(_) => {
            let caller = bearer.caller(&app).await?;
            check_request(&app, &case_id, &req, &caller.account_id, &caller.card)?
        }
    };
    // Serialized here, on the request's own worker, for the message and its event alike.
    let statement_json = req.envelope.to_json();
    let committer = app.submissions.clone();
    let accepted = committer
        .run(Submission {
            app,
            session: bearer.hash().to_owned(),
            case_id,
            statement: req.envelope,
            statement_json,
            env,
            ciphertext,
        })
        .await?;
    Ok(Json(accepted))
}

/// Everything that can be checked of a submission before its batch, as signed by `account`.
fn check_request(
    app: &AppState,
    case_id: &str,
    req: &SubmitRequest,
    account: &AccountId,
    card: &KeyCard,
) -> ApiResult<(Envelope, Vec<u8>)> {
    let ciphertext = decode_b64("ciphertext", &req.ciphertext, MAX_MESSAGE_BYTES)?;
    let env: Envelope = intake::verify_as(account, card, &req.envelope)?;
    // A participant writes as themself; only a facilitator enters a message for a person on
    // paper, and not here.
    if env.entered_by.is_some() || &env.author != account {
        return Err(ApiError::new(
            ErrorCode::NotYourStatement,
            "a message is submitted by its own author; a facilitator enters one for a person on \
             paper at /v1/cases/{case_id}/entries",
        ));
    }
    check_envelope(app, case_id, &env, &ciphertext)?;
    Ok((env, ciphertext))
}

/// What can be checked of a submission from its own bytes.
pub(super) fn check_envelope(
    app: &AppState,
    case_id: &str,
    env: &Envelope,
    ciphertext: &[u8],
) -> ApiResult<()> {
    if env.case_id.as_str() != case_id {
        return Err(ApiError::new(
            ErrorCode::Mismatch,
            "the envelope is for another case",
        ));
    }
    if !env.recipient_role.is_participant() {
        return Err(wrong_recipient());
    }
    check_ciphertext(ciphertext, &env.ciphertext_sha256, env.ciphertext_size)?;
    if env.attachments.len() > MAX_ATTACHMENTS {
        return Err(ApiError::new(
            ErrorCode::TooManyAttachments,
            format!("at most {MAX_ATTACHMENTS} attachments"),
        ));
    }
    if env
        .attachments
        .iter()
        .any(|blob| blob.size > app.config.max_attachment_bytes)
    {
        return Err(ApiError::new(
            ErrorCode::TooLarge,
            "an attachment is larger than the server accepts",
        ));
    }
    Ok(())
}

pub(super) fn wrong_recipient() -> ApiError {
    ApiError::new(
        ErrorCode::WrongRecipient,
        "a message is addressed to the other party's role, and goes through the facilitator",
    )
}

/// A verified submission waiting for its batch.
pub struct Submission {
    app: AppState,
    /// The hash of the bearer token it came with; its session is checked in the batch.
    session: String,
    case_id: String,
    statement: SignedStatement,
    /// The statement's JSON, as stored in the message and the event.
    statement_json: Vec<u8>,
    env: Envelope,
    ciphertext: Vec<u8>,
}

impl Submission {
    /// The account that signed it, which its session must belong to.
    fn author(&self) -> &AccountId {
        &self.statement.signer
    }
}

/// A member's standing in a case, read once per batch.
struct Standing {
    member: Member,
    case_state: CaseState,
}

/// What the batch knows: the account of each live session among its tokens, each (case,
/// author)'s standing, each author's last sequence number (counting the batch's accepted
/// submissions), and the case of each message it names.
struct View {
    sessions: HashMap<String, String>,
    standing: HashMap<(String, String), Standing>,
    last_seq: HashMap<String, i64>,
    known: HashMap<String, String>,
}

impl Batched for Submission {
    async fn run_batch(
        batch: &mut Batch<'_>,
        mut jobs: Vec<Self>,
    ) -> ApiResult<Vec<ApiResult<Accepted>>> {
        let now = now();
        let mut view = read_view(batch, &jobs, now).await?;
        // Decide each in arrival order; nothing is written for a refused one.
        let mut results = Vec::with_capacity(jobs.len());
        let mut accepted = vec![];
        for (i, job) in jobs.iter().enumerate() {
            match decide(batch, job, &view).await? {
                Ok(()) => {
                    view.known
                        .insert(job.env.message_id.to_string(), job.case_id.clone());
                    view.last_seq
                        .insert(job.author().to_string(), job.env.seq() as i64);
                    accepted.push(i);
                    results.push(None);
                }
                Err(e) => results.push(Some(Err(e))),
            }
        }
        store(batch, &mut jobs, &accepted, &view.last_seq, now);
        let cases: Vec<&str> = accepted.iter().map(|&i| jobs[i].case_id.as_str()).collect();
        let (conn, trail) = batch.begun().await?;
        trail.prefetch(conn, &cases).await?;
        // Facilitators hear of each message waiting for their review, all in one go.
        let waiting: Vec<&str> = accepted
            .iter()
            .map(|&i| &jobs[i])
            .filter(|job| state_of(&job.env) == MessageState::InReview)
            .map(|job| job.case_id.as_str())
            .collect();
        // Every job carries the same server state; the first one's will do.
        if let Some(job) = jobs.first() {
            crate::mail::outbox::notify_roles(
                conn,
                &job.app.config,
                &waiting,
                Role::Facilitator,
                crate::mail::Kind::ReviewWaiting,
                now,
            )
            .await?;
        }
        for &i in &accepted {
            let job = &mut jobs[i];
            // The message row has its own copy: the event takes the statement's bytes.
            let statement_json = std::mem::take(&mut job.statement_json);
            let state = state_of(&job.env);
            let event = trail
                .append_json(
                    conn,
                    Some(&job.case_id),
                    &job.statement,
                    statement_json,
                    now,
                )
                .await?;
            results[i] = Some(Ok(Accepted {
                event,
                case_state: None,
                id: Some(job.env.message_id.to_string()),
                state: Some(state.to_string()),
                mailed: false,
            }));
        }
        Ok(results.into_iter().flatten().collect())
    }
}

pub(super) fn state_of(env: &Envelope) -> MessageState {
    if env.attachments.is_empty() {
        MessageState::InReview
    } else {
        MessageState::Uploading
    }
}

/// What the batch needs to decide, read in one statement: the live sessions among its tokens;
/// each (case, author)'s membership, consent and case state with the author's last sequence
/// number; the case of every stored message it names (its own ids, and those replied to); and
/// the log's size, which the trail then need not read. One statement rather than four, and
/// one row handed over (its rows as JSON): under load each round trip to the database's
/// thread, and each row it hands over, costs more than the reading itself.
async fn read_view(batch: &mut Batch<'_>, jobs: &[Submission], now: i64) -> ApiResult<View> {
    let tokens = distinct(jobs.iter().map(|j| j.session.as_str()));
    let pairs = distinct(
        jobs.iter()
            .map(|j| (j.case_id.as_str(), j.author().as_str())),
    );
    let ids = distinct(
        jobs.iter()
            .flat_map(|j| [Some(&j.env.message_id), j.env.in_reply_to.as_ref()])
            .flatten()
            .map(Id::as_str),
    );
    let first_pair = 2 + crate::db::padded(tokens.len());
    let first_id = first_pair + 2 * crate::db::padded(pairs.len());
    let standings: Vec<String> = (0..crate::db::padded(pairs.len()))
        .map(|n| {
            format!(
                "(m.case_id = ${} AND m.account_id = ${})",
                first_pair + 2 * n,
                first_pair + 2 * n + 1
            )
        })
        .collect();
    let select = format!(
        "SELECT 'session' AS what, token_hash AS a, account_id AS b, NULL AS c, NULL AS d, \
         NULL AS e, NULL AS f FROM sessions WHERE expires_at > $1 AND token_hash IN ({}) \
         UNION ALL \
         SELECT 'standing', m.case_id, m.account_id, m.role, m.consent, c.state, a.last_seq \
         FROM members m JOIN cases c ON c.case_id = m.case_id \
         JOIN accounts a ON a.account_id = m.account_id WHERE {} \
         UNION ALL \
         SELECT 'known', message_id, case_id, NULL, NULL, NULL, NULL FROM messages \
         WHERE message_id IN ({}) \
         UNION ALL \
         SELECT 'log', NULL, NULL, NULL, NULL, NULL, size FROM log_head WHERE id = 1",
        crate::db::marks(2, tokens.len()),
        standings.join(" OR "),
        crate::db::marks(first_id, ids.len())
    );
    let conn = batch.connection();
    let sql = crate::db::in_order(
        conn,
        crate::db::json_rows(conn, &select, &["what", "a", "b", "c", "d", "e", "f"]),
    );
    let mut values = vec![Value::from(now)];
    values.extend(crate::db::pad(&tokens).map(Value::from));
    for (case, account) in crate::db::pad(&pairs) {
        values.extend([Value::from(case), Value::from(account)]);
    }
    values.extend(crate::db::pad(&ids).map(Value::from));
    let mut view = View {
        sessions: HashMap::new(),
        standing: HashMap::new(),
        last_seq: HashMap::new(),
        known: HashMap::new(),
    };
    let rows = batch.read(&sql, &values).await?;
    let json: String = rows
        .first()
        .ok_or_else(|| ApiError::internal("the batch's read returned nothing"))?
        .try_get(0)?;
    let rows: Vec<ViewRow> = serde_json::from_str(&json).map_err(ApiError::internal)?;
    for (what, a, b, role, consent, case_state, n) in rows {
        let number = || n.ok_or_else(|| ApiError::internal("a number is missing"));
        match (what.as_str(), a, b) {
            ("log", _, _) => batch.trail.learn_size(number()? as u64)?,
            ("session", Some(token), Some(account)) => {
                view.sessions.insert(token, account);
            }
            ("standing", Some(case), Some(account)) => {
                let (Some(role), Some(consent), Some(case_state)) = (role, consent, case_state)
                else {
                    return Err(ApiError::internal("a standing is incomplete"));
                };
                view.last_seq.insert(account.clone(), number()?);
                view.standing.insert(
                    (case, account),
                    Standing {
                        member: Member {
                            role: role.parse().map_err(ApiError::internal)?,
                            consent: consent.parse().map_err(ApiError::internal)?,
                            // A person on paper has no session to submit with.
                            on_paper: false,
                        },
                        case_state: case_state.parse().map_err(ApiError::internal)?,
                    },
                );
            }
            ("known", Some(message), Some(case)) => {
                view.known.insert(message, case);
            }
            _ => return Err(ApiError::internal("the batch's read has an odd row")),
        }
    }
    Ok(view)
}

/// A row of the batch's read: what it is, then six columns, their meaning by kind.
type ViewRow = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
);

/// The distinct items of `items`, in no particular order.
fn distinct<T: Eq + std::hash::Hash>(items: impl Iterator<Item = T>) -> Vec<T> {
    items.collect::<HashSet<_>>().into_iter().collect()
}

/// Decides one submission against the batch's view: `Ok(Err(_))` refuses it alone; its
/// author's sequence number is consumed only when it is accepted.
async fn decide(batch: &mut Batch<'_>, job: &Submission, view: &View) -> ApiResult<ApiResult<()>> {
    match view.sessions.get(&job.session) {
        None => return Ok(Err(auth::not_live())),
        Some(account) if account != job.author().as_str() => return Ok(Err(intake::not_yours())),
        Some(_) => {}
    }
    let key = (job.case_id.clone(), job.author().to_string());
    let (Some(s), Some(&last_seq)) = (
        view.standing.get(&key),
        view.last_seq.get(job.author().as_str()),
    ) else {
        return Ok(Err(ApiError::not_found("case")));
    };
    let checks = (|| {
        let member = cases::check_role(s.member.clone(), PARTICIPANTS)?;
        if member.consent != Consent::Given {
            return Err(ApiError::new(
                ErrorCode::NoConsent,
                "record your consent before writing",
            ));
        }
        if s.case_state != CaseState::Active {
            return Err(ApiError::new(
                ErrorCode::CaseNotActive,
                format!(
                    "messages move only while a case is active; this case is {}",
                    s.case_state
                ),
            ));
        }
        if job.env.recipient_role == member.role {
            return Err(wrong_recipient());
        }
        intake::check_seq(job.env.seq(), last_seq)
    })();
    if let Err(e) = checks {
        return Ok(Err(e));
    }
    if let Err(e) = check_reply(batch, job, &view.known).await? {
        return Ok(Err(e));
    }
    if view.known.contains_key(job.env.message_id.as_str()) {
        return Ok(Err(ApiError::of(ErrorCode::AlreadyExists)));
    }
    Ok(Ok(()))
}

/// An answer must answer a question forwarded to its author; any other reply must refer to a
/// message of the same case.
async fn check_reply(
    batch: &mut Batch<'_>,
    job: &Submission,
    known: &HashMap<String, String>,
) -> ApiResult<ApiResult<()>> {
    let Some(target) = &job.env.in_reply_to else {
        return Ok(Ok(()));
    };
    let found = if job.env.kind == MessageKind::Answer {
        let conn = batch.conn().await?;
        answers_forwarded_question(conn, &job.case_id, target, job.author()).await?
    } else {
        known.get(target.as_str()) == Some(&job.case_id)
    };
    if found {
        return Ok(Ok(()));
    }
    Ok(Err(bad_reply(job.env.kind)))
}

/// Whether `question` is a question of the case passed on to `author` (released or read).
pub async fn answers_forwarded_question(
    conn: &mut sqlx::AnyConnection,
    case_id: &str,
    question: &Id,
    author: &AccountId,
) -> ApiResult<bool> {
    let n: i64 = sqlx::query(
        "SELECT COUNT(*) FROM deliveries d JOIN messages m ON m.message_id = d.message_id \
         WHERE d.message_id = $1 AND d.case_id = $2 AND d.recipient = $3 AND d.kind = 'forward' \
         AND m.kind = 'question' AND d.state IN ('released', 'read')",
    )
    .bind(question.as_str())
    .bind(case_id)
    .bind(author.as_str())
    .fetch_one(conn)
    .await?
    .try_get(0)?;
    Ok(n > 0)
}

/// The refusal of a reply that refers to nothing it can answer.
pub fn bad_reply(kind: MessageKind) -> ApiError {
    ApiError::new(
        ErrorCode::BadReply,
        if kind == MessageKind::Answer {
            "an answer must answer a question that was passed on to its author in this case"
        } else {
            "the message replied to is not in this case"
        },
    )
}

/// The `messages` table's columns a submission fills, for [`crate::sql::Writes::insert`].
pub const MESSAGE_COLUMNS: &str = "messages (message_id, case_id, author, kind, recipient_role, \
    in_reply_to, state, envelope, ciphertext, attachments_pending, created_at, updated_at, \
    entered_by)";

/// Values in a row of [`MESSAGE_COLUMNS`].
pub const MESSAGE_ROW: usize = 13;

/// A submitted message's row: in review, or uploading while its attachments are due.
pub fn message_row(
    env: &Envelope,
    envelope_json: Vec<u8>,
    ciphertext: Vec<u8>,
    now: i64,
) -> [Value; MESSAGE_ROW] {
    [
        Value::from(env.message_id.as_str()),
        Value::from(env.case_id.as_str()),
        Value::from(env.author.as_str()),
        Value::text(env.kind.as_str()),
        Value::text(env.recipient_role.as_str()),
        Value::from(env.in_reply_to.as_ref().map(Id::as_str)),
        Value::text(state_of(env).as_str()),
        Value::from(envelope_json),
        Value::from(ciphertext),
        Value::from(env.attachments.len() as i64),
        Value::from(now),
        Value::from(now),
        Value::from(env.entered_by.as_ref().map(|a| a.as_str())),
    ]
}

/// Holds the writes of the accepted messages (one multi-row insert), their attachments' rows
/// and their authors' new sequence numbers, for the batch's commit.
fn store(
    batch: &mut Batch<'_>,
    jobs: &mut [Submission],
    accepted: &[usize],
    last_seq: &HashMap<String, i64>,
    now: i64,
) {
    let mut messages = Vec::with_capacity(accepted.len() * MESSAGE_ROW);
    for &i in accepted {
        let job = &mut jobs[i];
        let ciphertext = std::mem::take(&mut job.ciphertext);
        messages.extend(message_row(
            &job.env,
            job.statement_json.clone(),
            ciphertext,
            now,
        ));
    }
    batch.writes.insert(MESSAGE_COLUMNS, MESSAGE_ROW, messages);
    let owners = accepted.iter().map(|&i| {
        let env = &jobs[i].env;
        (env.message_id.as_str(), env.attachments.as_slice())
    });
    hold_blobs(&mut batch.writes, owners);
    // Each author's new last sequence number; under the write lock nothing else moves it,
    // and the update must change each author's row once.
    let last: Vec<(&str, i64)> = accepted
        .iter()
        .filter_map(|&i| {
            let account = jobs[i].author().as_str();
            last_seq.get(account).map(|&seq| (account, seq))
        })
        .collect::<HashMap<_, _>>()
        .into_iter()
        .collect();
    if last.is_empty() {
        return;
    }
    let arms = crate::db::padded(last.len());
    let whens: Vec<String> = (0..arms)
        .map(|n| format!("WHEN ${} THEN CAST(${} AS BIGINT)", 2 * n + 1, 2 * n + 2))
        .collect();
    let sql = format!(
        "UPDATE accounts SET last_seq = CASE account_id {} END WHERE account_id IN ({})",
        whens.join(" "),
        crate::db::marks(2 * arms + 1, last.len())
    );
    let mut values = vec![];
    for (account, seq) in crate::db::pad(&last) {
        values.extend([Value::from(account), Value::from(seq)]);
    }
    values.extend(crate::db::pad(&last).map(|(account, _)| Value::from(account)));
    batch.writes.push(sql, values, last.len() as u64);
}
