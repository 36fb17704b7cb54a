//! Composition: subgraph SDLs → a supergraph in Apollo's format.
//!
//! The composing itself is `graphql-composition` (Grafbase, MPL-2.0). Its output is close to
//! Apollo's supergraph format but not the same, so it is adapted here on apollo-compiler's AST:
//! - the `@link` definitions (`@link`, `link__Purpose`, `link__Import`) are added and the `@join__*`
//!   definitions replaced with Apollo's (`repeatable`; join v0.3, or v0.4 when a progressive
//!   `@override(label:)` is used, whose label then also goes on the overridden subgraph's
//!   `@join__field` as Apollo writes it and the planner needs it);
//! - `@inaccessible`, `@tag`, `@authenticated`, `@requiresScopes` and `@policy` get their
//!   definitions and their `@link` when used, and only then (the composer always links
//!   `inaccessible`); so would `@cost`/`@listSize`, but graphql-composition 0.12.2 drops them;
//! - root types get `@join__type` (`Query` for every subgraph, as in Apollo's model where every
//!   subgraph has a query root; `Mutation`/`Subscription` for the subgraphs defining them), and so
//!   do unions and custom scalars, per defining subgraph;
//! - root types get back their description, which the composer drops (Apollo's choice: the
//!   description most subgraphs give, ties to the first subgraph by name);
//! - Grafbase's own `@join__owner` is dropped.
//!
//! The output is deterministic: the same subgraphs give the same supergraph, byte for byte.
//! `scripts/check-composition.sh` compares it with `@apollo/composition`'s for the hub's subgraphs
//! and the fixtures in `gateway/tests/fixtures/compose/`.

use std::collections::{BTreeMap, BTreeSet};

use apollo_compiler::ast::{
    Argument, Definition, Directive, DirectiveList, Document, FieldDefinition, InputValueDefinition, OperationType,
    Value,
};
use apollo_compiler::{Name, Node};

/// One subgraph to compose: its name (which becomes its `join__Graph` value, `national-table` →
/// `NATIONAL_TABLE`), the URL the gateway calls it at, and its SDL.
#[derive(Debug, Clone)]
pub struct SubgraphSdl {
    pub name: String,
    pub url: String,
    pub sdl: String,
}

/// Composition failed. `errors` lists every error, each naming the subgraph(s), the type or field
/// and the reason, as graphql-composition reports them; the message prints one per line. Meant for
/// the developer running `ggzhub schema compose`, never for API clients.
#[derive(Debug, thiserror::Error)]
#[error("composition failed:\n{}", .errors.join("\n"))]
pub struct ComposeError {
    pub errors: Vec<String>,
}

impl ComposeError {
    fn one(message: String) -> Self {
        Self { errors: vec![message] }
    }
}

/// Apollo's definitions for link v1.0 and join v0.3, as `@apollo/composition` writes them.
const LINK_AND_JOIN_DEFINITIONS: &str = r#"
directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA
directive @join__enumValue(graph: join__Graph!) repeatable on ENUM_VALUE
directive @join__field(graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, type: String, external: Boolean, override: String, usedOverridden: Boolean) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION
directive @join__graph(name: String!, url: String!) on ENUM_VALUE
directive @join__implements(graph: join__Graph!, interface: String!) repeatable on OBJECT | INTERFACE
directive @join__type(graph: join__Graph!, key: join__FieldSet, extension: Boolean! = false, resolvable: Boolean! = true, isInterfaceObject: Boolean! = false) repeatable on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR
directive @join__unionMember(graph: join__Graph!, member: String!) repeatable on UNION
scalar join__FieldSet
scalar link__Import
enum link__Purpose {
  "`SECURITY` features provide metadata necessary to securely resolve fields."
  SECURITY
  "`EXECUTION` features provide metadata necessary for operation execution."
  EXECUTION
}
"#;

/// The v0.3 `@join__field` definition, as in [`LINK_AND_JOIN_DEFINITIONS`].
const JOIN_FIELD_V0_3: &str = "directive @join__field(graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, type: String, external: Boolean, override: String, usedOverridden: Boolean) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION";
/// Join v0.4 adds `overrideLabel` (progressive `@override(label:)`) and `@join__directive`; Apollo
/// links it only when a label is used, and so do we.
const JOIN_V0_4_DIRECTIVE: &str = "directive @join__directive(graphs: [join__Graph!], name: String!, args: join__DirectiveArguments) repeatable on SCHEMA | OBJECT | INTERFACE | FIELD_DEFINITION\nscalar join__DirectiveArguments\n";
const JOIN_FIELD_V0_4: &str = "directive @join__field(graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, type: String, external: Boolean, override: String, usedOverridden: Boolean, overrideLabel: String) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION";
const JOIN_V0_3: &str = "https://specs.apollo.dev/join/v0.3";
const JOIN_V0_4: &str = "https://specs.apollo.dev/join/v0.4";

