//! The provider's HTML pages: choosing a demo organisation and person, errors, signed out.
//! Plain, accessible HTML in Dutch (B1); no script at all, one inline style block allowed by its
//! hash in a strict Content Security Policy.

use std::sync::LazyLock;

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;

use crate::model::{Account, kind_in_dutch, kind_plural_in_dutch};

const STYLE: &str = "\
body{font-family:system-ui,sans-serif;line-height:1.5;color:#1a1a1a;background:#fff;margin:0}\
main{max-width:44rem;margin:0 auto;padding:1rem 1.5rem 3rem}\
h1{font-size:1.75rem;margin:1rem 0}\
h2{font-size:1.3rem;margin:1.5rem 0 .5rem}\
.let-op{border-left:.3rem solid #b35900;background:#fff4e5;padding:.5rem 1rem}\
.fout{border-left:.3rem solid #b00020;background:#fdecee;padding:.5rem 1rem}\
fieldset{border:1px solid #767676;border-radius:.25rem;margin:1rem 0;padding:.5rem 1rem}\
legend{font-weight:600;padding:0 .25rem}\
.soort{font-weight:400;color:#4a4a4a}\
.keuze{margin:.4rem 0}\
input[type=radio]{width:1.2rem;height:1.2rem;vertical-align:middle;margin-right:.5rem}\
button{font:inherit;padding:.6rem 1.4rem;margin:1rem 1rem 0 0;border-radius:.25rem;cursor:pointer;\
border:2px solid #154273;background:#154273;color:#fff}\
button.tweede{background:#fff;color:#154273}\
:focus-visible{outline:3px solid #ffbf47;outline-offset:2px}";

/// `'sha256-…'` of [`STYLE`], for the Content Security Policy.
static STYLE_HASH: LazyLock<String> = LazyLock::new(|| {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, STYLE.as_bytes());
    format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(digest.as_ref()))
});

/// Escapes text for HTML element content and quoted attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn document(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"nl\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} – ggzhub (ontwikkelomgeving)</title>\n<style>{STYLE}</style>\n</head>\n\
         <body>\n<main>\n{body}</main>\n</body>\n</html>\n",
        title = escape(title)
    )
}

/// Headers every page carries. `form_target` is the origin the consent form may end up at (the
/// client's redirect URI): browsers apply `form-action` to the redirect after the POST too.
fn security_headers(form_target: Option<&str>) -> HeaderMap {
    let form_action = match form_target {
        Some(origin) => format!("'self' {origin}"),
        None => "'none'".to_owned(),
    };
    let csp = format!(
        "default-src 'none'; style-src {}; form-action {form_action}; frame-ancestors 'none'; base-uri 'none'",
        *STYLE_HASH
    );
    let mut h = HeaderMap::new();
    let pairs: [(HeaderName, String); 6] = [
        (header::CONTENT_TYPE, "text/html; charset=utf-8".into()),
        (header::CONTENT_SECURITY_POLICY, csp),
        (header::CACHE_CONTROL, "no-store".into()),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff".into()),
        (header::X_FRAME_OPTIONS, "DENY".into()),
        (header::REFERRER_POLICY, "no-referrer".into()),
    ];
    for (name, value) in pairs {
        if let Ok(value) = HeaderValue::from_str(&value) {
            h.insert(name, value);
        }
    }
    h
}

/// What the sign-in page shows.
pub(crate) struct ChoicePage<'a> {
    pub client_id: &'a str,
    pub request_id: &'a str,
    pub csrf: &'a str,
    pub accounts: &'a [Account],
    /// Origin of the redirect URI (for `form-action`).
    pub redirect_origin: &'a str,
    /// A message about the previous attempt.
    pub error: Option<&'a str>,
    /// The `Set-Cookie` value that binds the form to this browser.
    pub cookie: Option<&'a str>,
}

