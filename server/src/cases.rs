//! Case rules: who is in a case in which role, and the lifecycle
//! `referred → preparing → active ⇄ paused → closed`. A case becomes active by itself once a
//! facilitator is allocated, the risk assessment says proceed, both parties are enrolled and
//! every participant has consented; any withdrawal pauses it at once.

use ferry_crypto::{AccountId, Role};
use sqlx::Row;

use ferry_protocol::{
    CaseState, CaseView, Consent, DeliveryState, ErrorCode, MemberView, StateCount,
};

use crate::db::{Tx, parsed};
use crate::error::{ApiError, ApiResult};

/// A case's row.
#[derive(Debug, Clone)]
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
    pub state: CaseState,
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
    let row = sqlx::query(
        "SELECT case_id, reference, category, sensitivity, state, risk_outcome, created_at \
         FROM cases WHERE case_id = $1",
    )
    .bind(case_id)
    .fetch_optional(db)
    .await?
    .ok_or_else(|| ApiError::not_found("case"))?;
    Ok(CaseRow {
        case_id: row.try_get(0)?,
        reference: row.try_get(1)?,
        category: row.try_get(2)?,
        sensitivity: row.try_get(3)?,
        state: parsed(&row, 4)?,
        risk_outcome: row.try_get(5)?,
        created_at: row.try_get(6)?,
    })
}

/// A person's role and consent in a case.
#[derive(Debug, Clone)]
pub struct Member {
    /// Role.
    pub role: Role,
    /// Their consent (participants).
    pub consent: Consent,
    /// Whether they take part on paper, through the case's facilitators.
    pub on_paper: bool,
}

/// The caller's membership of a case, if any.
pub async fn member<'e, E>(db: E, case_id: &str, account: &AccountId) -> ApiResult<Option<Member>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row = sqlx::query(
        "SELECT role, consent, on_paper FROM members WHERE case_id = $1 AND account_id = $2",
    )
    .bind(case_id)
    .bind(account.as_str())
    .fetch_optional(db)
    .await?;
    match row {
        Some(row) => {
            let role: String = row.try_get(0)?;
            Ok(Some(Member {
                role: role.parse().map_err(ApiError::internal)?,
                consent: parsed(&row, 1)?,
                on_paper: row.try_get::<i64, _>(2)? == 1,
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
pub async fn set_state(
    tx: &mut Tx<'_>,
    case_id: &str,
    state: CaseState,
    now: i64,
) -> ApiResult<()> {
    sqlx::query("UPDATE cases SET state = $1, updated_at = $2 WHERE case_id = $3")
        .bind(state.as_str())
        .bind(now)
        .bind(case_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Something a case waits for before it can be active.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Waiting {
    /// No risk assessment yet.
    RiskAssessment,
    /// A risk assessment that says do not proceed.
    RiskToProceed,
    /// No facilitator allocated.
    Facilitator,
    /// Nobody in this role enrolled.
    Enrolment(Role),
    /// This participant's consent.
    Consent(Participant),
    /// A facilitator's check of this participant's key.
    KeyCheck(Participant),
}

/// A participant named in what a case waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participant {
    /// Their account.
    pub account: String,
    /// Their role.
    pub role: Role,
    /// Their name.
    pub name: String,
    /// Whether they take part on paper (their facilitator records their consent).
    pub on_paper: bool,
}

impl std::fmt::Display for Participant {
    /// By their role, and by name when the role does not say who.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.role {
            Role::Supporter => write!(f, "{} (supporter)", self.name),
            role => write!(f, "the {}", role.person()),
        }
    }
}

impl std::fmt::Display for Waiting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Waiting::RiskAssessment => f.write_str("risk assessment"),
            Waiting::RiskToProceed => f.write_str("a risk assessment that says proceed"),
            Waiting::Facilitator => f.write_str("a facilitator"),
            Waiting::Enrolment(role) => write!(f, "the {} to enrol", role.person()),
            Waiting::Consent(who) if who.on_paper => write!(
                f,
                "consent from {who} (on paper: a facilitator records it with `ferry paper consent`)"
            ),
            Waiting::Consent(who) => write!(f, "consent from {who}"),
            Waiting::KeyCheck(who) => write!(f, "key check of {who}"),
        }
    }
}

impl Waiting {
    /// What `account` can do about it themself, in their own words, if anything.
    pub fn for_participant(&self, account: &str) -> Option<&'static str> {
        match self {
            Waiting::Consent(p) if p.account == account => Some("your consent (ferry consent)"),
            Waiting::KeyCheck(p) if p.account == account => {
                Some("your facilitator to check your safety number with you")
            }
            _ => None,
        }
    }
}

