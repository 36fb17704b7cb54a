//! The personal-data guard on free text: a safety net, not a guarantee.
//!
//! The hub holds no patient-level data. Free text (descriptions, notes, assessments, patient
//! input, measures, …) is refused when it holds something that looks like one of four kinds of
//! personal data. Names and case descriptions cannot be recognised, so the schema keeps saying
//! "no personal data" on every such field. The heuristics, chosen to refuse what people type
//! while leaving organisational text alone:
//!
//! - **BSN**: 9 digits that pass the 11-check (elfproef), written together (`123456782`) or in
//!   groups of 2–4 digits with one kind of separator (`123.456.782`, `1234 56 782`,
//!   `123-456-782`). Not read as BSNs: 8-digit numbers (KvK, AGB and URA numbers have 8 digits; a
//!   BSN with its leading zero dropped is missed), digits glued to letters (VAT numbers, IBANs),
//!   amounts after `€`/`EUR` or with decimals (`123.456.789,00`), and numbers inside a longer
//!   run of digits. An RSIN (an organisation's fiscal number) passes the same check and is refused
//!   too: organisations are identified by KvK, URA, AGB or UZOVI in the hub.
//! - **Date of birth**: a full calendar date (`12-03-1985`, `12/03/1985`, `12.03.1985`,
//!   `1985-03-12`, `12-03-85`, `12 maart 1985`, `12 mrt. 1985`, `March 12, 1985`) with a year
//!   from 1900 to 2009, or any full date right after a birth word (`geboren`, `geb.`,
//!   `geboortedatum`, `born`, `birth`, `DOB`). Plans and signals speak of dates from 2010 on,
//!   people in crucial care were mostly born before; a month (`2026-09`) or a year alone is never
//!   refused, nor is a date before 1900. A date with its month written out (`1 januari 2008`) is
//!   how policy text speaks of history, so it is refused only after a birth word.
//! - **E-mail address**: `local@domain.tld` with a top-level domain of at least two letters.
//! - **Dutch phone number**: ten digits starting with one zero, after `+31`/`0031` (with or
//!   without `(0)`) or as typed nationally: `0612345678`, `06-12345678`, `06 1234 5678`,
//!   `030-1234567`, `0513 123 456`, `+31 6 12345678`, `+31 (0)30 123 45 67`, and the service
//!   numbers `0800`/`0900`/`0906`/`0909` with 4 or 7 digits. The first group must be a plausible
//!   area code (`06`, or 3 or 4 digits), which keeps dates and times apart from numbers; times
//!   such as `08.00-17.00` are skipped.

use chrono::NaiveDate;

/// What kind of personal data a text seems to hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonalData {
    /// A burgerservicenummer: 9 digits passing the 11-check.
    Bsn,
    /// A full date that looks like a date of birth.
    DateOfBirth,
    /// An e-mail address.
    Email,
    /// A Dutch phone number.
    Phone,
}

impl PersonalData {
    /// Every kind, for callers that allow none.
    pub const ALL: [PersonalData; 4] = [Self::Bsn, Self::DateOfBirth, Self::Email, Self::Phone];

    /// How the kind is named in an error message.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Bsn => "a citizen service number (BSN)",
            Self::DateOfBirth => "a date of birth",
            Self::Email => "an e-mail address",
            Self::Phone => "a phone number",
        }
    }
}

