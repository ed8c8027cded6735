//! Enrolment: a single-use, expiring invitation code binds a new key card to a role.

use axum::Json;
use axum::extract::State;
use ferry_crypto::actions::{
    Enrolment, InvitationCode, invitation_hash, plausible_invitation_code,
};
use ferry_crypto::{KeyCard, Role};
use sqlx::Row;

use crate::error::{ApiError, ApiResult};
use crate::extract::Body;
use crate::{AppState, cases, db, log_store, now};
use ferry_protocol::{CaseState, ErrorCode};
use ferry_protocol::{EnrolRequest, EnrolResponse};

/// Enrols a new person (or an existing one into another case) with an invitation code.
#[utoipa::path(post, path = "/v1/enrol", tag = "enrolment", request_body = EnrolRequest,
    responses((status = 200, body = EnrolResponse), (status = 400, body = ferry_protocol::ErrorBody),
        (status = 403, body = ferry_protocol::ErrorBody)))]
pub async fn enrol(
    State(app): State<AppState>,
    Body(req): Body<EnrolRequest>,
) -> ApiResult<Json<EnrolResponse>> {
    let invalid_code = || {
        ApiError::new(
            ErrorCode::InvalidInvitation,
            "this invitation code is not valid: it may be mistyped, expired or already used",
        )
    };
    // The handed-over form carries this server's key fingerprint: checked, then set aside.
    let code = match InvitationCode::parse(&req.code) {
        Ok(handed) if handed.server_key == app.server_card.fingerprint().key_code() => handed.code,
        Ok(_) => {
            return Err(ApiError::new(
                ErrorCode::WrongServer,
                "this invitation is for another Ferry server: check the address you were given",
            ));
        }
        Err(_) => req.code.trim().to_owned(),
    };
    if !plausible_invitation_code(&code) {
        return Err(invalid_code());
    }
    let card = KeyCard::verify(req.key_card)?;
    let enrolment: Enrolment = req.enrolment.open(&card)?;
    let code_hash = invitation_hash(&code);
    if enrolment.invitation != code_hash {
        return Err(ApiError::new(
            ErrorCode::Mismatch,
            "the signed enrolment names a different invitation than the code given",
        ));
    }
    let now = now();
    let mut tx = db::begin_write(&app.pool).await?;
    // Single use: only one enrolment can flip used_at.
    let used = sqlx::query(
        "UPDATE invitations SET used_at = $1, used_by = $2 \
         WHERE code_hash = $3 AND used_at IS NULL AND expires_at > $1",
    )
    .bind(now)
    .bind(card.account_id().as_str())
    .bind(code_hash.to_hex())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if used != 1 {
        return Err(invalid_code());
    }
    let inv = sqlx::query(
        "SELECT case_id, role, accreditations, email FROM invitations WHERE code_hash = $1",
    )
    .bind(code_hash.to_hex())
    .fetch_one(&mut *tx)
    .await?;
    let case_id: Option<String> = inv.try_get(0)?;
    let role: String = inv.try_get(1)?;
    let accreditations: String = inv.try_get(2)?;
    let email: Option<String> = inv.try_get(3)?;
    let role: Role = role.parse().map_err(ApiError::internal)?;

    let existing = sqlx::query("SELECT staff_role FROM accounts WHERE account_id = $1")
        .bind(card.account_id().as_str())
        .fetch_optional(&mut *tx)
        .await?;
    let is_new = existing.is_none();
    if is_new {
        sqlx::query(
            "INSERT INTO accounts (account_id, display_name, key_card, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(card.account_id().as_str())
        .bind(card.display_name())
        .bind(card.to_json())
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    match &case_id {
        None => {
            if let Some(row) = &existing
                && row.try_get::<Option<String>, _>(0)?.is_some()
            {
                return Err(ApiError::new(
                    ErrorCode::AlreadyStaff,
                    "this account already holds a service-wide role",
                ));
            }
            sqlx::query(
                "UPDATE accounts SET staff_role = $1, accreditations = $2 WHERE account_id = $3",
            )
            .bind(role.as_str())
            .bind(&accreditations)
            .bind(card.account_id().as_str())
            .execute(&mut *tx)
            .await?;
        }
        Some(case) => {
            let state = cases::load(&mut *tx, case).await?.state;
            if state == CaseState::Closed {
                return Err(ApiError::new(ErrorCode::CaseClosed, "this case is closed"));
            }
            sqlx::query(
                "INSERT INTO members (case_id, account_id, role, consent, joined_at) VALUES ($1, $2, $3, 'none', $4)",
            )
            .bind(case)
            .bind(card.account_id().as_str())
            .bind(role.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(|e| match ApiError::from(e) {
                err if err.code == ErrorCode::AlreadyExists => {
                    ApiError::new(ErrorCode::AlreadyMember, "this person is already in this case")
                }
                err => err,
            })?;
        }
    }
    // The address the invitation went to becomes the person's notification address; it is
    // not kept on the spent invitation.
    if let Some(address) = email {
        sqlx::query(
            "INSERT INTO contacts (account_id, email) VALUES ($1, $2) \
             ON CONFLICT (account_id) DO UPDATE SET email = excluded.email",
        )
        .bind(card.account_id().as_str())
        .bind(address)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE invitations SET email = NULL WHERE code_hash = $1")
            .bind(code_hash.to_hex())
            .execute(&mut *tx)
            .await?;
    }
    if is_new {
        log_store::append(&mut tx, case_id.as_deref(), card.statement(), now).await?;
    }
    log_store::append(&mut tx, case_id.as_deref(), &req.enrolment, now).await?;
    tx.commit().await?;
    Ok(Json(EnrolResponse {
        account_id: card.account_id().to_string(),
        role,
        case_id,
    }))
}
