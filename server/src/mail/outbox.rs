//! The durable outbox: queueing (inside the caller's transaction), the sending worker, the
//! daily digest, and the coordinator's view of it.

use std::collections::{BTreeSet, HashMap};

use ferry_protocol::{ErrorCode, MailState, Notifications, Role};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::{Kind, Mailer, templates};
use crate::db::Tx;
use crate::error::{ApiError, ApiResult};
use crate::{AppState, Config, now};

/// A queued mail.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Mail {
    /// Stable id (Message-ID).
    pub id: String,
    /// Recipient address.
    pub email: String,
    /// Subject.
    pub subject: String,
    /// Plain text.
    pub text_body: String,
    /// HTML.
    pub html_body: String,
    /// Attempts so far, including the one under way.
    pub attempts: i64,
    /// What it is.
    pub kind: String,
}

/// A mail to queue.
struct Outgoing<'a> {
    account: Option<&'a str>,
    email: &'a str,
    kind: Kind,
    case_id: Option<&'a str>,
    /// Borrowed: one rendering serves every mail of the same text.
    rendered: &'a templates::Rendered,
    /// `Pending` (sent at once) or `Digest` (folded into the daily digest).
    state: MailState,
}

/// Mails queued per statement.
const PER_INSERT: usize = 64;

/// Queues `mails` in the caller's transaction, many per statement.
async fn queue(tx: &mut AnyConnection, mails: &[Outgoing<'_>], now: i64) -> ApiResult<()> {
    for chunk in mails.chunks(PER_INSERT) {
        let sql = crate::db::insert_sql(
            tx,
            "outbox (id, account_id, email, kind, case_id, subject, text_body, html_body, \
             state, next_attempt_at, created_at)",
            11,
            chunk.len(),
        );
        let mut query = sqlx::query(&sql);
        for m in chunk {
            query = query
                .bind(crate::random_token())
                .bind(m.account)
                .bind(m.email)
                .bind(m.kind.as_str())
                .bind(m.case_id)
                .bind(m.rendered.subject.as_str())
                .bind(m.rendered.text.as_str())
                .bind(m.rendered.html.as_str())
                .bind(m.state.as_str())
                .bind(now)
                .bind(now);
        }
        query.execute(&mut *tx).await?;
    }
    Ok(())
}

/// The state a notification is queued in for a notification preference, if any is sent.
fn queued_state(preference: &str) -> Option<MailState> {
    match preference.parse() {
        Ok(Notifications::Immediate) => Some(MailState::Pending),
        Ok(Notifications::Daily) => Some(MailState::Digest),
        _ => None,
    }
}

fn enabled(config: &Config) -> bool {
    config.smtp_url.is_some()
}

/// Queues an invitation e-mail. Returns whether one was queued (false when e-mail is not
/// configured: the code is then handed over in person).
#[allow(clippy::too_many_arguments)]
pub async fn invitation(
    tx: &mut Tx<'_>,
    config: &Config,
    email: &str,
    code: &str,
    role: &str,
    case_id: Option<&str>,
    expires_at: i64,
    now: i64,
) -> ApiResult<bool> {
    if !enabled(config) {
        return Ok(false);
    }
    let server = config.public_address();
    let expires = crate::format_time(expires_at);
    let rendered = templates::invitation(role, case_id, code, &server, &expires);
    let mail = Outgoing {
        account: None,
        email,
        kind: Kind::Invitation,
        case_id,
        rendered: &rendered,
        state: MailState::Pending,
    };
    queue(tx, &[mail], now).await?;
    Ok(true)
}

/// Someone who wants to hear of something: their account, their address, and the state
/// their notices are queued in (as their preference says).
type Listener = (String, String, MailState);

/// The listener in `row`'s columns `at`, `at + 1` and `at + 2` (account, address,
/// preference); `None` for someone who wants no notices.
fn listener(row: &AnyRow, at: usize) -> ApiResult<Option<Listener>> {
    let Some(state) = queued_state(&row.try_get::<String, _>(at + 2)?) else {
        return Ok(None);
    };
    Ok(Some((row.try_get(at)?, row.try_get(at + 1)?, state)))
}

/// One notice about `case_id` for each of `to`.
fn notices<'a>(
    to: &'a [Listener],
    kind: Kind,
    case_id: &'a str,
    rendered: &'a templates::Rendered,
) -> impl Iterator<Item = Outgoing<'a>> {
    to.iter().map(move |(account, email, state)| Outgoing {
        account: Some(account),
        email,
        kind,
        case_id: Some(case_id),
        rendered,
        state: *state,
    })
}

/// Tells one person that something is waiting, as their preference says: at once, in the
/// daily digest, or not at all.
pub async fn notify(
    tx: &mut Tx<'_>,
    config: &Config,
    account: &str,
    kind: Kind,
    case_id: &str,
    now: i64,
) -> ApiResult<()> {
    if !enabled(config) {
        return Ok(());
    }
    let row =
        sqlx::query("SELECT account_id, email, preference FROM contacts WHERE account_id = $1")
            .bind(account)
            .fetch_optional(&mut **tx)
            .await?;
    let mut to = vec![];
    if let Some(row) = row {
        to.extend(listener(&row, 0)?);
    }
    let rendered = templates::notification(kind, case_id);
    let mails: Vec<Outgoing> = notices(&to, kind, case_id, &rendered).collect();
    queue(tx, &mails, now).await
}

