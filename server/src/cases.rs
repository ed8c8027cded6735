//! Case rules: who is in a case in which role, and the lifecycle
//! `referred → preparing → active ⇄ paused → closed`. A case becomes active by itself once a
//! facilitator is allocated, the risk assessment says proceed, both parties are enrolled and
//! every participant has consented; any withdrawal pauses it at once.

use ferry_crypto::{AccountId, Role};
use sqlx::Row;

use crate::db::Tx;
use crate::error::{ApiError, ApiResult};
use crate::wire::{CaseView, MemberView, StateCount};

/// A case's row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CaseRow {
    /// Id.
    pub case_id: String,
    /// Reference.
    pub reference: String,
    /// Category.
    pub category: String,
    /// Sensitivity.
    pub sensitivity: String,
    /// Lifecycle state.
    pub state: String,
    /// Risk assessment outcome.
    pub risk_outcome: Option<String>,
    /// Opened at.
    pub created_at: i64,
}

/// Loads a case, or 404.
pub async fn load<'e, E>(db: E, case_id: &str) -> ApiResult<CaseRow>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query_as::<_, CaseRow>(
        "SELECT case_id, reference, category, sensitivity, state, risk_outcome, created_at \
         FROM cases WHERE case_id = $1",
    )
    .bind(case_id)
    .fetch_optional(db)
    .await?
    .ok_or_else(|| ApiError::not_found("case"))
}

/// A person's role and consent in a case.
#[derive(Debug, Clone)]
pub struct Member {
    /// Role.
    pub role: Role,
    /// none, given or withdrawn.
    pub consent: String,
}

/// The caller's membership of a case, if any.
pub async fn member<'e, E>(db: E, case_id: &str, account: &AccountId) -> ApiResult<Option<Member>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row =
        sqlx::query("SELECT role, consent FROM members WHERE case_id = $1 AND account_id = $2")
            .bind(case_id)
            .bind(account.as_str())
            .fetch_optional(db)
            .await?;
    match row {
        Some(row) => {
            let role: String = row.try_get(0)?;
            Ok(Some(Member {
                role: role.parse().map_err(ApiError::internal)?,
                consent: row.try_get(1)?,
            }))
        }
        None => Ok(None),
    }
}

/// Fails with 403 unless the account holds one of `roles` in the case. A person outside the
/// case gets 404, so case ids cannot be probed.
pub async fn require_member<'e, E>(
    db: E,
    case_id: &str,
    account: &AccountId,
    roles: &[Role],
) -> ApiResult<Member>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let m = member(db, case_id, account)
        .await?
        .ok_or_else(|| ApiError::not_found("case"))?;
    check_role(m, roles)
}

/// Fails with 403 unless `m` holds one of `roles`.
pub fn check_role(m: Member, roles: &[Role]) -> ApiResult<Member> {
    if roles.contains(&m.role) {
        Ok(m)
    } else {
        let names: Vec<_> = roles.iter().map(|r| r.a_person()).collect();
        Err(ApiError::forbidden(
            "wrong_role",
            format!("in this case only {} may do this", names.join(" or ")),
        ))
    }
}

