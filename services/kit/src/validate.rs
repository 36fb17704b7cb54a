//! Input validation shared by the mutations: every message names the field and the bad value.

use crate::error::{ApiError, ApiResult};

/// Longest single-line text (names, locations).
pub const MAX_NAME: usize = 200;
/// Longest short free text (reasons, criteria).
pub const MAX_SHORT_TEXT: usize = 500;
/// Longest description (signals).
pub const MAX_DESCRIPTION: usize = 2000;
/// Longest long free text (overview summaries, notes, patient input).
pub const MAX_LONG_TEXT: usize = 8000;

/// Trims `value` and checks it is non-empty and at most `max` characters.
pub fn text(field: &str, value: &str, max: usize) -> ApiResult<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(ApiError::bad_input(format!("{field} must not be empty")));
    }
    optional_text(field, v, max)
}

/// Like [`text`] but an empty value is allowed.
pub fn optional_text(field: &str, value: &str, max: usize) -> ApiResult<String> {
    let v = value.trim();
    let n = v.chars().count();
    if n > max {
        return Err(ApiError::bad_input(format!("{field} is {n} characters; at most {max} are allowed")));
    }
    if v.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
        return Err(ApiError::bad_input(format!("{field} contains control characters")));
    }
    Ok(v.to_owned())
}

/// A month as `YYYY-MM`, 2000–2100.
pub fn month(value: &str) -> ApiResult<()> {
    let ok = value.len() == 7
        && value.as_bytes()[4] == b'-'
        && value[..4].parse::<u32>().is_ok_and(|y| (2000..=2100).contains(&y))
        && value[5..].parse::<u32>().is_ok_and(|m| (1..=12).contains(&m));
    if ok { Ok(()) } else { Err(ApiError::bad_input(format!("month must look like 2026-09, got {value:?}"))) }
}

/// A year the hub plans for.
pub fn year(value: i32) -> ApiResult<()> {
    if (2020..=2100).contains(&value) {
        Ok(())
    } else {
        Err(ApiError::bad_input(format!("year must be between 2020 and 2100, got {value}")))
    }
}

/// A number of weeks (0–520, finite).
pub fn weeks(field: &str, value: f64) -> ApiResult<()> {
    if value.is_finite() && (0.0..=520.0).contains(&value) {
        Ok(())
    } else {
        Err(ApiError::bad_input(format!("{field} must be between 0 and 520 weeks, got {value}")))
    }
}

/// A non-negative count up to `max`.
pub fn count(field: &str, value: Option<i32>, max: i32) -> ApiResult<()> {
    match value {
        Some(v) if !(0..=max).contains(&v) => {
            Err(ApiError::bad_input(format!("{field} must be between 0 and {max}, got {v}")))
        }
        _ => Ok(()),
    }
}

/// A UUID id.
pub fn id(field: &str, value: &str) -> ApiResult<String> {
    uuid::Uuid::parse_str(value)
        .map(|u| u.to_string())
        .map_err(|_| ApiError::bad_input(format!("{field} is not a valid id: {value:?}")))
}

/// A region code's shape.
pub fn region_code(field: &str, value: &str) -> ApiResult<()> {
    if is_region_code(value) {
        Ok(())
    } else {
        Err(ApiError::bad_input(format!("{field} is not a valid region code: {value:?}")))
    }
}

/// Pattern for region codes: lowercase ASCII kebab-case, 2–40 characters.
pub fn is_region_code(code: &str) -> bool {
    (2..=40).contains(&code.len())
        && code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !code.starts_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_limits_and_trims() {
        assert_eq!(text("name", "  a  ", 5).ok().as_deref(), Some("a"));
        assert!(text("name", "   ", 5).is_err());
        assert!(text("name", "abcdef", 5).is_err());
        assert!(text("name", "a\u{0}b", 5).is_err());
    }

    #[test]
    fn region_codes_are_kebab_case() {
        assert!(is_region_code("apeldoorn-zutphen"));
        assert!(!is_region_code("Utrecht"));
        assert!(!is_region_code("-x"));
        assert!(!is_region_code("a"));
    }

    #[test]
    fn months_and_weeks() {
        assert!(month("2026-09").is_ok());
        assert!(month("2026-13").is_err());
        assert!(month("26-09").is_err());
        assert!(weeks("w", f64::NAN).is_err());
        assert!(weeks("w", -1.0).is_err());
        assert!(weeks("w", 4.5).is_ok());
    }
}
