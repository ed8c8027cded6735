//! The caller's own account, and key cards.

use axum::Json;
use axum::extract::{Path, State};
use ferry_crypto::{AccountId, Role};
use sqlx::Row;

use crate::auth::Caller;
use crate::db::parsed;
use crate::error::{ApiError, ApiResult};
use crate::extract::Body;
use crate::{AppState, cases};
use ferry_protocol::{
    ErrorCode, KeyCardResponse, KeyCards, Me, Membership, Notifications, NotificationsRequest,
    OutboxEntry, StaffMember, StaffRole,
};

/// The caller's account, roles and next sequence number.
#[utoipa::path(get, path = "/v1/me", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = ferry_protocol::ErrorBody)))]
pub async fn me(State(app): State<AppState>, caller: Caller) -> ApiResult<Json<Me>> {
    let row = sqlx::query(
        "SELECT display_name, accreditations, last_seq FROM accounts WHERE account_id = $1",
    )
    .bind(caller.account_id.as_str())
    .fetch_one(&app.pool)
    .await?;
    let accreditations: String = row.try_get(1)?;
    let cases = sqlx::query(
        "SELECT case_id, role, holding FROM members WHERE account_id = $1 ORDER BY joined_at",
    )
    .bind(caller.account_id.as_str())
    .fetch_all(&app.pool)
    .await?
    .into_iter()
    .map(|r| {
        Ok(Membership {
            case_id: r.try_get(0)?,
            role: parsed(&r, 1)?,
            holding: r.try_get::<i64, _>(2)? != 0,
        })
    })
    .collect::<ApiResult<Vec<_>>>()?;
    let contact = sqlx::query("SELECT email, preference FROM contacts WHERE account_id = $1")
        .bind(caller.account_id.as_str())
        .fetch_optional(&app.pool)
        .await?;
    let (email, notifications) = match contact {
        Some(c) => (Some(c.try_get::<String, _>(0)?), parsed(&c, 1)?),
        None => (None, Notifications::None),
    };
    Ok(Json(Me {
        email,
        notifications,
        account_id: caller.account_id.to_string(),
        display_name: row.try_get(0)?,
        staff_role: caller.staff_role,
        accreditations: accreditations
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        next_seq: row.try_get::<i64, _>(2)? as u64 + 1,
        cases,
    }))
}

/// Everyone on the service's staff: coordinators, facilitators (with their accreditations and
/// how many open cases they hold) and auditors (coordinators only).
#[utoipa::path(get, path = "/v1/staff", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = Vec<StaffMember>), (status = 403, body = ferry_protocol::ErrorBody)))]
pub async fn staff(
    State(app): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<StaffMember>>> {
    caller.require_staff(StaffRole::Coordinator)?;
    let rows = sqlx::query(
        "SELECT a.account_id, a.display_name, a.staff_role, a.accreditations, \
         (SELECT COUNT(*) FROM members m JOIN cases c ON c.case_id = m.case_id \
          WHERE m.account_id = a.account_id AND m.role = 'facilitator' AND c.state <> 'closed') \
         FROM accounts a WHERE a.staff_role IN ('coordinator', 'facilitator', 'auditor') \
         ORDER BY a.staff_role, a.display_name, a.account_id",
    )
    .fetch_all(&app.pool)
    .await?;
    let staff = rows
        .iter()
        .map(|r| {
            let accreditations: String = r.try_get(3)?;
            Ok(StaffMember {
                account_id: r.try_get(0)?,
                display_name: r.try_get(1)?,
                role: parsed(r, 2)?,
                accreditations: accreditations
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
                open_cases: r.try_get::<i64, _>(4)? as u64,
            })
        })
        .collect::<ApiResult<_>>()?;
    Ok(Json(staff))
}

/// A person's key card: staff see anyone's; others see those of people they share a case with.
#[utoipa::path(get, path = "/v1/accounts/{account_id}/key-card", tag = "accounts",
    security(("bearer" = [])), params(("account_id" = String, Path, description = "Account id")),
    responses((status = 200, body = KeyCardResponse), (status = 404, body = ferry_protocol::ErrorBody)))]
