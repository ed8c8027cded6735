//! Taking part on paper: a coordinator adds a person who has no device; a facilitator of the
//! case records the consent they signed on paper, enters their handwritten replies, and
//! prints what is passed on to them; anyone holding a printed letter checks its code.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, Path, State};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ferry_crypto::actions::Sequenced;
use ferry_crypto::forward::Forward;
use ferry_crypto::paper::{
    LetterCode, LetterCodeError, Medium, PaperConsent, PaperMember, Printing,
};
use ferry_crypto::seal::{Envelope, check_ciphertext};
use ferry_crypto::{AccountId, Id, MessageKind, SignedStatement};
use sqlx::Row;

use super::cases::{By, begin_case_act, finish, set_consent};
use super::messages::{decode_b64, hold_blobs};
use super::submit::{self, MESSAGE_COLUMNS, MESSAGE_ROW, message_row};
use crate::auth::Caller;
use crate::cases::{self, Member};
use crate::db::{self, Tx, parsed};
use crate::error::{ApiError, ApiResult};
use crate::extract::Body;
use crate::sql::Writes;
use crate::{AppState, intake, now};
use ferry_protocol::{
    Accepted, CaseState, Consent, DeliveryState, ErrorCode, LetterCheck, LetterCheckRequest,
    PaperConsentRequest, PaperForm, PaperLetter, Role, StatementRequest, SubmitRequest,
};

/// Largest scan of a signed form, in bytes of ciphertext.
const MAX_SCAN_BYTES: usize = 3 << 20;

/// Adds a person who takes part on paper (coordinators): a new account without keys, a member
/// of the case whose facilitators act for them.
#[utoipa::path(post, path = "/v1/cases/{case_id}/paper-members", tag = "paper", security(("bearer" = [])),
    params(("case_id" = String, Path, description = "Case id")), request_body = StatementRequest,
    responses((status = 200, body = Accepted), (status = 400, body = ferry_protocol::ErrorBody),
        (status = 409, body = ferry_protocol::ErrorBody)))]
pub async fn add_member(
    State(app): State<AppState>,
    caller: Caller,
    Path(case_id): Path<String>,
    Body(req): Body<StatementRequest>,
) -> ApiResult<Json<Accepted>> {
    let now = now();
    let (mut tx, pm, _): (_, PaperMember, _) =
        begin_case_act(&app, &caller, &case_id, &req.statement, By::Coordinator).await?;
    if !pm.role.is_participant() {
        return Err(ApiError::new(
            ErrorCode::WrongRole,
            "a person on paper takes part as the harmed or responsible person, or as a supporter",
        ));
    }
    cases::check_text("name", &pm.display_name, 100)?;
    let taken: i64 = sqlx::query("SELECT COUNT(*) FROM accounts WHERE account_id = $1")
        .bind(pm.person.as_str())
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
    if taken > 0 {
        return Err(ApiError::of(ErrorCode::AlreadyExists));
    }
    sqlx::query(
        "INSERT INTO accounts (account_id, display_name, key_card, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(pm.person.as_str())
    .bind(&pm.display_name)
    .bind(Vec::<u8>::new())
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO members (case_id, account_id, role, consent, joined_at, on_paper) \
         VALUES ($1, $2, $3, 'none', $4, 1)",
    )
    .bind(&case_id)
    .bind(pm.person.as_str())
    .bind(pm.role.as_str())
    .bind(now)
    .execute(&mut *tx)
    .await?;
    finish(&app.config, tx, Some(&case_id), &req.statement, now).await
}

/// Records the consent or withdrawal of a person on paper (facilitators of the case): on
/// paper with the sealed scan of the signed form, or a withdrawal by telephone. A withdrawal
/// takes effect at once.
#[utoipa::path(post, path = "/v1/cases/{case_id}/paper-consent", tag = "paper", security(("bearer" = [])),
    params(("case_id" = String, Path, description = "Case id")), request_body = PaperConsentRequest,
    responses((status = 200, body = Accepted), (status = 400, body = ferry_protocol::ErrorBody),
        (status = 403, body = ferry_protocol::ErrorBody)))]
