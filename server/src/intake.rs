//! Taking in signed actions: the signer's key card, the signature over the exact bytes, the
//! signer being the caller, and the per-author sequence number (exactly one more than the
//! last accepted, so replays and reorderings are refused).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use ferry_crypto::actions::Sequenced;
use ferry_crypto::{AccountId, KeyCard, SignedStatement, Statement};
use sqlx::Row;

use crate::auth::Caller;
use crate::db::Tx;
use crate::error::{ApiError, ApiResult};
use ferry_protocol::ErrorCode;

/// Most key cards kept in memory; past this the memory starts again from empty.
const MAX_KEPT_CARDS: usize = 100_000;

/// Verified key cards by account, kept in memory. A key card never changes once enrolled, so a
/// card read and checked once (its self-signature, its id) is not read and checked again on
/// every signed request.
#[derive(Default)]
pub struct KeyCards {
    kept: RwLock<HashMap<AccountId, Arc<KeyCard>>>,
}

impl KeyCards {
    fn kept(&self, account: &AccountId) -> Option<Arc<KeyCard>> {
        self.kept.read().ok()?.get(account).cloned()
    }

    /// The verified card of `account`, stored as `bytes`.
    pub fn verified(&self, account: &AccountId, bytes: &[u8]) -> ApiResult<Arc<KeyCard>> {
        if let Some(card) = self.kept(account) {
            return Ok(card);
        }
        let card = KeyCard::from_json(bytes).map_err(ApiError::internal)?;
        if card.account_id() != account {
            return Err(ApiError::internal(
                "a stored key card names another account",
            ));
        }
        let card = Arc::new(card);
        if let Ok(mut kept) = self.kept.write() {
            if kept.len() >= MAX_KEPT_CARDS {
                kept.clear();
            }
            kept.insert(account.clone(), card.clone());
        }
        Ok(card)
    }

    /// The verified key card of `account`, if enrolled with keys.
    pub async fn load<'e, E>(&self, db: E, account: &AccountId) -> ApiResult<Option<Arc<KeyCard>>>
    where
        E: sqlx::Executor<'e, Database = sqlx::Any>,
    {
        if let Some(card) = self.kept(account) {
            return Ok(Some(card));
        }
        let row = sqlx::query("SELECT key_card FROM accounts WHERE account_id = $1")
            .bind(account.as_str())
            .fetch_optional(db)
            .await?;
        match row {
            Some(row) => {
                let bytes: Vec<u8> = row.try_get(0)?;
                // A person on paper has an account but no keys.
                if bytes.is_empty() {
                    return Ok(None);
                }
                Ok(Some(self.verified(account, &bytes)?))
            }
            None => Ok(None),
        }
    }
}

/// Verifies a signed action by the caller and consumes its sequence number.
pub async fn accept<T: Statement + Sequenced>(
    tx: &mut Tx<'_>,
    caller: &Caller,
    statement: &SignedStatement,
) -> ApiResult<T> {
    let body: T = verify(caller, statement)?;
    take_seq(tx, &caller.account_id, body.seq()).await?;
    Ok(body)
}

/// Verifies a signed action by the caller (its kind, its signer, the signature over the exact
/// bytes with the caller's key card) without consuming its sequence number: key cards never
/// change, so this can run before the write lock is taken; [`take_seq`] must follow inside it.
pub fn verify<T: Statement>(caller: &Caller, statement: &SignedStatement) -> ApiResult<T> {
    verify_as(&caller.account_id, &caller.card, statement)
}

/// Verifies a signed action as [`verify`] does, as signed by `account`, whose card is `card`.
pub fn verify_as<T: Statement>(
    account: &AccountId,
    card: &KeyCard,
    statement: &SignedStatement,
) -> ApiResult<T> {
    statement.expect_kind_of::<T>()?;
    if &statement.signer != account {
        return Err(not_yours());
    }
    Ok(statement.open(card)?)
}

/// The refusal for a signed action sent on someone else's session.
pub fn not_yours() -> ApiError {
    ApiError::new(
        ErrorCode::NotYourStatement,
        "a signed action must be signed by the person who sends it",
    )
}

/// Consumes `seq` for `account`: it must be exactly one more than the last one accepted.
pub async fn take_seq(tx: &mut Tx<'_>, account: &AccountId, seq: u64) -> ApiResult<()> {
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
    Err(ApiError::new(
        ErrorCode::ReplayedSequence,
        format!(
            "sequence number {seq} is not the next one (expected {}): this action was already \
             accepted, or another was signed since; fetch your next number and sign again",
            last + 1
        ),
    ))
}

fn out_of_range() -> ApiError {
    ApiError::new(
        ErrorCode::BadSequence,
        "the sequence number is out of range",
    )
}
