//! Small objects answered without async-graphql's per-field machinery (issue 18).
//!
//! async-graphql resolves every field of an object as a boxed future in a `FuturesUnordered`,
//! finds the field's resolver by comparing its name with each field of the type in turn, and
//! grows the object's map one field at a time: about 2,000 instructions a field. A regional
//! overview lists 180 offers, each with a provider, a care form, a region and a capacity of two
//! to four plain fields; those small objects cost 8 % of a hub request.
//!
//! [`Leaf`] wraps such an object. When every selection on it is a field without arguments or
//! directives that the object answers plainly — a value from [`LeafFields::leaf_field`], an
//! object (itself answered plainly) from [`LeafFields::leaf_object`] (or, for an object known
//! to exist but not at hand, from the fields [`Nested::answer_known`] is given), or
//! `__typename` — or a fragment of the object's own type made of such fields (the gateway
//! factors repeated selections into fragments), the object is built at once from those values.
//! Anything else (a fragment on an interface, a custom directive, a field the type leaves to its
//! resolver, a field whose resolver would answer an error) sends the whole object the usual
//! way, through the wrapped type's own resolver. (`@skip` and `@include` never reach it:
//! async-graphql removes the selections they skip, and the directives, before resolving.) The
//! schema does not change: a `Leaf<T>` registers and names itself as `T`. An async-graphql
//! extension's per-field hook does not see the fields answered here (async-graphql does not let
//! us ask whether a schema has extensions; the hub's schemas have none). [`set_plain_path`]
//! turns the plain path off, to compare the two.
//!
//! This is what async-graphql's container resolution does for such a selection, written again
//! for this one case because the library gives no cheaper path for plain values.

use std::any::Any;
use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, Ordering};

use async_graphql::indexmap::{IndexMap, map::Entry};
use async_graphql::parser::types::{Field, Selection};
use async_graphql::registry::Registry;
use async_graphql::{ContextSelectionSet, Name, OutputType, Positioned, ServerResult, Value};

/// The plain fields of an object: values that need no arguments or loading and cannot fail.
pub trait LeafFields: OutputType {
    /// The value of the field named `name` (no arguments, no sub-selection), or `None` when the
    /// field is not a plain one and must go through the type's resolver. A field with a guard, a
    /// permission check or a fallible conversion must answer `None` whenever the resolver would
    /// answer an error.
    fn leaf_field(&self, name: &str) -> Option<Value>;

    /// The value of the field named `name` that has a sub-selection (an object or `null`),
    /// answered with [`Nested::answer`] from an object at hand; `None` (the default) when it must
    /// go through the type's resolver. As for [`LeafFields::leaf_field`]: `None` whenever the
    /// resolver would answer an error (a refused access, a missing row), so that the error is
    /// the resolver's own.
    fn leaf_object(&self, name: &str, nested: &Nested<'_, '_>) -> Option<Value> {
        let _ = (name, nested);
        None
    }
}

/// The sub-selection of a field, for [`LeafFields::leaf_object`].
pub struct Nested<'s, 'a> {
    ctx: &'s ContextSelectionSet<'a>,
    items: &'a [Positioned<Selection>],
}

impl Nested<'_, '_> {
    /// Data of the request or the schema, as `Context::data_opt` gives it.
    pub fn data<D: Any + Send + Sync>(&self) -> Option<&D> {
        self.ctx.data_opt::<D>()
    }

    /// The sub-selection answered from `object`'s plain fields; `None` when one of them is not
    /// plain.
    pub fn answer<U: LeafFields>(&self, object: &U) -> Option<Value> {
        plain(object, &object.introspection_type_name(), self.ctx, self.items)
    }

    /// The sub-selection answered for an object of the GraphQL object type `type_name` that is
    /// not at hand, only some of whose plain fields are known: `field(name)` gives a field's
    /// value or `None`. `None` when a selection is not one of those fields or `__typename`
    /// (the caller then leaves the object to its resolver). For a reference whose key is all a
    /// selection asks for (an offer's `region { code }`): no row is loaded to answer it. Only for
    /// an object known to exist (a foreign key) and fields whose values are known to be those
    /// its resolver gives: where the resolver would answer an error (a missing row), this would
    /// answer the values instead.
    pub fn answer_known(&self, type_name: &str, field: impl Fn(&str) -> Option<Value>) -> Option<Value> {
        plain(&Known(field), type_name, self.ctx, self.items)
    }
}

/// What the plain path asks of an object: [`LeafFields`], or the known fields of
/// [`Nested::answer_known`].
trait Plain {
    fn plain_field(&self, name: &str) -> Option<Value>;
    fn plain_object(&self, name: &str, nested: &Nested<'_, '_>) -> Option<Value>;
}

