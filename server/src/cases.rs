//! Case rules: who is in a case in which role, and the lifecycle
//! `referred → preparing → active ⇄ paused → closed`. A case becomes active by itself once a
//! facilitator is allocated, the risk assessment says proceed, both parties are enrolled and
//! every participant has consented; any withdrawal pauses it at once.

use ferry_crypto::{AccountId, Role};
use sqlx::Row;

use crate::db::Tx;
use crate::error::{ApiError, ApiResult};
use ferry_protocol::ErrorCode;
use ferry_protocol::{CaseView, MemberView, StateCount};

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
        Err(ApiError::new(
            ErrorCode::WrongRole,
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

/// What a case is waiting for before it can be active, in plain words ("risk assessment",
/// "consent from the responsible person", "key check of the harmed person"); empty when it
/// can be. With `key_checks`, a facilitator must have recorded a key check of each
/// participant in this case.
pub async fn waiting_for(
    conn: &mut sqlx::AnyConnection,
    case: &CaseRow,
    key_checks: bool,
) -> ApiResult<Vec<String>> {
    let mut waiting = vec![];
    match case.risk_outcome.as_deref() {
        Some("proceed") => {}
        Some(_) => waiting.push("a risk assessment that says proceed".to_owned()),
        None => waiting.push("risk assessment".to_owned()),
    }
    let rows = sqlx::query(
        "SELECT m.account_id, m.role, m.consent, a.display_name FROM members m \
         JOIN accounts a ON a.account_id = m.account_id WHERE m.case_id = $1 \
         ORDER BY m.joined_at, m.account_id",
    )
    .bind(&case.case_id)
    .fetch_all(&mut *conn)
    .await?;
    let checked = if key_checks {
        key_checked(conn, &case.case_id).await?
    } else {
        std::collections::HashSet::new()
    };
    let mut members = rows
        .iter()
        .map(|row| {
            let role: Role = row
                .try_get::<String, _>(1)?
                .parse()
                .map_err(ApiError::internal)?;
            let account: String = row.try_get(0)?;
            let given: String = row.try_get(2)?;
            let name: String = row.try_get(3)?;
            Ok((role, account, given, name))
        })
        .collect::<ApiResult<Vec<_>>>()?;
    // Harmed, then responsible, then supporters, whoever enrolled first.
    members.sort_by_key(|(role, ..)| Role::ALL.iter().position(|r| r == role));
    let mut roles = vec![];
    let mut consent = vec![];
    let mut keys = vec![];
    for (role, account, given, name) in members {
        roles.push(role);
        if !role.is_participant() {
            continue;
        }
        // Each person by their role, and by name when the role does not say who.
        let who = match role {
            Role::Supporter => format!("{name} (supporter)"),
            other => format!("the {}", other.person()),
        };
        if given != "given" {
            consent.push(format!("consent from {who}"));
        }
        if key_checks && !checked.contains(&account) {
            keys.push(format!("key check of {who}"));
        }
    }
    if !roles.contains(&Role::Facilitator) {
        waiting.push("a facilitator".to_owned());
    }
    for role in [Role::Harmed, Role::Responsible] {
        if !roles.contains(&role) {
            waiting.push(format!("the {} to enrol", role.person()));
        }
    }
    waiting.extend(consent);
    waiting.extend(keys);
    Ok(waiting)
}

/// The people whose keys a facilitator of the case checked, from the signed key-verification
/// events themselves.
async fn key_checked(
    conn: &mut sqlx::AnyConnection,
    case_id: &str,
) -> ApiResult<std::collections::HashSet<String>> {
    let rows = sqlx::query(
        "SELECT statement FROM events WHERE case_id = $1 AND kind = 'key-verification' ORDER BY idx",
    )
    .bind(case_id)
    .fetch_all(conn)
    .await?;
    let mut checked = std::collections::HashSet::new();
    for row in rows {
        let bytes: Vec<u8> = row.try_get(0)?;
        let statement =
            ferry_crypto::SignedStatement::from_json(&bytes).map_err(ApiError::internal)?;
        let kv: ferry_crypto::actions::KeyVerification =
            serde_json::from_slice(&statement.body).map_err(ApiError::internal)?;
        checked.insert(kv.subject.to_string());
    }
    Ok(checked)
}

/// Makes a preparing case active when everything is in place. Returns the state after.
pub async fn activate_if_ready(
    tx: &mut Tx<'_>,
    case_id: &str,
    key_checks: bool,
    now: i64,
) -> ApiResult<String> {
    let case = load(&mut **tx, case_id).await?;
    if case.state == "preparing" && waiting_for(tx, &case, key_checks).await?.is_empty() {
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

/// Who is looking at a case: staff and facilitators see all of its metadata; a participant
/// sees only what concerns them.
pub struct Viewer<'a> {
    /// Their account.
    pub account: &'a AccountId,
    /// Whether they take part (harmed, responsible, supporter) rather than run the case.
    pub participant: bool,
}

/// The metadata view of a case, as `viewer` may see it. A participant is never told what the
/// other party wrote or whether they consented, nor anything held for someone else.
pub async fn view(
    conn: &mut sqlx::AnyConnection,
    case_id: &str,
    viewer: &Viewer<'_>,
    key_checks: bool,
) -> ApiResult<CaseView> {
    let case = load(&mut *conn, case_id).await?;
    let me = viewer.account.as_str();
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
        let account_id: String = r.try_get(0)?;
        let consent: String = r.try_get(3)?;
        let role: String = r.try_get(2)?;
        let shown = !viewer.participant || account_id == me;
        Ok(MemberView {
            display_name: r.try_get(1)?,
            consent: (shown && role != "facilitator" && role != "auditor").then_some(consent),
            role,
            account_id,
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    // A participant's counts are of their own messages and of what is held for them.
    let (own_messages, held_for) = if viewer.participant {
        ("AND author = $2", "AND recipient = $2")
    } else {
        ("", "")
    };
    let sql = format!(
        "SELECT state, COUNT(*) FROM messages WHERE case_id = $1 {own_messages} \
         GROUP BY state ORDER BY state"
    );
    let mut query = sqlx::query(&sql).bind(case_id);
    if viewer.participant {
        query = query.bind(me);
    }
    let message_counts = query
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
    let sql =
        format!("SELECT COUNT(*) FROM deliveries WHERE case_id = $1 AND state = 'held' {held_for}");
    let mut query = sqlx::query(&sql).bind(case_id);
    if viewer.participant {
        query = query.bind(me);
    }
    let held: i64 = query.fetch_one(&mut *conn).await?.try_get(0)?;
    let waiting = if matches!(case.state.as_str(), "referred" | "preparing" | "paused") {
        waiting_for(conn, &case, key_checks).await?
    } else {
        vec![]
    };
    let waiting_for = if viewer.participant {
        own_waiting(&waiting, &members, me)
    } else {
        waiting
    };
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
        waiting_for,
        created_at: case.created_at,
    })
}

/// Of what a case waits for, what a participant themself can do, in their own words.
fn own_waiting(waiting: &[String], members: &[MemberView], me: &str) -> Vec<String> {
    let Some(member) = members.iter().find(|m| m.account_id == me) else {
        return vec![];
    };
    let who = match member.role.parse::<Role>() {
        Ok(Role::Supporter) => format!("{} (supporter)", member.display_name),
        Ok(role) => format!("the {}", role.person()),
        Err(_) => return vec![],
    };
    let mut own = vec![];
    if waiting.contains(&format!("consent from {who}")) {
        own.push("your consent (ferry consent)".to_owned());
    }
    if waiting.contains(&format!("key check of {who}")) {
        own.push("your facilitator to check your safety number with you".to_owned());
    }
    own
}

/// Checks free text for case metadata: 1–`max` characters, no control characters.
pub fn check_text(what: &'static str, text: &str, max: usize) -> ApiResult<()> {
    let n = text.chars().count();
    if n == 0 || n > max || text.chars().any(char::is_control) {
        return Err(ApiError::new(
            ErrorCode::InvalidField,
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
        Err(ApiError::new(
            ErrorCode::InvalidField,
            format!("{what} must be 1 to 40 lowercase letters or underscores"),
        ))
    }
}
