//! The client's files under `FERRY_HOME`: `profiles.json` (servers and accounts, no secrets)
//! and `keystore.age` (private keys, passphrase-encrypted, mode 0600).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};
use ferry_crypto::Identity;
use ferry_crypto::keystore::{Keystore, MAX_WORK_FACTOR};
use serde::{Deserialize, Serialize};

use crate::env::Env;

/// A server and the account used on it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Profile {
    /// Base URL of the server.
    pub server: String,
    /// The account id on that server.
    pub account_id: String,
    /// The fingerprint of the server's key card when first seen.
    pub server_fingerprint: String,
    /// The server's key card (JSON), pinned at enrolment: it must sign every checkpoint.
    pub server_card: String,
}

impl Profile {
    /// The profile of `account_id` on the server at `server`, whose key card is `server_card`.
    pub fn new(server: &str, account_id: String, server_card: &ferry_crypto::KeyCard) -> Self {
        Self {
            server: server.to_owned(),
            account_id,
            server_fingerprint: server_card.fingerprint().to_string(),
            server_card: String::from_utf8_lossy(&server_card.to_json()).into_owned(),
        }
    }
}

/// All profiles, and which is the default.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Profiles {
    /// The profile used when none is named.
    pub default: Option<String>,
    /// By name.
    pub profiles: BTreeMap<String, Profile>,
}

impl Profiles {
    /// Loads `profiles.json` (empty if there is none yet).
    pub fn load(env: &Env) -> Result<Self> {
        let path = env.home.join("profiles.json");
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .with_context(|| format!("{} is damaged", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    /// The profile to keep new keys under: the one asked for, else `default` for the first,
    /// else the next number.
    pub fn name_for(&self, asked: Option<&str>) -> String {
        match asked {
            Some(name) => name.to_owned(),
            None if self.profiles.is_empty() => "default".to_owned(),
            None => format!("{}", self.profiles.len() + 1),
        }
    }

    /// Adds `profile` as `name` (the default if there is none yet) and saves `profiles.json`.
    pub fn keep(&mut self, env: &Env, name: &str, profile: Profile) -> Result<()> {
        self.profiles.insert(name.to_owned(), profile);
        if self.default.is_none() {
            self.default = Some(name.to_owned());
        }
        self.save(env)
    }

    /// Saves `profiles.json`.
    pub fn save(&self, env: &Env) -> Result<()> {
        write_private(
            &env.home.join("profiles.json"),
            &serde_json::to_vec_pretty(self)?,
        )
    }

    /// The named profile, or the default one.
    pub fn select(&self, name: Option<&str>) -> Result<(String, Profile)> {
        let name = match name.or(self.default.as_deref()) {
            Some(n) => n.to_owned(),
            None => bail!("you are not enrolled yet: run `ferry enrol <server> <code>` first"),
        };
        let profile = self
            .profiles
            .get(&name)
            .with_context(|| format!("there is no profile called {name:?}"))?;
        Ok((name, profile.clone()))
    }
}

/// Opens the keystore (or starts an empty one if there is none).
pub fn open_keystore(env: &Env) -> Result<Keystore> {
    let path = env.home.join("keystore.age");
    match std::fs::read(&path) {
        Ok(bytes) => {
            let passphrase = env.passphrase("Keystore passphrase: ")?;
            Keystore::read_encrypted(&bytes[..], &passphrase, MAX_WORK_FACTOR)
                .map_err(|e| anyhow::anyhow!("cannot open your keystore: {e}"))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Keystore::new()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Saves the keystore, encrypted, mode 0600, replacing the old file atomically.
pub fn save_keystore(env: &Env, keystore: &Keystore) -> Result<()> {
    let passphrase = env.passphrase("New keystore passphrase: ")?;
    let mut bytes = vec![];
    keystore.write_encrypted(&passphrase, env.work_factor, &mut bytes)?;
    write_private(&env.home.join("keystore.age"), &bytes)
}

/// The identity of a profile, from the keystore.
pub fn identity(keystore: &mut Keystore, profile: &str) -> Result<Identity> {
    keystore
        .remove(profile)
        .with_context(|| format!("the keystore holds no keys for profile {profile:?}"))
}

/// Creates a folder (and its parents) that only its owner can open (0700).
pub fn private_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("cannot make {} private", dir.display()))?;
    }
    Ok(())
}

/// Writes a file readable only by its owner, atomically (temp file, fsync, rename). A folder
/// it has to create is private too; an existing one is left as it is.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !dir.exists() {
        private_dir(dir)?;
    }
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
