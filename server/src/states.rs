//! The states the server keeps for a case (its lifecycle state, each person's consent, each
//! message's and delivery's state), read together at one moment for auditors to check
//! against the signed events: a state the events do not explain was written around the API.

use ferry_crypto::actions::Return;
use ferry_crypto::forward::Forward;
use ferry_crypto::{SignedStatement, StatementKind};
use sqlx::Row;

use crate::error::{ApiError, ApiResult};
use ferry_protocol::{CaseStates, KeptDelivery, KeptMember, KeptMessage, StatesCursor, StatesPage};

/// Begins a read-only snapshot (on PostgreSQL REPEATABLE READ, on SQLite a read
/// transaction), so that states and the index of each case's last event agree.
async fn snapshot(
    pool: &sqlx::AnyPool,
    backend: crate::db::Backend,
) -> ApiResult<sqlx::Transaction<'static, sqlx::Any>> {
    let mut tx = pool.begin().await?;
    if backend == crate::db::Backend::Postgres {
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            .execute(&mut *tx)
            .await?;
    }
    Ok(tx)
}

/// Every state of one case, read in one snapshot.
pub async fn read_case(
    pool: &sqlx::AnyPool,
    backend: crate::db::Backend,
    case_id: &str,
    require_key_checks: bool,
) -> ApiResult<CaseStates> {
    let mut tx = snapshot(pool, backend).await?;
    let mut budget = usize::MAX;
    let (states, _) = read_part(&mut tx, case_id, None, &mut budget, require_key_checks).await?;
    tx.commit().await?;
    Ok(states)
}

/// Cases looked at per page.
const CASES_PER_PAGE: i64 = 500;

/// A page of every case's states in case id order, from `after` on, of at most `max_rows`
/// members, messages and deliveries, read in one snapshot. A case too big for one page is
/// split over pages, each part with its case's last event (equal if it did not change in
/// between); the cursor says where the next page starts.
pub async fn read_page(
    pool: &sqlx::AnyPool,
    backend: crate::db::Backend,
    after: Option<StatesCursor>,
    max_rows: usize,
    require_key_checks: bool,
) -> ApiResult<StatesPage> {
    let mut tx = snapshot(pool, backend).await?;
    let (first, whole_case_done) = match &after {
        Some(c) => (c.case.clone(), c.section >= SECTIONS),
        None => (String::new(), false),
    };
    let ids: Vec<String> = sqlx::query(if whole_case_done {
        "SELECT case_id FROM cases WHERE case_id > $1 ORDER BY case_id LIMIT $2"
    } else {
        "SELECT case_id FROM cases WHERE case_id >= $1 ORDER BY case_id LIMIT $2"
    })
    .bind(&first)
    .bind(CASES_PER_PAGE)
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|r| r.try_get(0))
    .collect::<Result<_, _>>()?;
    let mut budget = max_rows;
    let mut cases = vec![];
    let mut next = None;
    for id in &ids {
        let from = after
            .as_ref()
            .filter(|c| &c.case == id)
            .map(|c| (c.section, c.key.as_str()));
        let (states, stopped) =
            read_part(&mut tx, id, from, &mut budget, require_key_checks).await?;
        cases.push(states);
        if stopped.is_some() {
            next = stopped;
            break;
        }
    }
    if next.is_none()
        && ids.len() as i64 == CASES_PER_PAGE
        && let Some(last) = ids.last()
    {
        next = Some(StatesCursor {
            case: last.clone(),
            section: SECTIONS,
            key: String::new(),
        });
    }
    tx.commit().await?;
    Ok(StatesPage { cases, next })
}

/// The sections of a case's states, in page order: members, messages, deliveries.
const SECTIONS: u8 = 3;

