//! Storage: one portable query layer over sqlx's `Any` driver; SQLite (embedded default,
//! WAL, `synchronous=FULL`) or PostgreSQL chosen by URL. The schemas differ in
//! `migrations/sqlite` and `migrations/postgres`; the few queries that differ choose by
//! [`Backend`] where they are (see `migrations/README.md` for the list).

use std::str::FromStr;

use sqlx::Row;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool, Connection, Executor, Transaction};

/// A database transaction.
pub type Tx<'c> = Transaction<'c, sqlx::Any>;

/// Which database is behind the pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// Opens (creating if needed) and migrates the database at `url`.
pub async fn connect(url: &str) -> anyhow::Result<(AnyPool, Backend)> {
    let (options, backend) = options(url)?;
    Ok((migrated(&options, backend).await?, backend))
}

/// The server's main pool to the database `options` point to, migrated.
pub async fn migrated(options: &AnyConnectOptions, backend: Backend) -> anyhow::Result<AnyPool> {
    let pool = open(options, backend).await?;
    match backend {
        Backend::Sqlite => sqlx::migrate!("../migrations/sqlite").run(&pool).await?,
        Backend::Postgres => sqlx::migrate!("../migrations/postgres").run(&pool).await?,
    }
    Ok(pool)
}

impl Backend {
    /// Connections in the server's main pool.
    fn pool_size(self) -> u32 {
        match self {
            Backend::Sqlite => 8,
            Backend::Postgres => 16,
        }
    }
}

/// How to connect to the database at `url`, and which one it is. A SQLite file's directory
/// is created, so a fresh data directory just works, and the file is made private (0600).
pub fn options(url: &str) -> anyhow::Result<(AnyConnectOptions, Backend)> {
    sqlx::any::install_default_drivers();
    let (url, backend) = if let Some(rest) = url.strip_prefix("sqlite:") {
        let path = rest
            .trim_start_matches("//")
            .split('?')
            .next()
            .unwrap_or_default();
        if let Some(dir) = std::path::Path::new(path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
        }
        if !path.is_empty() && !path.starts_with(':') {
            // Readable by the server's user only; SQLite gives the WAL and shared-memory
            // files the database's mode. Files an older version made are tightened too.
            let private = |p: &str| {
                crate::files::private_file(std::path::Path::new(p))
                    .map_err(|e| anyhow::anyhow!("cannot create {p}: {e}"))
            };
            private(path)?;
            for suffix in ["-wal", "-shm"] {
                crate::files::tighten(std::path::Path::new(&format!("{path}{suffix}")))?;
            }
        }
        let mut url = format!("sqlite:{rest}");
        if !rest.contains('?') {
            url.push_str("?mode=rwc");
        }
        (url, Backend::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        (url.to_owned(), Backend::Postgres)
    } else {
        anyhow::bail!("FERRY_DATABASE_URL must start with sqlite: or postgres://");
    };
    Ok((AnyConnectOptions::from_str(&url)?, backend))
}

/// The server's main pool to the database `options` point to.
async fn open(options: &AnyConnectOptions, backend: Backend) -> Result<AnyPool, sqlx::Error> {
    AnyPoolOptions::new()
        .max_connections(backend.pool_size())
        // A SQLite connection is a file handle in this process: there is no link to lose, so
        // checking it before each use would only cost a round trip.
        .test_before_acquire(backend == Backend::Postgres)
        .after_connect(move |conn, _| Box::pin(async move { prepare(conn, backend).await }))
        .connect_with(options.clone())
        .await
}

/// One connection of its own (not pooled) to an already migrated database, set up as the
/// pool's are.
pub async fn connect_one(
    options: &AnyConnectOptions,
    backend: Backend,
) -> Result<sqlx::AnyConnection, sqlx::Error> {
    let mut conn = sqlx::AnyConnection::connect_with(options).await?;
    prepare(&mut conn, backend).await?;
    Ok(conn)
}

/// Settings every connection gets.
async fn prepare(conn: &mut sqlx::AnyConnection, backend: Backend) -> Result<(), sqlx::Error> {
    if backend == Backend::Sqlite {
        // WAL for concurrent readers; FULL so a commit is on disk before we answer; writers
        // queue on the lock instead of failing; deleted or overwritten data (a sent
        // invitation's code) is zeroed, not left in free pages; temporary data (the journal
        // that can undo one statement of a batch) stays in memory instead of a temporary file
        // opened and deleted per large statement.
        conn.execute(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 30000; \
             PRAGMA secure_delete = ON; PRAGMA temp_store = MEMORY;",
        )
        .await?;
    }
    Ok(())
}

/// Begins a write transaction and takes the log-head lock first, so that writers queue in
/// order (SQLite: the write lock is taken at once, no read-to-write upgrade; PostgreSQL: a
/// row lock every replica's writers wait on).
pub async fn begin_write(pool: &AnyPool) -> Result<Tx<'static>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    lock_log(&mut tx).await?;
    Ok(tx)
}

/// Takes the log-head lock in the transaction open on `conn` (as [`begin_write`] does) and
/// returns the log's size as the lock was taken, in the same round trip: what a batch that
/// appends to the trail starts from.
pub async fn lock_log(conn: &mut AnyConnection) -> Result<u64, sqlx::Error> {
    let size: i64 = sqlx::query("UPDATE log_head SET size = size WHERE id = 1 RETURNING size")
        .fetch_one(conn)
        .await?
        .try_get(0)?;
    Ok(size as u64)
}