/// The first kind of personal data among `kinds` that `text` seems to hold (in the order BSN,
/// phone number, e-mail address, date of birth), or `None`.
pub fn find(text: &str, kinds: &[PersonalData]) -> Option<PersonalData> {
    let mut chars: Vec<char> = text.chars().collect();
    // Dates first: a date of birth is reported as such, and every full date is then blanked so
    // that its digits are not read as part of a phone number or BSN.
    let dates = full_dates(&chars);
    let birth = dates.iter().any(|d| d.birth_like);
    for d in &dates {
        chars[d.start..d.end].iter_mut().for_each(|c| *c = 'x');
    }
    blank_times(&mut chars);
    let phones = phone_spans(&chars);
    let has = |k| kinds.contains(&k);
    if has(PersonalData::Bsn) && has_bsn(&chars, &phones) {
        return Some(PersonalData::Bsn);
    }
    if has(PersonalData::Phone) && !phones.is_empty() {
        return Some(PersonalData::Phone);
    }
    if has(PersonalData::Email) && has_email(&chars) {
        return Some(PersonalData::Email);
    }
    if has(PersonalData::DateOfBirth) && birth {
        return Some(PersonalData::DateOfBirth);
    }
    None
}

/// The 11-check (elfproef) of a BSN: 9·d1 + 8·d2 + … + 2·d8 − d9 is a multiple of 11; all zeros
/// is no number.
pub fn passes_eleven_check(digits: &[u8; 9]) -> bool {
    let sum: i32 =
        digits[..8].iter().zip((2..=9).rev()).map(|(&d, w)| i32::from(d) * w).sum::<i32>() - i32::from(digits[8]);
    sum % 11 == 0 && digits.iter().any(|&d| d != 0)
}

/// A maximal run of ASCII digits: `chars[start..end]`.
#[derive(Debug, Clone, Copy)]
struct Run {
    start: usize,
    end: usize,
}

impl Run {
    fn len(self) -> usize {
        self.end - self.start
    }
}

fn digit_runs(chars: &[char]) -> Vec<Run> {
    let mut runs = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            runs.push(Run { start, end: i });
        } else {
            i += 1;
        }
    }
    runs
}

fn digits_of(chars: &[char], runs: &[Run]) -> Vec<u8> {
    runs.iter().flat_map(|r| chars[r.start..r.end].iter().map(|c| *c as u8 - b'0')).collect()
}

/// A letter (of any script) touching the number: part of a code, not a number on its own.
fn is_letter(c: Option<&char>) -> bool {
    c.is_some_and(|c| c.is_alphabetic())
}

fn before(chars: &[char], i: usize) -> Option<&char> {
    i.checked_sub(1).and_then(|j| chars.get(j))
}

// ----------------------------------------------------------------------------------- BSN

fn has_bsn(chars: &[char], phones: &[(usize, usize)]) -> bool {
    let runs = digit_runs(chars);
    let in_phone = |r: &Run| phones.iter().any(|&(s, e)| r.start >= s && r.end <= e);
    for i in 0..runs.len() {
        // Groups i..=j joined by one and the same single separator.
        let mut sep: Option<char> = None;
        for j in i..runs.len() {
            if j > i {
                let (prev, next) = (runs[j - 1], runs[j]);
                if next.start != prev.end + 1 {
                    break;
                }
                let s = chars[prev.end];
                if !matches!(s, ' ' | '.' | '-' | '\u{a0}') || sep.is_some_and(|x| x != s) {
                    break;
                }
                sep = Some(s);
            }
            let group = &runs[i..=j];
            let total: usize = group.iter().map(|r| r.len()).sum();
            if total > 9 {
                break;
            }
            if total < 9 || group.iter().any(in_phone) {
                continue;
            }
            if group.len() > 1 && group.iter().any(|r| !(2..=4).contains(&r.len())) {
                continue;
            }
            // A dotted or hyphenated number continuing beyond these groups is a longer number
            // (an amount, a reference), not a BSN; spaces separate unrelated numbers.
            let (first, last) = (group[0], group[group.len() - 1]);
            let joined = |a: Option<&char>, b: Option<&char>| {
                matches!(a, Some('.' | '-' | ',')) && b.is_some_and(char::is_ascii_digit)
            };
            if joined(before(chars, first.start), first.start.checked_sub(2).and_then(|k| chars.get(k)))
                || joined(chars.get(last.end), chars.get(last.end + 1))
            {
                continue;
            }
            let labelled_bsn = after_word(chars, first.start, "bsn");
            if (is_letter(before(chars, first.start)) && !labelled_bsn)
                || is_letter(chars.get(last.end))
                || after_currency(chars, first.start)
            {
                continue;
            }
            let d = digits_of(chars, group);
            let arr: [u8; 9] = d.try_into().expect("nine digits counted above");
            if passes_eleven_check(&arr) {
                return true;
            }
        }
    }
    false
}

