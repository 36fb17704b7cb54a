//! The data of one request while its plan runs: what the subgraphs answered, merged.
//!
//! Subgraph answers are read once, straight into this form ([`DataSeed`]), and may be shared by
//! several requests (identical calls in flight together): a request that alone holds an answer
//! moves it into its tree, the others copy it. An object is a vector of members, found by
//! comparing keys (GraphQL objects are small), with no hash index and no hasher state per object:
//! a member costs 72 bytes instead of about 140 in a `JsonValue`, reading and merging hash
//! nothing, and strings stay slices of the response buffer. Reading answers into `JsonValue`
//! first (an `IndexMap` per object, every key hashed with SipHash) and copying from it cost about
//! 5 % of the instructions of a hub request (callgrind, `infra/bench/README.md`, issue 18's sixth
//! round).

use std::fmt;

use apollo_compiler::response::serde_json_bytes::ByteString;
use apollo_compiler::response::serde_json_bytes::value::ByteStringSeed;
use apollo_compiler::response::{JsonMap, JsonValue};
use bytes::Bytes;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
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

/// Reads JSON into [`Data`]: strings without escapes stay slices of the buffer (no copy),
/// objects are member vectors in the order they came (no hash index). A key repeated within one
/// object (which no GraphQL response has) is not detected: [`get`] finds its first value. `serde_json_bytes`' `BytesSeed` does
/// the same for `JsonValue`; this is it for our form, with its `ByteStringSeed` for the strings.
#[derive(Clone, Copy)]
pub struct DataSeed<'b>(pub &'b Bytes);

impl DataSeed<'_> {
    /// The whole buffer as one value (nothing but white space after it).
    pub fn parse(self) -> serde_json::Result<Data> {
        let mut reader = serde_json::Deserializer::from_slice(self.0);
        let data = self.deserialize(&mut reader)?;
        reader.end()?;
        Ok(data)
    }
}

