//! Validation rules of RULES §5. Each returns BAD_USER_INPUT naming the field.

use crate::error::{AppError, AppResult};

pub const USERNAME_MAX_CHARS: usize = 64;
pub const PASSWORD_MIN_CHARS: usize = 8;
pub const PASSWORD_MAX_BYTES: usize = 1024;
/// The shortest signing key accepted (RULES §1).
pub const JWT_SECRET_MIN_BYTES: usize = 32;
pub const EMAIL_MAX_CHARS: usize = 254;
pub const FULL_NAME_MAX_CHARS: usize = 256;
pub const RESOURCE_NAME_MAX_CHARS: usize = 128;

/// The name that stands for the caller wherever a username is expected.
pub const ME: &str = "me";

/// No NUL or other control character, in any string input.
pub fn no_control_chars(field: &str, value: &str) -> AppResult<()> {
    if value.chars().any(char::is_control) {
        return Err(AppError::bad_input(format!("{field} must not contain control characters")));
    }
    Ok(())
}

/// 1–64 characters from `A–Z a–z 0–9 . _ @ -`, and not `me`.
pub fn username(value: &str) -> AppResult<()> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '@' | '-');
    if value.is_empty() || value.len() > USERNAME_MAX_CHARS || !value.chars().all(allowed) {
        return Err(AppError::bad_input(format!(
            "username must be 1 to {USERNAME_MAX_CHARS} characters from A-Z a-z 0-9 . _ @ -"
        )));
    }
    if value == ME {
        return Err(AppError::bad_input("username \"me\" is reserved"));
    }
    Ok(())
}

/// At least 8 characters and at most 1024 bytes, no control characters.
pub fn password(value: &str) -> AppResult<()> {
    // Bytes first: a huge input is refused before it is even scanned.
    if value.len() > PASSWORD_MAX_BYTES {
        return Err(AppError::bad_input(format!("password must be at most {PASSWORD_MAX_BYTES} bytes")));
    }
    if value.chars().count() < PASSWORD_MIN_CHARS {
        return Err(AppError::bad_input(format!("password must be at least {PASSWORD_MIN_CHARS} characters")));
    }
    no_control_chars("password", value)
}

/// At most 254 characters, exactly one `@` with text on both sides.
pub fn email(value: &str) -> AppResult<()> {
    no_control_chars("email", value)?;
    let well_formed = match value.split_once('@') {
        Some((local, domain)) => !local.is_empty() && !domain.is_empty() && !domain.contains('@'),
        None => false,
    };
    if value.chars().count() > EMAIL_MAX_CHARS || !well_formed {
        return Err(AppError::bad_input(format!(
            "email must be at most {EMAIL_MAX_CHARS} characters with one @ and text on both sides"
        )));
    }
    Ok(())
}

/// At most 256 characters.
pub fn full_name(value: &str) -> AppResult<()> {
    no_control_chars("fullName", value)?;
    if value.chars().count() > FULL_NAME_MAX_CHARS {
        return Err(AppError::bad_input(format!("fullName must be at most {FULL_NAME_MAX_CHARS} characters")));
    }
    Ok(())
}

/// A model id or a new group's name: 1–128 characters from `A–Z a–z 0–9 . _ -`.
pub fn resource_name(field: &str, value: &str) -> AppResult<()> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if value.is_empty() || value.len() > RESOURCE_NAME_MAX_CHARS || !value.chars().all(allowed) {
        return Err(AppError::bad_input(format!(
            "{field} must be 1 to {RESOURCE_NAME_MAX_CHARS} characters from A-Z a-z 0-9 . _ -"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(result: AppResult<()>) -> bool {
        result.is_ok()
    }

    #[test]
    fn usernames_follow_the_charset_and_length() {
        assert!(ok(username("a")));
        assert!(ok(username("Jane.Doe_1@x-y")));
        assert!(ok(username(&"u".repeat(64))));
        assert!(!ok(username(&"u".repeat(65))));
        assert!(!ok(username("")));
        assert!(!ok(username("me")));
        assert!(ok(username("Me")));
        assert!(!ok(username("a b")));
        assert!(!ok(username("é")));
        assert!(!ok(username("a\0b")));
        assert!(!ok(username("a/b")));
    }

    #[test]
    fn passwords_have_character_and_byte_limits() {
        assert!(ok(password("12345678")));
        assert!(!ok(password("1234567")));
        // Eight characters but more bytes than characters still counts as eight.
        assert!(ok(password("éééééééé")));
        assert!(ok(password(&"p".repeat(1024))));
        assert!(!ok(password(&"p".repeat(1025))));
        assert!(!ok(password(&"é".repeat(513))));
        assert!(!ok(password("abcdefgh\u{7}")));
        assert!(!ok(password("abcd\0efgh")));
    }

    #[test]
    fn emails_have_one_at_with_text_around_it() {
        assert!(ok(email("a@b")));
        assert!(!ok(email("ab")));
        assert!(!ok(email("@b")));
        assert!(!ok(email("a@")));
        assert!(!ok(email("a@b@c")));
        let local = "a".repeat(252);
        assert!(ok(email(&format!("{local}@b"))));
        assert!(!ok(email(&format!("{local}a@b"))));
        assert!(!ok(email("a@b\n")));
    }

    #[test]
    fn full_names_are_limited_to_256_characters() {
        assert!(ok(full_name(&"n".repeat(256))));
        assert!(ok(full_name("")));
        assert!(!ok(full_name(&"n".repeat(257))));
        assert!(!ok(full_name("tab\there")));
    }

    #[test]
    fn resource_names_exclude_at_and_spaces() {
        assert!(ok(resource_name("id", "my-model_1.0")));
        assert!(ok(resource_name("id", &"m".repeat(128))));
        assert!(!ok(resource_name("id", &"m".repeat(129))));
        assert!(!ok(resource_name("id", "")));
        assert!(!ok(resource_name("id", "a@b")));
        assert!(!ok(resource_name("id", "a b")));
    }
}
