//! Demand control: the estimated cost of an operation, after the IBM GraphQL Cost Directive
//! specification (as Apollo Router, Cosmo, Grafbase and Hive Router implement it), refused with
//! `COST_ESTIMATED_TOO_EXPENSIVE` above `limits.max_cost`.
//!
//! A field costs its weight plus, for a list, its size times the weight and the cost of what is
//! selected under it:
//! - weight: `@cost(weight:)` on the field, else `@cost` on its type, else 1 for an object,
//!   interface or union, 0 for a scalar or enum; a field at the root of a mutation weighs 10;
//! - arguments: `@cost` on an argument (and on the fields of an input object written in the
//!   document) adds its weight once;
//! - list size: `@listSize(slicingArguments:)` names the arguments that size the list (the
//!   largest one given counts), `assumedSize` is the size without them, `sizedFields` moves the
//!   size onto child fields (a connection's `edges`/`nodes`). Without `@listSize`, a field's
//!   `first`, `last` or `limit` argument sizes it: a list field itself, or, for an object such as
//!   a Relay connection, its list-typed child fields; otherwise a list counts as
//!   `limits.default_list_size` items.
//!
//! `requireOneSlicingArgument` is not enforced here (each subgraph validates its own arguments).
//! `@skip`/`@include` are ignored and every branch of an abstract type is added, so the estimate
//! errs on the high side. Directives come from the supergraph as loaded; graphql-composition drops
//! `@cost`/`@listSize` when it composes, so a supergraph composed by `ggzhub schema compose` gets
//! the defaults everywhere.
//!
//! When a slicing argument is a variable, the cost depends on the request: it is estimated once
//! per document when the operation is prepared if it does not, and per request with the coerced
//! variables if it does.

use std::collections::HashMap;

use apollo_compiler::ast::{Directive, FieldDefinition, Value};
use apollo_compiler::executable::{Field, Operation, OperationType, Selection, SelectionSet};
use apollo_compiler::response::{JsonMap, JsonValue};
use apollo_compiler::schema::ExtendedType;
use apollo_compiler::{ExecutableDocument, Name, Schema};

use crate::error::{GatewayError, GraphqlError};
use crate::pipeline::RequestFailure;
use crate::pipeline::limits::OperationLimits;

/// Weight of a field at the root of a mutation (the IBM specification's default for the
/// mutation type).
pub const MUTATION_WEIGHT: u64 = 10;

/// Arguments that size a list when the field has no `@listSize`.
const DEFAULT_SLICING_ARGUMENTS: [&str; 3] = ["first", "last", "limit"];

/// The names `@cost` and `@listSize` may have in a supergraph (imported, or namespaced by the
/// cost spec's or federation's `@link`).
const COST_NAMES: [&str; 2] = ["cost", "federation__cost"];
const LIST_SIZE_NAMES: [&str; 3] = ["listSize", "cost__listSize", "federation__listSize"];

/// An estimate and whether it depends on variables (a slicing argument given as a variable).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Estimate {
    pub cost: u64,
    pub depends_on_variables: bool,
}

/// Estimates the cost of `operation`. `schema` is the whole supergraph (where `@cost` and
/// `@listSize` are); `variables` are the coerced variables, or `None` before they are known
/// (then a variable slicing argument counts as absent and `depends_on_variables` is set).
pub fn estimate(
    schema: &Schema,
    document: &ExecutableDocument,
    operation: &Operation,
    default_list_size: u64,
    variables: Option<&JsonMap>,
) -> Estimate {
    let mut estimator = Estimator {
        schema,
        document,
        default_list_size,
        variables,
        depends_on_variables: false,
        fragments: HashMap::new(),
    };
    let root_mutation = operation.operation_type == OperationType::Mutation;
    let cost = estimator.selection_set(&operation.selection_set, None, root_mutation);
    Estimate { cost, depends_on_variables: estimator.depends_on_variables }
}

/// Refuses an operation whose estimated cost is over `limits.max_cost` (HTTP 400,
/// `COST_ESTIMATED_TOO_EXPENSIVE`, with the estimate and the limit in `extensions`). Without
/// `variables` (when the operation is prepared) an operation whose cost depends on them is let
/// through and `Ok(true)` says it must be checked again with them.
pub fn check(
    schema: &Schema,
    document: &ExecutableDocument,
    operation: &Operation,
    limits: &OperationLimits,
    variables: Option<&JsonMap>,
) -> Result<bool, RequestFailure> {
    let estimate = estimate(schema, document, operation, limits.default_list_size, variables);
    if variables.is_none() && estimate.depends_on_variables {
        return Ok(true);
    }
    if estimate.cost > limits.max_cost {
        let error = GraphqlError::new(
            format!(
                "the operation's estimated cost is {}; at most {} is allowed (ask for smaller pages with `first`, or fewer nested lists)",
                estimate.cost, limits.max_cost
            ),
            GatewayError::CostEstimatedTooExpensive,
        )
        .with_extension("estimatedCost", JsonValue::from(estimate.cost))
        .with_extension("maxCost", JsonValue::from(limits.max_cost));
        return Err(RequestFailure::new(GatewayError::CostEstimatedTooExpensive, vec![error]));
    }
    Ok(false)
}

