//! Operation limits, checked once per document after validation (and cached with it): depth,
//! aliases, root fields, directives per field and the number of selections after every fragment
//! is expanded. Fragments are measured once each and multiplied by their uses, so a document
//! whose fragments fan out exponentially is measured in linear time and refused.

use std::collections::HashMap;

use apollo_compiler::executable::{Operation, Selection, SelectionSet};
use apollo_compiler::{ExecutableDocument, Name};
use serde::{Deserialize, Serialize};

use crate::error::GatewayError;
use crate::pipeline::RequestFailure;

/// Limits on one operation; every one is configurable in `gateway.toml` (`[limits]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperationLimits {
    /// Deepest field nesting (`{ a { b } }` is 2).
    pub max_depth: u64,
    /// Aliased fields, counted after fragment expansion.
    pub max_aliases: u64,
    /// Fields at the root of the operation.
    pub max_root_fields: u64,
    /// Directives on one field, fragment spread or inline fragment.
    pub max_directives: u64,
    /// Field selections after every fragment is expanded (fragment explosion).
    pub max_selections: u64,
    /// Largest estimated cost (see [`crate::pipeline::cost`]): COST_ESTIMATED_TOO_EXPENSIVE above it.
    pub max_cost: u64,
    /// Size assumed for a list without `@listSize` and without a `first`/`last`/`limit`
    /// argument, in the cost estimate.
    pub default_list_size: u64,
}

impl Default for OperationLimits {
    fn default() -> Self {
        Self {
            max_depth: 20,
            max_aliases: 50,
            max_root_fields: 30,
            max_directives: 10,
            max_selections: 5_000,
            max_cost: 10_000,
            default_list_size: 10,
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Measure {
    depth: u64,
    aliases: u64,
    selections: u64,
    directives: u64,
    root_fields: u64,
}

struct Measurer<'d> {
    document: &'d ExecutableDocument,
    fragments: HashMap<Name, Measure>,
}

impl Measurer<'_> {
    fn selection_set(&mut self, set: &SelectionSet) -> Measure {
        let mut total = Measure::default();
        for selection in &set.selections {
            match selection {
                Selection::Field(field) => {
                    let inner = self.selection_set(&field.selection_set);
                    total.depth = total.depth.max(inner.depth.saturating_add(1));
                    total.aliases =
                        total.aliases.saturating_add(inner.aliases).saturating_add(u64::from(field.alias.is_some()));
                    total.selections = total.selections.saturating_add(inner.selections).saturating_add(1);
                    total.directives = total.directives.max(inner.directives).max(field.directives.len() as u64);
                    total.root_fields = total.root_fields.saturating_add(1);
                }
                Selection::FragmentSpread(spread) => {
                    let inner = self.fragment(&spread.fragment_name);
                    total = combine(total, inner, spread.directives.len() as u64);
                }
                Selection::InlineFragment(inline) => {
                    let inner = self.selection_set(&inline.selection_set);
                    total = combine(total, inner, inline.directives.len() as u64);
                }
            }
        }
        total
    }

    fn fragment(&mut self, name: &Name) -> Measure {
        if let Some(measure) = self.fragments.get(name) {
            return *measure;
        }
        // Validation refuses fragment cycles; the placeholder keeps a cycle finite all the same.
        self.fragments.insert(name.clone(), Measure::default());
        let measure = match self.document.fragments.get(name) {
            Some(fragment) => self.selection_set(&fragment.selection_set),
            None => Measure::default(),
        };
        self.fragments.insert(name.clone(), measure);
        measure
    }
}

fn combine(total: Measure, inner: Measure, directives: u64) -> Measure {
    Measure {
        depth: total.depth.max(inner.depth),
        aliases: total.aliases.saturating_add(inner.aliases),
        selections: total.selections.saturating_add(inner.selections),
        directives: total.directives.max(inner.directives).max(directives),
        root_fields: total.root_fields.saturating_add(inner.root_fields),
    }
}

/// Refuses the operation when it exceeds a limit (HTTP 400, one error per exceeded limit).
pub fn check(
    document: &ExecutableDocument,
    operation: &Operation,
    limits: &OperationLimits,
) -> Result<(), RequestFailure> {
    let mut measurer = Measurer { document, fragments: HashMap::new() };
    let measure = measurer.selection_set(&operation.selection_set);
    let mut errors = Vec::new();
    let mut first = None;
    let mut exceeds = |value: u64, max: u64, what: &str, kind: GatewayError| {
        if value > max {
            first.get_or_insert(kind);
            errors.push(kind.error(format!("the operation has {value} {what}; at most {max} are allowed")));
        }
    };
    exceeds(measure.depth, limits.max_depth, "levels of nesting", GatewayError::MaxDepthLimit);
    exceeds(measure.aliases, limits.max_aliases, "aliases", GatewayError::MaxAliasesLimit);
    exceeds(measure.root_fields, limits.max_root_fields, "root fields", GatewayError::MaxRootFieldsLimit);
    exceeds(measure.directives, limits.max_directives, "directives on one selection", GatewayError::MaxDirectivesLimit);
    exceeds(
        measure.selections,
        limits.max_selections,
        "field selections once fragments are expanded",
        GatewayError::MaxSelectionsLimit,
    );
    match first {
        None => Ok(()),
        Some(kind) => Err(RequestFailure::new(kind, errors)),
    }
}