/// Tells every holder of `role` in a case (facilitators, say).
pub async fn notify_role(
    tx: &mut Tx<'_>,
    config: &Config,
    case_id: &str,
    role: Role,
    kind: Kind,
    now: i64,
) -> ApiResult<()> {
    notify_roles(tx, config, &[case_id], role, kind, now).await
}

/// Tells every holder of `role` in each of `cases` (one entry per thing waiting: a case
/// named twice notifies twice), as their preferences say. One read and one insert for them
/// all, so a batch of submissions costs two round trips rather than a few per message.
pub async fn notify_roles(
    tx: &mut AnyConnection,
    config: &Config,
    cases: &[&str],
    role: Role,
    kind: Kind,
    now: i64,
) -> ApiResult<()> {
    if !enabled(config) || cases.is_empty() {
        return Ok(());
    }
    let wanted: Vec<&str> = cases
        .iter()
        .copied()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let sql = crate::db::in_order(
        tx,
        format!(
            "SELECT m.case_id, c.account_id, c.email, c.preference FROM members m \
             JOIN contacts c ON c.account_id = m.account_id \
             WHERE m.role = $1 AND m.case_id IN ({})",
            crate::db::marks(2, wanted.len())
        ),
    );
    let mut query = sqlx::query(&sql).bind(role.as_str());
    for case in crate::db::pad(&wanted) {
        query = query.bind(case);
    }
    // Each case's holders who want to hear.
    let mut holders: HashMap<String, Vec<Listener>> = HashMap::new();
    for row in query.fetch_all(&mut *tx).await? {
        if let Some(holder) = listener(&row, 1)? {
            holders.entry(row.try_get(0)?).or_default().push(holder);
        }
    }
    let rendered: HashMap<&str, templates::Rendered> = wanted
        .iter()
        .filter(|c| holders.contains_key(**c))
        .map(|&c| (c, templates::notification(kind, c)))
        .collect();
    let mut mails = vec![];
    for &case in cases {
        if let (Some(to), Some(rendered)) = (holders.get(case), rendered.get(case)) {
            mails.extend(notices(to, kind, case, rendered));
        }
    }
    queue(tx, &mails, now).await
}

/// Tells every coordinator that a case needs attention, in one read and one insert.
pub async fn notify_coordinators(
    tx: &mut Tx<'_>,
    config: &Config,
    case_id: &str,
    now: i64,
) -> ApiResult<()> {
    if !enabled(config) {
        return Ok(());
    }
    let rows = sqlx::query(
        "SELECT c.account_id, c.email, c.preference FROM accounts a \
         JOIN contacts c ON c.account_id = a.account_id WHERE a.staff_role = 'coordinator'",
    )
    .fetch_all(&mut **tx)
    .await?;
    let mut to = vec![];
    for row in &rows {
        to.extend(listener(row, 0)?);
    }
    let rendered = templates::notification(Kind::CaseAttention, case_id);
    let mails: Vec<Outgoing> = notices(&to, Kind::CaseAttention, case_id, &rendered).collect();
    queue(tx, &mails, now).await
}

/// Claims due mails for this worker: rows another worker holds are skipped, and a row whose
/// worker died is claimed again once its lock expires.
async fn claim(app: &AppState, now: i64) -> ApiResult<Vec<Mail>> {
    let mut tx = app.pool.begin().await?;
    let mails: Vec<Mail> = sqlx::query_as(
        "UPDATE outbox SET state = 'sending', attempts = attempts + 1, locked_until = $1 \
         WHERE id IN (SELECT id FROM outbox WHERE (state = 'pending' AND next_attempt_at <= $2) \
                      OR (state = 'sending' AND locked_until < $2) ORDER BY created_at LIMIT 20) \
         AND (state = 'pending' OR locked_until < $2) \
         RETURNING id, email, subject, text_body, html_body, attempts, kind",
    )
    .bind(now + app.config.mail_claim_seconds)
    .bind(now)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(mails)
}

