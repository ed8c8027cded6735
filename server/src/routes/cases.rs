//! Case management: open, allocate, invite, risk assessment, pause/resume/close, consent,
//! withdrawal and key verification. Every change is a signed statement and an event.

use axum::Json;
use axum::extract::{Path, State};
use ferry_crypto::actions::{
    Allocation, CaseAction, CaseOpen, CaseState as StateChange, Consent as ConsentGiven, Hold,
    Invitation, InvitationCode, KeyVerification, RiskAssessment, RiskOutcome, Withdrawal,
    invitation_hash, plausible_invitation_code,
};
use ferry_crypto::paper::{PaperConsent, PaperMember, Printing};
use ferry_crypto::{AccountId, Role, SignedStatement};
use sqlx::Row;

use crate::auth::Caller;
use crate::db::{self, Tx};
use crate::error::{ApiError, ApiResult};
use crate::extract::Body;
use crate::intake::accept;
use crate::{AppState, cases, log_store, now};
use ferry_protocol::{
    Accepted, CaseState, CaseView, Consent, ErrorCode, InvitationRequest, StaffRole,
    StatementRequest,
};

/// Longest an invitation may stay open, in seconds.
const MAX_INVITATION_SECONDS: i64 = 30 * 24 * 3600;

const ANY_MEMBER: &[Role] = &Role::ALL;

fn same_case(path: &str, signed: &ferry_crypto::Id) -> ApiResult<()> {
    if signed.as_str() == path {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::Mismatch,
            format!("the statement is for case {signed}, not case {path}"),
        ))
    }
}

pub(super) async fn finish(
    config: &crate::Config,
    mut tx: Tx<'static>,
    case_id: Option<&str>,
    statement: &SignedStatement,
    now: i64,
) -> ApiResult<Json<Accepted>> {
    let event = log_store::append(&mut tx, case_id, statement, now).await?;
    let case_state = match case_id {
        Some(case) => {
            Some(cases::activate_if_ready(&mut tx, case, config.require_key_checks, now).await?)
        }
        None => None,
    };
    tx.commit().await?;
    Ok(Json(Accepted {
        event,
        case_state,
        id: None,
        state: None,
        mailed: false,
    }))
}

/// A signed action on one case (a coordinator's or a participant's).
pub(super) trait CaseAct:
    ferry_crypto::Statement + ferry_crypto::actions::Sequenced
{
    fn case_id(&self) -> &ferry_crypto::Id;
}

macro_rules! case_act {
    ($($ty:ty),*) => {
        $(impl CaseAct for $ty {
            fn case_id(&self) -> &ferry_crypto::Id {
                &self.case_id
            }
        })*
    };
}

case_act!(
    Allocation,
    RiskAssessment,
    StateChange,
    ConsentGiven,
    Withdrawal,
    Hold,
    PaperMember,
    PaperConsent,
    Printing
);

/// Who may take an action on a case.
#[derive(Clone, Copy)]
pub(super) enum By {
    /// A coordinator of the service.
    Coordinator,
    /// A participant of the case (harmed, responsible or supporter).
    Participant,
    /// A facilitator allocated to the case.
    Facilitator,
}

/// Begins an action on a case: the caller may take it, the statement is theirs, signed, in
/// sequence and about this case, and the case is not closed.
pub(super) async fn begin_case_act<T: CaseAct>(
    app: &AppState,
    caller: &Caller,
    case_id: &str,
    statement: &SignedStatement,
    by: By,
) -> ApiResult<(Tx<'static>, T, cases::CaseRow)> {
    if let By::Coordinator = by {
        caller.require_staff(StaffRole::Coordinator)?;
    }
    let mut tx = db::begin_write(&app.pool).await?;
    let roles: &[Role] = match by {
        By::Coordinator => &[],
        By::Participant => &[Role::Harmed, Role::Responsible, Role::Supporter],
        By::Facilitator => &[Role::Facilitator],
    };
    if !roles.is_empty() {
        cases::require_member(&mut *tx, case_id, &caller.account_id, roles).await?;
    }
    let act: T = accept(&mut tx, caller, statement).await?;
    same_case(case_id, act.case_id())?;
    let case = cases::load(&mut *tx, case_id).await?;
    if case.state == CaseState::Closed {
        return Err(ApiError::new(ErrorCode::CaseClosed, "this case is closed"));
    }
    Ok((tx, act, case))
}