/// A feature the supergraph links when one of its directives is used: the directive names, the
/// `@link` arguments, and the definitions Apollo writes for it.
struct Feature {
    directives: &'static [&'static str],
    url: &'static str,
    for_security: bool,
    import: &'static [&'static str],
    definitions: &'static str,
}

/// In the order Apollo writes their `@link`s.
const FEATURES: &[Feature] = &[
    Feature {
        directives: &["tag"],
        url: "https://specs.apollo.dev/tag/v0.3",
        for_security: false,
        import: &[],
        definitions: "directive @tag(name: String!) repeatable on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION | SCHEMA",
    },
    Feature {
        directives: &["inaccessible"],
        url: "https://specs.apollo.dev/inaccessible/v0.2",
        for_security: true,
        import: &[],
        definitions: "directive @inaccessible on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION",
    },
    Feature {
        directives: &["authenticated"],
        url: "https://specs.apollo.dev/authenticated/v0.1",
        for_security: true,
        import: &[],
        definitions: "directive @authenticated on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM",
    },
    Feature {
        directives: &["requiresScopes"],
        url: "https://specs.apollo.dev/requiresScopes/v0.1",
        for_security: true,
        import: &[],
        definitions: "directive @requiresScopes(scopes: [[requiresScopes__Scope!]!]!) on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM\nscalar requiresScopes__Scope",
    },
    Feature {
        directives: &["policy"],
        url: "https://specs.apollo.dev/policy/v0.1",
        for_security: true,
        import: &[],
        definitions: "directive @policy(policies: [[policy__Policy!]!]!) on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM\nscalar policy__Policy",
    },
    Feature {
        directives: &["cost", "listSize"],
        url: "https://specs.apollo.dev/cost/v0.1",
        for_security: false,
        import: &["@listSize"],
        definitions: "directive @cost(weight: Int!) on ARGUMENT_DEFINITION | ENUM | FIELD_DEFINITION | INPUT_FIELD_DEFINITION | OBJECT | SCALAR\ndirective @listSize(assumedSize: Int, slicingArguments: [String!], sizedFields: [String!], requireOneSlicingArgument: Boolean = true) on FIELD_DEFINITION",
    },
];

/// Definitions the composer writes that are replaced with Apollo's (or dropped, as `join__owner`).
fn is_replaced(name: &str) -> bool {
    name.starts_with("join__") && name != "join__Graph"
        || name.starts_with("link__")
        || name == "link"
        || FEATURES.iter().any(|f| f.directives.contains(&name) || name.starts_with(&format!("{}__", f.directives[0])))
}

/// Composes `subgraphs` into an Apollo-format supergraph SDL. The same input always gives the
/// same output, byte for byte.
pub fn compose(subgraphs: &[SubgraphSdl]) -> Result<String, ComposeError> {
    let mut ingested = graphql_composition::Subgraphs::default();
    let mut errors = Vec::new();
    for subgraph in subgraphs {
        if let Err(e) = ingested.ingest_str(&subgraph.sdl, &subgraph.name, Some(&subgraph.url)) {
            errors.push(format!("[{}] the SDL could not be read: {e}", subgraph.name));
        }
    }
    if !errors.is_empty() {
        return Err(ComposeError { errors });
    }
    let graph = graphql_composition::compose(&mut ingested)
        .into_result()
        .map_err(|diagnostics| ComposeError { errors: diagnostics.iter_errors().map(str::to_owned).collect() })?;
    let rendered = graphql_composition::render_federated_sdl(&graph)
        .map_err(|e| ComposeError::one(format!("rendering the supergraph failed: {e}")))?;
    adapt(&rendered, &SubgraphFacts::collect(subgraphs))
}

/// What the adapter needs to know from the subgraph SDLs themselves.
#[derive(Default)]
struct SubgraphFacts {
    /// Type name → the subgraphs defining (or extending) it. Root types under their default
    /// names (`Query`, `Mutation`, `Subscription`), whatever a subgraph calls them.
    definers: BTreeMap<String, BTreeSet<String>>,
    /// Root type name → (subgraph, description) for each subgraph describing its root type.
    root_descriptions: BTreeMap<&'static str, Vec<(String, String)>>,
}

