//! Input validation shared by the mutations: every message names the field and the bad value,
//! cut to a short prefix ([`shown`]). Free text is also refused when it seems to hold personal
//! data ([`personal_data`]).

pub mod personal_data;

use crate::error::{ApiError, ApiResult};
use personal_data::PersonalData;

/// How many characters of a bad value an error message repeats.
pub const SHOWN_CHARS: usize = 40;

/// A bad value as an error message repeats it: quoted, and cut after [`SHOWN_CHARS`] characters
/// with "…", so that a 1 MB value does not come back as a 1 MB message.
pub fn shown(value: &str) -> String {
    let mut chars = value.chars();
    let head: String = chars.by_ref().take(SHOWN_CHARS).collect();
    if chars.next().is_some() { format!("{head:?}…") } else { format!("{head:?}") }
}

/// Longest single-line text (names, locations).
pub const MAX_NAME: usize = 200;
/// Longest short free text (reasons, criteria).
pub const MAX_SHORT_TEXT: usize = 500;
/// Longest description (signals).
pub const MAX_DESCRIPTION: usize = 2000;
/// Longest long free text (overview summaries, notes, patient input).
pub const MAX_LONG_TEXT: usize = 8000;

/// Trims `value` and checks it is non-empty, at most `max` characters and free of personal data
/// (see [`personal_data`]).
pub fn text(field: &str, value: &str, max: usize) -> ApiResult<String> {
    non_empty(field, value)?;
    optional_text(field, value, max)
}

/// Like [`text`] but an empty value is allowed.
pub fn optional_text(field: &str, value: &str, max: usize) -> ApiResult<String> {
    guarded_text(field, value, max, &PersonalData::ALL)
}

/// Like [`text`] for a field meant to hold an organisation's contact details (a consultation
/// desk's phone number or e-mail address): BSNs and dates of birth are still refused.
pub fn contact_text(field: &str, value: &str, max: usize) -> ApiResult<String> {
    non_empty(field, value)?;
    guarded_text(field, value, max, &[PersonalData::Bsn, PersonalData::DateOfBirth])
}

fn non_empty(field: &str, value: &str) -> ApiResult<()> {
    if value.trim().is_empty() {
        return Err(ApiError::bad_input(format!("{field} must not be empty")));
    }
    Ok(())
}

fn guarded_text(field: &str, value: &str, max: usize, refuse: &[PersonalData]) -> ApiResult<String> {
    let v = plain_text(field, value, max)?;
    if let Some(kind) = personal_data::find(&v, refuse) {
        // Never repeat the value: it is what must not be stored or shown.
        return Err(ApiError::bad_input(format!(
            "{field} seems to contain personal data ({}); the hub holds no patient-level data, so leave it out",
            kind.describe()
        )));
    }
    Ok(v)
}

/// Length and control-character checks only, without the personal-data guard.
fn plain_text(field: &str, value: &str, max: usize) -> ApiResult<String> {
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
    if ok { Ok(()) } else { Err(ApiError::bad_input(format!("month must look like 2026-09, got {}", shown(value)))) }
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
        .map_err(|_| ApiError::bad_input(format!("{field} is not a valid id: {}", shown(value))))
}

/// A region code's shape.
pub fn region_code(field: &str, value: &str) -> ApiResult<()> {
    if is_region_code(value) {
        Ok(())
    } else {
        Err(ApiError::bad_input(format!("{field} is not a valid region code: {}", shown(value))))
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
    fn text_refuses_personal_data_without_repeating_it() {
        let err = text("description", "Mw. J. (BSN 123.456.782) wacht", 500).err().map(|e| e.to_string());
        let msg = err.expect("refused");
        assert!(
            msg.starts_with("description seems to contain personal data (a citizen service number (BSN))"),
            "{msg}"
        );
        assert!(!msg.contains("123"), "{msg}");
        let msg = optional_text("notes", "bel 06-12345678", 500).err().map(|e| e.to_string()).expect("refused");
        assert!(msg.contains("notes") && msg.contains("a phone number") && !msg.contains("1234"), "{msg}");
        assert!(text("notes", "geboren 12-03-1985", 500).is_err());
        assert!(text("notes", "j.jansen@gmail.com", 500).is_err());
        assert!(text("notes", "Afdeling sluit per 1 april 2027", 500).is_ok());
    }

    #[test]
    fn contact_text_allows_an_organisations_phone_and_mail_only() {
        assert!(contact_text("consultationContact", "Consultatiedesk 030-1234567, desk@ggz.nl", 500).is_ok());
        assert!(contact_text("consultationContact", "BSN 123456782", 500).is_err());
        assert!(contact_text("consultationContact", "geb. 12-03-1985", 500).is_err());
        assert!(contact_text("consultationContact", "  ", 500).is_err());
    }

    #[test]
    fn bad_values_are_shown_cut() {
        let huge = "x".repeat(1_000_000);
        for err in
            [id("id", &huge), region_code("code", &huge).map(|_| String::new()), month(&huge).map(|_| String::new())]
        {
            let msg = err.err().map(|e| e.to_string()).expect("refused");
            assert!(msg.len() < 120, "{} characters: {}", msg.len(), &msg[..120.min(msg.len())]);
            assert!(msg.ends_with(&format!("{:?}…", "x".repeat(SHOWN_CHARS))), "{msg}");
        }
        assert_eq!(shown("utrecht"), "\"utrecht\"");
        assert_eq!(shown(&"é".repeat(41)), format!("{:?}…", "é".repeat(40)));
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
