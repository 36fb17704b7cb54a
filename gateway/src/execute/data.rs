//! The data of one request while its plan runs: what the subgraphs answered, merged.
//!
//! Subgraph answers are parsed once into [`JsonValue`]s and may be shared by several requests
//! (identical calls in flight together); each request copies into its own tree only the parts it
//! merges. That tree is this compact form rather than `JsonValue`: an object is a vector of
//! members, found by comparing keys (GraphQL objects are small), with no hash index and no hasher
//! state per object. A member costs 72 bytes instead of about 140, and merging hashes nothing,
//! which matters when many requests hold their trees at once.

use apollo_compiler::response::serde_json_bytes::ByteString;
use apollo_compiler::response::{JsonMap, JsonValue};
use serde_json::Number;

use crate::json;

/// One value of the merged data.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Data {
    #[default]
    Null,
    Bool(bool),
    Number(Number),
    String(ByteString),
    List(Vec<Data>),
    Object(Object),
}

/// An object's members in the order they arrived.
pub type Object = Vec<(ByteString, Data)>;

/// Objects with more members than this are merged through a temporary index.
const INDEX_FROM: usize = 32;

impl Data {
    /// An empty object (the root of a request's data).
    pub fn object() -> Self {
        Self::Object(Vec::new())
    }

    /// A copy of a subgraph's value.
    pub fn from_json(value: &JsonValue) -> Self {
        match value {
            JsonValue::Null => Self::Null,
            JsonValue::Bool(b) => Self::Bool(*b),
            JsonValue::Number(n) => Self::Number(n.clone()),
            JsonValue::String(s) => Self::String(s.clone()),
            JsonValue::Array(items) => Self::List(items.iter().map(Self::from_json).collect()),
            JsonValue::Object(map) => Self::Object(map.iter().map(|(k, v)| (k.clone(), Self::from_json(v))).collect()),
        }
    }

    /// This value as a [`JsonValue`].
    pub fn to_json(&self) -> JsonValue {
        match self {
            Self::Null => JsonValue::Null,
            Self::Bool(b) => JsonValue::Bool(*b),
            Self::Number(n) => JsonValue::Number(n.clone()),
            Self::String(s) => JsonValue::String(s.clone()),
            Self::List(items) => JsonValue::Array(items.iter().map(Self::to_json).collect()),
            Self::Object(members) => {
                let mut map = JsonMap::with_capacity(members.len());
                for (key, value) in members {
                    map.insert(key.clone(), value.to_json());
                }
                JsonValue::Object(map)
            }
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::String(s) => Some(s.as_str()),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Self::Null)
    }

    pub fn is_object(&self) -> bool {
        matches!(self, Self::Object(_))
    }

    /// Appends this value as JSON.
    pub fn write(&self, out: &mut Vec<u8>) {
        match self {
            Self::Null => out.extend_from_slice(b"null"),
            Self::Bool(true) => out.extend_from_slice(b"true"),
            Self::Bool(false) => out.extend_from_slice(b"false"),
            // Writing to a Vec cannot fail.
            Self::Number(n) => {
                let _ = serde_json::to_writer(&mut *out, n);
            }
            Self::String(s) => json::write_str(out, s.as_str()),
            Self::List(items) => {
                out.push(b'[');
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        out.push(b',');
                    }
                    item.write(out);
                }
                out.push(b']');
            }
            Self::Object(members) => {
                out.push(b'{');
                for (index, (key, value)) in members.iter().enumerate() {
                    if index > 0 {
                        out.push(b',');
                    }
                    // A key of a custom scalar's value may need escaping: not `write_key`.
                    json::write_str(out, key.as_str());
                    out.push(b':');
                    value.write(out);
                }
                out.push(b'}');
            }
        }
    }
}

/// The member `key` of an object.
#[inline]
pub fn get<'o>(object: &'o Object, key: &str) -> Option<&'o Data> {
    object.iter().find(|(k, _)| json::same_key(k.as_str(), key)).map(|(_, value)| value)
}

/// The member `key` of an object, to change it.
#[inline]
pub fn get_mut<'o>(object: &'o mut Object, key: &str) -> Option<&'o mut Data> {
    object.iter_mut().find(|(k, _)| json::same_key(k.as_str(), key)).map(|(_, value)| value)
}