impl SubgraphFacts {
    fn collect(subgraphs: &[SubgraphSdl]) -> Self {
        let mut facts = Self::default();
        for subgraph in subgraphs {
            // graphql-composition has read the SDL already; a partial AST is all we need here.
            let document = Document::parse(&subgraph.sdl, "subgraph.graphql").unwrap_or_else(|invalid| invalid.partial);
            let mut roots: BTreeMap<String, &'static str> = BTreeMap::new();
            for definition in &document.definitions {
                let operations = match definition {
                    Definition::SchemaDefinition(schema) => &schema.root_operations,
                    Definition::SchemaExtension(schema) => &schema.root_operations,
                    _ => continue,
                };
                for operation in operations {
                    roots.insert(operation.1.to_string(), default_root_name(operation.0));
                }
            }
            if roots.is_empty() {
                roots = ["Query", "Mutation", "Subscription"].into_iter().map(|name| (name.to_owned(), name)).collect();
            }
            for definition in &document.definitions {
                if matches!(definition, Definition::DirectiveDefinition(_)) {
                    continue;
                }
                let Some(name) = definition.name() else { continue };
                let root = roots.get(name.as_str()).copied();
                let name = root.map_or_else(|| name.to_string(), str::to_owned);
                facts.definers.entry(name).or_default().insert(subgraph.name.clone());
                if let (Some(root), Definition::ObjectTypeDefinition(object)) = (root, definition)
                    && let Some(description) = &object.description
                {
                    facts
                        .root_descriptions
                        .entry(root)
                        .or_default()
                        .push((subgraph.name.clone(), description.to_string()));
                }
            }
        }
        facts
    }

    /// Apollo's pick among the subgraphs' descriptions of root type `root`: the most frequent,
    /// ties going to the first subgraph by name.
    fn root_description(&self, root: &str) -> Option<&str> {
        let mut described = self.root_descriptions.get(root)?.iter().collect::<Vec<_>>();
        described.sort_by(|a, b| a.0.cmp(&b.0));
        let mut counted: Vec<(&str, usize)> = Vec::new();
        for (_, description) in described {
            match counted.iter_mut().find(|(d, _)| *d == description) {
                Some((_, count)) => *count += 1,
                None => counted.push((description, 1)),
            }
        }
        let max = counted.iter().map(|(_, count)| *count).max()?;
        counted.into_iter().find(|(_, count)| *count == max).map(|(description, _)| description)
    }
}

fn default_root_name(operation: OperationType) -> &'static str {
    match operation {
        OperationType::Query => "Query",
        OperationType::Mutation => "Mutation",
        OperationType::Subscription => "Subscription",
    }
}