pub async fn key_card(
    State(app): State<AppState>,
    caller: Caller,
    Path(account_id): Path<String>,
) -> ApiResult<Json<KeyCardResponse>> {
    let account = AccountId::try_from(account_id).map_err(|_| ApiError::not_found("account"))?;
    if caller.staff_role.is_none() && account != caller.account_id {
        let shared: i64 = sqlx::query(
            "SELECT COUNT(*) FROM members a JOIN members b ON a.case_id = b.case_id \
             WHERE a.account_id = $1 AND b.account_id = $2",
        )
        .bind(caller.account_id.as_str())
        .bind(account.as_str())
        .fetch_one(&app.pool)
        .await?
        .try_get(0)?;
        let is_server = account == *app.server_card.account_id();
        if shared == 0 && !is_server {
            return Err(ApiError::not_found("account"));
        }
    }
    let card = app
        .key_cards
        .load(&app.pool, &account)
        .await?
        .ok_or_else(|| ApiError::not_found("account"))?;
    Ok(Json(KeyCardResponse {
        key_card: card.statement().clone(),
    }))
}

/// The key cards of a case's facilitators: who a participant's messages are sealed to.
#[utoipa::path(get, path = "/v1/cases/{case_id}/facilitators", tag = "cases",
    security(("bearer" = [])), params(("case_id" = String, Path, description = "Case id")),
    responses((status = 200, body = KeyCards), (status = 404, body = ferry_protocol::ErrorBody)))]
pub async fn facilitator_cards(
    State(app): State<AppState>,
    caller: Caller,
    Path(case_id): Path<String>,
) -> ApiResult<Json<KeyCards>> {
    cases::require_member(&app.pool, &case_id, &caller.account_id, &Role::ALL).await?;
    let rows = sqlx::query(
        "SELECT a.key_card FROM members m JOIN accounts a ON a.account_id = m.account_id \
         WHERE m.case_id = $1 AND m.role = 'facilitator' ORDER BY m.joined_at",
    )
    .bind(&case_id)
    .fetch_all(&app.pool)
    .await?;
    let mut key_cards = vec![];
    for row in rows {
        let bytes: Vec<u8> = row.try_get(0)?;
        key_cards
            .push(ferry_crypto::SignedStatement::from_json(&bytes).map_err(ApiError::internal)?);
    }
    Ok(Json(KeyCards { key_cards }))
}

/// Sets how the caller hears that something is waiting (and, optionally, where).
#[utoipa::path(put, path = "/v1/me/notifications", tag = "accounts", security(("bearer" = [])),
    request_body = NotificationsRequest,
    responses((status = 200, body = Me), (status = 400, body = ferry_protocol::ErrorBody)))]
pub async fn set_notifications(
    State(app): State<AppState>,
    caller: Caller,
    Body(req): Body<NotificationsRequest>,
) -> ApiResult<Json<Me>> {
    let preference = crate::mail::outbox::check_preference(&req.preference)?;
    if let Some(email) = &req.email
        && !crate::mail::valid_address(email)
    {
        return Err(ApiError::new(
            ErrorCode::InvalidField,
            "that is not an e-mail address",
        ));
    }
    let mut tx = app.pool.begin().await?;
    match &req.email {
        Some(email) => {
            sqlx::query(
                "INSERT INTO contacts (account_id, email, preference) VALUES ($1, $2, $3) \
                 ON CONFLICT (account_id) DO UPDATE SET email = excluded.email, preference = excluded.preference",
            )
            .bind(caller.account_id.as_str())
            .bind(email)
            .bind(preference.as_str())
            .execute(&mut *tx)
            .await?;
        }
        None => {
            let updated = sqlx::query("UPDATE contacts SET preference = $1 WHERE account_id = $2")
                .bind(preference.as_str())
                .bind(caller.account_id.as_str())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if updated == 0 && preference != Notifications::None {
                return Err(ApiError::new(
                    ErrorCode::NoEmail,
                    "Ferry has no e-mail address for you: give one with --email",
                ));
            }
        }
    }
    tx.commit().await?;
    me(State(app), caller).await
}

/// Outbox query.
#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct OutboxQuery {
    /// Only mails in this state (pending, sending, sent, failed).
    state: Option<String>,
}

/// The e-mail outbox (coordinators): what was sent, what is waiting, what failed.
#[utoipa::path(get, path = "/v1/admin/outbox", tag = "admin", security(("bearer" = [])),
    params(OutboxQuery),
    responses((status = 200, body = Vec<OutboxEntry>), (status = 403, body = ferry_protocol::ErrorBody)))]
pub async fn outbox(
    State(app): State<AppState>,
    caller: Caller,
    axum::extract::Query(q): axum::extract::Query<OutboxQuery>,
) -> ApiResult<Json<Vec<OutboxEntry>>> {
    caller.require_staff(StaffRole::Coordinator)?;
    let state = match q.state.as_deref() {
        None => None,
        Some(s) => Some(s.parse().map_err(|_| {
            ApiError::new(
                ErrorCode::InvalidField,
                "a mail's state is pending, sending, sent or failed",
            )
        })?),
    };
    Ok(Json(crate::mail::outbox::list(&app, state).await?))
}