/// Fails unless the caller is a coordinator or service-wide auditor, or a member of the case;
/// says whether they see it as a participant.
async fn require_view(app: &AppState, caller: &Caller, case_id: &str) -> ApiResult<bool> {
    match caller.staff_role {
        Some(StaffRole::Coordinator | StaffRole::Auditor) => {
            cases::load(&app.pool, case_id).await.map(|_| false)
        }
        _ => cases::require_member(&app.pool, case_id, &caller.account_id, ANY_MEMBER)
            .await
            .map(|m| m.role.is_participant()),
    }
}

/// Cases the caller can see: every case for coordinators and service-wide auditors, their
/// own for everyone else.
#[utoipa::path(get, path = "/v1/cases", tag = "cases", security(("bearer" = [])),
    responses((status = 200, body = Vec<CaseView>)))]
pub async fn list_cases(
    State(app): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<CaseView>>> {
    let sees_all = matches!(
        caller.staff_role,
        Some(StaffRole::Coordinator | StaffRole::Auditor)
    );
    let ids: Vec<(String, String)> = if sees_all {
        sqlx::query("SELECT case_id, 'staff' FROM cases ORDER BY created_at, case_id")
            .fetch_all(&app.pool)
            .await?
    } else {
        sqlx::query(
            "SELECT c.case_id, m.role FROM cases c JOIN members m ON m.case_id = c.case_id \
             WHERE m.account_id = $1 ORDER BY c.created_at, c.case_id",
        )
        .bind(caller.account_id.as_str())
        .fetch_all(&app.pool)
        .await?
    }
    .into_iter()
    .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
    .collect::<Result<_, sqlx::Error>>()?;
    let mut conn = app.pool.acquire().await?;
    let mut out = vec![];
    for (id, role) in ids {
        let viewer = cases::Viewer {
            account: &caller.account_id,
            participant: role.parse::<Role>().is_ok_and(Role::is_participant),
        };
        let key_checks = app.config.require_key_checks;
        out.push(cases::view(&mut conn, &id, &viewer, key_checks).await?);
    }
    Ok(Json(out))
}

/// Opens a case from a referral (coordinators).
#[utoipa::path(post, path = "/v1/cases", tag = "cases", security(("bearer" = [])),
    request_body = StatementRequest,
    responses((status = 200, body = Accepted), (status = 403, body = ferry_protocol::ErrorBody),
        (status = 409, body = ferry_protocol::ErrorBody)))]
pub async fn open_case(
    State(app): State<AppState>,
    caller: Caller,
    Body(req): Body<StatementRequest>,
) -> ApiResult<Json<Accepted>> {
    caller.require_staff(StaffRole::Coordinator)?;
    let now = now();
    let mut tx = db::begin_write(&app.pool).await?;
    let open: CaseOpen = accept(&mut tx, &caller, &req.statement).await?;
    cases::check_text("reference", &open.reference, 80)?;
    cases::check_text("category", &open.category, 60)?;
    cases::check_label("sensitivity", &open.sensitivity)?;
    sqlx::query(
        "INSERT INTO cases (case_id, reference, category, sensitivity, state, opened_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'referred', $5, $6, $6)",
    )
    .bind(open.case_id.as_str())
    .bind(&open.reference)
    .bind(&open.category)
    .bind(&open.sensitivity)
    .bind(caller.account_id.as_str())
    .bind(now)
    .execute(&mut *tx)
    .await?;
    finish(
        &app.config,
        tx,
        Some(open.case_id.as_str()),
        &req.statement,
        now,
    )
    .await
}

/// A case's metadata, members and message counts (never content).
#[utoipa::path(get, path = "/v1/cases/{case_id}", tag = "cases", security(("bearer" = [])),
    params(("case_id" = String, Path, description = "Case id")),
    responses((status = 200, body = CaseView), (status = 404, body = ferry_protocol::ErrorBody)))]
pub async fn show_case(
    State(app): State<AppState>,
    caller: Caller,
    Path(case_id): Path<String>,
) -> ApiResult<Json<CaseView>> {
    let viewer = cases::Viewer {
        account: &caller.account_id,
        participant: require_view(&app, &caller, &case_id).await?,
    };
    let mut conn = app.pool.acquire().await?;
    let key_checks = app.config.require_key_checks;
    Ok(Json(
        cases::view(&mut conn, &case_id, &viewer, key_checks).await?,
    ))
}