/// Turns graphql-composition's federated SDL into Apollo's supergraph format.
fn adapt(rendered: &str, facts: &SubgraphFacts) -> Result<String, ComposeError> {
    let document = Document::parse(rendered, "composed.graphql")
        .map_err(|e| ComposeError::one(format!("internal: the composed supergraph does not parse: {}", e.errors)))?;

    // join__Graph values in the composer's order (that of the input), and subgraph name → value.
    let mut graphs: Vec<(String, Name)> = Vec::new();
    let mut roots: BTreeMap<Name, &'static str> = BTreeMap::new();
    for definition in &document.definitions {
        match definition {
            Definition::EnumTypeDefinition(e) if e.name == "join__Graph" => {
                for value in &e.values {
                    let name = value
                        .directives
                        .get("join__graph")
                        .and_then(|d| d.specified_argument_by_name("name"))
                        .and_then(|n| n.as_str());
                    if let Some(name) = name {
                        graphs.push((name.to_owned(), value.value.clone()));
                    }
                }
            }
            Definition::SchemaDefinition(schema) => {
                for operation in &schema.root_operations {
                    roots.insert(operation.1.clone(), default_root_name(operation.0));
                }
            }
            Definition::SchemaExtension(_) => {
                return Err(ComposeError::one("no subgraph defines a field on the query root".to_owned()));
            }
            _ => {}
        }
    }
    // `@join__type(graph:)` for each subgraph defining `type_name`, in join__Graph order.
    let join_types = |type_name: &str| -> Vec<Node<Directive>> {
        let definers = facts.definers.get(type_name);
        graphs
            .iter()
            .filter(|(name, _)| type_name == "Query" || definers.is_some_and(|d| d.contains(name)))
            .map(|(_, value)| Node::new(join_type(value)))
            .collect()
    };
    let has_join_type = |directives: &DirectiveList| directives.iter().any(|d| d.name == "join__type");

    let mut used: BTreeSet<Name> = BTreeSet::new();
    let mut uses_override_label = false;
    let mut schema_definition = None;
    let mut rest: Vec<Definition> = Vec::with_capacity(document.definitions.len());
    for mut definition in document.definitions {
        for directive in all_directives(&definition) {
            used.insert(directive.name.clone());
            uses_override_label |=
                directive.name == "join__field" && directive.specified_argument_by_name("overrideLabel").is_some();
        }
        match &mut definition {
            Definition::SchemaDefinition(schema) => {
                schema_definition = Some(schema.clone());
                continue;
            }
            Definition::DirectiveDefinition(d) if is_replaced(&d.name) => continue,
            Definition::ScalarTypeDefinition(s) if is_replaced(&s.name) => continue,
            Definition::EnumTypeDefinition(e) if is_replaced(&e.name) => continue,
            Definition::ScalarTypeDefinition(scalar) if !has_join_type(&scalar.directives) => {
                let scalar = scalar.make_mut();
                scalar.directives.0.splice(0..0, join_types(&scalar.name));
            }
            Definition::UnionTypeDefinition(union) if !has_join_type(&union.directives) => {
                let union = union.make_mut();
                union.directives.0.splice(0..0, join_types(&union.name));
            }
            Definition::ObjectTypeDefinition(object) => {
                let object = object.make_mut();
                object.directives.0.retain(|d| d.name != "join__owner");
                label_overridden_fields(&mut object.fields, &graphs);
                if let Some(root) = roots.get(&object.name).copied() {
                    if !has_join_type(&object.directives) {
                        object.directives.0.splice(0..0, join_types(root));
                    }
                    if object.description.is_none() {
                        object.description = facts.root_description(root).map(Node::from);
                    }
                }
            }
            _ => {}
        }
        rest.push(definition);
    }
    let Some(mut schema_definition) = schema_definition else {
        return Err(ComposeError::one("internal: the composed supergraph has no schema definition".to_owned()));
    };

    // The schema's links: link, join, then the used features in Apollo's order, then whatever
    // else the composer linked (composed directives).
    let join_url = if uses_override_label { JOIN_V0_4 } else { JOIN_V0_3 };
    let mut links = vec![link("https://specs.apollo.dev/link/v1.0", None, &[]), link(join_url, Some("EXECUTION"), &[])];
    let mut definitions = LINK_AND_JOIN_DEFINITIONS.to_owned();
    if uses_override_label {
        definitions = definitions.replace(JOIN_FIELD_V0_3, JOIN_FIELD_V0_4);
        definitions.push_str(JOIN_V0_4_DIRECTIVE);
    }
    for feature in FEATURES {
        if feature.directives.iter().any(|d| used.contains(*d)) {
            links.push(link(feature.url, feature.for_security.then_some("SECURITY"), feature.import));
            definitions.push_str(feature.definitions);
            definitions.push('\n');
        }
    }
    let schema = schema_definition.make_mut();
    let others = schema.directives.0.iter().filter(|d| {
        let url = d.specified_argument_by_name("url").and_then(|u| u.as_str()).unwrap_or_default();
        !(d.name == "link" && url.starts_with("https://specs.apollo.dev/"))
    });
    links.extend(others.cloned());
    schema.directives = DirectiveList(links);

    let apollo = Document::parse(definitions, "apollo-definitions.graphql")
        .map_err(|e| ComposeError::one(format!("internal: Apollo's definitions do not parse: {}", e.errors)))?;
    let mut result = Document::new();
    result.definitions.push(Definition::SchemaDefinition(schema_definition));
    result.definitions.extend(apollo.definitions);
    result.definitions.extend(rest);
    Ok(result.to_string())
}

