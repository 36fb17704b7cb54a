//! `ggzhub import care-use` (issue 21): the real binary on a demo database of its own. A file
//! with errors exits non-zero listing every refused line and stores nothing; the example file of
//! `docs/care-use.md` is stored, and imported again replaces the supplier's quarter.

use std::path::Path;
use std::process::{Command, Output};

/// The demo national table (`services/region/data/demo/organisations.json`).
const DEMO_NATIONAL_TABLE: &str = "07a3f849-047d-5ed0-bd4c-6d00be40ea72";

fn ggzhub(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ggzhub"))
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        // The test's own SQLite file, whatever the environment says.
        .env_remove("DATABASE_URL")
        .env_remove("REGION_DATABASE_URL")
        .output()
        .expect("ggzhub runs")
}

#[test]
fn import_care_use_checks_every_line_and_stores_a_good_file() {
    let dir = std::env::temp_dir().join(format!("ggzhub-care-use-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let seeded = ggzhub(&dir, &["seed", "region", "--demo"]);
    assert!(seeded.status.success(), "{}", String::from_utf8_lossy(&seeded.stderr));

    let bad = dir.join("bad.csv");
    std::fs::write(
        &bad,
        "period,region,category,people_in_care,new_referrals,treated_in_region\n\
         2026-Q3,nowhere,ACUTE,10,1,\n\
         2026-13,groningen,ACUTE,-1,2,\n\
         2026-Q3,iza-groningen,ACUTE,10,1,\n",
    )
    .expect("write");
    let bad = bad.to_str().expect("utf-8 path");
    let refused = ggzhub(&dir, &["import", "care-use", "--from", bad, "--supplier", DEMO_NATIONAL_TABLE]);
    assert!(!refused.status.success(), "a bad file exits non-zero");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    for needle in [
        "4 error(s) in the care-use file, nothing was stored",
        "line 2: region: unknown region nowhere",
        "line 3: period: not a calendar quarter",
        "line 3: people_in_care: a count must not be negative, got -1",
        "line 4: region: iza-groningen is an IZA region",
    ] {
        assert!(stderr.contains(needle), "{needle:?} missing from:\n{stderr}");
    }

    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/examples/care-use.csv");
    let args = ["import", "care-use", "--from", example, "--supplier", DEMO_NATIONAL_TABLE];
    let stored = ggzhub(&dir, &args);
    let stdout = String::from_utf8_lossy(&stored.stdout);
    assert!(stored.status.success(), "{}", String::from_utf8_lossy(&stored.stderr));
    assert!(stdout.contains("imported 7 region figures and 2 flows for 2026-Q3"), "{stdout}");
    let again = ggzhub(&dir, &args);
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert!(stdout.contains("(replaced 9 earlier figures)"), "{stdout}");
    // Each import moves the quarter's version on by one (the demo may hold 2026-Q3 already).
    let version = |out: &str| -> i32 {
        let at = out.find("2026-Q3 is now at version ").unwrap_or_else(|| panic!("no version in {out}"));
        out[at + 26..].split_whitespace().next().and_then(|v| v.parse().ok()).expect("a version")
    };
    let v = version(&stdout);
    assert!(v >= 2, "{stdout}");
    // A stale --expected-version stores nothing and exits non-zero; the current one replaces.
    let stale = ggzhub(&dir, &[&args[..], &["--expected-version", &format!("2026-Q3={}", v - 1)]].concat());
    assert!(!stale.status.success(), "a stale version exits non-zero");
    let stderr = String::from_utf8_lossy(&stale.stderr);
    assert!(stderr.contains(&format!("is at version {v}, not {}", v - 1)), "{stderr}");
    let current = ggzhub(&dir, &[&args[..], &["--expected-version", &format!("2026-Q3={v}")]].concat());
    let stdout = String::from_utf8_lossy(&current.stdout);
    assert!(current.status.success(), "{}", String::from_utf8_lossy(&current.stderr));
    assert_eq!(version(&stdout), v + 1, "{stdout}");
    let bad = ggzhub(&dir, &[&args[..], &["--expected-version", "2026-Q3"]].concat());
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("QUARTER=VERSION"));

    let not_a_supplier =
        ggzhub(&dir, &["import", "care-use", "--from", example, "--supplier", &uuid::Uuid::nil().to_string()]);
    assert!(!not_a_supplier.status.success());
    assert!(String::from_utf8_lossy(&not_a_supplier.stderr).contains("supplier: unknown organisation"));
    let _ = std::fs::remove_dir_all(&dir);
}