/// A list size that a parent field (through `sizedFields`, or a connection's slicing argument)
/// hands down to some of its child fields.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Sizing {
    size: u64,
    /// The child fields it applies to; `None`: every list-typed child field.
    fields: Option<Vec<String>>,
}

impl Sizing {
    fn applies_to(&self, field: &Field) -> bool {
        match &self.fields {
            Some(names) => names.iter().any(|name| name == field.name.as_str()),
            None => field.definition.ty.is_list(),
        }
    }
}

/// `@listSize` on a field.
#[derive(Debug, Default)]
struct ListSize {
    assumed_size: Option<u64>,
    slicing_arguments: Vec<String>,
    sized_fields: Vec<String>,
}

struct Estimator<'a> {
    schema: &'a Schema,
    document: &'a ExecutableDocument,
    default_list_size: u64,
    variables: Option<&'a JsonMap>,
    depends_on_variables: bool,
    /// Fragments are estimated once per sizing they are spread under, so that fragments that
    /// fan out exponentially cost linear time to estimate.
    fragments: HashMap<(Name, Option<Sizing>, bool), u64>,
}

impl Estimator<'_> {
    fn selection_set(&mut self, set: &SelectionSet, sizing: Option<&Sizing>, root_mutation: bool) -> u64 {
        let mut total: u64 = 0;
        for selection in &set.selections {
            let cost = match selection {
                Selection::Field(field) => {
                    let sized = sizing.filter(|s| s.applies_to(field)).map(|s| s.size);
                    self.field(set.ty.as_str(), field, sized, root_mutation)
                }
                Selection::FragmentSpread(spread) => self.fragment(&spread.fragment_name, sizing, root_mutation),
                Selection::InlineFragment(inline) => self.selection_set(&inline.selection_set, sizing, root_mutation),
            };
            total = total.saturating_add(cost);
        }
        total
    }

    fn fragment(&mut self, name: &Name, sizing: Option<&Sizing>, root_mutation: bool) -> u64 {
        let key = (name.clone(), sizing.cloned(), root_mutation);
        if let Some(cost) = self.fragments.get(&key) {
            return *cost;
        }
        // Validation refuses fragment cycles; the placeholder keeps a cycle finite all the same.
        self.fragments.insert(key.clone(), 0);
        let cost = match self.document.fragments.get(name) {
            Some(fragment) => self.selection_set(&fragment.selection_set, sizing, root_mutation),
            None => 0,
        };
        self.fragments.insert(key, cost);
        cost
    }

    /// The cost of one field selected on `parent`; `sized` is the list size its parent hands it.
    fn field(&mut self, parent: &str, field: &Field, sized: Option<u64>, root_mutation: bool) -> u64 {
        if field.name.starts_with("__") {
            return 0;
        }
        // The supergraph's definition carries the directives; the API schema's may not.
        let schema = self.schema;
        let definition: &FieldDefinition =
            schema.type_field(parent, field.name.as_str()).map(|d| &**d).unwrap_or(&field.definition);
        let type_definition = schema.types.get(definition.ty.inner_named_type());
        let composite = type_definition.is_some_and(|t| t.is_object() || t.is_interface() || t.is_union());
        let weight = weight(definition.directives.iter().map(|d| &**d))
            .or_else(|| type_definition.and_then(|t| weight(t.directives().iter().map(|d| &*d.node))))
            .unwrap_or(if root_mutation { MUTATION_WEIGHT } else { u64::from(composite) });

        let list_size = list_size(definition);
        let slicing: Vec<&str> = match &list_size {
            Some(directive) => directive.slicing_arguments.iter().map(String::as_str).collect(),
            None => DEFAULT_SLICING_ARGUMENTS
                .into_iter()
                .filter(|name| definition.argument_by_name(name).is_some())
                .collect(),
        };
        let sliced = slicing.iter().filter_map(|name| self.int_argument(field, definition, name)).max();
        let assumed = list_size.as_ref().and_then(|l| l.assumed_size);
        let size = sliced.or(assumed).unwrap_or(self.default_list_size);
        let count =
            if definition.ty.is_list() { sliced.or(sized).or(assumed).unwrap_or(self.default_list_size) } else { 1 };
        let child_sizing = match &list_size {
            Some(directive) if !directive.sized_fields.is_empty() => {
                Some(Sizing { size, fields: Some(directive.sized_fields.clone()) })
            }
            Some(_) => None,
            // A connection: `first` on the field sizes its `edges` and `nodes`.
            None if !definition.ty.is_list() && !slicing.is_empty() => Some(Sizing { size, fields: None }),
            None => None,
        };
        let children = self.selection_set(&field.selection_set, child_sizing.as_ref(), false);
        let arguments = self.argument_cost(definition, field);
        count.saturating_mul(weight.saturating_add(children)).saturating_add(arguments)
    }

    /// The value of an integer argument: given in the document, as a variable (when the
    /// variables are known), or the argument's default in the schema.
    fn int_argument(&mut self, field: &Field, definition: &FieldDefinition, name: &str) -> Option<u64> {
        let value = match field.arguments.iter().find(|a| a.name == name) {
            Some(argument) => &argument.value,
            None => definition.argument_by_name(name)?.default_value.as_ref()?,
        };
        match &**value {
            Value::Int(int) => int.as_str().parse::<i64>().ok().map(non_negative),
            Value::Variable(variable) => {
                self.depends_on_variables = true;
                self.variables?.get(variable.as_str())?.as_i64().map(non_negative)
            }
            _ => None,
        }
    }

    /// `@cost` on the arguments given (and on the fields of input objects written inline).
    fn argument_cost(&self, definition: &FieldDefinition, field: &Field) -> u64 {
        field
            .arguments
            .iter()
            .filter_map(|argument| {
                let argument_definition = definition.argument_by_name(&argument.name)?;
                let own = weight(argument_definition.directives.iter().map(|d| &**d)).unwrap_or(0);
                Some(own.saturating_add(self.input_cost(argument_definition.ty.inner_named_type(), &argument.value)))
            })
            .fold(0, u64::saturating_add)
    }

    fn input_cost(&self, type_name: &str, value: &Value) -> u64 {
        match value {
            Value::Object(fields) => {
                let Some(ExtendedType::InputObject(input)) = self.schema.types.get(type_name) else {
                    return 0;
                };
                fields
                    .iter()
                    .filter_map(|(name, value)| {
                        let definition = input.fields.get(name)?;
                        let own = weight(definition.directives.iter().map(|d| &**d)).unwrap_or(0);
                        Some(own.saturating_add(self.input_cost(definition.ty.inner_named_type(), value)))
                    })
                    .fold(0, u64::saturating_add)
            }
            Value::List(items) => {
                items.iter().map(|item| self.input_cost(type_name, item)).fold(0, u64::saturating_add)
            }
            _ => 0,
        }
    }
}

