use super::*;

fn kind(text: &str) -> Option<PersonalData> {
    find(text, &PersonalData::ALL)
}

#[track_caller]
fn refused(kind_expected: PersonalData, texts: &[&str]) {
    for t in texts {
        assert_eq!(kind(t), Some(kind_expected), "should be refused as {kind_expected:?}: {t:?}");
    }
}

#[track_caller]
fn accepted(texts: &[&str]) {
    for t in texts {
        assert_eq!(kind(t), None, "should be accepted: {t:?}");
    }
}

fn nine(s: &str) -> [u8; 9] {
    let d: Vec<u8> = s.bytes().map(|b| b - b'0').collect();
    d.try_into().expect("nine digits")
}

/// Valid BSNs (they pass the 11-check), generated at random.
const VALID_BSNS: [&str; 16] = [
    "123456782",
    "111222333",
    "012345672",
    "999999990",
    "347712782",
    "976787301",
    "455824009",
    "673701293",
    "154892713",
    "262096638",
    "717491316",
    "615281916",
    "792811641",
    "178634438",
    "948526166",
    "733068297",
];

/// Nine-digit numbers that fail the 11-check.
const INVALID_BSNS: [&str; 13] = [
    "123456789",
    "949394817",
    "408495730",
    "247767551",
    "162050095",
    "089104138",
    "189212348",
    "162455407",
    "249061789",
    "707076898",
    "250542714",
    "012952615",
    "520724767",
];

#[test]
fn eleven_check_matches_known_numbers() {
    for b in VALID_BSNS {
        assert!(passes_eleven_check(&nine(b)), "{b} passes");
    }
    for b in INVALID_BSNS {
        assert!(!passes_eleven_check(&nine(b)), "{b} fails");
    }
    assert!(!passes_eleven_check(&nine("000000000")), "all zeros is no number");
}

#[test]
fn bsns_are_refused_as_people_type_them() {
    for b in VALID_BSNS {
        let (a, m, z) = (&b[..3], &b[3..6], &b[6..]);
        let dotted = format!("cliënt met BSN {a}.{m}.{z} wacht al lang");
        let spaced = format!("bsn: {a} {m} {z}.");
        let passport = format!("BSN {}.{}.{}", &b[..4], &b[4..6], &b[6..]);
        let hyphen = format!("({a}-{m}-{z})");
        let plain = format!("Mevrouw X, {b}, woont in Utrecht");
        let after_year = format!("in 2026 {a} {m} {z} aangemeld");
        let pairs = format!("BSN: {a} {} {} {}", &b[3..5], &b[5..7], &b[7..]);
        for t in [dotted, spaced, passport, hyphen, plain, after_year, pairs] {
            assert_eq!(kind(&t), Some(PersonalData::Bsn), "{t:?}");
        }
    }
}

#[test]
fn numbers_that_fail_the_check_or_are_not_bsns_pass() {
    for b in INVALID_BSNS {
        accepted(&[&format!("referentie {b}"), &format!("{}.{}.{}", &b[..3], &b[3..6], &b[6..])]);
    }
    accepted(&[
        // KvK, AGB, URA: eight digits, even when a leading zero would make them pass the check.
        "KvK 30124359",
        "AGB-code 12345678, URA 87654321",
        "kvk-nummer 30124359 en vestigingsnummer 000012345678",
        // UZOVI, postcodes, years, months, version numbers, decimals, ranges.
        "UZOVI 3311",
        "Postcode 3511 AB, huisnummer 12",
        "3584 CX Utrecht",
        "In 2025 en 2026 (Q3 2026) bleef de capaciteit 2026-09 gelijk",
        "versie 1.2.3, v2.10.4 en 10.0.19045",
        "12,5 fte en 30 bedden, 24/7 beschikbaar, ratio 1:10",
        "HS-8, Zpm setting 8, 4 weken en 10 weken (Treeknorm 14)",
        // Letters glued on: VAT numbers and IBANs.
        "btw NL123456782B01",
        "IBAN NL91ABNA0417164300",
        // An IBAN written in groups, as printed: the account number is not a phone number.
        "Betaling op NL91 ABNA 0417 1643 00",
        "rekening NL20 INGB 0001 2345 67 t.n.v. de stichting",
        // Amounts.
        "een volume van € 123.456.782 per jaar",
        "EUR 123456782 over drie jaar",
        "123.456.782,00 euro",
        "1.123.456.782 in totaal",
        // Longer numbers.
        "dossier 1234567820",
        "ordernummer 123-456-782-1",
    ]);
}

#[test]
fn dates_of_birth_are_refused() {
    refused(
        PersonalData::DateOfBirth,
        &[
            "geboren 12-03-1985",
            "12/03/1985",
            "dhr. is van 12.03.1985",
            "1985-03-12",
            "1985/3/12",
            "1-2-1970",
            "geb. 12-03-85",
            "geboren 12 maart 1985",
            "geb. 12 mrt. 1985",
            "born 12 March 1985",
            "31-12-2009",
            // Any full date after a birth word.
            "geboortedatum: 01-05-2016",
            "geboren op 4 juni 2018",
            "DOB 2015-06-01",
        ],
    );
}