/// Allocates a facilitator (coordinators). A sensitive case needs a facilitator holding the
/// matching accreditation; a case has at most two facilitators.
#[utoipa::path(post, path = "/v1/cases/{case_id}/allocations", tag = "cases", security(("bearer" = [])),
    params(("case_id" = String, Path, description = "Case id")), request_body = StatementRequest,
    responses((status = 200, body = Accepted), (status = 403, body = ferry_protocol::ErrorBody),
        (status = 409, body = ferry_protocol::ErrorBody)))]
pub async fn allocate(
    State(app): State<AppState>,
    caller: Caller,
    Path(case_id): Path<String>,
    Body(req): Body<StatementRequest>,
) -> ApiResult<Json<Accepted>> {
    let now = now();
    let (mut tx, alloc, case): (_, Allocation, _) =
        begin_case_act(&app, &caller, &case_id, &req.statement, By::Coordinator).await?;
    let row = sqlx::query("SELECT staff_role, accreditations FROM accounts WHERE account_id = $1")
        .bind(alloc.facilitator.as_str())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| ApiError::not_found(Role::Facilitator.as_str()))?;
    if row.try_get::<Option<String>, _>(0)?.as_deref() != Some(StaffRole::Facilitator.as_str()) {
        return Err(ApiError::new(
            ErrorCode::NotAFacilitator,
            "that account is not a facilitator",
        ));
    }
    let accreditations: String = row.try_get(1)?;
    if case.sensitivity != "standard" && !accreditations.split(',').any(|a| a == case.sensitivity) {
        return Err(ApiError::new(
            ErrorCode::NotAccredited,
            format!(
                "this case is sensitive ({}); only a facilitator accredited for it may be allocated",
                case.sensitivity
            ),
        ));
    }
    let count: i64 =
        sqlx::query("SELECT COUNT(*) FROM members WHERE case_id = $1 AND role = 'facilitator'")
            .bind(&case_id)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
    if count >= 2 {
        return Err(ApiError::new(
            ErrorCode::TooManyFacilitators,
            "a case has at most two facilitators",
        ));
    }
    sqlx::query(
        "INSERT INTO members (case_id, account_id, role, consent, joined_at) VALUES ($1, $2, 'facilitator', 'none', $3)",
    )
    .bind(&case_id)
    .bind(alloc.facilitator.as_str())
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(|e| match ApiError::from(e) {
        err if err.code == ErrorCode::AlreadyExists => {
            ApiError::new(ErrorCode::AlreadyMember, "this facilitator is already in this case")
        }
        err => err,
    })?;
    if case.state == CaseState::Referred {
        cases::set_state(&mut tx, &case_id, CaseState::Preparing, now).await?;
    }
    finish(&app.config, tx, Some(&case_id), &req.statement, now).await
}

/// Stores an invitation (its code only as the signed hash) and, if an address is given and
/// e-mail is set up, queues the invitation mail. Returns whether a mail was queued.
async fn store_invitation(
    tx: &mut Tx<'_>,
    app: &AppState,
    inv: &Invitation,
    code: &str,
    email: Option<&str>,
    now: i64,
) -> ApiResult<bool> {
    if let Some(e) = email
        && !crate::mail::valid_address(e)
    {
        return Err(ApiError::new(
            ErrorCode::InvalidField,
            "that is not an e-mail address",
        ));
    }
    if !plausible_invitation_code(code) || invitation_hash(code) != inv.invitation {
        return Err(ApiError::new(
            ErrorCode::WeakOrMismatchedCode,
            "the invitation code must be a strong Ferry code matching the signed hash",
        ));
    }
    if inv.expires_at <= now || inv.expires_at > now + MAX_INVITATION_SECONDS {
        return Err(ApiError::new(
            ErrorCode::InvalidExpiry,
            "an invitation must expire in the future and within 30 days",
        ));
    }
    for a in &inv.accreditations {
        cases::check_label("accreditation", a)?;
    }
    sqlx::query(
        "INSERT INTO invitations (code_hash, case_id, role, accreditations, created_by, expires_at, email) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(inv.invitation.to_hex())
    .bind(inv.case_id.as_ref().map(|c| c.as_str()))
    .bind(inv.role.as_str())
    .bind(inv.accreditations.join(","))
    .bind(inv.coordinator.as_str())
    .bind(inv.expires_at)
    .bind(email)
    .execute(&mut **tx)
    .await?;
    match email {
        Some(address) => {
            let case = inv.case_id.as_ref().map(|c| c.as_str());
            // The mail carries the code as it is handed over, with this server's key.
            let handed = InvitationCode::new(code, &app.server_card.fingerprint()).to_string();
            crate::mail::outbox::invitation(
                tx,
                &app.config,
                address,
                &handed,
                inv.role.as_str(),
                case,
                inv.expires_at,
                now,
            )
            .await
        }
        None => Ok(false),
    }
}

/// Invites a person to a role in a case (coordinators): harmed, responsible, supporter or
/// auditor.
#[utoipa::path(post, path = "/v1/cases/{case_id}/invitations", tag = "cases", security(("bearer" = [])),
    params(("case_id" = String, Path, description = "Case id")), request_body = InvitationRequest,
    responses((status = 200, body = Accepted), (status = 400, body = ferry_protocol::ErrorBody)))]
