//! Random values, the PKCE S256 transform and constant-time secret comparison.

use base64::Engine as _;

/// `bytes` random bytes from the system's secure source, base64url-encoded without padding.
pub(crate) fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    aws_lc_rs::rand::fill(&mut buf).expect("the system random source is available");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// The S256 code challenge of a PKCE verifier (RFC 7636 §4.2).
pub(crate) fn s256(verifier: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref())
}

/// Compares two secrets in constant time. Both are hashed first, so neither their contents nor
/// their lengths show in the time taken.
pub(crate) fn secrets_equal(a: &str, b: &str) -> bool {
    let ha = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, a.as_bytes());
    let hb = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, b.as_bytes());
    aws_lc_rs::constant_time::verify_slices_are_equal(ha.as_ref(), hb.as_ref()).is_ok()
}

/// A PKCE code verifier as RFC 7636 §4.1 allows: 43 to 128 unreserved characters.
pub(crate) fn is_valid_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// An S256 code challenge: 43 base64url characters (a SHA-256 digest).
pub(crate) fn is_valid_s256_challenge(challenge: &str) -> bool {
    challenge.len() == 43 && challenge.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_matches_rfc_7636_appendix_b() {
        assert_eq!(s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn secrets_compare_by_content() {
        assert!(secrets_equal("s3cret", "s3cret"));
        assert!(!secrets_equal("s3cret", "s3cres"));
        assert!(!secrets_equal("s3cret", ""));
    }

    #[test]
    fn random_tokens_differ_and_have_the_asked_length() {
        let a = random_token(32);
        assert_eq!(a.len(), 43);
        assert_ne!(a, random_token(32));
        assert!(is_valid_verifier(&a));
    }
}
