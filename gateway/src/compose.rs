//! Composition: subgraph SDLs → a supergraph in Apollo's format.
//!
//! The composing itself is `graphql-composition` (Grafbase, MPL-2.0). Its output is close to
//! Apollo's supergraph format but not the same, so it is adapted here on apollo-compiler's AST:
//! the `@join__*` directives become `repeatable` with Apollo's definitions, the `@link`
//! definitions (`link__Purpose`, `link__Import`) and those of `@inaccessible` / `@tag` are added,
//! root types get `@join__type` for every subgraph that contributes to them, and
//! Grafbase's own `@join__owner` is dropped. The result validates with apollo-compiler and plans
//! with the gateway's planner; `scripts/check-composition.sh` compares it with
//! `@apollo/composition`'s output for the same SDLs.

use std::collections::BTreeSet;

use apollo_compiler::ast::{Argument, Definition, Directive, Document, Value};
use apollo_compiler::{Name, Node};

/// One subgraph to compose.
#[derive(Debug, Clone)]
pub struct SubgraphSdl {
    pub name: String,
    pub url: String,
    pub sdl: String,
}

/// Composition failed; each message names the subgraph, the type or field and the reason, as
/// graphql-composition reports them.
#[derive(Debug, thiserror::Error)]
#[error("composition failed:\n{}", .errors.join("\n"))]
pub struct ComposeError {
    pub errors: Vec<String>,
}

const JOIN_AND_LINK_DEFINITIONS: &str = r#"
directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA
directive @join__enumValue(graph: join__Graph!) repeatable on ENUM_VALUE
directive @join__field(graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, type: String, external: Boolean, override: String, usedOverridden: Boolean, overrideLabel: String) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION
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

const INACCESSIBLE_DEFINITION: &str = "directive @inaccessible on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION\n";
const TAG_DEFINITION: &str = "directive @tag(name: String!) repeatable on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION | SCHEMA\n";

/// Definitions the adapter replaces with Apollo's.
fn is_replaced_definition(name: &str) -> bool {
    name.starts_with("join__") || name.starts_with("link__") || matches!(name, "link" | "inaccessible" | "tag")
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
    let result = graphql_composition::compose(&mut ingested);
    let graph = result
        .into_result()
        .map_err(|diagnostics| ComposeError { errors: diagnostics.iter_errors().map(str::to_owned).collect() })?;
    let rendered = graphql_composition::render_federated_sdl(&graph)
        .map_err(|e| ComposeError { errors: vec![format!("rendering the supergraph failed: {e}")] })?;
    // Which subgraph defines which scalar: Apollo marks custom scalars with `@join__type` per
    // defining subgraph; graphql-composition does not.
    let mut scalar_owners: Vec<(String, String)> = Vec::new();
    for subgraph in subgraphs {
        if let Ok(document) = Document::parse(&subgraph.sdl, "subgraph.graphql") {
            for definition in &document.definitions {
                if let Definition::ScalarTypeDefinition(scalar) = definition {
                    scalar_owners.push((scalar.name.to_string(), subgraph.name.clone()));
                }
            }
        }
    }
    adapt(&rendered, &scalar_owners).map_err(|e| ComposeError { errors: vec![e] })
}

