//! Taking in signed actions: the signer's key card, the signature over the exact bytes, the
//! signer being the caller, and the per-author sequence number (exactly one more than the
//! last accepted, so replays and reorderings are refused).

use ferry_crypto::actions::Sequenced;
use ferry_crypto::{AccountId, KeyCard, SignedStatement, Statement};
use sqlx::Row;

use crate::auth::Caller;
use crate::db::Tx;
use crate::error::{ApiError, ApiResult};

/// The verified key card of `account`, if enrolled.
pub async fn load_card<'e, E>(db: E, account: &AccountId) -> ApiResult<Option<KeyCard>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row = sqlx::query("SELECT key_card FROM accounts WHERE account_id = $1")
        .bind(account.as_str())
        .fetch_optional(db)
        .await?;
    match row {
        Some(row) => {
            let bytes: Vec<u8> = row.try_get(0)?;
            Ok(Some(
                KeyCard::from_json(&bytes).map_err(ApiError::internal)?,
            ))
        }
        None => Ok(None),
    }
}

/// Verifies a signed action by the caller and consumes its sequence number.
pub async fn accept<T: Statement + Sequenced>(
    tx: &mut Tx,
    caller: &Caller,
    statement: &SignedStatement,
) -> ApiResult<T> {
    let body: T = verify(&mut **tx, caller, statement).await?;
    take_seq(tx, &caller.account_id, body.seq()).await?;
    Ok(body)
}

/// Verifies a signed action by the caller (its kind, its signer, the signature over the exact
/// bytes with the signer's key card) without consuming its sequence number: key cards never
/// change, so this can run before the write lock is taken; [`take_seq`] must follow inside it.
pub async fn verify<'e, T, E>(db: E, caller: &Caller, statement: &SignedStatement) -> ApiResult<T>
where
    T: Statement,
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    statement.expect_kind(T::KIND)?;
    if statement.signer != caller.account_id {
        return Err(ApiError::forbidden(
            "not_your_statement",
            "a signed action must be signed by the person who sends it",
        ));
    }
    let card = load_card(db, &caller.account_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("unknown account"))?;
    Ok(statement.open(&card)?)
}

/// Consumes `seq` for `account`: it must be exactly one more than the last one accepted.
pub async fn take_seq(tx: &mut Tx, account: &AccountId, seq: u64) -> ApiResult<()> {
    let next = i64::try_from(seq).map_err(|_| out_of_range())?;
    let updated =
        sqlx::query("UPDATE accounts SET last_seq = $1 WHERE account_id = $2 AND last_seq = $3")
            .bind(next)
            .bind(account.as_str())
            .bind(next - 1)
            .execute(&mut **tx)
            .await?
            .rows_affected();
    if updated == 1 {
        return Ok(());
    }
    let last: i64 = sqlx::query("SELECT last_seq FROM accounts WHERE account_id = $1")
        .bind(account.as_str())
        .fetch_one(&mut **tx)
        .await?
        .try_get(0)?;
    check_seq(seq, last)?;
    Err(ApiError::internal("the sequence number did not move"))
}

/// Checks that `seq` is exactly one more than `last`, the last one accepted.
pub fn check_seq(seq: u64, last: i64) -> ApiResult<()> {
    let seq = i64::try_from(seq).map_err(|_| out_of_range())?;
    if last.checked_add(1) == Some(seq) {
        return Ok(());
    }
    Err(ApiError::conflict(
        "replayed_sequence",
        format!(
            "sequence number {seq} is not the next one (expected {}): this action was already \
             accepted, or another was signed since; fetch your next number and sign again",
            last + 1
        ),
    ))
}

fn out_of_range() -> ApiError {
    ApiError::bad_request("bad_sequence", "the sequence number is out of range")
}
