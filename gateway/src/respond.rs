//! Shapes the merged subgraph data into exactly what the client selected: response keys and
//! aliases in selection order, `__typename`, fragments resolved against the runtime type, lists,
//! and `null` propagation for non-null fields as the GraphQL spec requires.

use apollo_compiler::ExecutableDocument;
use apollo_compiler::Schema;
use apollo_compiler::ast::{Type, Value};
use apollo_compiler::collections::{HashSet, IndexMap};
use apollo_compiler::executable::{Field, Operation, Selection, SelectionSet};
use apollo_compiler::response::{JsonMap, JsonValue};
use apollo_compiler::schema::ExtendedType;
use apollo_compiler::{Name, Node};

use crate::error::{GatewayError, GraphqlError, PathSegment};
use crate::execute::data::{self, Data};
use crate::json::{write_key, write_str, write_value};

/// The field could not be completed and its parent must be nulled (non-null propagation).
struct Bubble;

/// One step of the path being shaped (cheap to push: names are reference-counted).
#[derive(Clone)]
enum Step {
    Key(Name),
    Index(usize),
}

fn owned_path(path: &[Step]) -> Vec<PathSegment> {
    path.iter()
        .map(|step| match step {
            Step::Key(name) => PathSegment::Key(name.to_string()),
            Step::Index(index) => PathSegment::Index(*index),
        })
        .collect()
}

/// Fields grouped by response key, for one runtime type.
type Grouped<'a> = std::rc::Rc<IndexMap<Name, Group<'a>>>;

/// The fields of one response key, with the schema's definition of their named type (looked up
/// once per grouping instead of once per value).
struct Group<'a> {
    fields: Vec<&'a Node<Field>>,
    /// `None` when the API schema does not have the type.
    definition: Option<&'a ExtendedType>,
}

pub struct Shaper<'a> {
    /// Grouped fields per (merged fields, runtime type): every item of a list is shaped with
    /// the same grouping, so it is collected once per request. The fields are known by the
    /// address and length of their slice, which lives in an earlier grouping for the whole
    /// request (the root's, or one held here).
    /// The runtime type is known by the address of its name, which lives in the schema.
    grouped: apollo_compiler::collections::HashMap<(usize, usize, usize), Grouped<'a>>,
    schema: &'a Schema,
    document: &'a ExecutableDocument,
    variables: &'a JsonMap,
    /// Paths of errors already reported (subgraph errors); a missing value below or above one of
    /// them is explained by it and gets no second error. `None` when an error without a path was
    /// reported (a whole fetch failed), which explains every missing value.
    reported: Option<Vec<Vec<PathSegment>>>,
    pub errors: Vec<GraphqlError>,
    /// Response-key paths (no list indices) of selections removed by authorization: a missing
    /// value there is explained by their errors.
    pub unauthorized: Vec<Vec<String>>,
    /// Source spans of the selections removed by authorization: whatever a subgraph returned,
    /// they are null (fields) or skipped (fragments).
    pub removed: std::collections::HashSet<(usize, usize)>,
    /// The response's `data`, written as JSON while shaping.
    out: Vec<u8>,
}

impl<'a> Shaper<'a> {
    pub fn new(
        schema: &'a Schema,
        document: &'a ExecutableDocument,
        variables: &'a JsonMap,
        existing_errors: &[GraphqlError],
    ) -> Self {
        let reported = existing_errors.iter().map(|e| e.path.clone()).collect::<Option<Vec<_>>>();
        Self {
            grouped: Default::default(),
            schema,
            document,
            variables,
            reported,
            errors: Vec::new(),
            unauthorized: Vec::new(),
            removed: std::collections::HashSet::new(),
            out: Vec::with_capacity(4096),
        }
    }

    /// Shapes the whole response and returns `data` as JSON (`null` when null propagated to the
    /// root). `introspection` holds the gateway's answers to root `__schema` and `__type`
    /// fields, by response key.
    pub fn shape_operation(
        &mut self,
        operation: &'a Operation,
        data: &Data,
        introspection: Option<&JsonMap>,
    ) -> Vec<u8> {
        let root_type = operation.selection_set.ty.clone();
        let empty = data::Object::new();
        let source = match data {
            Data::Object(members) => members,
            _ => &empty,
        };
        let grouped = self.grouping(&root_type, &[&operation.selection_set]);
        let mut path = Vec::new();
        self.out.push(b'{');
        for (index, (key, group)) in grouped.iter().enumerate() {
            if index > 0 {
                self.out.push(b',');
            }
            write_key(&mut self.out, key);
            let field = group.fields[0];
            match field.name.as_str() {
                "__typename" => write_str(&mut self.out, &root_type),
                "__schema" | "__type" => match introspection.and_then(|i| i.get(key.as_str())) {
                    Some(value) => write_value(&mut self.out, value),
                    None => self.out.extend_from_slice(b"null"),
                },
                _ => {
                    path.push(Step::Key(key.clone()));
                    let value = if self.is_removed(field) { None } else { data::get(source, key) };
                    let result = self.complete(&root_type, field.ty(), group, value, &mut path);
                    path.pop();
                    if result.is_err() {
                        return b"null".to_vec();
                    }
                }
            }
        }
        self.out.push(b'}');
        std::mem::take(&mut self.out)
    }

