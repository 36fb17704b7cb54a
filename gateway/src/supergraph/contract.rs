//! The public contract schema: the part of the API schema tagged `@tag(name: "public")` in the
//! subgraphs, for callers who may see only the public picture (patient organisations, and
//! anonymous callers when the gateway serves them). Such callers validate and introspect
//! against it, so everything else does not exist for them ("Cannot query field").
//!
//! Rules (Apollo contracts with one include tag):
//! - an object or interface field is kept when the field or its type is tagged; fields of the
//!   root types only when tagged themselves;
//! - a field whose type is left without fields (or a union without members) is dropped, until
//!   nothing changes; an object no longer offering a kept interface field stops implementing
//!   that interface;
//! - types no longer reachable from the roots are dropped (enums, scalars and input types used
//!   by kept fields' arguments stay);
//! - a supergraph without any public tag has no contract.

use std::collections::{HashSet, VecDeque};

use apollo_compiler::schema::{ExtendedType, Type};
use apollo_compiler::validation::Valid;
use apollo_compiler::{Name, Schema};

/// The tag that marks the public picture.
pub const PUBLIC_TAG: &str = "public";

/// Whether a type's or field's directives include `@tag(name: "public")`.
fn tagged<'a>(mut directives: impl Iterator<Item = &'a apollo_compiler::ast::Directive>) -> bool {
    directives
        .any(|d| d.name == "tag" && d.specified_argument_by_name("name").and_then(|v| v.as_str()) == Some(PUBLIC_TAG))
}

/// The names of the schema's root operation types.
fn root_names(schema: &Schema) -> Vec<Name> {
    let definition = &schema.schema_definition;
    [definition.query.as_ref(), definition.mutation.as_ref(), definition.subscription.as_ref()]
        .into_iter()
        .flatten()
        .map(|c| c.name.clone())
        .collect()
}

fn type_tagged(full: &Schema, name: &str) -> bool {
    full.types.get(name).is_some_and(|t| tagged(t.directives().iter().map(|d| &***d)))
}

fn field_tagged(full: &Schema, type_name: &str, field: &str) -> bool {
    let fields = match full.types.get(type_name) {
        Some(ExtendedType::Object(o)) => &o.fields,
        Some(ExtendedType::Interface(i)) => &i.fields,
        _ => return false,
    };
    fields.get(field).is_some_and(|f| tagged(f.directives.iter().map(|d| &**d)))
}

fn named(ty: &Type) -> &Name {
    ty.inner_named_type()
}

