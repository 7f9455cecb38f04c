//! RFC 3339 times as the audit log writes and reads them: Unix milliseconds out,
//! `2026-11-29T19:42:52.123Z` (UTC, milliseconds) in.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A time in RFC 3339, any offset, as Unix ms.
pub fn parse(text: &str) -> Result<i64, time::error::Parse> {
    let at = OffsetDateTime::parse(text, &Rfc3339)?;
    Ok(i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX))
}

/// Unix ms as RFC 3339, UTC, with milliseconds.
pub fn format(ms: i64) -> String {
    let at =
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let (date, time) = (at.date(), at.time());
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        date.year(),
        u8::from(date.month()),
        date.day(),
        time.hour(),
        time.minute(),
        time.second(),
        time.millisecond()
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_round_trip_through_utc_with_milliseconds() {
        let ms = super::parse("2026-11-29T20:42:52.123+01:00").unwrap();
        assert_eq!(super::format(ms), "2026-11-29T19:42:52.123Z");
        assert_eq!(super::parse("1970-01-01T00:00:00Z").unwrap(), 0);
        assert!(super::parse("2026-11-29").is_err());
        assert!(super::parse("yesterday").is_err());
    }
}
