//! Authorization at the gateway from the supergraph's access-control directives
//! (`@authenticated`, `@requiresScopes`, `@policy`), before planning.
//!
//! A field the caller may not see is removed from the operation before it is planned, so no
//! subgraph is asked for it; the response has `null` there and one `UNAUTHORIZED_FIELD_OR_TYPE`
//! error per removed selection (its path holds response keys, without list indices). In reject
//! mode the whole operation is refused instead. The subgraphs still enforce their own rules.
//!
//! What a field requires is computed once per supergraph:
//! - its own directives, those of its parent type and those of the type it returns;
//! - on an interface, also those of the same field on every implementing type, and of those
//!   types (so a guarded implementation cannot be read through the interface);
//! - the requirements of every field its `@requires` selection reads (so guarded data cannot
//!   flow into a field computed from it).
//!
//! Fragments (inline or named) whose type condition the caller may not see are removed too, so
//! `... on Guarded { x }` inside an unguarded interface field is covered. Directive names are
//! resolved through the supergraph's `@link` (`as:` and `import:` renames), never assumed.
//!
//! Policies (`@policy(policies: [["…"]])`) are evaluated by the gateway against the caller's
//! verified attributes: `authenticated`, `kind:<ORG_KIND>`, `org:<uuid>`, `region:<code>` and
//! `role:<role>` (e.g. `role:chair:utrecht`).

use std::collections::{HashMap, HashSet};

use apollo_compiler::ast::{Directive, Value};
use apollo_compiler::executable::{Field, Fragment, Operation, Selection, SelectionSet};
use apollo_compiler::schema::ExtendedType;
use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Name, Node, Schema};

use crate::error::{GatewayError, GraphqlError, PathSegment};

/// What the caller brings to the checks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Access {
    pub authenticated: bool,
    pub scopes: HashSet<String>,
    pub policies: HashSet<String>,
}

impl Access {
    /// An authenticated caller's access from its verified claims.
    pub fn from_claims(claims: &ggzhub_kit::token::InternalClaims) -> Self {
        let mut policies: HashSet<String> = HashSet::new();
        policies.insert("authenticated".into());
        policies.insert(format!("kind:{}", claims.org_kind.as_str()));
        policies.insert(format!("org:{}", claims.org));
        policies.extend(claims.regions.iter().map(|r| format!("region:{r}")));
        policies.extend(claims.roles.iter().map(|r| format!("role:{r}")));
        Self { authenticated: true, scopes: claims.scope.split_whitespace().map(str::to_owned).collect(), policies }
    }
}

/// Alternatives (any one) of conjunctions (all of).
type Dnf = Vec<Vec<String>>;

/// Everything one schema element requires; all parts must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Requirement {
    authenticated: bool,
    scopes: Vec<Dnf>,
    policies: Vec<Dnf>,
}

impl Requirement {
    fn is_empty(&self) -> bool {
        !self.authenticated && self.scopes.is_empty() && self.policies.is_empty()
    }

    fn merge(&mut self, other: &Requirement) {
        self.authenticated |= other.authenticated;
        for dnf in &other.scopes {
            if !self.scopes.contains(dnf) {
                self.scopes.push(dnf.clone());
            }
        }
        for dnf in &other.policies {
            if !self.policies.contains(dnf) {
                self.policies.push(dnf.clone());
            }
        }
    }

    fn satisfied_by(&self, access: &Access) -> bool {
        let holds =
            |dnf: &Dnf, granted: &HashSet<String>| dnf.iter().any(|all| all.iter().all(|s| granted.contains(s)));
        // Scopes and policies can only be granted to an authenticated caller.
        let needs_identity = self.authenticated || !self.scopes.is_empty() || !self.policies.is_empty();
        (!needs_identity || access.authenticated)
            && self.scopes.iter().all(|dnf| holds(dnf, &access.scopes))
            && self.policies.iter().all(|dnf| holds(dnf, &access.policies))
    }
}

/// The local names of the access-control directives in one supergraph.
#[derive(Debug, Default)]
struct DirectiveNames {
    authenticated: Option<String>,
    requires_scopes: Option<String>,
    policy: Option<String>,
}

