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
    let days = ts.div_euclid(86_400);
    let secs = ts.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60
    )
}

/// The first characters of a long id, for tables.
pub fn short(id: &str) -> String {
    id.chars().take(12).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_are_utc_dates() {
        assert_eq!(super::time(0), "1970-01-01 00:00");
        assert_eq!(super::time(1_790_000_000), "2026-09-21 14:13");
        assert_eq!(super::time(951_782_400), "2000-02-29 00:00");
    }
}