fn non_negative(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

fn find<'a>(directives: impl Iterator<Item = &'a Directive>, names: &[&str]) -> Option<&'a Directive> {
    directives.into_iter().find(|d| names.contains(&d.name.as_str()))
}

/// `@cost(weight:)` among `directives` (an Int, or a numeric string as in the IBM text; negative
/// weights count as 0).
fn weight<'a>(directives: impl Iterator<Item = &'a Directive>) -> Option<u64> {
    let value = find(directives, &COST_NAMES)?.specified_argument_by_name("weight")?;
    let number = match &**value {
        Value::String(text) => text.trim().parse::<f64>().ok()?,
        other => other.to_f64()?,
    };
    // Saturating float-to-integer conversion; NaN becomes 0.
    Some(number.max(0.0).ceil() as u64)
}

fn list_size(definition: &FieldDefinition) -> Option<ListSize> {
    let directive = find(definition.directives.iter().map(|d| &**d), &LIST_SIZE_NAMES)?;
    let strings = |name: &str| -> Vec<String> {
        match directive.specified_argument_by_name(name).map(|v| &**v) {
            Some(Value::List(items)) => items.iter().filter_map(|item| item.as_str().map(str::to_owned)).collect(),
            Some(Value::String(single)) => vec![single.clone()],
            _ => Vec::new(),
        }
    };
    Some(ListSize {
        assumed_size: directive
            .specified_argument_by_name("assumedSize")
            .and_then(|v| v.to_i32())
            .map(|n| non_negative(i64::from(n))),
        slicing_arguments: strings("slicingArguments"),
        sized_fields: strings("sizedFields"),
    })
}

#[cfg(test)]
mod tests {
    use apollo_compiler::ExecutableDocument;
    use apollo_compiler::response::JsonMap;

    use super::*;