    /// Writes the completed value; for a nullable type a failure is written as `null`. `Err`
    /// means a non-null field failed: the caller must drop what it wrote for its object.
    fn complete(
        &mut self,
        parent_type: &str,
        ty: &Type,
        group: &Group<'a>,
        value: Option<&Data>,
        path: &mut Vec<Step>,
    ) -> Result<(), Bubble> {
        let start = self.out.len();
        let value = match value {
            None | Some(Data::Null) => {
                if ty.is_non_null() {
                    self.null_error(parent_type, group.fields[0], path);
                    return Err(Bubble);
                }
                self.out.extend_from_slice(b"null");
                return Ok(());
            }
            Some(value) => value,
        };
        let completed = match ty {
            Type::List(item_type) | Type::NonNullList(item_type) => {
                if let Data::List(items) = value {
                    self.out.push(b'[');
                    let mut result = Ok(());
                    for (index, item) in items.iter().enumerate() {
                        if index > 0 {
                            self.out.push(b',');
                        }
                        path.push(Step::Index(index));
                        result = self.complete(parent_type, item_type, group, Some(item), path);
                        path.pop();
                        if result.is_err() {
                            break;
                        }
                    }
                    self.out.push(b']');
                    result
                } else {
                    self.shape_error("expected a list", path);
                    Err(Bubble)
                }
            }
            Type::Named(name) | Type::NonNullNamed(name) => self.complete_named(name, group, value, path),
        };
        match completed {
            Ok(()) => Ok(()),
            Err(Bubble) => {
                self.out.truncate(start);
                if ty.is_non_null() {
                    Err(Bubble)
                } else {
                    self.out.extend_from_slice(b"null");
                    Ok(())
                }
            }
        }
    }

    fn complete_named(
        &mut self,
        type_name: &Name,
        group: &Group<'a>,
        value: &Data,
        path: &mut Vec<Step>,
    ) -> Result<(), Bubble> {
        match group.definition {
            Some(ExtendedType::Scalar(_)) | None => {
                value.write(&mut self.out);
                Ok(())
            }
            Some(ExtendedType::Enum(definition)) => match value.as_str() {
                Some(v) if definition.values.contains_key(v) => {
                    write_str(&mut self.out, v);
                    Ok(())
                }
                _ => {
                    self.shape_error(&format!("invalid value for enum {type_name}"), path);
                    Err(Bubble)
                }
            },
            Some(ExtendedType::InputObject(_)) => Err(Bubble),
            Some(definition @ (ExtendedType::Object(_) | ExtendedType::Interface(_) | ExtendedType::Union(_))) => {
                let Data::Object(object) = value else {
                    self.shape_error("expected an object", path);
                    return Err(Bubble);
                };
                let Some(runtime_type) = self.runtime_type(type_name, definition, object) else {
                    // An object of a type clients cannot see (`@inaccessible`) is null for them.
                    return Err(Bubble);
                };
                let fields = &group.fields;
                let cache_key = (fields.as_ptr() as usize, fields.len(), runtime_type.as_str().as_ptr() as usize);
                let grouped = match self.grouped.get(&cache_key) {
                    Some(grouped) => grouped.clone(),
                    None => {
                        let selection_sets: Vec<&'a SelectionSet> = fields.iter().map(|f| &f.selection_set).collect();
                        let grouped = std::rc::Rc::new(self.grouping(runtime_type, &selection_sets));
                        self.grouped.insert(cache_key, grouped.clone());
                        grouped
                    }
                };
                self.out.push(b'{');
                for (index, (key, sub_group)) in grouped.iter().enumerate() {
                    if index > 0 {
                        self.out.push(b',');
                    }
                    write_key(&mut self.out, key);
                    let field = sub_group.fields[0];
                    if field.name == "__typename" {
                        write_str(&mut self.out, runtime_type);
                        continue;
                    }
                    path.push(Step::Key(key.clone()));
                    let completed = self.complete(
                        runtime_type,
                        field.ty(),
                        sub_group,
                        if self.is_removed(field) { None } else { data::get(object, key) },
                        path,
                    );
                    path.pop();
                    completed?;
                }
                self.out.push(b'}');
                Ok(())
            }
        }
    }