/// Whether `word` (lower case) ends right at `start`: `bsn123456782`, `BSN:123456782`.
fn after_word(chars: &[char], start: usize, word: &str) -> bool {
    let mut i = start;
    while i > 0 && matches!(chars[i - 1], ' ' | ':' | '.' | '-') {
        i -= 1;
    }
    let n = word.chars().count();
    i >= n
        && chars[i - n..i].iter().collect::<String>().to_lowercase() == word
        && !(i > n && chars[i - n - 1].is_alphanumeric())
}

/// `€ 123.456.789` or `EUR 123456789`: an amount.
fn after_currency(chars: &[char], start: usize) -> bool {
    let mut i = start;
    while i > 0 && chars[i - 1] == ' ' {
        i -= 1;
    }
    if i > 0 && chars[i - 1] == '€' {
        return true;
    }
    i >= 3 && chars[i - 3..i].iter().collect::<String>().eq_ignore_ascii_case("eur")
}

// ---------------------------------------------------------------------------- phone numbers

const PHONE_SEPARATORS: [char; 7] = [' ', '-', '.', '/', '(', ')', '\u{a0}'];

/// Spans (`start..end` in chars) of what reads as a Dutch phone number.
fn phone_spans(chars: &[char]) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match phone_at(chars, i) {
            Some(end) => {
                spans.push((i, end));
                i = end;
            }
            None => i += 1,
        }
    }
    spans
}

/// Whether `i` starts the account number of an IBAN written in groups (`NL91 ABNA 0417 1643 00`):
/// a group of four letters (the bank) right before it, after a country code and check digits.
fn in_iban(chars: &[char], i: usize) -> bool {
    let mut j = i;
    while j > 0 && chars[j - 1] == ' ' {
        j -= 1;
    }
    if j < 4 || !chars[j - 4..j].iter().all(char::is_ascii_alphabetic) {
        return false;
    }
    let mut k = j - 4;
    while k > 0 && chars[k - 1] == ' ' {
        k -= 1;
    }
    k >= 4
        && chars[k - 4..k - 2].iter().all(char::is_ascii_alphabetic)
        && chars[k - 2..k].iter().all(char::is_ascii_digit)
}

