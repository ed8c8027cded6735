//! The verifiable trail over HTTP: signed checkpoints, inclusion and consistency proofs, single
//! events, and a case's audit bundle. No content is ever part of any of these.

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ferry_crypto::actions::{Enrolment, Invitation};
use ferry_crypto::log_format::{self as fmt, hash_hex};
use ferry_crypto::{Role, SignedStatement};
use serde::Deserialize;
use sqlx::Row;
use utoipa::IntoParams;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::log_store::{
    CHECKPOINT_INTERVAL_SECONDS, SignedCheckpoint, checkpoint, signed_within, with_hashes,
};
use crate::{AppState, cases, visibility};
use ferry_protocol::{
    AuditBundle, CASE_BUNDLE, CheckpointView, ErrorCode, EventView, LEAVES_BINARY, LogLeaves,
    PARTICIPANT_RECORD, Proof, ProvenEvent, RawLeaves, StaffRole,
};

fn view(app: &AppState, c: &SignedCheckpoint) -> CheckpointView {
    CheckpointView {
        origin: app.config.log_origin.clone(),
        size: c.size,
        root: hash_hex(&c.root),
        note: String::from_utf8_lossy(&c.note).into_owned(),
    }
}

/// The latest signed checkpoint (at most a second behind the log while it grows).
#[utoipa::path(get, path = "/v1/checkpoint", tag = "trail", security(("bearer" = [])),
    responses((status = 200, body = CheckpointView)))]
pub async fn latest(
    State(app): State<AppState>,
    _caller: Caller,
) -> ApiResult<Json<CheckpointView>> {
    let c = signed_within(&app, CHECKPOINT_INTERVAL_SECONDS).await?;
    Ok(Json(view(&app, &c)))
}

/// Inclusion proof query.
#[derive(Deserialize, IntoParams)]
pub struct InclusionQuery {
    /// The event's index in the log.
    index: u64,
    /// The tree size to prove against.
    size: u64,
}

/// Consistency proof query.
#[derive(Deserialize, IntoParams)]
pub struct ConsistencyQuery {
    /// The older tree size.
    from: u64,
    /// The newer tree size.
    to: u64,
}

/// Proofs are served for trees up to the log's current (committed) size.
async fn require_within_log(app: &AppState, size: u64) -> ApiResult<()> {
    let log = crate::log_store::size(&app.pool).await?;
    if size > log {
        return Err(ApiError::new(
            ErrorCode::BeyondLog,
            format!("the log holds {log} events, not {size}"),
        ));
    }
    Ok(())
}

fn hexes(proof: &[fmt::TreeHash]) -> Vec<String> {
    proof.iter().map(hash_hex).collect()
}

/// An RFC 6962 inclusion proof for one event against a tree size (the client holds that
/// size's signed root).
#[utoipa::path(get, path = "/v1/proofs/inclusion", tag = "trail", security(("bearer" = [])),
    params(InclusionQuery), responses((status = 200, body = Proof), (status = 400, body = ferry_protocol::ErrorBody)))]
pub async fn inclusion(
    State(app): State<AppState>,
    _caller: Caller,
    Query(q): Query<InclusionQuery>,
) -> ApiResult<Json<Proof>> {
    require_within_log(&app, q.size).await?;
    let mut conn = app.pool.acquire().await?;
    let proof = with_hashes(&mut conn, |r| fmt::prove_inclusion(q.size, q.index, r)).await?;
    Ok(Json(Proof {
        from: q.index,
        size: q.size,
        proof: hexes(&proof),
    }))
}

/// An RFC 6962 consistency proof between two tree sizes.
#[utoipa::path(get, path = "/v1/proofs/consistency", tag = "trail", security(("bearer" = [])),
    params(ConsistencyQuery), responses((status = 200, body = Proof), (status = 400, body = ferry_protocol::ErrorBody)))]
pub async fn consistency(
    State(app): State<AppState>,
    _caller: Caller,
    Query(q): Query<ConsistencyQuery>,
) -> ApiResult<Json<Proof>> {
    require_within_log(&app, q.to).await?;
    let mut conn = app.pool.acquire().await?;
    let proof = with_hashes(&mut conn, |r| fmt::prove_consistency(q.to, q.from, r)).await?;
    Ok(Json(Proof {
        from: q.from,
        size: q.to,
        proof: hexes(&proof),
    }))
}

/// The most leaves one request returns.
pub const MAX_LEAVES_PER_REQUEST: u64 = 10_000;

