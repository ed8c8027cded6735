//! Statements over owned values, for work that is built in one place and sent in another: the
//! writes a transaction holds until its end ([`Writes`]), sent together — on SQLite in one
//! round trip with the commit itself — and reads whose text gains a prefix ([`query`]).

use std::borrow::Cow;

use futures_util::TryStreamExt;
use sqlx::any::AnyArguments;
use sqlx::{Any, AnyConnection, Either, Executor};

use crate::db::{in_order, padded, positional, value_rows};
use crate::error::{ApiError, ApiResult};

/// A value to bind, owned so that a statement can outlive what it was built from.
#[derive(Clone, Debug)]
pub enum Value {
    /// An integer (or NULL).
    Int(Option<i64>),
    /// Text (or NULL).
    Text(Option<Cow<'static, str>>),
    /// Bytes (or NULL).
    Blob(Option<Vec<u8>>),
}

impl Value {
    /// Text borrowed for `'static` or owned.
    pub fn text(s: impl Into<Cow<'static, str>>) -> Self {
        Value::Text(Some(s.into()))
    }

    /// A NULL of the same type, as PostgreSQL wants in every row of a `VALUES` list.
    fn null(&self) -> Self {
        match self {
            Value::Int(_) => Value::Int(None),
            Value::Text(_) => Value::Text(None),
            Value::Blob(_) => Value::Blob(None),
        }
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(Some(v))
    }
}

impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Self {
        Value::Int(v)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(Some(Cow::Owned(s.to_owned())))
    }
}

impl From<Option<&str>> for Value {
    fn from(s: Option<&str>) -> Self {
        Value::Text(s.map(|s| Cow::Owned(s.to_owned())))
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(Some(Cow::Owned(s)))
    }
}

impl From<Vec<u8>> for Value {
    fn from(b: Vec<u8>) -> Self {
        Value::Blob(Some(b))
    }
}

/// `sql` with `values` bound in order.
pub fn query<'q>(
    sql: &'q str,
    values: &'q [Value],
) -> sqlx::query::Query<'q, Any, AnyArguments<'q>> {
    let mut q = sqlx::query(sql);
    for v in values {
        q = match v {
            Value::Int(v) => q.bind(*v),
            Value::Text(v) => q.bind(v.as_deref()),
            Value::Blob(v) => q.bind(v.as_deref()),
        };
    }
    q
}

/// One held statement: its text (placeholders `$1, $2, …`, in order, each once), its values,
/// and how many rows it must change.
struct Write {
    sql: String,
    values: Vec<Value>,
    rows: u64,
}

/// Most values in one held insert; larger inserts are split into statements of this size.
const VALUES_PER_INSERT: usize = 1024;

/// Writes held until the end of a transaction and then sent together: on SQLite as one
/// statement list in one round trip (their placeholders positional, bound in order),
/// elsewhere one statement after another. Each must change exactly the rows it says, or the
/// whole transaction fails.
#[derive(Default)]
pub struct Writes {
    writes: Vec<Write>,
}

impl Writes {
    /// Holds `sql` (placeholders `$1, $2, …`, in order, each once) with `values`; it must
    /// change exactly `rows` rows.
    pub fn push(&mut self, sql: String, values: Vec<Value>, rows: u64) {
        self.writes.push(Write { sql, values, rows });
    }

    /// Holds an insert into `table` (`"name (column, …)"`) of `values`, `columns` to a row.
    /// The row count is padded to a power of two with NULL rows that the statement leaves out,
    /// so inserts come in a few shapes that stay prepared rather than one per row count. The
    /// first column must never be NULL: a row with NULL there would be left out too, and the
    /// insert would then change fewer rows than it says, failing the transaction.
    pub fn insert(&mut self, table: &str, columns: usize, values: Vec<Value>) {
        if columns == 0 || values.is_empty() {
            return;
        }
        // Whole statements of a power-of-two row count, then one padded to the next.
        let per = (VALUES_PER_INSERT / columns + 1).next_power_of_two() / 2;
        let mut values = values.into_iter().peekable();
        while values.peek().is_some() {
            let mut chunk: Vec<Value> = values.by_ref().take(per * columns).collect();
            let rows = chunk.len() / columns;
            let last: Vec<Value> = chunk[(rows - 1) * columns..]
                .iter()
                .map(Value::null)
                .collect();
            for _ in rows..padded(rows) {
                chunk.extend(last.iter().cloned());
            }
            let sql = format!(
                "INSERT INTO {table} SELECT * FROM (VALUES {}) AS v WHERE column1 IS NOT NULL",
                value_rows(columns, padded(rows))
            );
            self.push(sql, chunk, rows as u64);
        }
    }

    /// Sends the held writes on `conn`, after `begin` if given and followed by `COMMIT` if
    /// `commit`: on SQLite all in one round trip.
    pub async fn run(
        self,
        conn: &mut AnyConnection,
        begin: Option<&str>,
        commit: bool,
    ) -> ApiResult<()> {
        if conn.backend_name() == "SQLite" {
            return self.run_together(conn, begin, commit).await;
        }
        if let Some(begin) = begin {
            conn.execute(begin).await?;
        }
        for w in self.writes {
            let sql = in_order(conn, w.sql);
            let done = query(&sql, &w.values).execute(&mut *conn).await?;
            check(done.rows_affected(), w.rows)?;
        }
        if commit {
            conn.execute("COMMIT").await?;
        }
        Ok(())
    }

    async fn run_together(
        self,
        conn: &mut AnyConnection,
        begin: Option<&str>,
        commit: bool,
    ) -> ApiResult<()> {
        let mut sql = String::new();
        let mut values = vec![];
        let mut rows = vec![];
        if let Some(begin) = begin {
            sql.push_str(begin);
            sql.push_str("; ");
            rows.push(None);
        }
        for w in self.writes {
            let positional = positional(&w.sql).ok_or_else(|| {
                ApiError::internal("a held statement's placeholders are not in order")
            })?;
            sql.push_str(&positional);
            sql.push_str("; ");
            values.extend(w.values);
            rows.push(Some(w.rows));
        }
        if commit {
            sql.push_str("COMMIT");
            rows.push(None);
        }
        if rows.is_empty() {
            return Ok(());
        }
        // One result per statement, in order (a statement's own rows, if any, before it).
        let mut expected = rows.into_iter();
        let mut results = conn.fetch_many(query(&sql, &values));
        while let Some(item) = results.try_next().await? {
            if let Either::Left(done) = item {
                match expected.next() {
                    Some(Some(rows)) => check(done.rows_affected(), rows)?,
                    Some(None) => {}
                    None => return Err(ApiError::internal("a held statement ran twice")),
                }
            }
        }
        if expected.next().is_some() {
            return Err(ApiError::internal("a held statement did not run"));
        }
        Ok(())
    }
}

fn check(changed: u64, expected: u64) -> ApiResult<()> {
    if changed == expected {
        Ok(())
    } else {
        Err(ApiError::internal(format!(
            "a held write changed {changed} rows, not {expected}"
        )))
    }
}
