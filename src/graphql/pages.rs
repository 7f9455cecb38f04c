//! Pages of a connection (RULES §10): `first` between 1 and 1000 (50 by default,
//! also when null), and opaque cursors that hold a position and say which field and
//! filters made them, so a cursor from elsewhere is refused rather than misread.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::{AppError, AppResult};

/// Relay cursor pagination (forward only: hasPreviousPage is always false).
#[derive(async_graphql::SimpleObject)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub start_cursor: Option<String>,
    pub end_cursor: Option<String>,
}

impl PageInfo {
    /// A forward page from its first and last cursors.
    pub fn forward(start: Option<&String>, end: Option<&String>, has_next_page: bool) -> Self {
        PageInfo { has_next_page, has_previous_page: false, start_cursor: start.cloned(), end_cursor: end.cloned() }
    }
}

/// The largest page.
pub const MAX_FIRST: i32 = 1000;
/// A page's size when `first` is not given, or null.
pub const DEFAULT_FIRST: i32 = 50;

/// How many rows a page holds: `first`, checked.
pub fn size(first: Option<i32>) -> AppResult<usize> {
    match first.unwrap_or(DEFAULT_FIRST) {
        first @ 1..=MAX_FIRST => Ok(first as usize),
        _ => Err(AppError::bad_input(format!("first must be between 1 and {MAX_FIRST}"))),
    }
}

/// What a page field counts in a document's complexity (RULES §11): its size.
pub fn weight(first: &Option<i32>) -> usize {
    first.unwrap_or(DEFAULT_FIRST).clamp(1, MAX_FIRST) as usize
}

/// A cursor for `position` in the pages of `field` under `filters`.
pub fn cursor(field: &str, filters: &str, position: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{field}\u{1f}{filters}\u{1f}{position}"))
}

/// The position a cursor holds, if `field` under `filters` made it; else BAD_USER_INPUT.
pub fn position(cursor: &str, field: &str, filters: &str) -> AppResult<String> {
    let refused = || AppError::bad_input("after is not a cursor of this field with these arguments");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| refused())?;
    let text = String::from_utf8(bytes).map_err(|_| refused())?;
    let mut parts = text.splitn(3, '\u{1f}');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(f), Some(k), Some(position)) if f == field && k == filters => Ok(position.to_owned()),
        _ => Err(refused()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_is_one_to_a_thousand_and_fifty_by_default() {
        assert_eq!(size(None).unwrap(), 50);
        assert_eq!(size(Some(1)).unwrap(), 1);
        assert_eq!(size(Some(1000)).unwrap(), 1000);
        assert!(size(Some(0)).is_err());
        assert!(size(Some(1001)).is_err());
        assert!(size(Some(-5)).is_err());
    }

    #[test]
    fn a_cursor_is_read_back_only_for_its_field_and_filters() {
        let made = cursor("auditLog", "actor=ann", "42");
        assert_eq!(position(&made, "auditLog", "actor=ann").unwrap(), "42");
        assert!(position(&made, "auditLog", "actor=bob").is_err());
        assert!(position(&made, "searchUsers", "actor=ann").is_err());
        assert!(position("not a cursor!", "auditLog", "actor=ann").is_err());
        assert!(position(&URL_SAFE_NO_PAD.encode([0xff, 0xfe]), "auditLog", "").is_err());
    }
}