impl<T: LeafFields> Plain for T {
    fn plain_field(&self, name: &str) -> Option<Value> {
        self.leaf_field(name)
    }

    fn plain_object(&self, name: &str, nested: &Nested<'_, '_>) -> Option<Value> {
        self.leaf_object(name, nested)
    }
}

/// The fields of [`Nested::answer_known`]: plain values only.
struct Known<F>(F);

impl<F: Fn(&str) -> Option<Value>> Plain for Known<F> {
    fn plain_field(&self, name: &str) -> Option<Value> {
        (self.0)(name)
    }

    fn plain_object(&self, _: &str, _: &Nested<'_, '_>) -> Option<Value> {
        None
    }
}

/// An object answered from its [`LeafFields`] when the selection allows (see the module).
pub struct Leaf<T>(pub T);

/// Whether [`Leaf`]s answer plain selections themselves (the default), or every one goes through
/// its type's resolver.
static PLAIN_PATH: AtomicBool = AtomicBool::new(true);

/// Turns the plain path on (the default) or off for the whole process. Off, every [`Leaf`] is
/// resolved as its type would be: the same answers (what the tests comparing the two paths
/// check), at async-graphql's cost (what a benchmark comparing them measures).
pub fn set_plain_path(on: bool) {
    PLAIN_PATH.store(on, Ordering::Relaxed);
}

/// Objects answered on the plain path as a whole, by GraphQL type (debug builds only: tests check
/// that the path they mean to compare did run).
#[cfg(debug_assertions)]
static PLAIN_ANSWERS: std::sync::Mutex<std::collections::BTreeMap<String, u64>> =
    std::sync::Mutex::new(std::collections::BTreeMap::new());

/// How many [`Leaf`]s of the GraphQL type `type_name` this process answered on the plain path so
/// far (an object answered within another one's plain answer counts for that one only); `None`
/// in a release build, which does not count.
pub fn plain_answers(type_name: &str) -> Option<u64> {
    #[cfg(debug_assertions)]
    return Some(
        PLAIN_ANSWERS.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(type_name).copied().unwrap_or(0),
    );
    #[cfg(not(debug_assertions))]
    {
        let _ = type_name;
        None
    }
}

/// `object`'s value for the selection `items` when every selection is a plain field (or one
/// [`LeafFields::leaf_object`] answers, or a fragment of `object`'s own type with such fields);
/// `None` when one is not.
fn plain<T: Plain>(
    object: &T,
    type_name: &str,
    ctx: &ContextSelectionSet<'_>,
    items: &[Positioned<Selection>],
) -> Option<Value> {
    let mut answer = IndexMap::with_capacity(items.len());
    collect(object, type_name, ctx, items, &mut answer)?;
    // Nothing left to answer (every selection skipped): `null`, as async-graphql answers it.
    Some(if answer.is_empty() { Value::Null } else { Value::Object(answer) })
}

/// Adds the plain answers of `items` to `answer`; `None` at the first selection that is not
/// plain. A fragment counts when it has no directives and its type condition, if any, names
/// `object`'s type itself (one naming an interface goes the usual way).
fn collect<T: Plain>(
    object: &T,
    type_name: &str,
    ctx: &ContextSelectionSet<'_>,
    items: &[Positioned<Selection>],
    answer: &mut IndexMap<Name, Value>,
) -> Option<()> {
    for selection in items {
        let field: &Field = match &selection.node {
            Selection::Field(field) => &field.node,
            Selection::FragmentSpread(spread) => {
                let fragment = &ctx.query_env.fragments.get(&spread.node.fragment_name.node)?.node;
                if !spread.node.directives.is_empty()
                    || !fragment.directives.is_empty()
                    || fragment.type_condition.node.on.node != type_name
                {
                    return None;
                }
                collect(object, type_name, ctx, &fragment.selection_set.node.items, answer)?;
                continue;
            }
            Selection::InlineFragment(fragment) => {
                let fragment = &fragment.node;
                if !fragment.directives.is_empty()
                    || fragment.type_condition.as_ref().is_some_and(|on| on.node.on.node != type_name)
                {
                    return None;
                }
                collect(object, type_name, ctx, &fragment.selection_set.node.items, answer)?;
                continue;
            }
        };
        if !field.arguments.is_empty() || !field.directives.is_empty() {
            return None;
        }
        let sub = &field.selection_set.node.items;
        let value = match field.name.node.as_str() {
            "__typename" => Value::String(type_name.to_owned()),
            name if sub.is_empty() => object.plain_field(name)?,
            name => object.plain_object(name, &Nested { ctx, items: sub })?,
        };
        merge(answer, field.response_key().node.clone(), value);
    }
    Some(())
}

