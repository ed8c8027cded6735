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

/// The UTC day of Unix time `ts` in words, as printed on a letter: `5 December 2026`.
pub fn format_date(ts: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(ts) {
        Ok(t) => format!("{} {} {}", t.day(), t.month(), t.year()),
        Err(_) => ts.to_string(),
    }
}

/// Unix time at noon UTC of a day written `YYYY-MM-DD`, if it is one.
pub fn parse_date(text: &str) -> Option<i64> {
    let mut parts = text.trim().splitn(3, '-');
    let year: i32 = parts.next()?.parse().ok()?;
    let month: u8 = parts.next()?.parse().ok()?;
    let day: u8 = parts.next()?.parse().ok()?;
    let month = time::Month::try_from(month).ok()?;
    let date = time::Date::from_calendar_date(year, month, day).ok()?;
    Some(date.with_hms(12, 0, 0).ok()?.assume_utc().unix_timestamp())
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
        assert_eq!(super::format_date(1_790_000_000), "21 September 2026");
        let noon = super::parse_date("2026-09-21");
        assert_eq!(
            noon.map(super::format_time),
            Some("2026-09-21 12:00".to_owned())
        );
        for bad in ["", "2026-13-01", "2026-02-30", "21/09/2026", "2026-09"] {
            assert_eq!(super::parse_date(bad), None, "{bad}");
        }
    }
}
