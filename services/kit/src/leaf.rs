//! Small objects answered without async-graphql's per-field machinery (issue 18).
//!
//! async-graphql resolves every field of an object as a boxed future in a `FuturesUnordered`,
//! finds the field's resolver by comparing its name with each field of the type in turn, and
//! grows the object's map one field at a time: about 2,000 instructions a field. A regional
//! overview lists 180 offers, each with a provider, a care form, a region and a capacity of two
//! to four plain fields; those small objects cost 8 % of a hub request.
//!
//! [`Leaf`] wraps such an object. When every selection on it is a field without arguments,
//! directives or sub-selection that [`LeafFields::leaf_field`] answers (or `__typename`), the
//! object is built at once from those values; anything else (a fragment, a custom directive, a
//! field the type leaves to its resolver) goes the usual way, through the wrapped type's own
//! resolver. (`@skip` and `@include` never reach it: async-graphql removes the fields they skip,
//! and the directives, before resolving.) The schema does not change: a `Leaf<T>` registers and
//! names itself as `T`. An async-graphql extension's per-field hook does not see the fields
//! answered here (async-graphql does not let us ask whether a schema has extensions; the hub's
//! schemas have none).
//!
//! This is what async-graphql's container resolution does for such a selection, written again
//! for this one case because the library gives no cheaper path for plain values.

use std::borrow::Cow;

use async_graphql::parser::types::{Field, Selection};
use async_graphql::registry::Registry;
use async_graphql::{ContextSelectionSet, OutputType, Positioned, ServerResult, Value};

/// The plain fields of an object: values that need no context, arguments or loading and cannot
/// fail.
pub trait LeafFields: OutputType {
    /// The value of the field named `name` (no arguments), or `None` when the field is not a
    /// plain one and must go through the type's resolver. A field with a guard, a
    /// permission check or a fallible conversion must answer `None`.
    fn leaf_field(&self, name: &str) -> Option<Value>;
}

/// An object answered from its [`LeafFields`] when the selection allows (see the module).
pub struct Leaf<T>(pub T);

impl<T: LeafFields> Leaf<T> {
    /// The object's value when every selection is a plain field; `None` when one is not.
    fn plain(&self, ctx: &ContextSelectionSet<'_>) -> Option<Value> {
        let items = &ctx.item.node.items;
        let mut object = async_graphql::indexmap::IndexMap::with_capacity(items.len());
        for selection in items {
            let Selection::Field(field) = &selection.node else { return None };
            let field: &Field = &field.node;
            if !field.arguments.is_empty() || !field.directives.is_empty() || !field.selection_set.node.items.is_empty()
            {
                return None;
            }
            let value = match field.name.node.as_str() {
                "__typename" => Value::String(self.0.introspection_type_name().into_owned()),
                name => self.0.leaf_field(name)?,
            };
            // A response key given twice names the same field (validation): one value.
            object.insert(field.response_key().node.clone(), value);
        }
        Some(Value::Object(object))
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
        match self.plain(ctx) {
            Some(value) => Ok(value),
            None => self.0.resolve(ctx, field).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema, SimpleObject};

    use super::*;

    /// A small object with plain fields and one that is not.
    #[derive(SimpleObject, Clone)]
    struct Unit {
        code: String,
        name: String,
        beds: Option<i32>,
        /// Not plain: left to the resolver.
        note: String,
    }

    /// Plain fields answered by [`LeafFields`] (to tell that the plain path ran).
    static ANSWERED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

    impl LeafFields for Unit {
        fn leaf_field(&self, name: &str) -> Option<Value> {
            ANSWERED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            match name {
                "code" => Some(Value::from(self.code.as_str())),
                "name" => Some(Value::from(self.name.as_str())),
                "beds" => Some(self.beds.map_or(Value::Null, Value::from)),
                _ => None,
            }
        }
    }

    struct Query;

    fn unit() -> Unit {
        Unit { code: "ACUTE-1".into(), name: "Crisisdienst".into(), beds: None, note: "resolver".into() }
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
            vec![Leaf(unit()), Leaf(Unit { beds: Some(4), ..unit() })]
        }
    }

    async fn run(query: &str) -> async_graphql::Response {
        Schema::new(Query, EmptyMutation, EmptySubscription).execute(query).await
    }

    #[tokio::test]
    async fn a_leaf_answers_every_selection_as_its_type_does() {
        // Plain fields, aliases, a key given twice, `__typename`; then what sends the object down
        // the usual path (a field left to the resolver, fragments); then skipped fields.
        for (selection, plain) in [
            ("{ code name beds }", 3),
            ("{ a: code code b: name __typename kind: __typename }", 3),
            ("{ code code name }", 3),
            // The plain path stops at the first selection it cannot answer.
            ("{ code note }", 2),
            ("{ ... on Unit { code } name }", 0),
            ("{ ...F }", 0),
            // Removed by async-graphql before resolving: the plain path answers what is left.
            ("{ code name @include(if: false) beds @skip(if: false) }", 2),
        ] {
            let fragment = if selection.contains("...F") { " fragment F on Unit { code beds }" } else { "" };
            let usual = run(&format!("{{ plain {selection} }}{fragment}")).await;
            let before = ANSWERED.load(std::sync::atomic::Ordering::Relaxed);
            let leaf = run(&format!("{{ plain: leaf {selection} }}{fragment}")).await;
            let answered = ANSWERED.load(std::sync::atomic::Ordering::Relaxed) - before;
            // Every plain field but `__typename` asked of `leaf_field`, up to the first selection
            // the plain path cannot answer.
            assert_eq!(answered, plain, "{selection}");
            assert!(usual.errors.is_empty(), "{selection}: {:?}", usual.errors);
            assert_eq!(
                serde_json::to_string(&leaf.data).expect("json"),
                serde_json::to_string(&usual.data).expect("json"),
                "{selection}"
            );
        }
        let list = run("{ leaves { beds code } }").await;
        assert_eq!(
            serde_json::to_value(&list.data).expect("json"),
            serde_json::json!({ "leaves": [{ "beds": null, "code": "ACUTE-1" }, { "beds": 4, "code": "ACUTE-1" }] })
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
