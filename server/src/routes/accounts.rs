//! The caller's own account, and key cards.

use axum::Json;
use axum::extract::{Path, State};
use ferry_crypto::{AccountId, Role};
use sqlx::Row;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::intake::load_card;
use crate::wire::{KeyCardResponse, KeyCards, Me, Membership};
use crate::{AppState, cases};

/// The caller's account, roles and next sequence number.
#[utoipa::path(get, path = "/v1/me", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = crate::wire::ErrorBody)))]
pub async fn me(State(app): State<AppState>, caller: Caller) -> ApiResult<Json<Me>> {
    let row = sqlx::query(
        "SELECT display_name, staff_role, accreditations, last_seq FROM accounts WHERE account_id = $1",
    )
    .bind(caller.account_id.as_str())
    .fetch_one(&app.pool)
    .await?;
    let accreditations: String = row.try_get(2)?;
    let cases =
        sqlx::query("SELECT case_id, role FROM members WHERE account_id = $1 ORDER BY joined_at")
            .bind(caller.account_id.as_str())
            .fetch_all(&app.pool)
            .await?
            .into_iter()
            .map(|r| {
                Ok(Membership {
                    case_id: r.try_get(0)?,
                    role: r.try_get(1)?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(Json(Me {
        account_id: caller.account_id.to_string(),
        display_name: row.try_get(0)?,
        staff_role: row.try_get(1)?,
        accreditations: accreditations
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        next_seq: row.try_get::<i64, _>(3)? as u64 + 1,
        cases,
    }))
}

/// A person's key card: staff see anyone's; others see those of people they share a case with.
#[utoipa::path(get, path = "/v1/accounts/{account_id}/key-card", tag = "accounts",
    security(("bearer" = [])), params(("account_id" = String, Path, description = "Account id")),
    responses((status = 200, body = KeyCardResponse), (status = 404, body = crate::wire::ErrorBody)))]
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
    let card = load_card(&app.pool, &account)
        .await?
        .ok_or_else(|| ApiError::not_found("account"))?;
    Ok(Json(KeyCardResponse {
        key_card: card.statement().clone(),
    }))
}

/// The key cards of a case's facilitators: who a participant's messages are sealed to.
#[utoipa::path(get, path = "/v1/cases/{case_id}/facilitators", tag = "cases",
    security(("bearer" = [])), params(("case_id" = String, Path, description = "Case id")),
    responses((status = 200, body = KeyCards), (status = 404, body = crate::wire::ErrorBody)))]
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