pub async fn consent(
    State(app): State<AppState>,
    caller: Caller,
    Path(case_id): Path<String>,
    Body(req): Body<PaperConsentRequest>,
) -> ApiResult<Json<Accepted>> {
    let now = now();
    let (mut tx, pc, case): (_, PaperConsent, _) =
        begin_case_act(&app, &caller, &case_id, &req.statement, By::Facilitator).await?;
    on_paper(&mut tx, &case_id, &pc.participant).await?;
    cases::check_text("place", &pc.place, 200)?;
    if pc.given_at > now + 3600 {
        return Err(ApiError::new(
            ErrorCode::InvalidField,
            "the time it was signed or said cannot be in the future",
        ));
    }
    match (pc.medium, pc.given, &pc.scan, &req.scan) {
        (Medium::Paper, _, Some(scan), Some(sealed)) => {
            let bytes = decode_b64("scan", sealed, MAX_SCAN_BYTES)?;
            check_ciphertext(&bytes, &scan.sealed.sha256, scan.sealed.size)?;
            sqlx::query(
                "INSERT INTO paper_scans (case_id, sha256, participant, ciphertext, created_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            )
            .bind(&case_id)
            .bind(scan.sealed.sha256.to_hex())
            .bind(pc.participant.as_str())
            .bind(bytes)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        (Medium::Paper, ..) => {
            return Err(ApiError::new(
                ErrorCode::InvalidField,
                "consent on paper comes with the scan of the signed form",
            ));
        }
        (Medium::Telephone, false, None, None) => {}
        (Medium::Telephone, true, ..) => {
            return Err(ApiError::new(
                ErrorCode::InvalidField,
                "consent is given on paper, with a signed form; a telephone call can only withdraw it",
            ));
        }
        (Medium::Telephone, false, ..) => {
            return Err(ApiError::new(
                ErrorCode::InvalidField,
                "a withdrawal by telephone has no scan",
            ));
        }
    }
    let consent = if pc.given {
        Consent::Given
    } else {
        Consent::Withdrawn
    };
    set_consent(&mut tx, &app, &case, &pc.participant, consent, now).await?;
    finish(&app.config, tx, Some(&case_id), &req.statement, now).await
}

/// Enters a handwritten letter, question or answer for a person on paper (facilitators of the
/// case): the envelope, signed by the facilitator as `entered-submission`, names the person as
/// its author and binds the scan of the original, which is its first attachment. It then
/// waits for review like any message.
#[utoipa::path(post, path = "/v1/cases/{case_id}/entries", tag = "paper", security(("bearer" = [])),
    params(("case_id" = String, Path, description = "Case id")), request_body = SubmitRequest,
    responses((status = 200, description = "Stored and on disk", body = Accepted),
        (status = 400, body = ferry_protocol::ErrorBody), (status = 403, body = ferry_protocol::ErrorBody),
        (status = 409, body = ferry_protocol::ErrorBody)))]