/// If a phone number starts at `i`, where it ends.
fn phone_at(chars: &[char], i: usize) -> Option<usize> {
    let prev = before(chars, i);
    if prev.is_some_and(|c| c.is_alphanumeric() || *c == '+') || in_iban(chars, i) {
        return None;
    }
    // The national number being read, starting with its one leading zero.
    let mut national: Vec<u8> = vec![0];
    let mut pos;
    // Whether the area code ("6", "30", "513" after the zero) has been read.
    let mut area_read;
    if chars[i] == '+' {
        // +31, then optionally "(0)".
        let mut p = i + 1;
        while chars.get(p) == Some(&' ') {
            p += 1;
        }
        if chars.get(p) != Some(&'3') || chars.get(p + 1) != Some(&'1') {
            return None;
        }
        pos = p + 2;
        area_read = false;
    } else if chars[i].is_ascii_digit() {
        let run_end = (i..chars.len()).find(|&k| !chars[k].is_ascii_digit()).unwrap_or(chars.len());
        let run: String = chars[i..run_end].iter().collect();
        if let Some(rest) = run.strip_prefix("0031") {
            // 0031 then the number, in the same run or in the next groups.
            if rest.starts_with('0') {
                return None;
            }
            national.extend(rest.bytes().map(|b| b - b'0'));
            area_read = !rest.is_empty();
            pos = run_end;
        } else if run.starts_with('0') && !run.starts_with("00") {
            national = run.bytes().map(|b| b - b'0').collect();
            // The leading zero counts as part of the area code here ("06", "030", "0513").
            let n = run.len();
            if !(matches!(n, 3 | 4 | 8 | 10 | 11) || run == "06") {
                return None;
            }
            area_read = true;
            pos = run_end;
        } else {
            return None;
        }
    } else {
        return None;
    }
    if area_read && let Some(end) = complete(&national, pos, chars, true) {
        return Some(end);
    }
    // International form: optional "(0)" before the area code.
    if !area_read {
        let mut p = pos;
        while chars.get(p).is_some_and(|c| *c == ' ' || *c == '\u{a0}') {
            p += 1;
        }
        if chars.get(p) == Some(&'(') && chars.get(p + 1) == Some(&'0') && chars.get(p + 2) == Some(&')') {
            pos = p + 3;
        }
    }
    loop {
        // A separator run of 1–3 characters, then a group of digits.
        let mut p = pos;
        while p < chars.len() && p - pos < 3 && PHONE_SEPARATORS.contains(&chars[p]) {
            p += 1;
        }
        let gap = p - pos;
        if !chars.get(p).is_some_and(char::is_ascii_digit) || (gap == 0 && area_read) {
            return None;
        }
        let end = (p..chars.len()).find(|&k| !chars[k].is_ascii_digit()).unwrap_or(chars.len());
        let group = &chars[p..end];
        if !area_read {
            // The area code after +31 / 0031 / (0): "6", two or three digits, or the whole
            // nine-digit number.
            if group[0] == '0' || !(matches!(group.len(), 2 | 3 | 9) || group == ['6']) {
                return None;
            }
            area_read = true;
        } else if group.len() < 2 {
            return None;
        }
        national.extend(group.iter().map(|c| *c as u8 - b'0'));
        pos = end;
        if national.len() > 11 {
            return None;
        }
        if let Some(end) = complete(&national, pos, chars, false) {
            return Some(end);
        }
    }
}

/// Whether `national` (with its leading zero) is a whole Dutch number, ending at `end`.
fn complete(national: &[u8], end: usize, chars: &[char], single_run: bool) -> Option<usize> {
    let service =
        national.len() >= 4 && matches!(national[..4], [0, 8, 0, 0] | [0, 9, 0, 0] | [0, 9, 0, 6] | [0, 9, 0, 9]);
    let whole = if service { matches!(national.len(), 8 | 11) } else { national.len() == 10 && national[1] != 0 };
    // Glued to a letter ("0612345678abc") it is a code, not a number.
    if !whole || is_letter(chars.get(end)) {
        return None;
    }
    // An 8- or 11-digit run is a service number only when written as one ("08001234").
    if single_run && !service && national.len() != 10 {
        return None;
    }
    Some(end)
}

/// Blanks times such as `08.00-17.00` or `9.30 uur`, which read like short digit groups.
fn blank_times(chars: &mut [char]) {
    let runs = digit_runs(chars);
    for w in runs.windows(2) {
        let (h, m) = (w[0], w[1]);
        let is_time = h.len() <= 2
            && m.len() == 2
            && m.start == h.end + 1
            && matches!(chars[h.end], '.' | ':')
            && !before(chars, h.start).is_some_and(|c| c.is_ascii_digit() || *c == '.')
            && !chars.get(m.end).is_some_and(|c| {
                c.is_ascii_digit() || *c == '.' && chars.get(m.end + 1).is_some_and(char::is_ascii_digit)
            });
        if !is_time {
            continue;
        }
        let hour: u32 = chars[h.start..h.end].iter().collect::<String>().parse().unwrap_or(99);
        let minute: u32 = chars[m.start..m.end].iter().collect::<String>().parse().unwrap_or(99);
        if hour > 24 || minute > 59 {
            continue;
        }
        // A time sits next to a range mark or "uur"/"u"; "06.12.34.56.78" is a phone number.
        let next = chars[m.end..].iter().find(|c| **c != ' ');
        let prev = chars[..h.start].iter().rev().find(|c| **c != ' ');
        let range = |c: Option<&char>| matches!(c, Some('-' | '–' | '/' | 'u' | 't'));
        if range(next) || range(prev) || chars[h.end] == ':' {
            chars[h.start..m.end].iter_mut().for_each(|c| *c = 'x');
        }
    }
}