/// What a case is waiting for before it can be active ("risk assessment", "consent from the
/// responsible person", "key check of the harmed person"); empty when it can be. With
/// `key_checks`, a facilitator must have recorded a key check of each participant.
pub async fn waiting_for(
    conn: &mut sqlx::AnyConnection,
    case: &CaseRow,
    key_checks: bool,
) -> ApiResult<Vec<Waiting>> {
    let mut waiting = vec![];
    match case.risk_outcome.as_deref() {
        Some("proceed") => {}
        Some(_) => waiting.push(Waiting::RiskToProceed),
        None => waiting.push(Waiting::RiskAssessment),
    }
    let rows = sqlx::query(
        "SELECT m.account_id, m.role, m.consent, a.display_name, m.on_paper FROM members m \
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
            let person = Participant {
                account: row.try_get(0)?,
                role: parsed(row, 1)?,
                name: row.try_get(3)?,
                on_paper: row.try_get::<i64, _>(4)? == 1,
            };
            Ok((person, parsed::<Consent>(row, 2)?))
        })
        .collect::<ApiResult<Vec<_>>>()?;
    // Harmed, then responsible, then supporters, whoever enrolled first.
    members.sort_by_key(|(p, _)| Role::ALL.iter().position(|r| *r == p.role));
    let roles: Vec<Role> = members.iter().map(|(p, _)| p.role).collect();
    if !roles.contains(&Role::Facilitator) {
        waiting.push(Waiting::Facilitator);
    }
    for role in [Role::Harmed, Role::Responsible] {
        if !roles.contains(&role) {
            waiting.push(Waiting::Enrolment(role));
        }
    }
    let participants: Vec<_> = members
        .into_iter()
        .filter(|(p, _)| p.role.is_participant())
        .collect();
    for (p, consent) in &participants {
        if *consent != Consent::Given {
            waiting.push(Waiting::Consent(p.clone()));
        }
    }
    // A person on paper has no key to check: their facilitators act for them.
    for (p, _) in participants {
        if key_checks && !p.on_paper && !checked.contains(&p.account) {
            waiting.push(Waiting::KeyCheck(p));
        }
    }
    Ok(waiting)
}

/// What a case waits for, in words.
pub fn in_words(waiting: &[Waiting]) -> Vec<String> {
    waiting.iter().map(Waiting::to_string).collect()
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
) -> ApiResult<CaseState> {
    let case = load(&mut **tx, case_id).await?;
    if case.state == CaseState::Preparing && waiting_for(tx, &case, key_checks).await?.is_empty() {
        set_state(tx, case_id, CaseState::Active, now).await?;
        return Ok(CaseState::Active);
    }
    Ok(case.state)
}

/// Releases what was held while the case was paused (to everyone not holding their own
/// deliveries), or, for `only` one recipient, what was held while they held it; and tells the
/// recipients.
pub async fn release_held(
    tx: &mut Tx<'_>,
    config: &crate::Config,
    case_id: &str,
    only: Option<&str>,
    now: i64,
) -> ApiResult<()> {
    // Held, complete, and for someone who is not holding what reaches them.
    let which = "case_id = $1 AND state = 'held' AND attachments_pending = 0 AND ($2 = '' OR recipient = $2) \
                 AND recipient NOT IN (SELECT account_id FROM members WHERE case_id = $3 AND holding = 1)";
    let recipient = only.unwrap_or("");
    let recipients: Vec<String> = sqlx::query(&format!(
        "SELECT DISTINCT recipient FROM deliveries WHERE {which}"
    ))
    .bind(case_id)
    .bind(recipient)
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
    sqlx::query(&format!(
        "UPDATE deliveries SET state = 'released', released_at = $4 WHERE {which}"
    ))
    .bind(case_id)
    .bind(recipient)
    .bind(case_id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// What a complete delivery to `recipient` becomes now: released while the case (in state
/// `case_state`) is active and the recipient does not hold what reaches them; held otherwise.
pub async fn arriving<'e, E>(
    db: E,
    case_state: CaseState,
    case_id: &str,
    recipient: &str,
) -> ApiResult<DeliveryState>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    if case_state != CaseState::Active {
        return Ok(DeliveryState::Held);
    }
    let holding: Option<i64> =
        sqlx::query("SELECT holding FROM members WHERE case_id = $1 AND account_id = $2")
            .bind(case_id)
            .bind(recipient)
            .fetch_optional(db)
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
    Ok(if holding.unwrap_or(0) != 0 {
        DeliveryState::Held
    } else {
        DeliveryState::Released
    })
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
        "SELECT m.account_id, a.display_name, m.role, m.consent, m.on_paper FROM members m \
         JOIN accounts a ON a.account_id = m.account_id WHERE m.case_id = $1 \
         ORDER BY m.joined_at, m.account_id",
    )
    .bind(case_id)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|r| {
        let account_id: String = r.try_get(0)?;
        let consent: Consent = parsed(&r, 3)?;
        let role: Role = parsed(&r, 2)?;
        let shown = !viewer.participant || account_id == me;
        Ok(MemberView {
            display_name: r.try_get(1)?,
            consent: (shown && role.is_participant()).then_some(consent),
            role,
            account_id,
            on_paper: r.try_get::<i64, _>(4)? == 1,
        })
    })
    .collect::<ApiResult<Vec<_>>>()?;
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
                state: parsed(&r, 0)?,
                count: r.try_get::<i64, _>(1)? as u64,
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let sql =
        format!("SELECT COUNT(*) FROM deliveries WHERE case_id = $1 AND state = 'held' {held_for}");
    let mut query = sqlx::query(&sql).bind(case_id);
    if viewer.participant {
        query = query.bind(me);
    }
    let held: i64 = query.fetch_one(&mut *conn).await?.try_get(0)?;
    let waiting = if matches!(
        case.state,
        CaseState::Referred | CaseState::Preparing | CaseState::Paused
    ) {
        waiting_for(conn, &case, key_checks).await?
    } else {
        vec![]
    };
    let waiting_for = if viewer.participant {
        waiting
            .iter()
            .filter_map(|w| w.for_participant(me))
            .map(str::to_owned)
            .collect()
    } else {
        in_words(&waiting)
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