pub async fn enter(
    State(app): State<AppState>,
    caller: Caller,
    Path(case_id): Path<String>,
    Body(req): Body<SubmitRequest>,
) -> ApiResult<Json<Accepted>> {
    let now = now();
    let ciphertext = decode_b64(
        "ciphertext",
        &req.ciphertext,
        ferry_crypto::MAX_MESSAGE_BYTES,
    )?;
    let env: Envelope = intake::verify(&caller, &req.envelope)?;
    if env.entered_by.as_ref() != Some(&caller.account_id) {
        return Err(ApiError::new(
            ErrorCode::Invalid,
            "a message entered for a person on paper names the facilitator who entered it",
        ));
    }
    if env.scan_sha256.is_none() || env.attachments.is_empty() {
        return Err(ApiError::new(
            ErrorCode::Invalid,
            "a message entered for a person on paper carries the scan of their handwritten page \
             as its first attachment",
        ));
    }
    submit::check_envelope(&app, &case_id, &env, &ciphertext)?;
    let mut tx = db::begin_write(&app.pool).await?;
    cases::require_member(&mut *tx, &case_id, &caller.account_id, &[Role::Facilitator]).await?;
    let person = on_paper(&mut tx, &case_id, &env.author).await?;
    if person.consent != Consent::Given {
        return Err(ApiError::new(
            ErrorCode::NoConsent,
            "record their consent on paper first (ferry paper consent)",
        ));
    }
    let case = cases::load(&mut *tx, &case_id).await?;
    if case.state != CaseState::Active {
        return Err(ApiError::new(
            ErrorCode::CaseNotActive,
            format!(
                "messages move only while a case is active; this case is {}",
                case.state
            ),
        ));
    }
    if env.recipient_role == person.role {
        return Err(submit::wrong_recipient());
    }
    if let Some(target) = &env.in_reply_to {
        let found = if env.kind == MessageKind::Answer {
            submit::answers_forwarded_question(&mut tx, &case_id, target, &env.author).await?
        } else {
            in_case(&mut tx, &case_id, target).await?
        };
        if !found {
            return Err(submit::bad_reply(env.kind));
        }
    }
    let taken: i64 = sqlx::query("SELECT COUNT(*) FROM messages WHERE message_id = $1")
        .bind(env.message_id.as_str())
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
    if taken > 0 {
        return Err(ApiError::of(ErrorCode::AlreadyExists));
    }
    intake::take_seq(&mut tx, &caller.account_id, env.seq()).await?;
    let row = message_row(&env, req.envelope.to_json(), ciphertext, now);
    let mut writes = Writes::default();
    writes.insert(MESSAGE_COLUMNS, MESSAGE_ROW, row.into());
    hold_blobs(
        &mut writes,
        [(env.message_id.as_str(), env.attachments.as_slice())],
    );
    writes.run(&mut tx, None, false).await?;
    let state = submit::state_of(&env).to_string();
    let id = env.message_id.to_string();
    super::record(tx, &case_id, &req.envelope, now, Some(id), Some(state)).await
}

/// Records the printing of a letter passed on to a person on paper (facilitators of the
/// case): it names the forward it prints, the hash of the letter's code and the salted hash
/// of the printed text.
#[utoipa::path(post, path = "/v1/cases/{case_id}/printings", tag = "paper", security(("bearer" = [])),
    params(("case_id" = String, Path, description = "Case id")), request_body = StatementRequest,
    responses((status = 200, body = Accepted), (status = 400, body = ferry_protocol::ErrorBody),
        (status = 409, body = ferry_protocol::ErrorBody)))]
pub async fn print(
    State(app): State<AppState>,
    caller: Caller,
    Path(case_id): Path<String>,
    Body(req): Body<StatementRequest>,
) -> ApiResult<Json<Accepted>> {
    let now = now();
    let (mut tx, p, _): (_, Printing, _) =
        begin_case_act(&app, &caller, &case_id, &req.statement, By::Facilitator).await?;
    on_paper(&mut tx, &case_id, &p.recipient).await?;
    let passed = passed_on(&mut *tx, &p)
        .await?
        .ok_or_else(|| ApiError::not_found("letter passed on to that person"))?;
    if !matches!(passed.state, DeliveryState::Released | DeliveryState::Read) {
        return Err(ApiError::of(ErrorCode::NotReleased));
    }
    if passed.forward.body_hash() != p.forward {
        return Err(ApiError::new(
            ErrorCode::Mismatch,
            "the printing names another forward than the one that passed this letter on",
        ));
    }
    if passed.kind != p.kind {
        return Err(ApiError::new(
            ErrorCode::Mismatch,
            "the printing names another kind of message than the one passed on",
        ));
    }
    let taken: i64 = sqlx::query("SELECT COUNT(*) FROM printings WHERE code_hash = $1")
        .bind(p.code.to_hex())
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
    if taken > 0 {
        return Err(ApiError::of(ErrorCode::AlreadyExists));
    }
    let event = crate::log_store::append(&mut tx, Some(&case_id), &req.statement, now).await?;
    sqlx::query(
        "INSERT INTO printings (code_hash, case_id, message_id, event_idx, text_sha256, printed_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(p.code.to_hex())
    .bind(&case_id)
    .bind(p.message_id.as_str())
    .bind(event as i64)
    .bind(p.text_sha256.to_hex())
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Json(Accepted {
        event,
        case_state: None,
        id: Some(p.message_id.to_string()),
        state: None,
        mailed: false,
    }))
}

