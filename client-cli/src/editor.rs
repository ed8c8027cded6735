//! Writing and redacting in the person's own editor. The text sits in a private temporary
//! file under FERRY_HOME (mode 0600) only while the editor is open.

use std::io::Write;

use anyhow::{Context, Result, bail};

use crate::env::Env;

/// Opens `initial` in the editor and returns what was saved.
pub fn edit(env: &Env, initial: &str) -> Result<String> {
    let editor = env
        .editor
        .as_deref()
        .filter(|e| !e.trim().is_empty())
        .context("no editor is set: set EDITOR, or use --file")?;
    std::fs::create_dir_all(&env.home)?;
    let mut file = tempfile::Builder::new()
        .prefix(".ferry-edit-")
        .suffix(".txt")
        .tempfile_in(&env.home)?;
    file.write_all(initial.as_bytes())?;
    file.as_file().sync_all()?;
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("ferry-editor")
        .arg(file.path())
        .status()
        .with_context(|| format!("cannot start the editor {editor:?}"))?;
    if !status.success() {
        bail!("the editor exited with {status}; nothing was sent");
    }
    let text = std::fs::read_to_string(file.path()).context("cannot read back the edited text")?;
    Ok(text)
}