pub async fn invite_to_case(
    State(app): State<AppState>,
    caller: Caller,
    Path(case_id): Path<String>,
    Body(req): Body<InvitationRequest>,
) -> ApiResult<Json<Accepted>> {
    caller.require_staff(StaffRole::Coordinator)?;
    let now = now();
    let mut tx = db::begin_write(&app.pool).await?;
    let inv: Invitation = accept(&mut tx, &caller, &req.statement).await?;
    let signed_case = inv.case_id.as_ref().ok_or_else(|| {
        ApiError::new(ErrorCode::Mismatch, "a case invitation must name the case")
    })?;
    same_case(&case_id, signed_case)?;
    if !matches!(
        inv.role,
        Role::Harmed | Role::Responsible | Role::Supporter | Role::Auditor
    ) {
        return Err(ApiError::new(
            ErrorCode::WrongRole,
            "a case invitation is for a harmed, responsible or supporting person, or an auditor",
        ));
    }
    if cases::load(&mut *tx, &case_id).await?.state == CaseState::Closed {
        return Err(ApiError::new(ErrorCode::CaseClosed, "this case is closed"));
    }
    let mailed =
        store_invitation(&mut tx, &app, &inv, &req.code, req.email.as_deref(), now).await?;
    let mut accepted = finish(&app.config, tx, Some(&case_id), &req.statement, now).await?;
    accepted.0.mailed = mailed;
    Ok(accepted)
}

/// Invites a member of staff (coordinators): a coordinator, a facilitator (with
/// accreditations) or an auditor.
#[utoipa::path(post, path = "/v1/invitations", tag = "enrolment", security(("bearer" = [])),
    request_body = InvitationRequest,
    responses((status = 200, body = Accepted), (status = 400, body = ferry_protocol::ErrorBody)))]
pub async fn invite_staff(
    State(app): State<AppState>,
    caller: Caller,
    Body(req): Body<InvitationRequest>,
) -> ApiResult<Json<Accepted>> {
    caller.require_staff(StaffRole::Coordinator)?;
    let now = now();
    let mut tx = db::begin_write(&app.pool).await?;
    let inv: Invitation = accept(&mut tx, &caller, &req.statement).await?;
    if inv.case_id.is_some()
        || !matches!(
            inv.role,
            Role::Coordinator | Role::Facilitator | Role::Auditor
        )
    {
        return Err(ApiError::new(
            ErrorCode::WrongRole,
            "a staff invitation is for a coordinator, facilitator or auditor, with no case",
        ));
    }
    let mailed =
        store_invitation(&mut tx, &app, &inv, &req.code, req.email.as_deref(), now).await?;
    let mut accepted = finish(&app.config, tx, None, &req.statement, now).await?;
    accepted.0.mailed = mailed;
    Ok(accepted)
}

/// Records the risk assessment outcome (coordinators).
#[utoipa::path(post, path = "/v1/cases/{case_id}/risk-assessment", tag = "cases", security(("bearer" = [])),
    params(("case_id" = String, Path, description = "Case id")), request_body = StatementRequest,
    responses((status = 200, body = Accepted)))]
pub async fn risk_assessment(
    State(app): State<AppState>,
    caller: Caller,
    Path(case_id): Path<String>,
    Body(req): Body<StatementRequest>,
) -> ApiResult<Json<Accepted>> {
    let now = now();
    let (mut tx, risk, case): (_, RiskAssessment, _) =
        begin_case_act(&app, &caller, &case_id, &req.statement, By::Coordinator).await?;
    let outcome = match risk.outcome {
        RiskOutcome::Proceed => "proceed",
        RiskOutcome::DoNotProceed => "do_not_proceed",
    };
    sqlx::query("UPDATE cases SET risk_outcome = $1, updated_at = $2 WHERE case_id = $3")
        .bind(outcome)
        .bind(now)
        .bind(&case_id)
        .execute(&mut *tx)
        .await?;
    if risk.outcome == RiskOutcome::DoNotProceed && case.state == CaseState::Active {
        cases::set_state(&mut tx, &case_id, CaseState::Paused, now).await?;
    }
    finish(&app.config, tx, Some(&case_id), &req.statement, now).await
}

