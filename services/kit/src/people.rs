//! Counts of people (waiting, intakes, care use) as the hub shows them: a count from 1 to 9 is
//! a small cell, close to a single patient, and is shown as "fewer than 10" to everyone but the
//! organisation that supplied it. Counts of offers, signals and organisations are not people.

/// Counts from 1 to `SMALL_CELL_THRESHOLD - 1` are suppressed; 0 and counts from the threshold
/// on are shown as they are.
pub const SMALL_CELL_THRESHOLD: i32 = 10;

/// Whether `count` is a small cell: 1 to 9.
pub fn is_small_cell(count: i32) -> bool {
    (1..SMALL_CELL_THRESHOLD).contains(&count)
}

/// A count of people. Counts from 1 to 9 are shown as "fewer than 10" (`exact: null`,
/// `fewerThan: 10`) to everyone but the organisation that supplied them; 0 and counts of 10 or
/// more are shown as they are (`exact` set, `fewerThan: null`).
#[derive(async_graphql::SimpleObject, Debug, Clone, PartialEq, Eq)]
// Shareable so that another subgraph (the national picture's aggregates) can return it too.
#[graphql(shareable, tag = "public")]
pub struct PeopleCount {
    /// The count; `null` when it is between 1 and 9 and the caller did not supply it.
    pub exact: Option<i32>,
    /// `10` when the count is hidden because it is between 1 and 9 ("fewer than 10"); `null`
    /// when `exact` is given.
    pub fewer_than: Option<i32>,
    /// For display: the count, or "fewer than 10".
    pub label: String,
}

impl PeopleCount {
    /// `count` as shown to a caller; `supplier` says whether the caller supplied it (and so
    /// sees its own exact figure).
    pub fn shown(count: i32, supplier: bool) -> Self {
        if is_small_cell(count) && !supplier {
            Self {
                exact: None,
                fewer_than: Some(SMALL_CELL_THRESHOLD),
                label: format!("fewer than {SMALL_CELL_THRESHOLD}"),
            }
        } else {
            Self { exact: Some(count), fewer_than: None, label: count.to_string() }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_cells_are_hidden_from_everyone_but_the_supplier() {
        for n in 1..=9 {
            let hidden = PeopleCount::shown(n, false);
            assert_eq!(hidden, PeopleCount { exact: None, fewer_than: Some(10), label: "fewer than 10".into() });
            assert_eq!(PeopleCount::shown(n, true).exact, Some(n));
        }
        for n in [0, 10, 11, 250] {
            let shown = PeopleCount::shown(n, false);
            assert_eq!(shown, PeopleCount { exact: Some(n), fewer_than: None, label: n.to_string() });
        }
    }
}