// ------------------------------------------------------------------------------- e-mail

fn has_email(chars: &[char]) -> bool {
    let local_char = |c: char| c.is_alphanumeric() || "._%+-'".contains(c);
    let domain_char = |c: char| c.is_alphanumeric() || c == '-' || c == '.';
    chars.iter().enumerate().filter(|(_, c)| **c == '@').any(|(at, _)| {
        let local = chars[..at].iter().rev().take_while(|c| local_char(**c)).count();
        let domain: String = chars[at + 1..].iter().take_while(|c| domain_char(**c)).collect();
        let domain = domain.trim_end_matches(['.', '-']);
        let labels: Vec<&str> = domain.split('.').collect();
        local > 0
            && labels.len() >= 2
            && labels.iter().all(|l| !l.is_empty())
            && labels.last().is_some_and(|tld| tld.chars().count() >= 2 && tld.chars().all(char::is_alphabetic))
    })
}

// -------------------------------------------------------------------------------- dates

/// A full calendar date found in the text.
#[derive(Debug)]
struct FoundDate {
    start: usize,
    end: usize,
    birth_like: bool,
}

/// Month names and abbreviations, Dutch and English.
#[rustfmt::skip]
const MONTHS: &[(&str, u32)] = &[
    ("januari", 1), ("january", 1), ("jan", 1),
    ("februari", 2), ("february", 2), ("feb", 2),
    ("maart", 3), ("march", 3), ("mrt", 3), ("mar", 3),
    ("april", 4), ("apr", 4),
    ("mei", 5), ("may", 5),
    ("juni", 6), ("june", 6), ("jun", 6),
    ("juli", 7), ("july", 7), ("jul", 7),
    ("augustus", 8), ("august", 8), ("aug", 8),
    ("september", 9), ("sept", 9), ("sep", 9),
    ("oktober", 10), ("october", 10), ("okt", 10), ("oct", 10),
    ("november", 11), ("nov", 11),
    ("december", 12), ("dec", 12),
];

fn month_named(word: &str) -> Option<u32> {
    let w = word.to_lowercase();
    MONTHS.iter().find(|(n, _)| *n == w).map(|(_, m)| *m)
}

const BIRTH_WORDS: [&str; 6] = ["geboren", "geb", "geboortedatum", "born", "birth", "dob"];

/// Whether a birth word ends within a few characters before `start`.
fn after_birth_word(chars: &[char], start: usize) -> bool {
    let from = start.saturating_sub(24);
    let window: String = chars[from..start].iter().collect::<String>().to_lowercase();
    let words: Vec<&str> = window.split(|c: char| !c.is_alphabetic()).filter(|w| !w.is_empty()).collect();
    // The last two words before the date ("geboren op", "date of birth:", "geb.").
    words.iter().rev().take(3).any(|w| BIRTH_WORDS.contains(w) || w.starts_with("geboorte"))
}

/// The value of a run of ASCII digits; saturates instead of overflowing on a long run (which is
/// never a valid day, month or year anyway).
fn number(chars: &[char], r: Run) -> u32 {
    chars[r.start..r.end].iter().fold(0u32, |n, c| n.saturating_mul(10).saturating_add(*c as u32 - '0' as u32))
}

