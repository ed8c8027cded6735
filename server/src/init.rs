//! The server's own key, and the bootstrap invitation for the first coordinator.

use std::io::Write;
use std::path::Path;

use ferry_crypto::actions::{Invitation, InvitationCode, invitation_hash, new_invitation_code};
use ferry_crypto::{FORMAT_VERSION, Identity, KeyCard, Role};
use sqlx::{AnyPool, Row};

use crate::{db, log_store, now};

/// Loads the server's key file, or creates it (mode 0600) if it does not exist.
pub fn load_or_create_key(path: &Path) -> anyhow::Result<Identity> {
    match std::fs::read_to_string(path) {
        Ok(text) => Identity::import_secret(&text)
            .map_err(|e| anyhow::anyhow!("{} is not a Ferry server key: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let identity = Identity::generate("Ferry server")?;
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options
                .open(path)
                .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", path.display()))?;
            file.write_all(identity.export_secret().as_bytes())?;
            file.sync_all()?;
            Ok(identity)
        }
        Err(e) => Err(anyhow::anyhow!("cannot read {}: {e}", path.display())),
    }
}

/// Registers the server's key card (once) and returns it.
pub async fn register_server(pool: &AnyPool, identity: &Identity) -> anyhow::Result<KeyCard> {
    let existing = sqlx::query("SELECT key_card FROM accounts WHERE account_id = $1")
        .bind(identity.account_id().as_str())
        .fetch_optional(pool)
        .await?;
    if let Some(row) = existing {
        let bytes: Vec<u8> = row.try_get(0)?;
        return Ok(KeyCard::from_json(&bytes)?);
    }
    let others: i64 = sqlx::query("SELECT COUNT(*) FROM accounts WHERE staff_role = 'server'")
        .fetch_one(pool)
        .await?
        .try_get(0)?;
    if others > 0 {
        anyhow::bail!(
            "this database belongs to another server key; point FERRY_SERVER_KEY at that key"
        );
    }
    let card = identity.key_card(now())?;
    let mut tx = db::begin_write(pool).await?;
    sqlx::query(
        "INSERT INTO accounts (account_id, display_name, key_card, staff_role, created_at) \
         VALUES ($1, $2, $3, 'server', $4)",
    )
    .bind(card.account_id().as_str())
    .bind(card.display_name())
    .bind(card.to_json())
    .bind(now())
    .execute(&mut *tx)
    .await?;
    log_store::append(&mut tx, None, card.statement(), now()).await?;
    tx.commit().await?;
    Ok(card)
}

/// Creates a single-use invitation for a coordinator, signed by the server key, and returns
/// the code to hand over (with the server key's fingerprint in its last groups). Used by
/// `ferry-server init` for the first coordinator.
pub async fn invite_coordinator(state: &crate::AppState) -> anyhow::Result<String> {
    let code = new_invitation_code();
    let identity = &state.server_identity;
    let now = now();
    let mut tx = db::begin_write(&state.pool).await?;
    let last: i64 = sqlx::query("SELECT last_seq FROM accounts WHERE account_id = $1")
        .bind(identity.account_id().as_str())
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
    let invitation = Invitation {
        v: FORMAT_VERSION,
        coordinator: identity.account_id().clone(),
        case_id: None,
        role: Role::Coordinator,
        accreditations: vec![],
        invitation: invitation_hash(&code),
        expires_at: now + state.config.bootstrap_invitation_seconds,
        seq: last as u64 + 1,
        created_at: now,
    };
    let statement = identity.sign(&invitation)?;
    sqlx::query("UPDATE accounts SET last_seq = $1 WHERE account_id = $2")
        .bind(last + 1)
        .bind(identity.account_id().as_str())
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO invitations (code_hash, case_id, role, created_by, expires_at) \
         VALUES ($1, NULL, 'coordinator', $2, $3)",
    )
    .bind(invitation.invitation.to_hex())
    .bind(identity.account_id().as_str())
    .bind(invitation.expires_at)
    .execute(&mut *tx)
    .await?;
    log_store::append(&mut tx, None, &statement, now).await?;
    tx.commit().await?;
    Ok(InvitationCode::new(&code, &state.server_card.fingerprint()).to_string())
}