/// Progressive override: the composer labels only the overriding subgraph's `@join__field`;
/// Apollo (and the planner, which otherwise finds no subgraph for the field while the label is
/// off) also labels the overridden subgraph's, which serves the field while the label is off.
fn label_overridden_fields(fields: &mut [Node<FieldDefinition>], graphs: &[(String, Name)]) {
    let graph_of = |d: &Directive| match d.specified_argument_by_name("graph").map(|v| v.as_ref()) {
        Some(Value::Enum(graph)) => Some(graph.clone()),
        _ => None,
    };
    for field in fields {
        let labels: Vec<(Name, Node<Value>)> = field
            .directives
            .iter()
            .filter(|d| d.name == "join__field")
            .filter_map(|d| {
                let from = d.specified_argument_by_name("override")?.as_str()?;
                let label = d.specified_argument_by_name("overrideLabel")?.clone();
                let graph = graphs.iter().find(|(name, _)| name == from)?.1.clone();
                Some((graph, label))
            })
            .collect();
        if labels.is_empty() {
            continue;
        }
        let field = field.make_mut();
        for (graph, label) in labels {
            let overridden = field.directives.0.iter_mut().find(|d| {
                d.name == "join__field"
                    && graph_of(d).as_ref() == Some(&graph)
                    && d.specified_argument_by_name("overrideLabel").is_none()
            });
            if let Some(overridden) = overridden {
                overridden
                    .make_mut()
                    .arguments
                    .push(Node::new(Argument { name: Name::new_static_unchecked("overrideLabel"), value: label }));
            }
        }
    }
}

/// Every directive applied in `definition`: on the definition itself, its fields, their
/// arguments, its enum values and its input fields.
fn all_directives(definition: &Definition) -> Vec<&Node<Directive>> {
    fn fields<'a>(fields: &'a [Node<FieldDefinition>], out: &mut Vec<&'a Node<Directive>>) {
        for field in fields {
            out.extend(field.directives.iter());
            inputs(&field.arguments, out);
        }
    }
    fn inputs<'a>(values: &'a [Node<InputValueDefinition>], out: &mut Vec<&'a Node<Directive>>) {
        for value in values {
            out.extend(value.directives.iter());
        }
    }
    let mut out = Vec::new();
    match definition {
        Definition::SchemaDefinition(d) => out.extend(d.directives.iter()),
        Definition::ScalarTypeDefinition(d) => out.extend(d.directives.iter()),
        Definition::ObjectTypeDefinition(d) => {
            out.extend(d.directives.iter());
            fields(&d.fields, &mut out);
        }
        Definition::InterfaceTypeDefinition(d) => {
            out.extend(d.directives.iter());
            fields(&d.fields, &mut out);
        }
        Definition::UnionTypeDefinition(d) => out.extend(d.directives.iter()),
        Definition::EnumTypeDefinition(d) => {
            out.extend(d.directives.iter());
            for value in &d.values {
                out.extend(value.directives.iter());
            }
        }
        Definition::InputObjectTypeDefinition(d) => {
            out.extend(d.directives.iter());
            inputs(&d.fields, &mut out);
        }
        _ => {}
    }
    out
}

fn argument(name: &'static str, value: Value) -> Node<Argument> {
    Node::new(Argument { name: Name::new_static_unchecked(name), value: Node::new(value) })
}

fn join_type(graph: &Name) -> Directive {
    Directive {
        name: Name::new_static_unchecked("join__type"),
        arguments: vec![argument("graph", Value::Enum(graph.clone()))],
    }
}

fn link(url: &str, purpose: Option<&'static str>, import: &[&str]) -> Node<Directive> {
    let mut arguments = vec![argument("url", Value::String(url.to_owned()))];
    if let Some(purpose) = purpose {
        arguments.push(argument("for", Value::Enum(Name::new_static_unchecked(purpose))));
    }
    if !import.is_empty() {
        let list = import.iter().map(|i| Node::new(Value::String((*i).to_owned()))).collect();
        arguments.push(argument("import", Value::List(list)));
    }
    Node::new(Directive { name: Name::new_static_unchecked("link"), arguments })
}

/// The hub's own subgraphs: name and default URL (overridable in gateway.toml). Their SDLs live
/// in `schema/<name>.graphql`.
pub const HUB_SUBGRAPHS: [(&str, &str); 3] = [
    ("region", "http://127.0.0.1:4001/graphql"),
    ("national-table", "http://127.0.0.1:4002/graphql"),
    ("contracting", "http://127.0.0.1:4003/graphql"),
];

/// Composes the hub's checked-in subgraph SDLs from `dir` (`ggzhub schema compose`).
pub fn compose_hub(dir: &std::path::Path) -> Result<String, ComposeError> {
    let mut subgraphs = Vec::new();
    for (name, url) in HUB_SUBGRAPHS {
        let path = dir.join(format!("{name}.graphql"));
        let sdl = std::fs::read_to_string(&path)
            .map_err(|e| ComposeError::one(format!("[{name}] reading {}: {e}", path.display())))?;
        subgraphs.push(SubgraphSdl { name: name.to_owned(), url: url.to_owned(), sdl });
    }
    compose(&subgraphs)
}