/// Merges a subgraph's value into the data: objects key by key, lists item by item, other values
/// replace. A `null` never overwrites data already fetched. Only what `target` does not have yet
/// is copied from `source`.
pub fn merge(target: &mut Data, source: &JsonValue) {
    match (target, source) {
        (Data::Object(target), JsonValue::Object(source)) => {
            if target.is_empty() {
                target.extend(source.iter().map(|(k, v)| (k.clone(), Data::from_json(v))));
            } else if target.len() + source.len() > INDEX_FROM {
                merge_indexed(target, source);
            } else {
                for (key, value) in source.iter() {
                    match get_mut(target, key.as_str()) {
                        Some(existing) => merge(existing, value),
                        None => target.push((key.clone(), Data::from_json(value))),
                    }
                }
            }
        }
        (Data::List(target), JsonValue::Array(source)) if target.len() == source.len() => {
            for (existing, value) in target.iter_mut().zip(source) {
                merge(existing, value);
            }
        }
        (target, JsonValue::Null) if !target.is_null() => {}
        (target, source) => *target = Data::from_json(source),
    }
}

/// [`merge`] of two large objects, through an index of the target's keys (no quadratic search).
fn merge_indexed(target: &mut Object, source: &JsonMap) {
    let mut index: apollo_compiler::collections::HashMap<ByteString, usize> =
        target.iter().enumerate().map(|(i, (k, _))| (k.clone(), i)).collect();
    for (key, value) in source.iter() {
        match index.get(key.as_str()) {
            Some(&i) => merge(&mut target[i].1, value),
            None => {
                index.insert(key.clone(), target.len());
                target.push((key.clone(), Data::from_json(value)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> JsonValue {
        serde_json::from_str(text).unwrap()
    }

    fn written(data: &Data) -> String {
        let mut out = Vec::new();
        data.write(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_copy_writes_as_the_json_it_came_from_and_converts_back() {
        let text = r#"{"a":[1,-2,2.5,1e100,-0.0,true,false,null,"x\"y\u0001"],"b":{"c":"d","e":{}},"f":[],"g":18446744073709551615}"#;
        let value = json(text);
        let data = Data::from_json(&value);
        assert_eq!(written(&data), serde_json::to_string(&value).unwrap());
        assert_eq!(data.to_json(), value);
    }

    #[test]
    fn merging_keeps_order_fills_in_objects_and_lists_and_never_lets_null_overwrite() {
        let mut data = Data::from_json(&json(r#"{"a":{"x":1},"list":[{"id":1},{"id":2}],"n":5}"#));
        merge(&mut data, &json(r#"{"a":{"y":2},"list":[{"v":"p"},{"v":"q"}],"n":null,"b":true}"#));
        assert_eq!(written(&data), r#"{"a":{"x":1,"y":2},"list":[{"id":1,"v":"p"},{"id":2,"v":"q"}],"n":5,"b":true}"#);
        // Lists of another length, and values of another kind, replace.
        merge(&mut data, &json(r#"{"list":[1],"a":"s"}"#));
        assert_eq!(written(&data), r#"{"a":"s","list":[1],"n":5,"b":true}"#);
    }

    #[test]
    fn large_objects_merge_like_small_ones() {
        let first: String = (0..40).map(|i| format!("\"k{i}\":{{\"a\":{i}}}")).collect::<Vec<_>>().join(",");
        let second: String = (20..60).map(|i| format!("\"k{i}\":{{\"b\":{i}}}")).collect::<Vec<_>>().join(",");
        let mut data = Data::from_json(&json(&format!("{{{first}}}")));
        merge(&mut data, &json(&format!("{{{second}}}")));
        let Data::Object(members) = &data else { panic!("object") };
        assert_eq!(members.len(), 60);
        assert_eq!(written(get(members, "k25").unwrap()), r#"{"a":25,"b":25}"#);
        assert_eq!(written(get(members, "k5").unwrap()), r#"{"a":5}"#);
        assert_eq!(written(get(members, "k55").unwrap()), r#"{"b":55}"#);
        assert_eq!(members[40].0.as_str(), "k40");
    }
}