    const SCHEMA: &str = r#"
        directive @cost(weight: Int!) on ARGUMENT_DEFINITION | ENUM | FIELD_DEFINITION | INPUT_FIELD_DEFINITION | OBJECT | SCALAR
        directive @listSize(assumedSize: Int, slicingArguments: [String!], sizedFields: [String!], requireOneSlicingArgument: Boolean = true) on FIELD_DEFINITION
        type Query {
          me: User
          users(first: Int, last: Int): [User!]!
          tags: [String!]!
          search(term: String! @cost(weight: 7), filter: Filter): [User!]! @listSize(assumedSize: 4)
          page(size: Int): UserPage! @listSize(slicingArguments: ["size"], sizedFields: ["items"])
          connection(first: Int): UserConnection!
          expensive: Int @cost(weight: 25)
          report: Report
          pinned(limit: Int = 3): [User!]!
          named: Named
        }
        type Mutation { rename(name: String!): User  reset: Boolean @cost(weight: 3) }
        input Filter { kind: String @cost(weight: 2) }
        type User { id: ID! name: String! friends(first: Int): [User!]! }
        type UserPage { items: [User!]! total: Int! }
        type UserConnection { edges: [UserEdge!]! nodes: [User!]! }
        type UserEdge { node: User! cursor: String! }
        type Report @cost(weight: 50) { title: String }
        interface Named { name: String! }
        type Pet implements Named { name: String! owner: User }
    "#;

    fn cost_with(query: &str, variables: Option<serde_json::Value>) -> Estimate {
        let schema = Schema::parse_and_validate(SCHEMA, "schema.graphql").expect("valid schema");
        let document = ExecutableDocument::parse_and_validate(&schema, query, "query.graphql").expect("valid query");
        let operation = document.operations.get(None).expect("one operation");
        let variables: Option<JsonMap> = variables.map(|v| serde_json::from_value(v).expect("variables"));
        estimate(&schema, &document, operation, 10, variables.as_ref())
    }

    fn cost(query: &str) -> u64 {
        let estimate = cost_with(query, None);
        assert!(!estimate.depends_on_variables, "{query}");
        estimate.cost
    }

    #[test]
    fn defaults_follow_the_ibm_specification() {
        assert_eq!(cost("{ me { id name } }"), 1, "objects cost 1, scalars 0");
        assert_eq!(cost("{ __typename me { __typename } }"), 1);
        assert_eq!(cost("{ tags }"), 0, "a list of scalars costs nothing");
        assert_eq!(cost("{ users { id } }"), 10, "a list without a slicing argument: the default size");
        assert_eq!(cost("{ users(first: 3) { id } }"), 3);
        assert_eq!(cost("{ users(first: 3, last: 5) { id } }"), 5, "the largest slicing argument");
        assert_eq!(cost("{ users(first: 3) { friends(first: 4) { name } } }"), 3 * (1 + 4));
        assert_eq!(cost("{ pinned { id } }"), 3, "a slicing argument's default value in the schema");
        assert_eq!(cost("{ connection(first: 5) { edges { node { id } } nodes { id } } }"), 1 + 5 * 2 + 5);
        assert_eq!(cost("{ connection { nodes { id } } }"), 1 + 10);
        assert_eq!(cost("mutation { rename(name: \"x\") { id } }"), 10, "a root mutation field weighs 10");
        assert_eq!(
            cost("mutation { a: rename(name: \"x\") { id } b: rename(name: \"y\") { friends { id } } }"),
            10 + 20
        );
        assert_eq!(cost("mutation { reset }"), 3, "unless @cost says otherwise");
        assert_eq!(cost("{ named { name ... on Pet { owner { id } } } }"), 2);
    }

    #[test]
    fn cost_and_list_size_directives_are_honoured() {
        assert_eq!(cost("{ expensive }"), 25);
        assert_eq!(cost("{ report { title } }"), 50, "@cost on the type");
        assert_eq!(cost("{ search(term: \"a\") { id } }"), 4 + 7, "assumedSize, plus the argument's weight");
        assert_eq!(cost("{ search(term: \"a\", filter: { kind: \"x\" }) { id } }"), 4 + 7 + 2);
        assert_eq!(cost("{ page(size: 6) { items { id } total } }"), 1 + 6);
        assert_eq!(cost("{ page { items { id } } }"), 1 + 10);
    }

    #[test]
    fn fragments_are_counted_where_they_are_spread() {
        let query = "{ users(first: 2) { ...F } connection(first: 3) { ...C } }
            fragment F on User { friends(first: 5) { id } }
            fragment C on UserConnection { nodes { ...F } }";
        assert_eq!(cost(query), 2 * (1 + 5) + 1 + 3 * (1 + 5));
    }

    #[test]
    fn variables_size_lists_once_they_are_known() {
        let query = "query($n: Int) { users(first: $n) { friends(first: $n) { id } } }";
        let before = cost_with(query, None);
        assert!(before.depends_on_variables);
        let after = cost_with(query, Some(serde_json::json!({ "n": 100 })));
        assert_eq!(after.cost, 100 * (1 + 100));
        let absent = cost_with(query, Some(serde_json::json!({})));
        assert_eq!(absent.cost, 10 * (1 + 10), "an absent variable: the default size");
    }
}
