//! Sessions: a person signs a server challenge with their Ed25519 key and gets a short-lived
//! bearer token. Challenges and tokens are random; tokens are stored only as hashes.

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts, State};
use axum::http::request::Parts;
use ferry_crypto::actions::Session;
use ferry_crypto::{AccountId, KeyCard, Sha256Hash};
use sqlx::Row;

use crate::error::{ApiError, ApiResult};
use crate::extract::Body;
use crate::{AppState, now, random_token};
use ferry_protocol::{Challenge, SessionRequest, SessionToken};
use ferry_protocol::{ErrorCode, StaffRole};

/// How long a challenge may be answered, in seconds.
const CHALLENGE_SECONDS: i64 = 120;

/// The authenticated caller.
#[derive(Clone)]
pub struct Caller {
    /// Their account.
    pub account_id: AccountId,
    /// Their service-wide role, if staff.
    pub staff_role: Option<StaffRole>,
    /// Their verified key card.
    pub card: Arc<KeyCard>,
}

impl Caller {
    /// Fails unless the caller holds the service-wide `role`.
    pub fn require_staff(&self, role: StaffRole) -> ApiResult<()> {
        if self.staff_role == Some(role) {
            Ok(())
        } else {
            Err(ApiError::new(
                ErrorCode::WrongRole,
                format!(
                    "only {} may do this",
                    ferry_crypto::with_article(role.as_str())
                ),
            ))
        }
    }
}

fn token_hash(token: &str) -> String {
    Sha256Hash::of_parts(&[b"ferry/v1/session-token\0", token.as_bytes()]).to_hex()
}

/// A bearer token sent with a request, not yet looked up: [`Bearer::caller`] looks it up
/// alone; a batch of submissions looks many up at once, in its transaction.
pub struct Bearer {
    hash: String,
}

impl Bearer {
    /// The stored hash of the token.
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// The caller whose live session this is.
    pub async fn caller(&self, app: &AppState) -> ApiResult<Caller> {
        let row = sqlx::query(
            "SELECT s.account_id, a.staff_role, a.key_card FROM sessions s \
             JOIN accounts a ON a.account_id = s.account_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2",
        )
        .bind(&self.hash)
        .bind(now())
        .fetch_optional(&app.pool)
        .await?
        .ok_or_else(not_live)?;
        let account: String = row.try_get(0)?;
        let account_id = AccountId::try_from(account).map_err(ApiError::internal)?;
        let card: Vec<u8> = row.try_get(2)?;
        Ok(Caller {
            card: app.key_cards.verified(&account_id, &card)?,
            account_id,
            staff_role: crate::db::parsed_opt(&row, 1)?,
        })
    }
}

/// The refusal for a token that names no live session.
pub fn not_live() -> ApiError {
    ApiError::unauthorized("this session has expired or is not valid; log in again")
}

impl<S: Send + Sync> FromRequestParts<S> for Bearer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| {
                ApiError::unauthorized("log in first: send Authorization: Bearer <token>")
            })?;
        Ok(Bearer {
            hash: token_hash(token.trim()),
        })
    }
}

impl<S> FromRequestParts<S> for Caller
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let bearer = Bearer::from_request_parts(parts, state).await?;
        bearer.caller(&AppState::from_ref(state)).await
    }
}

/// Issues a login challenge. Any request body is read and ignored: a body left unread would
/// make the server close the connection after answering, under a client about to reuse it.
#[utoipa::path(post, path = "/v1/session/challenge", tag = "session",
    responses((status = 200, body = Challenge)))]
pub async fn challenge(
    State(app): State<AppState>,
    _ignored: axum::body::Bytes,
) -> ApiResult<axum::Json<Challenge>> {
    let challenge = random_token();
    let expires_at = now() + CHALLENGE_SECONDS;
    sqlx::query("DELETE FROM challenges WHERE expires_at < $1")
        .bind(now())
        .execute(&app.pool)
        .await?;
    sqlx::query("INSERT INTO challenges (challenge, expires_at) VALUES ($1, $2)")
        .bind(&challenge)
        .bind(expires_at)
        .execute(&app.pool)
        .await?;
    Ok(axum::Json(Challenge {
        challenge,
        expires_at,
    }))
}

/// Exchanges a signed challenge for a session token.
#[utoipa::path(post, path = "/v1/session", tag = "session", request_body = SessionRequest,
    responses((status = 200, body = SessionToken), (status = 400, body = ferry_protocol::ErrorBody),
        (status = 401, body = ferry_protocol::ErrorBody)))]
pub async fn login(
    State(app): State<AppState>,
    Body(req): Body<SessionRequest>,
) -> ApiResult<axum::Json<SessionToken>> {
    let statement = req.statement;
    let card = app
        .key_cards
        .load(&app.pool, &statement.signer)
        .await?
        .ok_or_else(|| ApiError::unauthorized("unknown account: enrol first"))?;
    let session: Session = statement.open(&card)?;
    // Single use: the challenge is deleted as it is accepted.
    let used = sqlx::query("DELETE FROM challenges WHERE challenge = $1 AND expires_at > $2")
        .bind(&session.challenge)
        .bind(now())
        .execute(&app.pool)
        .await?
        .rows_affected();
    if used != 1 {
        return Err(ApiError::unauthorized(
            "that challenge has expired or was already used; ask for a new one",
        ));
    }
    let token = random_token();
    let expires_at = now() + app.config.session_seconds;
    sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
        .bind(now())
        .execute(&app.pool)
        .await?;
    sqlx::query("INSERT INTO sessions (token_hash, account_id, expires_at) VALUES ($1, $2, $3)")
        .bind(token_hash(&token))
        .bind(session.account_id.as_str())
        .bind(expires_at)
        .execute(&app.pool)
        .await?;
    Ok(axum::Json(SessionToken { token, expires_at }))
}