/// Pauses, resumes or closes a case (coordinators). Resuming needs every participant's
/// consent; forwards held while paused are released on resume and cancelled on close.
#[utoipa::path(post, path = "/v1/cases/{case_id}/state", tag = "cases", security(("bearer" = [])),
    params(("case_id" = String, Path, description = "Case id")), request_body = StatementRequest,
    responses((status = 200, body = Accepted), (status = 409, body = ferry_protocol::ErrorBody)))]
pub async fn change_state(
    State(app): State<AppState>,
    caller: Caller,
    Path(case_id): Path<String>,
    Body(req): Body<StatementRequest>,
) -> ApiResult<Json<Accepted>> {
    let now = now();
    let (mut tx, change, case): (_, StateChange, _) =
        begin_case_act(&app, &caller, &case_id, &req.statement, By::Coordinator).await?;
    match (change.action, case.state) {
        (CaseAction::Pause, CaseState::Active | CaseState::Preparing) => {
            cases::set_state(&mut tx, &case_id, CaseState::Paused, now).await?;
        }
        (CaseAction::Resume, CaseState::Paused) => {
            let waiting = cases::waiting_for(&mut tx, &case, app.config.require_key_checks).await?;
            if !waiting.is_empty() {
                return Err(ApiError::new(
                    ErrorCode::NotReady,
                    format!(
                        "the case cannot resume yet; it is waiting for: {}",
                        cases::in_words(&waiting).join(", ")
                    ),
                ));
            }
            cases::set_state(&mut tx, &case_id, CaseState::Active, now).await?;
            cases::release_held(&mut tx, &app.config, &case_id, None, now).await?;
        }
        (CaseAction::Close, _) => {
            cases::set_state(&mut tx, &case_id, CaseState::Closed, now).await?;
            sqlx::query("UPDATE deliveries SET state = 'cancelled' WHERE case_id = $1 AND state IN ('held', 'uploading')")
                .bind(&case_id)
                .execute(&mut *tx)
                .await?;
        }
        (action, state) => {
            return Err(ApiError::new(
                ErrorCode::WrongState,
                format!(
                    "{} case cannot be {}",
                    ferry_crypto::with_article(state.as_str()),
                    match action {
                        CaseAction::Pause => CaseState::Paused.as_str(),
                        CaseAction::Resume => "resumed",
                        CaseAction::Close => CaseState::Closed.as_str(),
                    }
                ),
            ));
        }
    }
    finish(&app.config, tx, Some(&case_id), &req.statement, now).await
}

/// Records a participant's consent.
#[utoipa::path(post, path = "/v1/cases/{case_id}/consent", tag = "cases", security(("bearer" = [])),
    params(("case_id" = String, Path, description = "Case id")), request_body = StatementRequest,
    responses((status = 200, body = Accepted)))]
pub async fn consent(
    State(app): State<AppState>,
    caller: Caller,
    Path(case_id): Path<String>,
    Body(req): Body<StatementRequest>,
) -> ApiResult<Json<Accepted>> {
    participant_choice::<ConsentGiven>(&app, &caller, &case_id, &req.statement).await
}

/// Records a participant's withdrawal: the case pauses at once and nothing more is
/// delivered until every participant consents again and a coordinator resumes it.
#[utoipa::path(post, path = "/v1/cases/{case_id}/withdrawal", tag = "cases", security(("bearer" = [])),
    params(("case_id" = String, Path, description = "Case id")), request_body = StatementRequest,
    responses((status = 200, body = Accepted)))]
pub async fn withdraw(
    State(app): State<AppState>,
    caller: Caller,
    Path(case_id): Path<String>,
    Body(req): Body<StatementRequest>,
) -> ApiResult<Json<Accepted>> {
    participant_choice::<Withdrawal>(&app, &caller, &case_id, &req.statement).await
}

/// A participant's consent or withdrawal.
trait Choice: CaseAct {
    /// The consent it records.
    const CONSENT: Consent;
}

impl Choice for ConsentGiven {
    const CONSENT: Consent = Consent::Given;
}

impl Choice for Withdrawal {
    const CONSENT: Consent = Consent::Withdrawn;
}