/// Reads the `@link`s of the schema: a feature is active only when linked, under the name its
/// link gives it (an `import` rename, else `as`, else the feature's own name).
fn directive_names(schema: &Schema) -> DirectiveNames {
    let mut names = DirectiveNames::default();
    for link in schema.schema_definition.directives.iter().filter(|d| d.name == "link") {
        let Some(url) = link.specified_argument_by_name("url").and_then(|v| v.as_str()) else { continue };
        let feature =
            ["authenticated", "requiresScopes", "policy"].into_iter().find(|f| url.split('/').any(|part| part == *f));
        let Some(feature) = feature else { continue };
        let mut local = link
            .specified_argument_by_name("as")
            .and_then(|v| v.as_str())
            .map_or_else(|| feature.to_owned(), str::to_owned);
        if let Some(Value::List(imports)) = link.specified_argument_by_name("import").map(|v| &**v) {
            for import in imports {
                match &**import {
                    Value::String(name) if name.trim_start_matches('@') == feature => local = feature.to_owned(),
                    Value::Object(fields) => {
                        let get = |key: &str| {
                            fields.iter().find(|(k, _)| k == key).and_then(|(_, v)| v.as_str()).map(str::to_owned)
                        };
                        if get("name").is_some_and(|n| n.trim_start_matches('@') == feature) {
                            local = get("as").unwrap_or_else(|| feature.to_owned()).trim_start_matches('@').to_owned();
                        }
                    }
                    _ => {}
                }
            }
        }
        match feature {
            "authenticated" => names.authenticated = Some(local),
            "requiresScopes" => names.requires_scopes = Some(local),
            _ => names.policy = Some(local),
        }
    }
    names
}

fn dnf(directive: &Directive, argument: &str) -> Dnf {
    let Some(Value::List(any)) = directive.specified_argument_by_name(argument).map(|v| &**v) else {
        return Vec::new();
    };
    any.iter()
        .filter_map(|all| match &**all {
            Value::List(items) => Some(items.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect()),
            _ => None,
        })
        .collect()
}

fn requirement<'a>(directives: impl Iterator<Item = &'a Directive>, names: &DirectiveNames) -> Requirement {
    let mut req = Requirement::default();
    for directive in directives {
        let name = directive.name.as_str();
        if names.authenticated.as_deref() == Some(name) {
            req.authenticated = true;
        } else if names.requires_scopes.as_deref() == Some(name) {
            req.scopes.push(dnf(directive, "scopes"));
        } else if names.policy.as_deref() == Some(name) {
            req.policies.push(dnf(directive, "policies"));
        }
    }
    req
}

/// The requirements of one supergraph, computed once.
#[derive(Debug, Default)]
pub struct AccessRules {
    types: HashMap<Name, Requirement>,
    /// Effective requirement per (parent type, field), only where there is one.
    fields: HashMap<(Name, Name), Requirement>,
}