/// After secrets were overwritten (a sent invitation's code), moves the WAL's old page images
/// into the database and empties the WAL, so the old bytes are gone from disk too. Best
/// effort: with readers active SQLite may not truncate, and the next checkpoint finishes it.
/// PostgreSQL reclaims old row versions with (auto)vacuum.
pub async fn purge_old_versions(pool: &AnyPool, backend: Backend) {
    if backend == Backend::Sqlite
        && let Err(e) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(pool)
            .await
    {
        tracing::warn!(error = %e, "WAL checkpoint after scrubbing a secret");
    }
}

/// How many values a list of `n` takes in a statement: the next power of two. A batch's
/// statements then come in a few shapes, which stay prepared in the connection's statement
/// cache, instead of one shape per batch size, each compiled again.
pub fn padded(n: usize) -> usize {
    if n == 0 { 0 } else { n.next_power_of_two() }
}

/// `items` followed by repeats of its last item, [`padded`] long: for lists in which a repeat
/// changes no result (`IN (…)`, `OR`-ed conditions, `CASE` arms).
pub fn pad<T: Copy>(items: &[T]) -> impl Iterator<Item = T> + '_ {
    let repeats = padded(items.len()) - items.len();
    let tail = items.last().copied();
    items.iter().copied().chain(
        tail.into_iter()
            .flat_map(move |t| std::iter::repeat_n(t, repeats)),
    )
}

/// `$first, $first+1, …` for a list of `n` values, [`padded`].
pub fn marks(first: usize, n: usize) -> String {
    (first..first + padded(n))
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `INSERT INTO {table} VALUES ($1, $2), ($3, $4), …` for `rows` rows of `columns` values,
/// in `conn`'s dialect (see [`in_order`]).
pub fn insert_sql(conn: &sqlx::AnyConnection, table: &str, columns: usize, rows: usize) -> String {
    in_order(
        conn,
        format!("INSERT INTO {table} VALUES {}", value_rows(columns, rows)),
    )
}

/// `($1, $2), ($3, $4), …`: `rows` rows of `columns` placeholders, numbered in order.
pub fn value_rows(columns: usize, rows: usize) -> String {
    let mut sql = String::new();
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..columns {
            if c > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${}", r * columns + c + 1));
        }
        sql.push(')');
    }
    sql
}

/// `select` (a query whose result has `columns`) as a query of one row: a JSON array of its
/// rows, each the array of its columns. One row to hand over instead of many: sqlx hands
/// SQLite's rows from its worker thread one at a time, each a wake-up of the caller's thread.
pub fn json_rows(conn: &AnyConnection, select: &str, columns: &[&str]) -> String {
    let columns = columns.join(", ");
    if conn.backend_name() == "SQLite" {
        format!("SELECT json_group_array(json_array({columns})) FROM ({select}) AS r")
    } else {
        format!(
            "SELECT CAST(COALESCE(json_agg(json_build_array({columns})), '[]') AS TEXT) \
             FROM ({select}) AS r"
        )
    }
}

/// A query whose placeholders are `$1, $2, …`, each once and in that order, rewritten for
/// `conn`: SQLite looks each numbered placeholder up by name in a list of all of them, which
/// makes binding a statement of many values quadratic, so there they become plain `?`
/// (bound in order). Queries with any other placeholder pattern are returned as they are.
pub fn in_order(conn: &sqlx::AnyConnection, sql: String) -> String {
    if conn.backend_name() != "SQLite" {
        return sql;
    }
    positional(&sql).unwrap_or(sql)
}

/// `sql` with `$1, $2, …` replaced by `?`, if those are its placeholders, each once, in order.
pub(crate) fn positional(sql: &str) -> Option<String> {
    let mut out = String::with_capacity(sql.len());
    let mut next = 1u64;
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let digits = rest[at + 1..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        if rest[at + 1..at + 1 + digits].parse::<u64>() != Ok(next) {
            return None;
        }
        out.push('?');
        next += 1;
        rest = &rest[at + 1 + digits..];
    }
    out.push_str(rest);
    Some(out)
}

/// Column `idx` of `row`, a text column holding one of the protocol's states or roles.
pub fn parsed<T>(row: &sqlx::any::AnyRow, idx: usize) -> crate::error::ApiResult<T>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    use sqlx::Row;
    let text: String = row.try_get(idx)?;
    text.parse().map_err(crate::error::ApiError::internal)
}

/// [`parsed`], for a column that may be NULL.
pub fn parsed_opt<T>(row: &sqlx::any::AnyRow, idx: usize) -> crate::error::ApiResult<Option<T>>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    use sqlx::Row;
    match row.try_get::<Option<String>, _>(idx)? {
        Some(text) => Ok(Some(
            text.parse().map_err(crate::error::ApiError::internal)?,
        )),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::{marks, pad, positional};

    #[test]
    fn lists_are_padded_by_repeating_their_last_value() {
        let padded: Vec<u8> = pad(&[1, 2, 3]).collect();
        assert_eq!(padded, [1, 2, 3, 3]);
        assert_eq!(pad(&[7; 4]).count(), 4);
        assert_eq!(pad::<u8>(&[]).count(), 0);
        assert_eq!(marks(3, 3), "$3, $4, $5, $6");
        assert_eq!(marks(1, 0), "");
    }

    #[test]
    fn only_in_order_placeholders_become_positional() {
        assert_eq!(
            positional("INSERT INTO t VALUES ($1, $2), ($3, $4)").as_deref(),
            Some("INSERT INTO t VALUES (?, ?), (?, ?)")
        );
        assert_eq!(positional("SELECT 1").as_deref(), Some("SELECT 1"));
        for other in [
            "SELECT $2, $1",
            "SELECT $1 WHERE x = $1",
            "SELECT $1, $3",
            "SELECT '$' || $1",
            "SELECT $x",
        ] {
            assert_eq!(positional(other), None, "{other}");
        }
    }
}