/// Once this many bytes of leaves are in an answer (6 MiB, so 8 MiB in base64), no more are
/// added: an answer holds at least one leaf, and may hold fewer than asked for.
pub const MAX_LEAF_BYTES_PER_REQUEST: usize = 6 << 20;

/// A range of leaves query.
#[derive(Deserialize, IntoParams)]
pub struct LeavesQuery {
    /// The first leaf's index.
    start: u64,
    /// How many leaves (at most 10,000; fewer at the end of the log, or once the answer
    /// holds 6 MiB of leaves).
    count: u64,
}

/// A range of the log's leaves, for auditing the whole log: coordinators and service-wide
/// auditors only (they may see every case's events; the leaves hold no content). JSON with
/// base64 leaves, or, for `Accept: application/octet-stream`, the binary form of
/// [`RawLeaves`].
#[utoipa::path(get, path = "/v1/log/leaves", tag = "trail", security(("bearer" = [])),
    params(LeavesQuery), responses((status = 200, body = LogLeaves),
        (status = 200, description = "With `Accept: application/octet-stream`: the first \
            leaf's index (8 bytes, big-endian), then each leaf as its length (4 bytes, \
            big-endian) and its bytes", content_type = "application/octet-stream"),
        (status = 400, body = ferry_protocol::ErrorBody), (status = 403, body = ferry_protocol::ErrorBody)))]
pub async fn leaves(
    State(app): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Query(q): Query<LeavesQuery>,
) -> ApiResult<Response> {
    require_whole_log(&caller)?;
    let log = crate::log_store::size(&app.pool).await?;
    if q.start > log {
        return Err(ApiError::new(
            ErrorCode::BeyondLog,
            format!("the log holds {log} events, not {}", q.start),
        ));
    }
    let end = q
        .start
        .saturating_add(q.count.min(MAX_LEAVES_PER_REQUEST))
        .min(log);
    let run = crate::log_store::leaf_run(
        &app.pool,
        app.backend,
        q.start,
        end,
        MAX_LEAF_BYTES_PER_REQUEST,
    )
    .await?;
    let binary = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.split(';').next().map(str::trim) == Some(LEAVES_BINARY));
    Ok(if binary {
        let page = RawLeaves::bytes_of(q.start, run.leaves());
        ([(header::CONTENT_TYPE, LEAVES_BINARY)], page).into_response()
    } else {
        Json(LogLeaves {
            start: q.start,
            leaves: run.leaves().map(|l| B64.encode(l)).collect(),
        })
        .into_response()
    })
}

/// Fails unless the caller may audit the whole log: coordinators and service-wide auditors.
fn require_whole_log(caller: &Caller) -> ApiResult<()> {
    if matches!(
        caller.staff_role,
        Some(StaffRole::Coordinator) | Some(StaffRole::Auditor)
    ) {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::NotWholeLogAuditor,
            "only coordinators and service-wide auditors may read the whole log; audit a case with --case",
        ))
    }
}

/// Who may see a case's events: coordinators and service-wide auditors, and members. Says
/// whether the caller sees them as a participant (only what concerns them).
async fn require_case_access(app: &AppState, caller: &Caller, case_id: &str) -> ApiResult<bool> {
    match caller.staff_role {
        Some(StaffRole::Coordinator) | Some(StaffRole::Auditor) => {
            cases::load(&app.pool, case_id).await.map(|_| false)
        }
        _ => cases::require_member(&app.pool, case_id, &caller.account_id, &Role::ALL)
            .await
            .map(|m| m.role.is_participant()),
    }
}

async fn proven(conn: &mut sqlx::AnyConnection, idx: u64, size: u64) -> ApiResult<ProvenEvent> {
    let leaf: Vec<u8> = sqlx::query("SELECT leaf FROM events WHERE idx = $1")
        .bind(idx as i64)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| ApiError::not_found("event"))?
        .try_get(0)?;
    let proof = with_hashes(conn, |r| fmt::prove_inclusion(size, idx, r)).await?;
    Ok(ProvenEvent {
        leaf: B64.encode(leaf),
        proof: hexes(&proof),
    })
}

/// One event with its inclusion proof under the latest checkpoint.
#[utoipa::path(get, path = "/v1/events/{idx}", tag = "trail", security(("bearer" = [])),
    params(("idx" = u64, Path, description = "Event index")),
    responses((status = 200, body = EventView), (status = 404, body = ferry_protocol::ErrorBody)))]
