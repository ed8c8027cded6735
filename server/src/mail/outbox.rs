//! The durable outbox: queueing (inside the caller's transaction), the sending worker, the
//! daily digest, and the coordinator's view of it.

use sqlx::Row;

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

#[allow(clippy::too_many_arguments)]
async fn insert(
    tx: &mut Tx<'_>,
    account: Option<&str>,
    email: &str,
    kind: Kind,
    case_id: Option<&str>,
    rendered: templates::Rendered,
    state: &str,
    now: i64,
) -> ApiResult<()> {
    sqlx::query(
        "INSERT INTO outbox (id, account_id, email, kind, case_id, subject, text_body, html_body, state, \
         next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
    )
    .bind(crate::random_token())
    .bind(account)
    .bind(email)
    .bind(kind.as_str())
    .bind(case_id)
    .bind(rendered.subject)
    .bind(rendered.text)
    .bind(rendered.html)
    .bind(state)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
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
    let server = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", config.listen));
    let expires = crate::format_time(expires_at);
    let rendered = templates::invitation(role, case_id, code, &server, &expires);
    insert(
        tx,
        None,
        email,
        Kind::Invitation,
        case_id,
        rendered,
        "pending",
        now,
    )
    .await?;
    Ok(true)
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
    let Some(row) = sqlx::query("SELECT email, preference FROM contacts WHERE account_id = $1")
        .bind(account)
        .fetch_optional(&mut **tx)
        .await?
    else {
        return Ok(());
    };
    let email: String = row.try_get(0)?;
    let preference: String = row.try_get(1)?;
    let state = match preference.as_str() {
        "immediate" => "pending",
        "daily" => "digest",
        _ => return Ok(()),
    };
    let rendered = templates::notification(kind, case_id);
    insert(
        tx,
        Some(account),
        &email,
        kind,
        Some(case_id),
        rendered,
        state,
        now,
    )
    .await
}

/// Tells every holder of `role` in a case (facilitators, say).
pub async fn notify_role(
    tx: &mut Tx<'_>,
    config: &Config,
    case_id: &str,
    role: &str,
    kind: Kind,
    now: i64,
) -> ApiResult<()> {
    if !enabled(config) {
        return Ok(());
    }
    let accounts: Vec<String> =
        sqlx::query("SELECT account_id FROM members WHERE case_id = $1 AND role = $2")
            .bind(case_id)
            .bind(role)
            .fetch_all(&mut **tx)
            .await?
            .into_iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?;
    for a in accounts {
        notify(tx, config, &a, kind, case_id, now).await?;
    }
    Ok(())
}

/// Tells every coordinator that a case needs attention.
pub async fn notify_coordinators(
    tx: &mut Tx<'_>,
    config: &Config,
    case_id: &str,
    now: i64,
) -> ApiResult<()> {
    let accounts: Vec<String> =
        sqlx::query("SELECT account_id FROM accounts WHERE staff_role = 'coordinator'")
            .fetch_all(&mut **tx)
            .await?
            .into_iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?;
    for a in accounts {
        notify(tx, config, &a, Kind::CaseAttention, case_id, now).await?;
    }
    Ok(())
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
            .bind(if failed { "failed" } else { "pending" })
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
            insert(
                &mut tx,
                Some(&account),
                &email,
                Kind::Digest,
                None,
                templates::digest(folded as usize),
                "pending",
                now,
            )
            .await?;
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
pub async fn list(app: &AppState, state: Option<&str>) -> ApiResult<Vec<crate::wire::OutboxEntry>> {
    let rows = sqlx::query(
        "SELECT id, kind, case_id, email, state, attempts, last_error, created_at, sent_at FROM outbox \
         WHERE state NOT IN ('digest', 'folded') ORDER BY created_at DESC LIMIT 500",
    )
    .fetch_all(&app.pool)
    .await?;
    let mut out = vec![];
    for r in rows {
        let entry = crate::wire::OutboxEntry {
            id: r.try_get(0)?,
            kind: r.try_get(1)?,
            case_id: r.try_get(2)?,
            to: mask(&r.try_get::<String, _>(3)?),
            state: r.try_get(4)?,
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

/// Checks a notification preference.
pub fn check_preference(p: &str) -> ApiResult<()> {
    if matches!(p, "immediate" | "daily" | "none") {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "invalid_field",
            "notifications are immediate, daily or none",
        ))
    }
}
