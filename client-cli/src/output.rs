//! Output: human tables by default, JSON with `--json`.

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

    /// A line of text (ignored in JSON mode).
    pub fn line(&mut self, text: impl AsRef<str>) -> Result<()> {
        if !self.json {
            writeln!(self.w, "{}", text.as_ref())?;
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

    /// The raw writer.
    pub fn writer(&mut self) -> &mut dyn Write {
        self.w
    }
}

/// A Unix time as `YYYY-MM-DD HH:MM` UTC.
pub fn time(ts: i64) -> String {
    ferry_server::format_time(ts)
}

/// A role's wire name as a person, for sentences ("harmed" becomes "harmed person").
pub fn person(role: &str) -> String {
    role.parse::<ferry_crypto::Role>()
        .map_or_else(|_| role.to_owned(), |r| r.person().to_owned())
}

/// The first characters of a long id, for tables.
pub fn short(id: &str) -> String {
    id.chars().take(12).collect()
}