impl AccessRules {
    pub fn from_supergraph(full: &Valid<Schema>) -> Self {
        let names = directive_names(full);
        if names.authenticated.is_none() && names.requires_scopes.is_none() && names.policy.is_none() {
            return Self::default();
        }
        let mut types = HashMap::new();
        let mut own: HashMap<(Name, Name), Requirement> = HashMap::new();
        for (type_name, ty) in &full.types {
            let req = requirement(ty.directives().iter().map(|d| &***d), &names);
            if !req.is_empty() {
                types.insert(type_name.clone(), req);
            }
            let fields = match ty {
                ExtendedType::Object(o) => &o.fields,
                ExtendedType::Interface(i) => &i.fields,
                _ => continue,
            };
            for (field_name, field) in fields {
                let req = requirement(field.directives.iter().map(|d| &**d), &names);
                if !req.is_empty() {
                    own.insert((type_name.clone(), field_name.clone()), req);
                }
            }
        }
        let implementers = full.implementers_map();
        let mut fields = HashMap::new();
        for (type_name, ty) in &full.types {
            let defs = match ty {
                ExtendedType::Object(o) => &o.fields,
                ExtendedType::Interface(i) => &i.fields,
                _ => continue,
            };
            for (field_name, def) in defs {
                let mut req = Requirement::default();
                let add_field = |req: &mut Requirement, parent: &Name| {
                    if let Some(r) = types.get(parent) {
                        req.merge(r);
                    }
                    if let Some(r) = own.get(&(parent.clone(), field_name.clone())) {
                        req.merge(r);
                    }
                };
                add_field(&mut req, type_name);
                if let Some(r) = types.get(def.ty.inner_named_type()) {
                    req.merge(r);
                }
                if let ExtendedType::Interface(_) = ty
                    && let Some(imps) = implementers.get(type_name)
                {
                    for imp in imps.objects.iter().chain(imps.interfaces.iter()) {
                        add_field(&mut req, imp);
                    }
                }
                for requires in def.directives.iter().filter(|d| d.name == "join__field") {
                    let Some(selection) = requires.specified_argument_by_name("requires").and_then(|v| v.as_str())
                    else {
                        continue;
                    };
                    if let Ok(set) = apollo_compiler::executable::FieldSet::parse(
                        full,
                        type_name.clone(),
                        selection,
                        "requires.graphql",
                    ) {
                        collect_required(&set.selection_set, &types, &own, &mut req);
                    }
                }
                if !req.is_empty() {
                    fields.insert((type_name.clone(), field_name.clone()), req);
                }
            }
        }
        Self { types, fields }
    }

    /// Whether the supergraph guards anything at all (most requests skip the walk otherwise).
    pub fn is_empty(&self) -> bool {
        self.types.is_empty() && self.fields.is_empty()
    }

    /// Finds what `access` may not see in `operation`.
    pub fn check(&self, document: &ExecutableDocument, operation: &Operation, access: &Access) -> Verdict {
        let mut verdict = Verdict::default();
        if self.is_empty() {
            return verdict;
        }
        let mut walker = Walker { rules: self, document, access, verdict: &mut verdict, path: Vec::new(), depth: 0 };
        walker.selection_set(&operation.selection_set);
        verdict
    }
}

fn collect_required(
    set: &SelectionSet,
    types: &HashMap<Name, Requirement>,
    own: &HashMap<(Name, Name), Requirement>,
    req: &mut Requirement,
) {
    for selection in &set.selections {
        match selection {
            Selection::Field(field) => {
                if let Some(r) = own.get(&(set.ty.clone(), field.name.clone())) {
                    req.merge(r);
                }
                if let Some(r) = types.get(field.ty().inner_named_type()) {
                    req.merge(r);
                }
                collect_required(&field.selection_set, types, own, req);
            }
            Selection::InlineFragment(inline) => collect_required(&inline.selection_set, types, own, req),
            Selection::FragmentSpread(_) => {}
        }
    }
}

/// A selection's identity in the document: its source span.
type Spot = (usize, usize);

fn spot<T>(node: &Node<T>) -> Option<Spot> {
    node.location().map(|l| (l.offset(), l.end_offset()))
}

/// What the caller may not see: the selections to remove and one error per removal.
#[derive(Debug, Default)]
pub struct Verdict {
    /// Source spans of the removed selections.
    pub removed: HashSet<Spot>,
    /// Paths (response keys) of the removed selections, for the errors and the shaper.
    pub paths: Vec<Vec<String>>,
}

impl Verdict {
    pub fn is_clean(&self) -> bool {
        self.removed.is_empty()
    }

    pub fn errors(&self) -> Vec<GraphqlError> {
        self.paths
            .iter()
            .map(|path| {
                GatewayError::UnauthorizedFieldOrType
                    .error("Unauthorized field or type")
                    .with_path(path.iter().map(|k| PathSegment::Key(k.clone())).collect())
            })
            .collect()
    }

