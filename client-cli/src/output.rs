//! Output: human tables by default, JSON with `--json`. Every line is shown through
//! [`shown`], so text that someone else wrote (a letter, a note, a name, a file name, a
//! server's message) can never move the cursor, recolour the screen or reorder what is shown.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::Write;

use anyhow::Result;
use serde::Serialize;

/// Where a command writes, and how.
pub struct Out<'a> {
    w: &'a mut dyn Write,
    /// JSON instead of text.
    pub json: bool,
}

impl<'a> Out<'a> {
    /// Wraps a writer.
    pub fn new(w: &'a mut dyn Write, json: bool) -> Self {
        Self { w, json }
    }

    /// A line of text (ignored in JSON mode), with control characters shown as escapes.
    pub fn line(&mut self, text: impl AsRef<str>) -> Result<()> {
        self.styled(&shown(text.as_ref()))
    }

    /// A line whose terminal styling is this program's own: every piece of it that someone
    /// else wrote must already have gone through [`shown`].
    pub fn styled(&mut self, text: &str) -> Result<()> {
        if !self.json {
            writeln!(self.w, "{text}")?;
        }
        Ok(())
    }

    /// A JSON value (only in JSON mode).
    pub fn json<T: Serialize>(&mut self, value: &T) -> Result<()> {
        if self.json {
            writeln!(self.w, "{}", serde_json::to_string_pretty(value)?)?;
        }
        Ok(())
    }

    /// Either a JSON value or a table of rows.
    pub fn table<T: Serialize>(
        &mut self,
        value: &T,
        headers: &[&str],
        rows: Vec<Vec<String>>,
    ) -> Result<()> {
        if self.json {
            return self.json(value);
        }
        if rows.is_empty() {
            return self.line("(nothing)");
        }
        let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let fmt = |cells: Vec<String>| {
            cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_owned()
        };
        let header = fmt(headers.iter().map(|h| h.to_uppercase()).collect());
        self.line(header)?;
        for row in rows {
            self.line(fmt(row))?;
        }
        Ok(())
    }
}

/// Whether a character is hidden or acts on the terminal when printed: control characters
/// (escape sequences, carriage returns, line breaks) and the invisible format characters that
/// reorder or hide text (bidirectional overrides and isolates, zero-width characters, line and
/// paragraph separators). Tabs are left alone.
pub(crate) fn hidden(c: char) -> bool {
    (c.is_control() && c != '\t')
        || matches!(
            c,
            '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{2069}'
                | '\u{feff}'
        )
}

/// `text` with every hidden or terminal-controlling character written visibly as `\u{…}`.
pub fn shown(text: &str) -> Cow<'_, str> {
    if !text.chars().any(hidden) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if hidden(c) {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A Unix time as `YYYY-MM-DD HH:MM` UTC.
pub fn time(ts: i64) -> String {
    ferry_protocol::format_time(ts)
}

/// The first characters of a long id, for tables.
pub fn short(id: &str) -> String {
    id.chars().take(12).collect()
}

#[cfg(test)]
mod tests {
    use super::shown;

    #[test]
    fn control_and_reordering_characters_are_shown_as_escapes() {
        assert_eq!(shown("plain words\tand a tab"), "plain words\tand a tab");
        assert_eq!(
            shown("red \x1b[31mtext\x1b[0m"),
            "red \\u{1b}[31mtext\\u{1b}[0m"
        );
        assert_eq!(shown("over\rwritten"), "over\\u{d}written");
        assert_eq!(shown("two\nlines"), "two\\u{a}lines");
        assert_eq!(shown("abc\u{202e}fed"), "abc\\u{202e}fed");
        assert_eq!(shown("zero\u{200b}width"), "zero\\u{200b}width");
        assert_eq!(shown("caf\u{e9} \u{1f600}"), "caf\u{e9} \u{1f600}");
    }
}