/// A case's states from `from` (a section and the key of the last row already sent) on, at
/// most `budget` rows (taken from it). Returns the cursor of the rest when they did not fit.
async fn read_part(
    conn: &mut sqlx::AnyConnection,
    case_id: &str,
    from: Option<(u8, &str)>,
    budget: &mut usize,
    require_key_checks: bool,
) -> ApiResult<(CaseStates, Option<StatesCursor>)> {
    let state: String = sqlx::query("SELECT state FROM cases WHERE case_id = $1")
        .bind(case_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| ApiError::not_found("case"))?
        .try_get(0)?;
    // The chain's last event: its highest sequence number, found by the chain's index.
    let last_event: Option<i64> = match sqlx::query(
        "SELECT idx FROM events WHERE case_id = $1 ORDER BY seq_in_case DESC LIMIT 1",
    )
    .bind(case_id)
    .fetch_optional(&mut *conn)
    .await?
    {
        Some(row) => Some(row.try_get(0)?),
        None => None,
    };
    let mut states = CaseStates {
        case_id: case_id.to_owned(),
        last_event: last_event.map(|i| i as u64),
        state,
        require_key_checks,
        members: vec![],
        messages: vec![],
        deliveries: vec![],
    };
    let (start, start_key) = from.unwrap_or((0, ""));
    for section in start..SECTIONS {
        let after = if section == start { start_key } else { "" };
        // One more than fits, to know whether the section goes on.
        let limit = i64::try_from(budget.saturating_add(1)).unwrap_or(i64::MAX);
        let (keys, taken) = match section {
            0 => {
                let mut rows: Vec<(String, String, String, i64)> = json_page(
                    conn,
                    "SELECT account_id, role, consent, holding FROM members \
                     WHERE case_id = $1 AND account_id > $2 ORDER BY account_id LIMIT $3",
                    &["account_id", "role", "consent", "holding"],
                    (case_id, after, limit),
                )
                .await?;
                // The set is the first by key; JSON aggregation need not keep their order.
                rows.sort();
                let keys: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
                let fits = rows.len().min(*budget);
                states.members.extend(rows.into_iter().take(fits).map(
                    |(account_id, role, consent, holding)| KeptMember {
                        account_id,
                        role,
                        consent,
                        holding: holding != 0,
                    },
                ));
                (keys, fits)
            }
            1 => {
                let mut rows: Vec<(String, String)> = json_page(
                    conn,
                    "SELECT message_id, state FROM messages \
                     WHERE case_id = $1 AND message_id > $2 ORDER BY message_id LIMIT $3",
                    &["message_id", "state"],
                    (case_id, after, limit),
                )
                .await?;
                // The set is the first by key; JSON aggregation need not keep their order.
                rows.sort();
                let keys: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
                let fits = rows.len().min(*budget);
                states.messages.extend(
                    rows.into_iter()
                        .take(fits)
                        .map(|(message_id, state)| KeptMessage { message_id, state }),
                );
                (keys, fits)
            }
            _ => {
                let rows = sqlx::query(
                    "SELECT delivery_id, message_id, kind, recipient, statement, state, \
                     attachments_pending FROM deliveries \
                     WHERE case_id = $1 AND delivery_id > $2 ORDER BY delivery_id LIMIT $3",
                )
                .bind(case_id)
                .bind(after)
                .bind(limit)
                .fetch_all(&mut *conn)
                .await?;
                let fits = rows.len().min(*budget);
                let mut keys = vec![];
                for r in &rows {
                    keys.push(r.try_get(0)?);
                }
                for r in &rows[..fits] {
                    states.deliveries.push(KeptDelivery {
                        delivery_id: r.try_get(0)?,
                        message_id: r.try_get(1)?,
                        kind: r.try_get(2)?,
                        recipient: r.try_get(3)?,
                        sha256: delivered_hash(&r.try_get::<Vec<u8>, _>(4)?)?,
                        state: r.try_get(5)?,
                        uploading: r.try_get::<i64, _>(6)? > 0,
                    });
                }
                (keys, fits)
            }
        };
        *budget -= taken;
        if keys.len() > taken {
            let key = match taken {
                0 => after.to_owned(),
                n => keys[n - 1].clone(),
            };
            let cursor = StatesCursor {
                case: case_id.to_owned(),
                section,
                key,
            };
            return Ok((states, Some(cursor)));
        }
    }
    Ok((states, None))
}

/// The rows of `select` (bound to a case, a key and a limit) handed over as one row of JSON
/// ([`crate::db::json_rows`]): a page of a big case has thousands.
async fn json_page<T: serde::de::DeserializeOwned>(
    conn: &mut sqlx::AnyConnection,
    select: &str,
    columns: &[&str],
    (case_id, after, limit): (&str, &str, i64),
) -> ApiResult<Vec<T>> {
    let sql = crate::db::json_rows(conn, select, columns);
    let text: String = sqlx::query(&sql)
        .bind(case_id)
        .bind(after)
        .bind(limit)
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?;
    serde_json::from_str(&text).map_err(ApiError::internal)
}

/// The hash a delivery's signed statement names for what it delivers.
fn delivered_hash(statement: &[u8]) -> ApiResult<String> {
    let st = SignedStatement::from_json(statement).map_err(ApiError::internal)?;
    let hash = match st.kind {
        StatementKind::Forward => {
            serde_json::from_slice::<Forward>(&st.body)
                .map_err(ApiError::internal)?
                .forwarded_sha256
        }
        _ => {
            serde_json::from_slice::<Return>(&st.body)
                .map_err(ApiError::internal)?
                .note_sha256
        }
    };
    Ok(hash.to_hex())
}