    /// The concrete type of an object in the data. Without a concrete `__typename` (none fetched
    /// because the selection does not depend on it, or an `@interfaceObject` subgraph answered
    /// with the interface's name) the declared type is used. `None` when the data names a type
    /// the API schema does not have (`@inaccessible`).
    fn runtime_type<'n>(&self, declared: &'n Name, definition: &ExtendedType, object: &data::Object) -> Option<&'n Name>
    where
        'a: 'n,
    {
        match definition {
            ExtendedType::Object(_) => Some(declared),
            _ => {
                let Some(typename) = data::get(object, "__typename").and_then(Data::as_str) else {
                    return Some(declared);
                };
                match self.schema.types.get_key_value(typename) {
                    Some((name, ExtendedType::Object(_))) if self.schema.is_subtype(declared, typename) => Some(name),
                    Some((_, ExtendedType::Interface(_) | ExtendedType::Union(_))) => Some(declared),
                    _ => None,
                }
            }
        }
    }

    /// [`collect_fields`](Self::collect_fields), with each response key's type definition.
    fn grouping(&self, object_type: &str, selection_sets: &[&'a SelectionSet]) -> IndexMap<Name, Group<'a>> {
        self.collect_fields(object_type, selection_sets)
            .into_iter()
            .map(|(key, fields)| {
                let definition = self.schema.types.get(fields[0].ty().inner_named_type());
                (key, Group { fields, definition })
            })
            .collect()
    }

    /// CollectFields (spec 6.3.2) for one runtime object type over several selection sets.
    fn collect_fields(
        &self,
        object_type: &str,
        selection_sets: &[&'a SelectionSet],
    ) -> IndexMap<Name, Vec<&'a Node<Field>>> {
        let mut grouped: IndexMap<Name, Vec<&'a Node<Field>>> = IndexMap::default();
        let mut visited = HashSet::default();
        for set in selection_sets {
            self.collect_into(object_type, set, &mut grouped, &mut visited);
        }
        grouped
    }

    fn collect_into(
        &self,
        object_type: &str,
        set: &'a SelectionSet,
        grouped: &mut IndexMap<Name, Vec<&'a Node<Field>>>,
        visited: &mut HashSet<Name>,
    ) {
        for selection in &set.selections {
            match selection {
                Selection::Field(field) => {
                    if self.included(&field.directives) {
                        grouped.entry(field.response_key().clone()).or_default().push(field);
                    }
                }
                Selection::FragmentSpread(spread) => {
                    if self.is_removed(spread)
                        || !self.included(&spread.directives)
                        || !visited.insert(spread.fragment_name.clone())
                    {
                        continue;
                    }
                    if let Some(fragment) = self.document.fragments.get(&spread.fragment_name)
                        && self.applies(fragment.type_condition(), object_type)
                    {
                        self.collect_into(object_type, &fragment.selection_set, grouped, visited);
                    }
                }
                Selection::InlineFragment(inline) => {
                    if self.is_removed(inline) || !self.included(&inline.directives) {
                        continue;
                    }
                    let applies = inline.type_condition.as_ref().is_none_or(|c| self.applies(c, object_type));
                    if applies {
                        self.collect_into(object_type, &inline.selection_set, grouped, visited);
                    }
                }
            }
        }
    }

    fn is_removed<T>(&self, node: &Node<T>) -> bool {
        !self.removed.is_empty()
            && node.location().is_some_and(|l| self.removed.contains(&(l.offset(), l.end_offset())))
    }

    fn applies(&self, condition: &str, object_type: &str) -> bool {
        condition == object_type || self.schema.is_subtype(condition, object_type)
    }

    fn included(&self, directives: &apollo_compiler::executable::DirectiveList) -> bool {
        let flag = |name: &str| {
            directives.get(name).and_then(|d| d.specified_argument_by_name("if")).map(|v| match v.as_ref() {
                Value::Boolean(b) => *b,
                Value::Variable(var) => matches!(self.variables.get(var.as_str()), Some(JsonValue::Bool(true))),
                _ => false,
            })
        };
        flag("skip") != Some(true) && flag("include") != Some(false)
    }

    fn explained(&self, path: &[PathSegment]) -> bool {
        if !self.unauthorized.is_empty() {
            let keys: Vec<&str> = path
                .iter()
                .filter_map(|s| match s {
                    PathSegment::Key(k) => Some(k.as_str()),
                    PathSegment::Index(_) => None,
                })
                .collect();
            let related = |p: &Vec<String>| {
                let n = p.len().min(keys.len());
                keys[..n] == p[..n]
            };
            if self.unauthorized.iter().any(related) {
                return true;
            }
        }
        match &self.reported {
            None => true,
            Some(paths) => paths.iter().any(|p| p.starts_with(path) || path.starts_with(p)),
        }
    }

    fn null_error(&mut self, parent_type: &str, field: &Field, path: &[Step]) {
        let path = owned_path(path);
        if self.explained(&path) {
            return;
        }
        let name = field.definition.name.as_str();
        self.errors.push(
            GraphqlError::new(
                format!("Cannot return null for non-nullable field {parent_type}.{name}."),
                GatewayError::SubgraphInvalidResponse,
            )
            .with_path(path),
        );
    }

    fn shape_error(&mut self, message: &str, path: &[Step]) {
        let path = owned_path(path);
        if self.explained(&path) {
            return;
        }
        self.errors.push(
            GraphqlError::new(
                format!("subgraph data does not match the schema: {message}"),
                GatewayError::SubgraphInvalidResponse,
            )
            .with_path(path),
        );
    }
}
