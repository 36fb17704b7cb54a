//! Reading and writing the JSON that passes through the gateway: key lookups tuned for the small
//! objects of GraphQL responses, and writers that copy what needs no escaping.

use apollo_compiler::response::{JsonMap, JsonValue};

/// Objects up to this many members are searched in order rather than through their hash index:
/// comparing a few short keys costs less than hashing the one looked for.
const SCAN_UP_TO: usize = 12;

/// `map.get(key)`, by scanning small objects.
#[inline]
pub fn get<'m>(map: &'m JsonMap, key: &str) -> Option<&'m JsonValue> {
    if map.len() <= SCAN_UP_TO {
        map.iter().find(|(k, _)| same_key(k.as_str(), key)).map(|(_, value)| value)
    } else {
        map.get(key)
    }
}

/// Key equality that rules most keys out by length and first byte before comparing them whole.
#[inline]
pub(crate) fn same_key(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.as_bytes().first() == b.as_bytes().first() && a == b
}

/// Whether JSON needs an escape in `bytes`: `"`, `\` or a control character. Written without an
/// early exit so that it compiles to vector instructions.
#[inline]
fn needs_escape(bytes: &[u8]) -> bool {
    bytes.iter().fold(false, |found, &b| found | (b < 0x20) | (b == b'"') | (b == b'\\'))
}

/// Appends `text` as a JSON string.
pub fn write_str(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    // JSON escapes only `"`, `\` and control characters; most strings have none and are copied.
    if !needs_escape(bytes) {
        out.reserve(bytes.len() + 2);
        out.push(b'"');
        out.extend_from_slice(bytes);
        out.push(b'"');
    } else {
        // Writing to a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, text);
    }
}

/// Appends `"key":` for a key that is a GraphQL name (letters, digits, `_`: nothing to escape).
pub fn write_key(out: &mut Vec<u8>, key: &str) {
    debug_assert!(key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'), "not a GraphQL name: {key}");
    out.reserve(key.len() + 3);
    out.push(b'"');
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
}

/// Appends `value` as JSON.
pub fn write_value(out: &mut Vec<u8>, value: &JsonValue) {
    match value {
        JsonValue::String(text) => write_str(out, text.as_str()),
        JsonValue::Null => out.extend_from_slice(b"null"),
        JsonValue::Bool(true) => out.extend_from_slice(b"true"),
        JsonValue::Bool(false) => out.extend_from_slice(b"false"),
        // Writing to a Vec cannot fail, and serde_json_bytes values always serialize.
        _ => {
            let _ = serde_json::to_writer(&mut *out, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_written_as_serde_json_writes_them() {
        for text in
            ["", "plain", "quote \" here", "back\\slash", "tab\tand\nnewline", "\u{1}\u{1f}", "é ü 💡", "\u{7f}"]
        {
            let mut out = Vec::new();
            write_str(&mut out, text);
            assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(text).unwrap(), "{text:?}");
        }
    }

    #[test]
    fn values_are_written_as_serde_json_writes_them() {
        let value: JsonValue = serde_json::from_str::<JsonValue>(
            r#"{"a":[1,-2.5,true,false,null,"x\"y"],"b":{"c":"d"},"e":12345678901234567890}"#,
        )
        .unwrap();
        let JsonValue::Object(map) = &value else { panic!("object") };
        for (_, member) in map.iter() {
            let mut out = Vec::new();
            write_value(&mut out, member);
            assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(member).unwrap());
        }
    }

    #[test]
    fn lookups_find_the_same_members_in_small_and_large_objects() {
        for size in [0, 1, 5, SCAN_UP_TO, SCAN_UP_TO + 1, 40] {
            let mut map = JsonMap::new();
            for i in 0..size {
                map.insert(format!("k{i}"), JsonValue::from(i as u64));
            }
            for i in 0..size + 2 {
                let key = format!("k{i}");
                assert_eq!(get(&map, &key), map.get(key.as_str()), "size {size}, {key}");
            }
        }
    }
}