/// Sets a case's state.
pub async fn set_state(tx: &mut Tx<'_>, case_id: &str, state: &str, now: i64) -> ApiResult<()> {
    sqlx::query("UPDATE cases SET state = $1, updated_at = $2 WHERE case_id = $3")
        .bind(state)
        .bind(now)
        .bind(case_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Why a case cannot (yet) be active, or `None` when it can.
pub async fn not_ready(tx: &mut Tx<'_>, case: &CaseRow) -> ApiResult<Option<String>> {
    if case.risk_outcome.as_deref() != Some("proceed") {
        return Ok(Some(
            "the risk assessment has not been recorded as proceed".into(),
        ));
    }
    let rows = sqlx::query("SELECT role, consent FROM members WHERE case_id = $1")
        .bind(&case.case_id)
        .fetch_all(&mut **tx)
        .await?;
    let mut facilitators = 0;
    let mut harmed = 0;
    let mut responsible = 0;
    for row in rows {
        let role: String = row.try_get(0)?;
        let consent: String = row.try_get(1)?;
        match role.as_str() {
            "facilitator" => facilitators += 1,
            "harmed" => harmed += 1,
            "responsible" => responsible += 1,
            _ => {}
        }
        let participant = matches!(role.as_str(), "harmed" | "responsible" | "supporter");
        if participant && consent != "given" {
            return Ok(Some("not every participant has consented".into()));
        }
    }
    if facilitators == 0 {
        return Ok(Some("no facilitator is allocated".into()));
    }
    if harmed == 0 || responsible == 0 {
        return Ok(Some(
            "both the harmed and the responsible person must be enrolled".into(),
        ));
    }
    Ok(None)
}

/// Makes a preparing case active when everything is in place. Returns the state after.
pub async fn activate_if_ready(tx: &mut Tx<'_>, case_id: &str, now: i64) -> ApiResult<String> {
    let case = load(&mut **tx, case_id).await?;
    if case.state == "preparing" && not_ready(tx, &case).await?.is_none() {
        set_state(tx, case_id, "active", now).await?;
        return Ok("active".into());
    }
    Ok(case.state)
}

/// Releases forwards held while the case was paused, and tells their recipients.
pub async fn release_held(
    tx: &mut Tx<'_>,
    config: &crate::Config,
    case_id: &str,
    now: i64,
) -> ApiResult<()> {
    let recipients: Vec<String> = sqlx::query(
        "SELECT DISTINCT recipient FROM deliveries WHERE case_id = $1 AND state = 'held' AND attachments_pending = 0",
    )
    .bind(case_id)
    .fetch_all(&mut **tx)
    .await?
    .into_iter()
    .map(|r| r.try_get(0))
    .collect::<Result<_, _>>()?;
    for r in &recipients {
        crate::mail::outbox::notify(tx, config, r, crate::mail::Kind::NewMessage, case_id, now)
            .await?;
    }
    sqlx::query(
        "UPDATE deliveries SET state = 'released', released_at = $1 \
         WHERE case_id = $2 AND state = 'held' AND attachments_pending = 0",
    )
    .bind(now)
    .bind(case_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The metadata view of a case.
pub async fn view(conn: &mut sqlx::AnyConnection, case_id: &str) -> ApiResult<CaseView> {
    let case = load(&mut *conn, case_id).await?;
    let members = sqlx::query(
        "SELECT m.account_id, a.display_name, m.role, m.consent FROM members m \
         JOIN accounts a ON a.account_id = m.account_id WHERE m.case_id = $1 \
         ORDER BY m.joined_at, m.account_id",
    )
    .bind(case_id)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|r| {
        Ok(MemberView {
            account_id: r.try_get(0)?,
            display_name: r.try_get(1)?,
            role: r.try_get(2)?,
            consent: r.try_get(3)?,
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let message_counts = sqlx::query(
        "SELECT state, COUNT(*) FROM messages WHERE case_id = $1 GROUP BY state ORDER BY state",
    )
    .bind(case_id)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|r| {
        Ok(StateCount {
            state: r.try_get(0)?,
            count: r.try_get::<i64, _>(1)? as u64,
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let held: i64 =
        sqlx::query("SELECT COUNT(*) FROM deliveries WHERE case_id = $1 AND state = 'held'")
            .bind(case_id)
            .fetch_one(&mut *conn)
            .await?
            .try_get(0)?;
    Ok(CaseView {
        case_id: case.case_id,
        reference: case.reference,
        category: case.category,
        sensitivity: case.sensitivity,
        state: case.state,
        risk_outcome: case.risk_outcome,
        members,
        message_counts,
        held_deliveries: held as u64,
        created_at: case.created_at,
    })
}

/// Checks free text for case metadata: 1–`max` characters, no control characters.
pub fn check_text(what: &'static str, text: &str, max: usize) -> ApiResult<()> {
    let n = text.chars().count();
    if n == 0 || n > max || text.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "invalid_field",
            format!("{what} must be 1 to {max} characters without control characters"),
        ));
    }
    Ok(())
}

/// Checks an accreditation or sensitivity name: lowercase letters and `_`, 1–40.
pub fn check_label(what: &'static str, text: &str) -> ApiResult<()> {
    let ok = !text.is_empty()
        && text.len() <= 40
        && text.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "invalid_field",
            format!("{what} must be 1 to 40 lowercase letters or underscores"),
        ))
    }
}