/// Records the outcome of one send.
async fn record(
    app: &AppState,
    mail: &Mail,
    result: Result<(), String>,
    now: i64,
) -> ApiResult<()> {
    match result {
        Ok(()) => {
            // An invitation's code is not kept once it has left.
            let scrub = mail.kind == Kind::Invitation.as_str();
            sqlx::query(
                "UPDATE outbox SET state = 'sent', sent_at = $1, last_error = NULL, \
                 text_body = CASE WHEN $2 = 'scrub' THEN '' ELSE text_body END, \
                 html_body = CASE WHEN $2 = 'scrub' THEN '' ELSE html_body END WHERE id = $3",
            )
            .bind(now)
            .bind(if scrub { "scrub" } else { "keep" })
            .bind(&mail.id)
            .execute(&app.pool)
            .await?;
            if scrub {
                crate::db::purge_old_versions(&app.pool, app.backend).await;
            }
        }
        Err(error) => {
            let failed = mail.attempts >= app.config.mail_max_attempts;
            let delay = app
                .config
                .mail_retry_seconds
                .saturating_mul(1 << (mail.attempts - 1).clamp(0, 16))
                .min(3600);
            tracing::warn!(mail = %mail.id, attempts = mail.attempts, failed, %error, "e-mail not sent");
            // A failed invitation's code is not kept either: the coordinator issues a new one.
            let scrub = failed && mail.kind == Kind::Invitation.as_str();
            sqlx::query(
                "UPDATE outbox SET state = $1, next_attempt_at = $2, last_error = $3, locked_until = 0, \
                 text_body = CASE WHEN $4 = 'scrub' THEN '' ELSE text_body END, \
                 html_body = CASE WHEN $4 = 'scrub' THEN '' ELSE html_body END WHERE id = $5",
            )
            .bind(if failed { MailState::Failed } else { MailState::Pending }.as_str())
            .bind(now + delay)
            .bind(error)
            .bind(if scrub { "scrub" } else { "keep" })
            .bind(&mail.id)
            .execute(&app.pool)
            .await?;
            if scrub {
                crate::db::purge_old_versions(&app.pool, app.backend).await;
            }
        }
    }
    Ok(())
}

/// Folds each daily-digest person's waiting notifications into one digest mail, once per
/// digest interval.
async fn fold_digests(app: &AppState, now: i64) -> ApiResult<()> {
    let due: Vec<(String, String)> = sqlx::query(
        "SELECT DISTINCT o.account_id, c.email FROM outbox o JOIN contacts c ON c.account_id = o.account_id \
         WHERE o.state = 'digest' AND c.last_digest_at <= $1",
    )
    .bind(now - app.config.digest_seconds)
    .fetch_all(&app.pool)
    .await?
    .into_iter()
    .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
    .collect::<Result<_, sqlx::Error>>()?;
    for (account, email) in due {
        let mut tx = crate::db::begin_write(&app.pool).await?;
        let folded = sqlx::query(
            "UPDATE outbox SET state = 'folded' WHERE account_id = $1 AND state = 'digest'",
        )
        .bind(&account)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if folded > 0 {
            let digest = Outgoing {
                account: Some(&account),
                email: &email,
                kind: Kind::Digest,
                case_id: None,
                rendered: &templates::digest(folded as usize),
                state: MailState::Pending,
            };
            queue(&mut tx, &[digest], now).await?;
            sqlx::query("UPDATE contacts SET last_digest_at = $1 WHERE account_id = $2")
                .bind(now)
                .bind(&account)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    }
    Ok(())
}

/// One pass of the worker: fold digests, claim due mails, send, record.
pub async fn work_once(app: &AppState, mailer: &Mailer) -> ApiResult<usize> {
    fold_digests(app, now()).await?;
    let mails = claim(app, now()).await?;
    for mail in &mails {
        let result = mailer.send(mail).await;
        record(app, mail, result, now()).await?;
    }
    Ok(mails.len())
}

/// The worker: runs until the server stops.
pub async fn run(app: AppState, mailer: Mailer) {
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(
        app.config.mail_poll_ms.max(10),
    ));
    loop {
        tick.tick().await;
        if let Err(e) = work_once(&app, &mailer).await {
            tracing::warn!(error = %e, "outbox worker");
        }
    }
}

/// The outbox as a coordinator sees it (addresses partly hidden, no text).
pub async fn list(
    app: &AppState,
    state: Option<MailState>,
) -> ApiResult<Vec<ferry_protocol::OutboxEntry>> {
    let rows = sqlx::query(
        "SELECT id, kind, case_id, email, state, attempts, last_error, created_at, sent_at FROM outbox \
         WHERE state NOT IN ('digest', 'folded') ORDER BY created_at DESC LIMIT 500",
    )
    .fetch_all(&app.pool)
    .await?;
    let mut out = vec![];
    for r in rows {
        let entry = ferry_protocol::OutboxEntry {
            id: r.try_get(0)?,
            kind: crate::db::parsed(&r, 1)?,
            case_id: r.try_get(2)?,
            to: mask(&r.try_get::<String, _>(3)?),
            state: crate::db::parsed(&r, 4)?,
            attempts: r.try_get::<i64, _>(5)? as u64,
            last_error: r.try_get(6)?,
            created_at: r.try_get(7)?,
            sent_at: r.try_get(8)?,
        };
        if state.is_none_or(|s| s == entry.state) {
            out.push(entry);
        }
    }
    Ok(out)
}

/// `jane.okafor@example.org` → `j***@example.org`.
fn mask(email: &str) -> String {
    match email.split_once('@') {
        Some((user, domain)) => format!("{}***@{domain}", user.chars().next().unwrap_or('*')),
        None => "***".into(),
    }
}

/// Reads a notification preference.
pub fn check_preference(p: &str) -> ApiResult<Notifications> {
    p.parse().map_err(|_| {
        ApiError::new(
            ErrorCode::InvalidField,
            "notifications are immediate, daily or none",
        )
    })
}