impl<'de> DeserializeSeed<'de> for DataSeed<'_> {
    type Value = Data;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Data, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DataSeed<'_> {
    type Value = Data;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<Data, E> {
        Ok(Data::Null)
    }

    fn visit_none<E>(self) -> Result<Data, E> {
        Ok(Data::Null)
    }

    fn visit_bool<E>(self, value: bool) -> Result<Data, E> {
        Ok(Data::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Data, E> {
        Ok(Data::Number(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Data, E> {
        Ok(Data::Number(value.into()))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Data, E> {
        Ok(Number::from_f64(value).map_or(Data::Null, Data::Number))
    }

    // A string with escapes, decoded into a scratch buffer: copied.
    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<Data, E> {
        Ok(Data::String(value.into()))
    }

    // A string without escapes: a slice of the buffer.
    fn visit_borrowed_str<E: serde::de::Error>(self, value: &'de str) -> Result<Data, E> {
        ByteStringSeed::new(self.0).visit_borrowed_str(value).map(Data::String)
    }

    fn visit_string<E>(self, value: String) -> Result<Data, E> {
        Ok(Data::String(value.into()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Data, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Data::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Data, A::Error> {
        let mut members: Object = Vec::new();
        while let Some(key) = map.next_key_seed(ByteStringSeed::new(self.0))? {
            let value = map.next_value_seed(self)?;
            members.push((key, value));
        }
        Ok(Data::Object(members))
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
/// replace. A `null` never overwrites data already fetched. `source` is moved in (the caller
/// copies it only when the answer is shared with other requests).
pub fn merge(target: &mut Data, source: Data) {
    match (target, source) {
        (Data::Object(target), Data::Object(source)) => {
            if target.is_empty() {
                *target = source;
            } else if target.len() + source.len() > INDEX_FROM {
                merge_indexed(target, source);
            } else {
                for (key, value) in source {
                    match get_mut(target, key.as_str()) {
                        Some(existing) => merge(existing, value),
                        None => target.push((key, value)),
                    }
                }
            }
        }
        (Data::List(target), Data::List(source)) if target.len() == source.len() => {
            for (existing, value) in target.iter_mut().zip(source) {
                merge(existing, value);
            }
        }
        (target, Data::Null) if !target.is_null() => {}
        (target, source) => *target = source,
    }
}

/// [`merge`] of two large objects, through an index of the target's keys (no quadratic search).
fn merge_indexed(target: &mut Object, source: Object) {
    // A key given twice (no GraphQL response has one) counts with its first member, as in `get`.
    let mut index: apollo_compiler::collections::HashMap<ByteString, usize> = Default::default();
    for (i, (key, _)) in target.iter().enumerate() {
        index.entry(key.clone()).or_insert(i);
    }
    for (key, value) in source {
        match index.get(key.as_str()) {
            Some(&i) => merge(&mut target[i].1, value),
            None => {
                index.insert(key.clone(), target.len());
                target.push((key, value));
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
    fn a_subgraph_answer_reads_as_its_json_value_would_with_strings_left_in_the_buffer() {
        let text = r#" {"data":{"a":[1,-2,2.5,1e100,-0.0,true,false,null,"x\"y\u0001","plain"],"b":{"c":"d","e":{}},"f":[],"g":18446744073709551615,"h":-9223372036854775808}} "#;
        let bytes = Bytes::from_static(text.as_bytes());
        let data = DataSeed(&bytes).parse().unwrap();
        let value = JsonValue::from_bytes(bytes.clone()).unwrap();
        assert_eq!(data, Data::from_json(&value));
        assert_eq!(written(&data), serde_json::to_string(&value).unwrap());
        // A string without escapes is a slice of the answer, not a copy.
        let Data::Object(root) = &data else { panic!("object") };
        let Some(Data::Object(inner)) = get(root, "data") else { panic!("data") };
        let Some(Data::List(items)) = get(inner, "a") else { panic!("list") };
        let Some(Data::String(plain)) = items.last() else { panic!("string") };
        let range = bytes.as_ptr_range();
        assert!(range.contains(&plain.inner().as_ptr()), "the string was copied");
        // Not JSON, or more than one value: refused, as before.
        for bad in [r#"{"data":"#, r#"{"a":1} {"b":2}"#, "nul", r#"{"a":1,}"#, ""] {
            assert!(DataSeed(&Bytes::from_static(bad.as_bytes())).parse().is_err(), "{bad} was read");
        }
    }

    #[test]
    fn a_key_given_twice_merges_into_the_member_lookups_find() {
        let members: String = (0..40).map(|i| format!("\"k{i}\":{i}")).collect::<Vec<_>>().join(",");
        for extra in ["", &members] {
            let text = format!(r#"{{"d":{{"a":1}},"d":{{"a":2}}{}{extra}}}"#, if extra.is_empty() { "" } else { "," });
            let bytes = Bytes::from(text);
            let mut data = DataSeed(&bytes).parse().unwrap();
            let more = format!(r#"{{"d":{{"b":3}}{}{extra}}}"#, if extra.is_empty() { "" } else { "," });
            merge(&mut data, DataSeed(&Bytes::from(more.clone())).parse().unwrap());
            let Data::Object(root) = &data else { panic!("object") };
            assert_eq!(written(get(root, "d").unwrap()), r#"{"a":1,"b":3}"#, "{} members", root.len());
        }
    }

    #[test]
    fn merging_keeps_order_fills_in_objects_and_lists_and_never_lets_null_overwrite() {
        let mut data = Data::from_json(&json(r#"{"a":{"x":1},"list":[{"id":1},{"id":2}],"n":5}"#));
        merge(&mut data, Data::from_json(&json(r#"{"a":{"y":2},"list":[{"v":"p"},{"v":"q"}],"n":null,"b":true}"#)));
        assert_eq!(written(&data), r#"{"a":{"x":1,"y":2},"list":[{"id":1,"v":"p"},{"id":2,"v":"q"}],"n":5,"b":true}"#);
        // Lists of another length, and values of another kind, replace.
        merge(&mut data, Data::from_json(&json(r#"{"list":[1],"a":"s"}"#)));
        assert_eq!(written(&data), r#"{"a":"s","list":[1],"n":5,"b":true}"#);
    }

    #[test]
    fn large_objects_merge_like_small_ones() {
        let first: String = (0..40).map(|i| format!("\"k{i}\":{{\"a\":{i}}}")).collect::<Vec<_>>().join(",");
        let second: String = (20..60).map(|i| format!("\"k{i}\":{{\"b\":{i}}}")).collect::<Vec<_>>().join(",");
        let mut data = Data::from_json(&json(&format!("{{{first}}}")));
        merge(&mut data, Data::from_json(&json(&format!("{{{second}}}"))));
        let Data::Object(members) = &data else { panic!("object") };
        assert_eq!(members.len(), 60);
        assert_eq!(written(get(members, "k25").unwrap()), r#"{"a":25,"b":25}"#);
        assert_eq!(written(get(members, "k5").unwrap()), r#"{"a":5}"#);
        assert_eq!(written(get(members, "k55").unwrap()), r#"{"b":55}"#);
        assert_eq!(members[40].0.as_str(), "k40");
    }
}