fn full_dates(chars: &[char]) -> Vec<FoundDate> {
    let runs = digit_runs(chars);
    let mut found = Vec::new();
    let valid = |y: i32, m: u32, d: u32| NaiveDate::from_ymd_opt(y, m, d).is_some();
    // A numeric date from 1900 to 2009 reads as a date of birth by itself; a date with its month
    // written out ("1 januari 2008") is how policy text speaks of history, so only after a birth word.
    let mut push = |start: usize, end: usize, year: i32, numeric: bool| {
        let birth_like = (numeric && (1900..=2009).contains(&year)) || (year >= 1900 && after_birth_word(chars, start));
        found.push(FoundDate { start, end, birth_like });
    };
    // Numeric dates: three runs joined by the same single separator.
    for w in runs.windows(3) {
        let (a, b, c) = (w[0], w[1], w[2]);
        if b.start != a.end + 1 || c.start != b.end + 1 {
            continue;
        }
        let sep = chars[a.end];
        if sep != chars[b.end] || !matches!(sep, '-' | '/' | '.') {
            continue;
        }
        if is_letter(before(chars, a.start))
            || is_letter(chars.get(c.end))
            || matches!(before(chars, a.start), Some('.' | '-' | '/'))
            || matches!(chars.get(c.end), Some('.' | '-' | '/'))
                && chars.get(c.end + 1).is_some_and(char::is_ascii_digit)
        {
            continue;
        }
        let (x, y, z) = (number(chars, a), number(chars, b), number(chars, c));
        if a.len() <= 2 && b.len() <= 2 && c.len() == 4 && valid(z as i32, y, x) {
            push(a.start, c.end, z as i32, true);
        } else if a.len() == 4 && b.len() <= 2 && c.len() <= 2 && valid(x as i32, y, z) {
            push(a.start, c.end, x as i32, true);
        } else if a.len() == 2 && b.len() == 2 && c.len() == 2 && sep != '.' {
            // dd-mm-yy: 30–99 read as 19yy, 00–29 as 20yy.
            let year = if z >= 30 { 1900 + z as i32 } else { 2000 + z as i32 };
            if valid(year, y, x) {
                push(a.start, c.end, year, true);
            }
        }
    }
    // "12 maart 1985", "12 mrt. 1985", "March 12, 1985".
    let words = word_spans(chars);
    for &(ws, we) in &words {
        let word: String = chars[ws..we].iter().collect();
        let Some(month) = month_named(&word) else { continue };
        let mut p = we;
        if chars.get(p) == Some(&'.') {
            p += 1;
        }
        // Day before: "<day> <month> <year>".
        if let Some(day) =
            runs.iter().find(|r| r.end < ws && chars[r.end..ws].iter().all(|c| *c == ' ') && r.len() <= 2)
            && let Some(year) = year_after(chars, &runs, p, false)
            && valid(year.1 as i32, month, number(chars, *day))
        {
            push(day.start, year.0, year.1 as i32, false);
            continue;
        }
        // Day after: "<month> <day>, <year>".
        if let Some(day) =
            runs.iter().find(|r| r.start > p && chars[p..r.start].iter().all(|c| *c == ' ') && r.len() <= 2)
            && let Some(year) = year_after(chars, &runs, day.end, true)
            && valid(year.1 as i32, month, number(chars, *day))
        {
            push(ws, year.0, year.1 as i32, false);
        }
    }
    found
}

/// A four-digit year after `p` (spaces, or ", " when `comma`), as (end, year).
fn year_after(chars: &[char], runs: &[Run], p: usize, comma: bool) -> Option<(usize, u32)> {
    let r = runs.iter().find(|r| r.start > p)?;
    let gap: String = chars[p..r.start].iter().collect();
    let ok_gap = !gap.is_empty() && gap.chars().all(|c| c == ' ' || (comma && c == ','));
    (ok_gap && r.len() == 4 && !is_letter(chars.get(r.end))).then(|| (r.end, number(chars, *r)))
}

fn word_spans(chars: &[char]) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_alphabetic() {
            let s = i;
            while i < chars.len() && chars[i].is_alphabetic() {
                i += 1;
            }
            spans.push((s, i));
        } else {
            i += 1;
        }
    }
    spans
}

#[cfg(test)]
mod tests;