/// The page to pick a demo organisation and person.
pub(crate) fn choice(page: &ChoicePage<'_>, status: StatusCode) -> Response {
    let mut body = String::new();
    body.push_str("<h1>Inloggen bij ggzhub</h1>\n");
    body.push_str(
        "<p class=\"let-op\"><strong>Let op:</strong> dit is de ontwikkelomgeving. U logt in zonder \
         wachtwoord, als een verzonnen organisatie. Gebruik deze pagina niet voor echte gegevens.</p>\n",
    );
    body.push_str(&format!(
        "<p>De toepassing <strong>{}</strong> wil weten wie u bent. Kies de organisatie en de persoon \
         waarmee u wilt inloggen. Kies daarna <strong>Inloggen</strong>.</p>\n",
        escape(page.client_id)
    ));
    if let Some(error) = page.error {
        body.push_str(&format!("<div class=\"fout\" role=\"alert\"><p>{}</p></div>\n", escape(error)));
    }
    body.push_str("<form method=\"post\" action=\"/authorize\">\n");
    body.push_str(&format!(
        "<input type=\"hidden\" name=\"request\" value=\"{}\">\n<input type=\"hidden\" name=\"csrf\" value=\"{}\">\n",
        escape(page.request_id),
        escape(page.csrf)
    ));
    // Grouped by kind under a heading each, in the order the kinds first appear: with a hundred
    // organisations a person finds theirs by kind first.
    let mut kinds: Vec<&str> = Vec::new();
    for account in page.accounts.iter().filter(|a| !a.persons.is_empty()) {
        if !kinds.contains(&account.kind.as_str()) {
            kinds.push(&account.kind);
        }
    }
    for kind in kinds {
        body.push_str(&format!("<h2>{}</h2>\n", escape(kind_plural_in_dutch(kind))));
        let of_kind = page.accounts.iter().enumerate().filter(|(_, a)| a.kind == kind && !a.persons.is_empty());
        for (a, account) in of_kind {
            push_account(&mut body, a, account);
        }
    }
    body.push_str(
        "<button type=\"submit\" name=\"action\" value=\"sign_in\">Inloggen</button>\
         <button type=\"submit\" name=\"action\" value=\"cancel\" class=\"tweede\" formnovalidate>Annuleren</button>\n\
         </form>\n",
    );
    let mut headers = security_headers(Some(page.redirect_origin));
    if let Some(cookie) = page.cookie.and_then(|c| HeaderValue::from_str(c).ok()) {
        headers.insert(header::SET_COOKIE, cookie);
    }
    (status, headers, document("Inloggen", &body)).into_response()
}

/// One organisation's fieldset with a radio button per person.
fn push_account(body: &mut String, a: usize, account: &Account) {
    body.push_str(&format!(
        "<fieldset>\n<legend>{} <span class=\"soort\">({}, {} {})</span></legend>\n",
        escape(&account.organisation),
        escape(kind_in_dutch(&account.kind)),
        escape(&account.scheme),
        escape(&account.identifier)
    ));
    for (p, person) in account.persons.iter().enumerate() {
        body.push_str(&format!(
            "<div class=\"keuze\"><input type=\"radio\" name=\"person\" id=\"persoon-{a}-{p}\" value=\"{}\" required>\
                 <label for=\"persoon-{a}-{p}\">{}</label></div>\n",
            escape(&person.subject),
            escape(&person.name)
        ));
    }
    body.push_str("</fieldset>\n");
}

/// A page saying why the request cannot go on. Never redirects: used when the client or its
/// redirect URI cannot be trusted.
pub(crate) fn error(status: StatusCode, message: &str) -> Response {
    let body = format!(
        "<h1>Inloggen lukt niet</h1>\n<div class=\"fout\" role=\"alert\"><p>{}</p></div>\n\
         <p>Ga terug naar de toepassing waar u vandaan kwam en probeer het opnieuw.</p>\n",
        escape(message)
    );
    (status, security_headers(None), document("Inloggen lukt niet", &body)).into_response()
}

/// The page shown after signing out without a way back.
pub(crate) fn signed_out() -> Response {
    let body = "<h1>U bent uitgelogd</h1>\n<p>U kunt dit venster sluiten.</p>\n";
    (StatusCode::OK, security_headers(None), document("Uitgelogd", body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(escape("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    }
}