pub async fn event(
    State(app): State<AppState>,
    caller: Caller,
    Path(idx): Path<u64>,
) -> ApiResult<Json<EventView>> {
    let row = sqlx::query("SELECT case_id, actor, statement FROM events WHERE idx = $1")
        .bind(idx as i64)
        .fetch_optional(&app.pool)
        .await?
        .ok_or_else(|| ApiError::not_found("event"))?;
    let case_id: Option<String> = row.try_get(0)?;
    let actor: String = row.try_get(1)?;
    // Whatever the reason an event may not be seen, the answer is the one for no event.
    let hidden = || ApiError::not_found("event");
    match case_id {
        Some(case) => {
            let participant = require_case_access(&app, &caller, &case)
                .await
                .map_err(|_| hidden())?;
            if participant {
                let statement = SignedStatement::from_json(&row.try_get::<Vec<u8>, _>(2)?)
                    .map_err(ApiError::internal)?;
                let mut conn = app.pool.acquire().await?;
                let me = caller.account_id.as_str();
                let own = visibility::own_messages(&mut conn, &case, me).await?;
                if !visibility::concerns(me, &own, &statement) {
                    return Err(hidden());
                }
            }
        }
        None if caller.staff_role.is_some() || actor == caller.account_id.as_str() => {}
        None => return Err(hidden()),
    }
    let c = checkpoint(&app).await?;
    if idx >= c.size {
        return Err(ApiError::not_found("event"));
    }
    let mut conn = app.pool.acquire().await?;
    let event = proven(&mut conn, idx, c.size).await?;
    Ok(Json(EventView {
        event,
        checkpoint: view(&app, &c),
    }))
}

/// A case's audit bundle: its chain, the events it relies on, proofs and a checkpoint. A
/// participant gets their own record instead: only the events that concern them.
#[utoipa::path(get, path = "/v1/cases/{case_id}/audit", tag = "trail", security(("bearer" = [])),
    params(("case_id" = String, Path, description = "Case id")),
    responses((status = 200, body = AuditBundle), (status = 404, body = ferry_protocol::ErrorBody)))]
pub async fn audit_bundle(
    State(app): State<AppState>,
    caller: Caller,
    Path(case_id): Path<String>,
) -> ApiResult<Json<AuditBundle>> {
    let participant = require_case_access(&app, &caller, &case_id).await?;
    // The states are read first, then a checkpoint that covers them; they describe the chain
    // when no event of the case came in between (tried again a few times if one did).
    let mut attempts = 0;
    let (states, c, rows) = loop {
        attempts += 1;
        let states = if participant {
            None
        } else {
            let key_checks = app.config.require_key_checks;
            Some(crate::states::read_case(&app.pool, app.backend, &case_id, key_checks).await?)
        };
        let c = checkpoint(&app).await?;
        let rows = sqlx::query(
            "SELECT idx, actor, statement FROM events WHERE case_id = $1 AND idx < $2 \
             ORDER BY seq_in_case",
        )
        .bind(&case_id)
        .bind(c.size as i64)
        .fetch_all(&app.pool)
        .await?;
        let last = match rows.last() {
            Some(r) => Some(r.try_get::<i64, _>(0)? as u64),
            None => None,
        };
        if attempts == 3 || states.as_ref().is_none_or(|s| s.last_event == last) {
            break (states, c, rows);
        }
    };
    let mut conn = app.pool.acquire().await?;
    let mut chain: Vec<(i64, String)> = vec![];
    let me = caller.account_id.as_str();
    let own = if participant {
        visibility::own_messages(&mut conn, &case_id, me).await?
    } else {
        Default::default()
    };
    for r in rows {
        if participant {
            let statement = SignedStatement::from_json(&r.try_get::<Vec<u8>, _>(2)?)
                .map_err(ApiError::internal)?;
            if !visibility::concerns(me, &own, &statement) {
                continue;
            }
        }
        chain.push((r.try_get(0)?, r.try_get(1)?));
    }
    let in_chain: BTreeSet<i64> = chain.iter().map(|(i, _)| *i).collect();
    let mut actors: Vec<String> = chain.iter().map(|(_, a)| a.clone()).collect();
    if participant {
        actors.push(me.to_owned());
    } else {
        // Everyone the chain names, not only its signers: a facilitator allocated but not yet
        // acting must be shown to be staff too.
        for row in sqlx::query("SELECT account_id FROM members WHERE case_id = $1")
            .bind(&case_id)
            .fetch_all(&mut *conn)
            .await?
        {
            actors.push(row.try_get(0)?);
        }
    }
    let context = context_events(&mut conn, actors, c.size).await?;
    let mut events = vec![];
    for (idx, _) in &chain {
        events.push(proven(&mut conn, *idx as u64, c.size).await?);
    }
    let mut ctx = vec![];
    for idx in context.into_iter().filter(|i| !in_chain.contains(i)) {
        ctx.push(proven(&mut conn, idx as u64, c.size).await?);
    }
    Ok(Json(AuditBundle {
        format: if participant {
            PARTICIPANT_RECORD
        } else {
            CASE_BUNDLE
        }
        .into(),
        case_id,
        origin: app.config.log_origin.clone(),
        server_key_card: app.server_card.statement().clone(),
        checkpoint: String::from_utf8_lossy(&c.note).into_owned(),
        events,
        context: ctx,
        states,
    }))
}

