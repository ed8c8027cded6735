//! The client's memory of the log: the last checkpoint it verified for each profile. Every
//! time it talks to the server it asks for the latest checkpoint, checks the server's
//! signature with the key pinned at enrolment, and demands a consistency proof from the one it
//! remembers. A log that shrank or forked stops the client with a loud, specific warning.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use ferry_crypto::KeyCard;
use ferry_crypto::log_format::{self, Checkpoint};
use ferry_protocol::{CheckpointView, Proof};
use serde::{Deserialize, Serialize};

use crate::client::Client;
use crate::env::Env;
use crate::store::{Profile, write_private};

/// A verified checkpoint, as remembered.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Pinned {
    /// The log's origin.
    pub origin: String,
    /// Its size.
    pub size: u64,
    /// Its root hash, hex.
    pub root: String,
    /// The signed note, as received.
    pub note: String,
}

fn path(env: &Env, profile: &str) -> PathBuf {
    env.home.join("checkpoints").join(format!("{profile}.json"))
}

/// The remembered checkpoint of a profile, if any.
pub fn load(env: &Env, profile: &str) -> Result<Option<Pinned>> {
    match std::fs::read(path(env, profile)) {
        Ok(bytes) => Ok(Some(
            serde_json::from_slice(&bytes).context("the remembered checkpoint is damaged")?,
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The server key card pinned in a profile.
pub fn server_card(profile: &Profile) -> Result<KeyCard> {
    KeyCard::from_json(profile.server_card.as_bytes())
        .context("the pinned server key card is damaged")
}

/// Verifies a checkpoint note with the profile's pinned server key.
pub fn verify_note(profile: &Profile, origin: &str, note: &str) -> Result<Checkpoint> {
    let card = server_card(profile)?;
    log_format::verify_checkpoint(note.as_bytes(), origin, card.verifying_key()).map_err(|e| {
        anyhow::anyhow!(
            "SECURITY WARNING: the server at {} sent a checkpoint that is not signed by the key you \
             enrolled with ({e}). Do not trust what it shows; tell your coordinator and auditor.",
            profile.server
        )
    })
}

/// Asks for the latest checkpoint, verifies it, checks it extends the remembered one, and
/// remembers it.
pub fn sync(env: &Env, name: &str, profile: &Profile, client: &Client) -> Result<Pinned> {
    let previous = load(env, name)?;
    let view: CheckpointView = client.get("/v1/checkpoint")?;
    let origin = previous
        .as_ref()
        .map_or(view.origin.as_str(), |p| p.origin.as_str())
        .to_owned();
    let checkpoint = verify_note(profile, &origin, &view.note)?;
    let pinned = Pinned {
        origin,
        size: checkpoint.size(),
        root: log_format::hash_hex(checkpoint.hash()),
        note: view.note,
    };
    if let Some(prev) = &previous
        && let Err(e) = check_extends(client, prev, &pinned)
    {
        let evidence = env
            .home
            .join("checkpoints")
            .join(format!("{name}.conflicting-{}.json", crate::client::now()));
        let _ = write_private(&evidence, &serde_json::to_vec_pretty(&pinned)?);
        bail!(
            "{e}\nThe conflicting checkpoint is kept as evidence in {}.",
            evidence.display()
        );
    }
    if previous.as_ref().is_none_or(|p| p.size < pinned.size) {
        write_private(&path(env, name), &serde_json::to_vec_pretty(&pinned)?)?;
    }
    Ok(pinned)
}

/// Checks that `new` extends `old` (same log, nothing removed or rewritten), fetching a
/// consistency proof from the server when the sizes differ.
pub fn check_extends(client: &Client, old: &Pinned, new: &Pinned) -> Result<()> {
    let old_root = log_format::hash_from_hex(&old.root)?;
    let new_root = log_format::hash_from_hex(&new.root)?;
    if new.size < old.size {
        bail!(
            "SECURITY WARNING: the Ferry log at {} was ROLLED BACK. You verified {} events before \
             (root {}); it now shows only {}. Events that existed have disappeared. Stop using this \
             server and tell your coordinator and auditor.",
            client.base(),
            old.size,
            &old.root[..16],
            new.size
        );
    }
    let consistent = if new.size == old.size {
        new_root == old_root
    } else {
        let proof: Proof = client.get(&format!(
            "/v1/proofs/consistency?from={}&to={}",
            old.size, new.size
        ))?;
        let hashes = proof
            .proof
            .iter()
            .map(|h| log_format::hash_from_hex(h))
            .collect::<Result<Vec<_>, _>>()?;
        log_format::check_consistency(&hashes, new.size, new_root, old.size, old_root).is_ok()
    };
    if !consistent {
        bail!(
            "SECURITY WARNING: the Ferry log at {} has FORKED. The log of {} events it shows now \
             (root {}) does not contain the log of {} events you verified before (root {}): someone \
             is being shown a different history. Stop using this server and tell your coordinator \
             and auditor.",
            client.base(),
            new.size,
            &new.root[..16],
            old.size,
            &old.root[..16]
        );
    }
    Ok(())
}