/// Checks a printed letter's code, for anyone holding the letter (no account): whether a
/// facilitator of this service approved and printed a letter with that code, when, and the
/// letter's fingerprint; never its content. The same answer for everyone; a few checks a
/// minute from one address.
#[utoipa::path(post, path = "/v1/letters/check", tag = "paper", request_body = LetterCheckRequest,
    responses((status = 200, body = LetterCheck), (status = 400, body = ferry_protocol::ErrorBody),
        (status = 404, description = "No letter has that code", body = ferry_protocol::ErrorBody),
        (status = 429, body = ferry_protocol::ErrorBody)))]
pub async fn check_letter(
    State(app): State<AppState>,
    ConnectInfo(from): ConnectInfo<SocketAddr>,
    Body(req): Body<LetterCheckRequest>,
) -> ApiResult<Json<LetterCheck>> {
    if !app.letter_checks.allow(from.ip()) {
        return Err(ApiError::of(ErrorCode::TooManyChecks));
    }
    let code = LetterCode::parse(&req.code).map_err(|e| match e {
        LetterCodeError::Malformed => ApiError::of(ErrorCode::NotALetterCode),
        LetterCodeError::Mistyped => ApiError::of(ErrorCode::MistypedLetterCode),
    })?;
    let row = sqlx::query(
        "SELECT p.event_idx, p.printed_at, p.text_sha256, e.statement FROM printings p \
         JOIN events e ON e.idx = p.event_idx WHERE p.code_hash = $1",
    )
    .bind(code.lookup().to_hex())
    .fetch_optional(&app.pool)
    .await?
    .ok_or_else(|| ApiError::of(ErrorCode::NoSuchLetter))?;
    let printing =
        SignedStatement::from_json(&row.try_get::<Vec<u8>, _>(3)?).map_err(ApiError::internal)?;
    let p: Printing = serde_json::from_slice(&printing.body).map_err(ApiError::internal)?;
    let passed = passed_on(&app.pool, &p)
        .await?
        .ok_or_else(|| ApiError::internal("a printed letter's forward is missing"))?;
    let approved: Forward =
        serde_json::from_slice(&passed.forward.body).map_err(ApiError::internal)?;
    let card = app
        .key_cards
        .load(&app.pool, &printing.signer)
        .await?
        .ok_or_else(|| ApiError::internal("missing facilitator card"))?;
    Ok(Json(LetterCheck {
        kind: p.kind,
        approved_at: approved.created_at,
        printed_at: row.try_get(1)?,
        text_sha256: row.try_get(2)?,
        event: row.try_get::<i64, _>(0)? as u64,
        facilitator_card: card.statement().clone(),
        printing,
    }))
}

/// The letters passed on to the people on paper of a case (facilitators of the case), with how
/// often each was printed: what is waiting to be printed.
#[utoipa::path(get, path = "/v1/cases/{case_id}/paper-letters", tag = "paper", security(("bearer" = [])),
    params(("case_id" = String, Path, description = "Case id")),
    responses((status = 200, body = Vec<PaperLetter>), (status = 404, body = ferry_protocol::ErrorBody)))]
pub async fn letters(
    State(app): State<AppState>,
    caller: Caller,
    Path(case_id): Path<String>,
) -> ApiResult<Json<Vec<PaperLetter>>> {
    cases::require_member(
        &app.pool,
        &case_id,
        &caller.account_id,
        &[Role::Facilitator],
    )
    .await?;
    let rows = sqlx::query(
        "SELECT d.delivery_id, d.message_id, m.kind, d.state, d.recipient, a.display_name, \
         d.created_at, (SELECT COUNT(*) FROM printings p WHERE p.case_id = d.case_id \
         AND p.message_id = d.message_id) \
         FROM deliveries d JOIN messages m ON m.message_id = d.message_id \
         JOIN members mem ON mem.case_id = d.case_id AND mem.account_id = d.recipient \
         JOIN accounts a ON a.account_id = d.recipient \
         WHERE d.case_id = $1 AND d.kind = 'forward' AND mem.on_paper = 1 AND d.state <> 'cancelled' \
         ORDER BY d.created_at, d.delivery_id",
    )
    .bind(&case_id)
    .fetch_all(&app.pool)
    .await?;
    let letters = rows
        .iter()
        .map(|r| {
            Ok(PaperLetter {
                delivery_id: r.try_get(0)?,
                message_id: r.try_get(1)?,
                kind: parsed(r, 2)?,
                state: parsed(r, 3)?,
                recipient: r.try_get(4)?,
                recipient_name: r.try_get(5)?,
                passed_on_at: r.try_get(6)?,
                printed: r.try_get::<i64, _>(7)? as u64,
            })
        })
        .collect::<ApiResult<_>>()?;
    Ok(Json(letters))
}

