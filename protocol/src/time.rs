//! The clock both sides use: Unix seconds (UTC), and how they are shown to people.

/// Now, in Unix seconds (UTC).
pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// A Unix time as `YYYY-MM-DD HH:MM` (UTC); a time out of the calendar's range is shown as
/// the number of seconds it is.
pub fn format_time(ts: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(ts) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02}",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute()
        ),
        Err(_) => ts.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_are_utc_dates() {
        assert_eq!(super::format_time(0), "1970-01-01 00:00");
        assert_eq!(super::format_time(1_790_000_000), "2026-09-21 14:13");
        assert_eq!(super::format_time(951_782_400), "2000-02-29 00:00");
        assert_eq!(super::format_time(-86_400), "1969-12-31 00:00");
        assert_eq!(super::format_time(i64::MAX), i64::MAX.to_string());
    }
}