/// The events that establish who the case's actors are: each one's key card, and for staff
/// their enrolment and the invitation it accepted, back to the server's bootstrap invitation.
async fn context_events(
    conn: &mut sqlx::AnyConnection,
    actors: Vec<String>,
    size: u64,
) -> ApiResult<BTreeSet<i64>> {
    let mut needed = BTreeSet::new();
    let mut seen = BTreeSet::new();
    let mut queue = actors;
    let staff_invitations: Vec<(i64, String, Vec<u8>)> = sqlx::query(
        "SELECT idx, actor, statement FROM events WHERE kind = 'invitation' AND case_id IS NULL AND idx < $1",
    )
    .bind(size as i64)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
    .collect::<Result<_, sqlx::Error>>()?;
    while let Some(actor) = queue.pop() {
        if !seen.insert(actor.clone()) {
            continue;
        }
        let rows = sqlx::query(
            "SELECT idx, kind, statement FROM events WHERE actor = $1 AND idx < $2 \
             AND (kind = 'key-card' OR (kind = 'enrolment' AND case_id IS NULL)) ORDER BY idx",
        )
        .bind(&actor)
        .bind(size as i64)
        .fetch_all(&mut *conn)
        .await?;
        for row in rows {
            let idx: i64 = row.try_get(0)?;
            let kind: String = row.try_get(1)?;
            needed.insert(idx);
            if kind != "enrolment" {
                continue;
            }
            let bytes: Vec<u8> = row.try_get(2)?;
            let Ok(st) = SignedStatement::from_json(&bytes) else {
                continue;
            };
            let Ok(enrolment) = serde_json::from_slice::<Enrolment>(&st.body) else {
                continue;
            };
            for (inv_idx, inviter, inv_bytes) in &staff_invitations {
                let matches = SignedStatement::from_json(inv_bytes)
                    .ok()
                    .and_then(|s| serde_json::from_slice::<Invitation>(&s.body).ok())
                    .is_some_and(|inv| inv.invitation == enrolment.invitation);
                if matches {
                    needed.insert(*inv_idx);
                    queue.push(inviter.clone());
                }
            }
        }
    }
    Ok(needed)
}

/// The most members, messages and deliveries one states request returns.
pub const MAX_STATE_ROWS: usize = 20_000;

/// A page of states query: where it starts (all three, or none for the first page).
#[derive(Deserialize, IntoParams)]
pub struct StatesQuery {
    /// The case the page starts in.
    case: Option<String>,
    /// The section of that case: 0 members, 1 messages, 2 deliveries, 3 past it.
    section: Option<u8>,
    /// The key of the last row already sent in that section.
    key: Option<String>,
}

/// The states the server keeps for every case, a page at a time in case id order (a big
/// case over several pages), for the whole-log audit to check against the events:
/// coordinators and service-wide auditors only.
#[utoipa::path(get, path = "/v1/log/states", tag = "trail", security(("bearer" = [])),
    params(StatesQuery), responses((status = 200, body = ferry_protocol::StatesPage),
        (status = 400, body = ferry_protocol::ErrorBody), (status = 403, body = ferry_protocol::ErrorBody)))]
pub async fn states(
    State(app): State<AppState>,
    caller: Caller,
    Query(q): Query<StatesQuery>,
) -> ApiResult<Json<ferry_protocol::StatesPage>> {
    require_whole_log(&caller)?;
    let after = match (q.case, q.section, q.key) {
        (Some(case), Some(section), key) if section <= 3 => Some(ferry_protocol::StatesCursor {
            case,
            section,
            key: key.unwrap_or_default(),
        }),
        (None, None, None) => None,
        _ => {
            return Err(ApiError::new(
                ErrorCode::BadCursor,
                "a page of states starts at a case and a section from 0 to 3 (and a key)",
            ));
        }
    };
    let key_checks = app.config.require_key_checks;
    Ok(Json(
        crate::states::read_page(&app.pool, app.backend, after, MAX_STATE_ROWS, key_checks).await?,
    ))
}
