//! Deprecated fields and arguments an operation uses (issue 22): found once when the operation is
//! prepared, counted per organisation on every request that runs it
//! (`ggzhub.graphql.deprecated.usage`), so that the operator knows whom to call before removing
//! one (docs/partners.md, "Changes to the schema").

use std::collections::{BTreeSet, HashSet};

use apollo_compiler::Name;
use apollo_compiler::executable::{ExecutableDocument, Operation, Selection, SelectionSet};

/// `Type.field` of each deprecated field, and `Type.field(argument:)` of each deprecated argument,
/// that `operation` selects (through fragments too), sorted, each once.
pub fn used(document: &ExecutableDocument, operation: &Operation) -> Vec<String> {
    let mut found = BTreeSet::new();
    let mut seen_fragments = HashSet::new();
    walk(document, &operation.selection_set, &mut found, &mut seen_fragments);
    found.into_iter().collect()
}

fn walk(
    document: &ExecutableDocument,
    set: &SelectionSet,
    found: &mut BTreeSet<String>,
    seen_fragments: &mut HashSet<Name>,
) {
    for selection in &set.selections {
        match selection {
            Selection::Field(field) => {
                let definition = &field.definition;
                if definition.directives.get("deprecated").is_some() {
                    found.insert(format!("{}.{}", set.ty, field.name));
                }
                for argument in &field.arguments {
                    let deprecated = definition
                        .arguments
                        .iter()
                        .any(|a| a.name == argument.name && a.directives.get("deprecated").is_some());
                    if deprecated {
                        found.insert(format!("{}.{}({}:)", set.ty, field.name, argument.name));
                    }
                }
                walk(document, &field.selection_set, found, seen_fragments);
            }
            Selection::FragmentSpread(spread) => {
                if seen_fragments.insert(spread.fragment_name.clone())
                    && let Some(fragment) = document.fragments.get(&spread.fragment_name)
                {
                    walk(document, &fragment.selection_set, found, seen_fragments);
                }
            }
            Selection::InlineFragment(inline) => walk(document, &inline.selection_set, found, seen_fragments),
        }
    }
}

#[cfg(test)]
mod tests {
    use apollo_compiler::{ExecutableDocument, Schema};

    const SDL: &str = r#"
        type Query {
          offers(first: Int, category: String @deprecated(reason: "Use kind.")): [Offer!]!
          oldOffers: [Offer!]! @deprecated(reason: "Use offers. Removal on or after 2027-06-01.")
        }
        type Offer { id: ID! beds: Int @deprecated(reason: "Use capacity.") capacity: Int }
    "#;

    fn used(query: &str) -> Vec<String> {
        let schema = Schema::parse_and_validate(SDL, "schema.graphql").expect("schema");
        let document = ExecutableDocument::parse_and_validate(&schema, query, "q.graphql").expect("valid");
        let operation = document.operations.iter().next().expect("an operation");
        super::used(&document, operation)
    }

    #[test]
    fn finds_deprecated_fields_and_arguments_through_fragments() {
        assert_eq!(used("{ offers(first: 2) { id capacity } }"), Vec::<String>::new());
        assert_eq!(
            used(
                "query Q { oldOffers { ...O } offers(category: \"x\") { ... on Offer { beds } } } fragment O on Offer { beds id }"
            ),
            ["Offer.beds", "Query.offers(category:)", "Query.oldOffers"]
        );
    }
}
