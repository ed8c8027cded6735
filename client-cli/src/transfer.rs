//! Progress bars for attachment transfers, and a private scratch directory for encrypted
//! temporary files.

use std::path::PathBuf;

use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};

use crate::env::Env;

/// A byte progress bar on the terminal (hidden when output is not a terminal).
pub fn bar(len: Option<u64>, message: &str, env: &Env) -> ProgressBar {
    if !env.color {
        return ProgressBar::hidden();
    }
    let bar = match len {
        Some(n) => ProgressBar::new(n),
        None => ProgressBar::no_length(),
    };
    if let Ok(style) = ProgressStyle::with_template(
        "{msg:30} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(crate::output::shown(message).into_owned());
    bar
}

/// A directory for temporary files (encrypted blobs only), private to the user.
pub fn scratch(env: &Env) -> Result<PathBuf> {
    let dir = env.home.join("tmp");
    crate::store::private_dir(&dir)?;
    Ok(dir)
}