fn merge_objects(first: &mut IndexMap<Name, Value>, more: IndexMap<Name, Value>) {
    for (key, value) in more {
        merge(first, key, value);
    }
}

/// Adds a field's value under its response key. A key given twice names the same field
/// (validation): the first value of a plain field stays, and the selections of an object are
/// merged, member by member (and the objects of a list item by item), as async-graphql merges
/// them.
fn merge(answer: &mut IndexMap<Name, Value>, key: Name, value: Value) {
    let first = match answer.entry(key) {
        Entry::Vacant(vacant) => {
            vacant.insert(value);
            return;
        }
        Entry::Occupied(occupied) => occupied.into_mut(),
    };
    match first {
        Value::Object(first) => {
            if let Value::Object(more) = value {
                merge_objects(first, more);
            }
        }
        Value::List(first) => {
            if let Value::List(more) = value {
                for (first, more) in first.iter_mut().zip(more) {
                    if let (Value::Object(first), Value::Object(more)) = (first, more) {
                        merge_objects(first, more);
                    }
                }
            }
        }
        _ => {}
    }
}

impl<T: LeafFields> OutputType for Leaf<T> {
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn qualified_type_name() -> String {
        T::qualified_type_name()
    }

    fn introspection_type_name(&self) -> Cow<'static, str> {
        self.0.introspection_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry)
    }

    async fn resolve(&self, ctx: &ContextSelectionSet<'_>, field: &Positioned<Field>) -> ServerResult<Value> {
        if PLAIN_PATH.load(Ordering::Relaxed)
            && let Some(value) = plain(&self.0, &self.0.introspection_type_name(), ctx, &ctx.item.node.items)
        {
            #[cfg(debug_assertions)]
            {
                let mut answered = PLAIN_ANSWERS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                *answered.entry(T::type_name().into_owned()).or_default() += 1;
            }
            return Ok(value);
        }
        self.0.resolve(ctx, field).await
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::{ComplexObject, Context, EmptyMutation, EmptySubscription, Object, Schema, SimpleObject};

    use super::*;

    /// A small object with plain fields, one that is not, and objects.
    #[derive(SimpleObject, Clone)]
    #[graphql(complex)]
    struct Unit {
        code: String,
        name: String,
        beds: Option<i32>,
        /// Not plain: left to the resolver.
        note: String,
        site: Site,
        annex: Option<Site>,
    }

    /// Where a unit is.
    #[derive(SimpleObject, Clone)]
    struct Site {
        town: String,
        /// Not plain.
        street: String,
    }

    /// An interface of units (for a fragment on it).
    #[derive(async_graphql::Interface)]
    #[graphql(field(name = "code", ty = "&String"))]
    #[allow(dead_code)] // Only its fragment is asked.
    enum Coded {
        Unit(Unit),
    }

    /// Whether the request may read `Unit.guarded` (request data).
    struct Allowed;

    #[ComplexObject]
    impl Unit {
        /// An object behind a check of the request's data.
        async fn guarded(&self, ctx: &Context<'_>) -> async_graphql::Result<Site> {
            ctx.data::<Allowed>().map_err(|_| "not allowed")?;
            Ok(self.site.clone())
        }
        /// An object of which the plain path knows only the town ([`Nested::answer_known`]).
        async fn nearby(&self) -> Site {
            Site { town: "Zeist".into(), street: "Slotlaan".into() }
        }
    }

    /// Fields answered by [`LeafFields`] (to tell how far the plain path ran).
    static ANSWERED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

    fn answered() -> usize {
        ANSWERED.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    impl LeafFields for Unit {
        fn leaf_field(&self, name: &str) -> Option<Value> {
            answered();
            match name {
                "code" => Some(Value::from(self.code.as_str())),
                "name" => Some(Value::from(self.name.as_str())),
                "beds" => Some(self.beds.map_or(Value::Null, Value::from)),
                _ => None,
            }
        }

        fn leaf_object(&self, name: &str, nested: &Nested<'_, '_>) -> Option<Value> {
            answered();
            match name {
                "site" => nested.answer(&self.site),
                "annex" => self.annex.as_ref().map_or(Some(Value::Null), |annex| nested.answer(annex)),
                "guarded" => nested.data::<Allowed>().and_then(|_| nested.answer(&self.site)),
                "nearby" => nested.answer_known("Site", |name| (name == "town").then(|| Value::from("Zeist"))),
                _ => None,
            }
        }
    }

    impl LeafFields for Site {
        fn leaf_field(&self, name: &str) -> Option<Value> {
            answered();
            (name == "town").then(|| Value::from(self.town.as_str()))
        }
    }

    struct Query;

    fn unit() -> Unit {
        Unit {
            code: "ACUTE-1".into(),
            name: "Crisisdienst".into(),
            beds: None,
            note: "resolver".into(),
            site: Site { town: "Utrecht".into(), street: "Oudegracht".into() },
            annex: None,
        }
    }

    #[Object]
    impl Query {
        async fn plain(&self) -> Unit {
            unit()
        }
        async fn leaf(&self) -> Leaf<Unit> {
            Leaf(unit())
        }
        async fn leaves(&self) -> Vec<Leaf<Unit>> {
            let annex = Some(Site { town: "Zeist".into(), street: "Slotlaan".into() });
            vec![Leaf(unit()), Leaf(Unit { beds: Some(4), annex, ..unit() })]
        }
    }

    async fn run(query: &str, allowed: bool) -> async_graphql::Response {
        let schema = Schema::build(Query, EmptyMutation, EmptySubscription).register_output_type::<Coded>().finish();
        let request = async_graphql::Request::new(query);
        schema.execute(if allowed { request.data(Allowed) } else { request }).await
    }

    #[tokio::test]
    async fn a_leaf_answers_every_selection_as_its_type_does() {
        // Plain fields, aliases, a key given twice, `__typename`, objects (merged when given
        // twice, `null`, behind a check); then what sends the object down the usual path (a
        // field left to the resolver, at the top or nested; fragments; a refused check); then
        // skipped fields.
        for (selection, allowed, plain) in [
            ("{ code name beds }", true, 3),
            ("{ a: code code b: name __typename kind: __typename }", true, 3),
            ("{ code code name }", true, 3),
            ("{ code site { town __typename } annex { town } }", true, 4),
            ("{ site { town } site { t: town } s: site { __typename } }", true, 5),
            ("{ guarded { town } code }", true, 3),
            // The plain path stops at the first selection it cannot answer.
            ("{ code note }", true, 2),
            ("{ site { town street } code }", true, 3),
            ("{ code guarded { town } }", false, 2),
            // Only the known fields of an object not at hand (and `__typename`, its type's).
            ("{ nearby { town __typename t: town } code }", true, 2),
            ("{ nearby { ... on Site { town } } }", true, 1),
            ("{ nearby { town street } code }", true, 1),
            // Fragments of the object's own type, or without a type condition.
            ("{ ... on Unit { code } name }", true, 2),
            ("{ ...F name }", true, 3),
            ("{ site { ... on Site { town } ... { t: town } } }", true, 3),
            // A fragment on an interface takes the usual path.
            ("{ code ... on Coded { code } }", true, 1),
            // Removed by async-graphql before resolving: the plain path answers what is left
            // (`null` when nothing is).
            ("{ code name @include(if: false) beds @skip(if: false) }", true, 2),
            ("{ code @skip(if: true) }", true, 0),
            ("{ code site { town @skip(if: true) } }", true, 2),
        ] {
            let fragment = if selection.contains("...F") { " fragment F on Unit { code beds }" } else { "" };
            // The same columns in both queries, for the errors' locations.
            let usual = run(&format!("{{ plain: plain {selection} }}{fragment}"), allowed).await;
            let before = ANSWERED.load(std::sync::atomic::Ordering::Relaxed);
            let leaf = run(&format!("{{ plain: leaf  {selection} }}{fragment}"), allowed).await;
            let answered = ANSWERED.load(std::sync::atomic::Ordering::Relaxed) - before;
            // Every field but `__typename` asked of `LeafFields`, up to the first selection the
            // plain path cannot answer.
            assert_eq!(answered, plain, "{selection}");
            assert_eq!(usual.errors.is_empty(), allowed, "{selection}: {:?}", usual.errors);
            assert_eq!(
                serde_json::to_string(&leaf.data).expect("json"),
                serde_json::to_string(&usual.data).expect("json"),
                "{selection}"
            );
            assert_eq!(
                serde_json::to_string(&leaf.errors).expect("json"),
                serde_json::to_string(&usual.errors).expect("json"),
                "{selection}"
            );
        }
        let list = run("{ leaves { beds code annex { town } } }", false).await;
        assert_eq!(
            serde_json::to_value(&list.data).expect("json"),
            serde_json::json!({ "leaves": [
                { "beds": null, "code": "ACUTE-1", "annex": null },
                { "beds": 4, "code": "ACUTE-1", "annex": { "town": "Zeist" } },
            ] })
        );
    }

    #[test]
    fn a_leaf_is_its_type_in_the_schema() {
        let sdl = Schema::new(Query, EmptyMutation, EmptySubscription).sdl();
        assert!(sdl.contains("leaf: Unit!"), "{sdl}");
        assert!(sdl.contains("leaves: [Unit!]!"), "{sdl}");
        assert_eq!(sdl.matches("type Unit ").count(), 1, "{sdl}");
    }
}