/// Turns graphql-composition's federated SDL into Apollo's supergraph format.
fn adapt(rendered: &str, scalar_owners: &[(String, String)]) -> Result<String, String> {
    let document = Document::parse(rendered, "composed.graphql")
        .map_err(|e| format!("the composed supergraph does not parse: {}", e.errors))?;
    let mut uses_inaccessible = false;
    let mut uses_tag = false;
    let mut root_names: Vec<Name> = Vec::new();
    let mut all_graphs: Vec<Name> = Vec::new();
    // Subgraph name → its join__Graph value.
    let mut graph_of: Vec<(String, Name)> = Vec::new();
    for definition in &document.definitions {
        match definition {
            Definition::SchemaDefinition(schema) => {
                root_names.extend(schema.root_operations.iter().map(|op| op.1.clone()));
            }
            Definition::EnumTypeDefinition(e) if e.name == "join__Graph" => {
                all_graphs.extend(e.values.iter().map(|v| v.value.clone()));
                for value in &e.values {
                    let name = value
                        .directives
                        .get("join__graph")
                        .and_then(|d| d.specified_argument_by_name("name"))
                        .and_then(|n| n.as_str().map(str::to_owned));
                    if let Some(name) = name {
                        graph_of.push((name, value.value.clone()));
                    }
                }
            }
            _ => {}
        }
    }
    if root_names.is_empty() {
        root_names = ["Query", "Mutation", "Subscription"].iter().filter_map(|n| Name::new(n).ok()).collect();
    }
    let mut out: Vec<Definition> = Vec::with_capacity(document.definitions.len() + 16);
    for definition in document.definitions {
        let text = definition.to_string();
        uses_inaccessible |= text.contains("@inaccessible");
        uses_tag |= text.contains("@tag(");
        match definition {
            Definition::DirectiveDefinition(d) if is_replaced_definition(&d.name) => {}
            Definition::ScalarTypeDefinition(s) if is_replaced_definition(&s.name) => {}
            Definition::ScalarTypeDefinition(mut scalar) => {
                let scalar_mut = scalar.make_mut();
                if !scalar_mut.directives.0.iter().any(|d| d.name == "join__type") {
                    for graph in &all_graphs {
                        let defines = scalar_owners.iter().any(|(scalar_name, subgraph)| {
                            *scalar_name == scalar_mut.name.as_str()
                                && graph_of.iter().any(|(name, value)| name == subgraph && value == graph)
                        });
                        if defines {
                            scalar_mut.directives.0.push(Node::new(join_type(graph)));
                        }
                    }
                }
                out.push(Definition::ScalarTypeDefinition(scalar));
            }
            Definition::EnumTypeDefinition(e) if e.name == "link__Purpose" => {}
            Definition::ObjectTypeDefinition(mut object) => {
                let object_mut = object.make_mut();
                object_mut.directives.0.retain(|d| d.name != "join__owner");
                if root_names.contains(&object_mut.name) {
                    let has_join_type = object_mut.directives.0.iter().any(|d| d.name == "join__type");
                    if !has_join_type {
                        let mut graphs: BTreeSet<Name> = BTreeSet::new();
                        let mut unannotated = false;
                        for field in &object_mut.fields {
                            let mut annotated = false;
                            for d in field.directives.0.iter().filter(|d| d.name == "join__field") {
                                annotated = true;
                                if let Some(Value::Enum(graph)) =
                                    d.specified_argument_by_name("graph").map(|v| v.as_ref())
                                {
                                    graphs.insert(graph.clone());
                                }
                            }
                            unannotated |= !annotated;
                        }
                        if unannotated {
                            graphs.extend(all_graphs.iter().cloned());
                        }
                        // In join__Graph order, as Apollo writes them.
                        for graph in all_graphs.iter().filter(|g| graphs.contains(*g)) {
                            object_mut.directives.0.push(Node::new(join_type(graph)));
                        }
                    }
                }
                out.push(Definition::ObjectTypeDefinition(object));
            }
            other => out.push(other),
        }
    }
    let mut extra = String::from(JOIN_AND_LINK_DEFINITIONS);
    if uses_inaccessible {
        extra.push_str(INACCESSIBLE_DEFINITION);
    }
    if uses_tag {
        extra.push_str(TAG_DEFINITION);
    }
    let extra = Document::parse(extra, "apollo-definitions.graphql")
        .map_err(|e| format!("internal: Apollo definitions do not parse: {}", e.errors))?;
    // Schema definition first, then Apollo's definitions, then the rest in the composer's order.
    let (schema, rest): (Vec<Definition>, Vec<Definition>) =
        out.into_iter().partition(|d| matches!(d, Definition::SchemaDefinition(_)));
    let mut result = Document::new();
    result.definitions.extend(schema);
    result.definitions.extend(extra.definitions);
    result.definitions.extend(rest);
    let mut sdl = result.to_string();
    if uses_tag && !sdl.contains("specs.apollo.dev/tag/") {
        sdl = sdl.replacen("schema", "schema\n  @link(url: \"https://specs.apollo.dev/tag/v0.3\")", 1);
    }
    Ok(sdl)
}

fn join_type(graph: &Name) -> Directive {
    Directive {
        name: Name::new_static_unchecked("join__type"),
        arguments: vec![Node::new(Argument {
            name: Name::new_static_unchecked("graph"),
            value: Node::new(Value::Enum(graph.clone())),
        })],
    }
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
            .map_err(|e| ComposeError { errors: vec![format!("[{name}] reading {}: {e}", path.display())] })?;
        subgraphs.push(SubgraphSdl { name: name.to_owned(), url: url.to_owned(), sdl });
    }
    compose(&subgraphs)
}
