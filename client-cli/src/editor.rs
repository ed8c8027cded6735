//! Writing and redacting in the person's own editor. The text sits in a private temporary
//! file under FERRY_HOME (mode 0600) only while the editor is open.
//!
//! For redaction the buffer starts with instructions and marks each identifying detail found
//! `[[like this]]`. Closing the editor without changing the file is never taken as approval,
//! and a detail left marked is never sent unnoticed: either asks again.

use std::io::Write;

use anyhow::{Context, Result, bail};

use crate::env::Env;
use crate::output::Out;
use crate::pii::Finding;

/// Opens `initial` in the editor and returns what was saved.
pub fn edit(env: &Env, initial: &str) -> Result<String> {
    let editor = env
        .editor
        .as_deref()
        .filter(|e| !e.trim().is_empty())
        .context("no editor is set: set EDITOR, or use --file")?;
    crate::store::private_dir(&env.home)?;
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

/// The line that ends the instructions; everything above it, and it, is removed.
pub const START_LINE: &str =
    "# ----------------- the message starts below this line -----------------";

/// Opening and closing marks around a detected detail in the redaction buffer.
const MARKS: (&str, &str) = ("[[", "]]");

/// The redaction buffer: instructions, the start line, then `body` with `findings` marked.
pub fn redaction_buffer(body: &str, findings: &[Finding]) -> String {
    let mut text = String::from(
        "# Ferry: change the message below into what the other person may read, then save\n\
         # the file and close the editor.\n",
    );
    if findings.is_empty() {
        text.push_str("# No identifying details were found; check by eye as well.\n");
    } else {
        text.push_str(&format!(
            "# {} identifying detail(s) are marked [[like this]]. Delete each one or replace it\n\
             # (for example with [phone removed]); to keep one, delete its [[ and ]].\n",
            findings.len()
        ));
    }
    text.push_str(
        "# Lines above the line below are instructions: they are removed before sending.\n",
    );
    text.push_str(START_LINE);
    text.push('\n');
    let mut at = 0;
    for f in findings {
        text.push_str(&body[at..f.start]);
        text.push_str(MARKS.0);
        text.push_str(&body[f.start..f.end]);
        text.push_str(MARKS.1);
        at = f.end;
    }
    text.push_str(&body[at..]);
    text
}

/// What is wrong with an edited redaction buffer, or the text to send.
pub fn read_redaction(
    before: &str,
    after: &str,
    body: &str,
    findings: &[Finding],
) -> Result<String, String> {
    if after == before {
        return Err(
            "Your editor closed without any change to the file, so it was not taken as \
             your approval. (A graphical editor needs its wait option, for example \
             EDITOR=\"code --wait\".)"
                .into(),
        );
    }
    let Some((_, text)) = after.split_once(&format!("{START_LINE}\n")) else {
        return Err(format!(
            "The line \"{START_LINE}\" is missing, so Ferry cannot tell your instructions from \
             the message. Keep that line as it is."
        ));
    };
    let still: Vec<&str> = findings
        .iter()
        .map(|f| f.text.as_str())
        .filter(|t| text.contains(&format!("{}{t}{}", MARKS.0, MARKS.1)))
        .collect();
    if !still.is_empty() {
        return Err(format!(
            "{} detail(s) are still marked: {}. Delete or replace each one, or delete its \
             [[ and ]] to keep it.",
            still.len(),
            still.join(", ")
        ));
    }
    // Editors end a file with a line break; the letter may not have had one.
    let text = if body.ends_with('\n') {
        text
    } else {
        text.strip_suffix('\n').unwrap_or(text)
    };
    Ok(text.to_owned())
}

/// Redacts `body` in the editor until the result can be sent: an unchanged file, a removed
/// start line or a detail still marked is said, and the editor opens again (with a person
/// to ask) or nothing is sent (without one).
pub fn redact(env: &Env, out: &mut Out<'_>, body: &str, findings: &[Finding]) -> Result<String> {
    let mut buffer = redaction_buffer(body, findings);
    loop {
        let edited = edit(env, &buffer)?;
        match read_redaction(&buffer, &edited, body, findings) {
            Ok(text) => return Ok(text),
            Err(why) => {
                out.line(&why)?;
                if !env.can_ask() {
                    bail!("{why} Nothing was sent.");
                }
                if !env.confirm(out, "Open the editor again?", true)? {
                    bail!("Nothing was sent.");
                }
                if edited.contains(START_LINE) {
                    buffer = edited;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pii;

    #[test]
    fn the_buffer_marks_details_and_its_instructions_are_stripped() {
        let body = "Ring me on 07700 900461 please.";
        let found = pii::find(body);
        let buffer = redaction_buffer(body, &found);
        assert!(
            buffer.contains("Ring me on [[07700 900461]] please."),
            "{buffer}"
        );
        assert!(
            buffer.contains("1 identifying detail(s) are marked"),
            "{buffer}"
        );

        // Unchanged: refused.
        let err = read_redaction(&buffer, &buffer, body, &found).unwrap_err();
        assert!(err.contains("without any change"), "{err}");
        // Changed, but the detail still marked: refused.
        let marked = buffer.replace("please", "soon");
        let err = read_redaction(&buffer, &marked, body, &found).unwrap_err();
        assert!(err.contains("still marked: 07700 900461"), "{err}");
        // The start line removed: refused.
        let cut = buffer.replace(START_LINE, "");
        assert!(read_redaction(&buffer, &cut, body, &found).is_err());
        // Redacted: only the message, without the editor's final line break.
        let done = format!(
            "{}\n",
            buffer.replace("[[07700 900461]]", "[phone removed]")
        );
        assert_eq!(
            read_redaction(&buffer, &done, body, &found).unwrap(),
            "Ring me on [phone removed] please."
        );
        // Kept on purpose: the marks removed.
        let kept = buffer.replace("[[07700 900461]]", "07700 900461") + "\n";
        assert_eq!(read_redaction(&buffer, &kept, body, &found).unwrap(), body);
    }
}