/// Builds the contract from the API schema and the supergraph's tags. `Ok(None)` when nothing
/// is tagged; `Err` when the tags leave an invalid schema (e.g. no public query field).
pub fn public_schema(full: &Schema, api: &Valid<Schema>) -> Result<Option<Valid<Schema>>, String> {
    let any_tag = full.types.values().any(|t| {
        tagged(t.directives().iter().map(|d| &***d))
            || match t {
                ExtendedType::Object(o) => o.fields.values().any(|f| tagged(f.directives.iter().map(|d| &**d))),
                ExtendedType::Interface(i) => i.fields.values().any(|f| tagged(f.directives.iter().map(|d| &**d))),
                _ => false,
            }
    });
    if !any_tag {
        return Ok(None);
    }
    let mut schema: Schema = api.clone().into_inner();
    let roots = root_names(&schema);

    // 1. Keep tagged fields.
    for (type_name, ty) in schema.types.iter_mut() {
        if ty.is_built_in() {
            continue;
        }
        let is_root = roots.contains(type_name);
        let whole = !is_root && type_tagged(full, type_name);
        match ty {
            ExtendedType::Object(o) => {
                o.make_mut().fields.retain(|f, _| whole || field_tagged(full, type_name, f));
            }
            ExtendedType::Interface(i) => {
                i.make_mut().fields.retain(|f, _| whole || field_tagged(full, type_name, f));
            }
            _ => {}
        }
    }

    // 2. Drop what became empty, and fields leading to it, until nothing changes.
    loop {
        let empty: HashSet<Name> = schema
            .types
            .iter()
            .filter(|(_, t)| !t.is_built_in())
            .filter(|(_, t)| match t {
                ExtendedType::Object(o) => o.fields.is_empty(),
                ExtendedType::Interface(i) => i.fields.is_empty(),
                ExtendedType::Union(u) => u.members.is_empty(),
                _ => false,
            })
            .map(|(n, _)| n.clone())
            .collect();
        let mut changed = false;
        for (_, ty) in schema.types.iter_mut() {
            match ty {
                ExtendedType::Object(o) => {
                    let before = (o.fields.len(), o.implements_interfaces.len());
                    let o = o.make_mut();
                    o.fields.retain(|_, f| !empty.contains(named(&f.ty)));
                    o.implements_interfaces.retain(|i| !empty.contains(&i.name));
                    changed |= before != (o.fields.len(), o.implements_interfaces.len());
                }
                ExtendedType::Interface(i) => {
                    let before = (i.fields.len(), i.implements_interfaces.len());
                    let i = i.make_mut();
                    i.fields.retain(|_, f| !empty.contains(named(&f.ty)));
                    i.implements_interfaces.retain(|x| !empty.contains(&x.name));
                    changed |= before != (i.fields.len(), i.implements_interfaces.len());
                }
                ExtendedType::Union(u) => {
                    let before = u.members.len();
                    let u = u.make_mut();
                    u.members.retain(|m| !empty.contains(&m.name));
                    changed |= before != u.members.len();
                }
                _ => {}
            }
        }
        // An object that no longer has every field of an interface stops implementing it.
        let interfaces: Vec<(Name, Vec<Name>)> = schema
            .types
            .iter()
            .filter_map(|(n, t)| match t {
                ExtendedType::Interface(i) => Some((n.clone(), i.fields.keys().cloned().collect())),
                _ => None,
            })
            .collect();
        for (_, ty) in schema.types.iter_mut() {
            let (fields, implements): (Vec<Name>, Vec<Name>) = match ty {
                ExtendedType::Object(o) => (
                    o.fields.keys().cloned().collect(),
                    o.implements_interfaces.iter().map(|c| c.name.clone()).collect(),
                ),
                ExtendedType::Interface(i) => (
                    i.fields.keys().cloned().collect(),
                    i.implements_interfaces.iter().map(|c| c.name.clone()).collect(),
                ),
                _ => continue,
            };
            let lacking: HashSet<Name> = implements
                .into_iter()
                .filter(|name| {
                    interfaces
                        .iter()
                        .find(|(n, _)| n == name)
                        .is_some_and(|(_, needed)| needed.iter().any(|f| !fields.contains(f)))
                })
                .collect();
            if lacking.is_empty() {
                continue;
            }
            changed = true;
            match ty {
                ExtendedType::Object(o) => o.make_mut().implements_interfaces.retain(|c| !lacking.contains(&c.name)),
                ExtendedType::Interface(i) => i.make_mut().implements_interfaces.retain(|c| !lacking.contains(&c.name)),
                _ => {}
            }
        }
        if !changed {
            break;
        }
    }

    // A mutation or subscription root without public fields is no root at all.
    let no_fields = |schema: &Schema, name: &Name| {
        schema.types.get(name).is_none_or(|t| matches!(t, ExtendedType::Object(o) if o.fields.is_empty()))
    };
    let (mutation, subscription) = (
        schema.schema_definition.mutation.as_ref().is_some_and(|r| no_fields(&schema, &r.name)),
        schema.schema_definition.subscription.as_ref().is_some_and(|r| no_fields(&schema, &r.name)),
    );
    let definition = schema.schema_definition.make_mut();
    if mutation {
        definition.mutation = None;
    }
    if subscription {
        definition.subscription = None;
    }
    let roots = root_names(&schema);

    // 3. Keep only what the roots reach (implementations of reached interfaces included).
    let mut reached: HashSet<Name> = HashSet::new();
    let mut queue: VecDeque<Name> = roots.iter().cloned().collect();
    let implementers = schema.implementers_map();
    while let Some(name) = queue.pop_front() {
        if !reached.insert(name.clone()) {
            continue;
        }
        let mut next: Vec<Name> = Vec::new();
        match schema.types.get(&name) {
            Some(ExtendedType::Object(o)) => {
                for f in o.fields.values() {
                    next.push(named(&f.ty).clone());
                    next.extend(f.arguments.iter().map(|a| named(&a.ty).clone()));
                }
                next.extend(o.implements_interfaces.iter().map(|c| c.name.clone()));
            }
            Some(ExtendedType::Interface(i)) => {
                for f in i.fields.values() {
                    next.push(named(&f.ty).clone());
                    next.extend(f.arguments.iter().map(|a| named(&a.ty).clone()));
                }
                if let Some(imps) = implementers.get(&name) {
                    next.extend(imps.objects.iter().cloned());
                    next.extend(imps.interfaces.iter().cloned());
                }
            }
            Some(ExtendedType::Union(u)) => next.extend(u.members.iter().map(|m| m.name.clone())),
            Some(ExtendedType::InputObject(input)) => {
                next.extend(input.fields.values().map(|f| named(&f.ty).clone()));
            }
            _ => {}
        }
        queue.extend(next.into_iter().filter(|n| !reached.contains(n)));
    }
    schema.types.retain(|name, ty| reached.contains(name) || ty.is_built_in());
    let query_empty = schema
        .schema_definition
        .query
        .as_ref()
        .and_then(|q| schema.types.get(&q.name))
        .is_none_or(|t| matches!(t, ExtendedType::Object(o) if o.fields.is_empty()));
    if query_empty {
        return Err("no Query field is tagged @tag(name: \"public\")".into());
    }
    schema.validate().map(Some).map_err(|e| e.errors.to_string())
}