    /// The document without the removed selections (and without what became empty), as text
    /// for the planner. `None` when nothing is left of the operation.
    pub fn filtered(&self, document: &ExecutableDocument) -> Option<String> {
        let mut doc = document.clone();
        // Fragments first: a fragment left empty is removed along with its spreads.
        let mut empty: HashSet<Name> = HashSet::new();
        loop {
            let before = empty.len();
            for (name, fragment) in doc.fragments.iter_mut() {
                let fragment: &mut Fragment = fragment.make_mut();
                self.prune(&mut fragment.selection_set, &empty);
                if fragment.selection_set.selections.is_empty() {
                    empty.insert(name.clone());
                }
            }
            if empty.len() == before {
                break;
            }
        }
        doc.fragments.retain(|name, _| !empty.contains(name));
        let mut any = false;
        if let Some(op) = doc.operations.anonymous.as_mut() {
            let op = op.make_mut();
            self.prune(&mut op.selection_set, &empty);
            any |= !op.selection_set.selections.is_empty();
        }
        for op in doc.operations.named.values_mut() {
            let op = op.make_mut();
            self.prune(&mut op.selection_set, &empty);
            any |= !op.selection_set.selections.is_empty();
        }
        any.then(|| doc.to_string())
    }

    fn prune(&self, set: &mut SelectionSet, empty_fragments: &HashSet<Name>) {
        set.selections.retain_mut(|selection| match selection {
            Selection::Field(field) => {
                if spot(field).is_some_and(|s| self.removed.contains(&s)) {
                    return false;
                }
                if field.selection_set.selections.is_empty() {
                    return true;
                }
                let field: &mut Field = field.make_mut();
                self.prune(&mut field.selection_set, empty_fragments);
                !field.selection_set.selections.is_empty()
            }
            Selection::InlineFragment(inline) => {
                if spot(inline).is_some_and(|s| self.removed.contains(&s)) {
                    return false;
                }
                let inline = inline.make_mut();
                self.prune(&mut inline.selection_set, empty_fragments);
                !inline.selection_set.selections.is_empty()
            }
            Selection::FragmentSpread(spread) => {
                !(spot(spread).is_some_and(|s| self.removed.contains(&s))
                    || empty_fragments.contains(&spread.fragment_name))
            }
        });
    }
}

struct Walker<'a> {
    rules: &'a AccessRules,
    document: &'a ExecutableDocument,
    access: &'a Access,
    verdict: &'a mut Verdict,
    path: Vec<String>,
    depth: usize,
}

impl Walker<'_> {
    fn refuse(&mut self, spot: Option<Spot>, key: Option<&str>) {
        let Some(spot) = spot else { return };
        let mut path = self.path.clone();
        if let Some(key) = key {
            path.push(key.to_owned());
        }
        self.verdict.removed.insert(spot);
        if !self.verdict.paths.contains(&path) {
            self.verdict.paths.push(path);
        }
    }

    fn type_allowed(&self, ty: &Name) -> bool {
        self.rules.types.get(ty).is_none_or(|req| req.satisfied_by(self.access))
    }

    fn selection_set(&mut self, set: &SelectionSet) {
        // Validated documents have no fragment cycles; the bound only guards the walk itself.
        if self.depth > 256 {
            return;
        }
        self.depth += 1;
        for selection in &set.selections {
            match selection {
                Selection::Field(field) => {
                    if field.name.starts_with("__") {
                        continue;
                    }
                    let key = field.response_key().as_str();
                    let allowed = self
                        .rules
                        .fields
                        .get(&(set.ty.clone(), field.name.clone()))
                        .is_none_or(|req| req.satisfied_by(self.access));
                    if !allowed {
                        self.refuse(spot(field), Some(key));
                        continue;
                    }
                    if !field.selection_set.selections.is_empty() {
                        self.path.push(key.to_owned());
                        self.selection_set(&field.selection_set);
                        self.path.pop();
                    }
                }
                Selection::InlineFragment(inline) => {
                    if let Some(condition) = &inline.type_condition
                        && !self.type_allowed(condition)
                    {
                        self.refuse(spot(inline), None);
                        continue;
                    }
                    self.selection_set(&inline.selection_set);
                }
                Selection::FragmentSpread(spread) => {
                    let Some(fragment) = self.document.fragments.get(&spread.fragment_name) else { continue };
                    if !self.type_allowed(fragment.type_condition()) {
                        self.refuse(spot(spread), None);
                        continue;
                    }
                    self.selection_set(&fragment.selection_set);
                }
            }
        }
        self.depth -= 1;
    }
}