#[test]
fn planning_dates_and_partial_dates_pass() {
    accepted(&[
        "per 01-01-2027 sluit de afdeling",
        "verwacht tussen 15-03-2026 en 30-06-2026",
        "1 januari 2026",
        "sinds 12-03-2015",
        // Written-out dates are history in policy text unless a birth word precedes them.
        "Sinds 1 januari 2008 valt de ggz onder de Zvw",
        "3 december 1999",
        "March 12, 1985",
        // Runs too long to be a day, month or year (once a multiply overflow).
        "99999999999-1-1",
        "1-1-99999999999",
        "2026-09-30",
        "maart 1985",
        "in 1985 opgericht",
        "2026-09",
        "12-03",
        "op 31 mei",
        "de wet van 12-03-1885",
        "32-13-1985",
        "30-02-1990",
        "12-03-26",
    ]);
}

#[test]
fn email_addresses_are_refused() {
    refused(
        PersonalData::Email,
        &[
            "mail j.jansen@gmail.com",
            "Contact: piet_de.vries+ggz@ziekenhuis-oost.nl.",
            "<anna@example.org>",
            "jan@hotmail.co.uk",
            "zoë@müller.de",
        ],
    );
    accepted(&["@GGZCentraal op sociale media", "kosten @ 40 euro", "a@b", "x@y.1", "info@localhost"]);
}

#[test]
fn dutch_phone_numbers_are_refused() {
    refused(
        PersonalData::Phone,
        &[
            "bel 06-12345678",
            "06 12345678",
            "0612345678",
            "06 1234 5678",
            "06-12 34 56 78",
            "06.12.34.56.78",
            "+31 6 12345678",
            "+31612345678",
            "+31 (0)6 1234 5678",
            "+31 (0)30 123 45 67",
            "0031 6 12345678",
            "0031612345678",
            "030-1234567",
            "030 - 123 45 67",
            "(030) 123 4567",
            "0513 123 456",
            "0513-123456",
            "088 123 4567",
            "020/1234567",
            "0800-1234",
            "0900 1234567",
            "0800 0123",
            "+31-6-12345678",
            "tel: 0031 (0)6 12345678",
            "06\u{a0}12345678",
        ],
    );
}

#[test]
fn numbers_that_are_not_phone_numbers_pass() {
    accepted(&[
        "open 08.00-17.00 uur",
        "van 06.00 - 18.00 / 18.00 - 06.00",
        "tussen 9.30 en 17.00",
        "dienst 06:00-22:00",
        "0 bedden, 040 plekken",
        "01-02-2026 31 bedden",
        "06-05-2026 12 bedden",
        "2 teams, 10 fte, 0,5 fte psychiater",
        "code 0612345678abc",
        "06-123456",
        "112 bij acuut gevaar",
        "+32 2 123 45 67",
        "+31 (0)6 1234",
        "0031 0 12345678",
        "001 234 567 89",
    ]);
}

#[test]
fn kinds_can_be_allowed() {
    let contact = [PersonalData::Bsn, PersonalData::DateOfBirth];
    assert_eq!(find("consultatie: 030-1234567 of expertise@ggz.nl", &contact), None);
    assert_eq!(find("consultatie 030-1234567, BSN 123456782", &contact), Some(PersonalData::Bsn));
    assert_eq!(find("geboren 12-03-1985", &contact), Some(PersonalData::DateOfBirth));
    assert_eq!(find("0800-1234 of +31 (0)30 123 45 67", &contact), None);
}

#[test]
fn ordinary_organisational_text_passes() {
    accepted(&[
        "",
        "De HIC-afdeling in Amersfoort sluit per 1 april 2027 door personeelstekort (3,5 fte vacant).",
        "Regio Utrecht: 12 bedden LIZ, 2 FACT-teams; wachttijd 9 weken (norm 4+10=14).",
        "Aanmeldpauze tot 2026-12-31 wegens verbouwing, kamers 101-112.",
        "Cliënten missen een vast aanspreekpunt; MIND adviseert een regionaal loket.",
        "Contract 2025–2027, evaluatie Q2, volume 1.250 trajecten, € 4.500.000.",
    ]);
}

#[test]
fn mixed_personal_data_names_the_first_kind() {
    let text = "Mw. Jansen, BSN 123456782, geboren 12-03-1985, Dorpsstraat 1, tel. 06-12345678, j@x.nl";
    assert_eq!(kind(text), Some(PersonalData::Bsn));
    assert_eq!(find(text, &[PersonalData::DateOfBirth]), Some(PersonalData::DateOfBirth));
    assert_eq!(find(text, &[PersonalData::Email]), Some(PersonalData::Email));
    assert_eq!(find(text, &[PersonalData::Phone]), Some(PersonalData::Phone));
}

#[test]
fn a_bsn_glued_to_its_label_is_refused() {
    refused(PersonalData::Bsn, &["bsn123456782", "BSN123456782", "BSN:123456782", "cliënt (bsn 123456782)"]);
    // Other letters glued on still mark another kind of number.
    accepted(&["abcbsn123456782x", "ref AB123456782"]);
}