async fn participant_choice<T: Choice>(
    app: &AppState,
    caller: &Caller,
    case_id: &str,
    statement: &SignedStatement,
) -> ApiResult<Json<Accepted>> {
    let now = now();
    let (mut tx, _, case): (_, T, _) =
        begin_case_act(app, caller, case_id, statement, By::Participant).await?;
    set_consent(&mut tx, app, &case, &caller.account_id, T::CONSENT, now).await?;
    finish(&app.config, tx, Some(case_id), statement, now).await
}

/// Holds what is passed on to the caller in the case until they say (`hold: true`), or lets
/// it through again (`hold: false`: what was held is released if the case is active). Their
/// consent and the case's state do not change.
#[utoipa::path(post, path = "/v1/cases/{case_id}/hold", tag = "cases", security(("bearer" = [])),
    params(("case_id" = String, Path, description = "Case id")), request_body = StatementRequest,
    responses((status = 200, body = Accepted), (status = 403, body = ferry_protocol::ErrorBody),
        (status = 409, body = ferry_protocol::ErrorBody)))]
pub async fn hold(
    State(app): State<AppState>,
    caller: Caller,
    Path(case_id): Path<String>,
    Body(req): Body<StatementRequest>,
) -> ApiResult<Json<Accepted>> {
    let now = now();
    let (mut tx, h, case): (_, Hold, _) =
        begin_case_act(&app, &caller, &case_id, &req.statement, By::Participant).await?;
    sqlx::query("UPDATE members SET holding = $1 WHERE case_id = $2 AND account_id = $3")
        .bind(i64::from(h.hold))
        .bind(&case_id)
        .bind(caller.account_id.as_str())
        .execute(&mut *tx)
        .await?;
    if !h.hold && case.state == CaseState::Active {
        let me = Some(caller.account_id.as_str());
        cases::release_held(&mut tx, &app.config, &case_id, me, now).await?;
    }
    finish(&app.config, tx, Some(&case_id), &req.statement, now).await
}

/// Records a participant's consent or withdrawal; a withdrawal takes effect at once (the
/// coordinators hear of it and an active case pauses).
pub(super) async fn set_consent(
    tx: &mut Tx<'_>,
    app: &AppState,
    case: &cases::CaseRow,
    account: &AccountId,
    consent: Consent,
    now: i64,
) -> ApiResult<()> {
    let case_id = case.case_id.as_str();
    sqlx::query("UPDATE members SET consent = $1 WHERE case_id = $2 AND account_id = $3")
        .bind(consent.as_str())
        .bind(case_id)
        .bind(account.as_str())
        .execute(&mut **tx)
        .await?;
    if consent == Consent::Withdrawn {
        crate::mail::outbox::notify_coordinators(tx, &app.config, case_id, now).await?;
        if case.state == CaseState::Active {
            cases::set_state(tx, case_id, CaseState::Paused, now).await?;
        }
    }
    Ok(())
}

/// Records that a facilitator read out a person's safety number and it matched.
#[utoipa::path(post, path = "/v1/cases/{case_id}/key-verifications", tag = "cases", security(("bearer" = [])),
    params(("case_id" = String, Path, description = "Case id")), request_body = StatementRequest,
    responses((status = 200, body = Accepted), (status = 400, body = ferry_protocol::ErrorBody)))]
pub async fn verify_key(
    State(app): State<AppState>,
    caller: Caller,
    Path(case_id): Path<String>,
    Body(req): Body<StatementRequest>,
) -> ApiResult<Json<Accepted>> {
    let now = now();
    let mut tx = db::begin_write(&app.pool).await?;
    cases::require_member(&mut *tx, &case_id, &caller.account_id, &[Role::Facilitator]).await?;
    let kv: KeyVerification = accept(&mut tx, &caller, &req.statement).await?;
    same_case(&case_id, &kv.case_id)?;
    cases::member(&mut *tx, &case_id, &kv.subject)
        .await?
        .ok_or_else(|| ApiError::not_found("person in this case"))?;
    let card = app
        .key_cards
        .load(&mut *tx, &kv.subject)
        .await?
        .ok_or_else(|| ApiError::not_found("account"))?;
    if card.fingerprint().0 != kv.fingerprint {
        return Err(ApiError::new(
            ErrorCode::FingerprintMismatch,
            "the fingerprint verified is not the one on this person's key card",
        ));
    }
    finish(&app.config, tx, Some(&case_id), &req.statement, now).await
}