/// The paper consents and withdrawals recorded in a case, each with the sealed scan of its
/// form (facilitators of the case, who alone can open the scans).
#[utoipa::path(get, path = "/v1/cases/{case_id}/paper-consent", tag = "paper", security(("bearer" = [])),
    params(("case_id" = String, Path, description = "Case id")),
    responses((status = 200, body = Vec<PaperForm>), (status = 404, body = ferry_protocol::ErrorBody)))]
pub async fn forms(
    State(app): State<AppState>,
    caller: Caller,
    Path(case_id): Path<String>,
) -> ApiResult<Json<Vec<PaperForm>>> {
    cases::require_member(
        &app.pool,
        &case_id,
        &caller.account_id,
        &[Role::Facilitator],
    )
    .await?;
    let rows = sqlx::query(
        "SELECT idx, statement FROM events WHERE case_id = $1 AND kind = 'paper-consent' ORDER BY idx",
    )
    .bind(&case_id)
    .fetch_all(&app.pool)
    .await?;
    let mut forms = vec![];
    for row in rows {
        let statement = SignedStatement::from_json(&row.try_get::<Vec<u8>, _>(1)?)
            .map_err(ApiError::internal)?;
        let pc: PaperConsent =
            serde_json::from_slice(&statement.body).map_err(ApiError::internal)?;
        let scan = match &pc.scan {
            Some(scan) => {
                sqlx::query("SELECT ciphertext FROM paper_scans WHERE case_id = $1 AND sha256 = $2")
                    .bind(&case_id)
                    .bind(scan.sealed.sha256.to_hex())
                    .fetch_optional(&app.pool)
                    .await?
                    .map(|r| r.try_get::<Vec<u8>, _>(0))
                    .transpose()?
                    .map(|bytes| B64.encode(bytes))
            }
            None => None,
        };
        forms.push(PaperForm {
            event: row.try_get::<i64, _>(0)? as u64,
            statement,
            scan,
        });
    }
    Ok(Json(forms))
}

/// A letter passed on to a person on paper, as its printing names it.
struct PassedOn {
    /// The facilitator's signed forward.
    forward: SignedStatement,
    state: DeliveryState,
    kind: MessageKind,
}

/// The (not cancelled) forward of the message a printing names to the person it names.
async fn passed_on<'e, E>(db: E, p: &Printing) -> ApiResult<Option<PassedOn>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row = sqlx::query(
        "SELECT d.statement, d.state, m.kind FROM deliveries d JOIN messages m ON m.message_id = d.message_id \
         WHERE d.case_id = $1 AND d.message_id = $2 AND d.recipient = $3 AND d.kind = 'forward' \
         AND d.state <> 'cancelled'",
    )
    .bind(p.case_id.as_str())
    .bind(p.message_id.as_str())
    .bind(p.recipient.as_str())
    .fetch_optional(db)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    Ok(Some(PassedOn {
        forward: SignedStatement::from_json(&row.try_get::<Vec<u8>, _>(0)?)
            .map_err(ApiError::internal)?,
        state: parsed(&row, 1)?,
        kind: parsed(&row, 2)?,
    }))
}

/// The membership of `account` in the case, who must take part on paper.
async fn on_paper(tx: &mut Tx<'_>, case_id: &str, account: &AccountId) -> ApiResult<Member> {
    match cases::member(&mut **tx, case_id, account).await? {
        Some(m) if m.on_paper => Ok(m),
        Some(_) => Err(ApiError::of(ErrorCode::NotOnPaper)),
        None => Err(ApiError::not_found("person in this case")),
    }
}

/// Whether `message` is a message of the case.
async fn in_case(tx: &mut Tx<'_>, case_id: &str, message: &Id) -> ApiResult<bool> {
    let n: i64 =
        sqlx::query("SELECT COUNT(*) FROM messages WHERE message_id = $1 AND case_id = $2")
            .bind(message.as_str())
            .bind(case_id)
            .fetch_one(&mut **tx)
            .await?
            .try_get(0)?;
    Ok(n > 0)
}
