//! Percent-encoding as httpbin's WSGI stack applies it.
//!
//! Owns: percent-decoding (invalid UTF-8 becomes U+FFFD), re-quoting with a set of safe characters,
//! `key=value&…` parsing (query strings and urlencoded forms: `+` is a space, empty pieces skipped, a
//! piece without `=` is a key with an empty value), and folding repeated keys into httpbin's shape (one
//! value → a string, several → a list). Leaves out: multipart bodies (`multipart`).

use serde_json::{Map, Value};

/// Decode `%XX` escapes (and `+` as a space when `plus_is_space`); a `%` not followed by two hex
/// digits stays as it is.
pub(super) fn decode_bytes(text: &str, plus_is_space: bool) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match (b, escape_at(bytes, i)) {
            (_, Some(value)) => {
                out.push(value);
                i += 3;
            }
            (b'+', _) if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// The byte a `%XX` escape starting at `bytes[i]` stands for, if there is one.
pub(super) fn escape_at(bytes: &[u8], i: usize) -> Option<u8> {
    match bytes.get(i..i + 3) {
        Some(&[b'%', high, low]) => hex_digit(high).zip(hex_digit(low)).map(|(h, l)| h * 16 + l),
        _ => None,
    }
}

fn hex_digit(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// `decode_bytes` as text.
pub(super) fn decode(text: &str, plus_is_space: bool) -> String {
    String::from_utf8_lossy(&decode_bytes(text, plus_is_space)).into_owned()
}

/// Percent-encode every byte that is neither unreserved (`A-Z a-z 0-9 - . _ ~`) nor in `safe`.
pub(super) fn quote(bytes: &[u8], safe: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || safe.contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `a=1&b=&c&a=2` → `[(a,1), (b,""), (c,""), (a,2)]`, decoded.
pub(super) fn parse_pairs(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (key, value) = piece.split_once('=').unwrap_or((piece, ""));
            (decode(key, true), decode(value, true))
        })
        .collect()
}

/// httpbin's `semiflatten`: an object whose keys keep one string, or a list when repeated.
pub(super) fn semiflatten(pairs: &[(String, String)]) -> Value {
    let mut grouped: Vec<(&str, Vec<&str>)> = Vec::new();
    for (key, value) in pairs {
        match grouped.iter_mut().find(|(k, _)| *k == key) {
            Some((_, values)) => values.push(value),
            None => grouped.push((key, vec![value])),
        }
    }
    let mut map = Map::new();
    for (key, values) in grouped {
        let value = match values.as_slice() {
            [one] => Value::String((*one).to_string()),
            many => Value::Array(
                many.iter()
                    .map(|v| Value::String((*v).to_string()))
                    .collect(),
            ),
        };
        map.insert(key.to_string(), value);
    }
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decoding_handles_escapes_plus_and_bad_input() {
        assert_eq!(decode("a%20b+c", true), "a b c");
        assert_eq!(decode("a%20b+c", false), "a b+c");
        assert_eq!(decode("100%", true), "100%");
        assert_eq!(decode("%zz%4", true), "%zz%4");
        assert_eq!(decode("%C3%A9", true), "é");
        assert_eq!(decode("%FF", true), "\u{fffd}");
        assert_eq!(decode("%+1", true), "% 1");
    }

    #[test]
    fn quoting_keeps_unreserved_and_safe() {
        assert_eq!(quote(b"/a b/~x:y?", b"/:"), "/a%20b/~x:y%3F");
        assert_eq!(quote("é".as_bytes(), b""), "%C3%A9");
    }

    #[test]
    fn pairs_follow_the_url_decoder() {
        let pairs = parse_pairs("a=1&&b=&c&a=2&d=x=y&e=%41+b");
        let want: Vec<(String, String)> = [
            ("a", "1"),
            ("b", ""),
            ("c", ""),
            ("a", "2"),
            ("d", "x=y"),
            ("e", "A b"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect();
        assert_eq!(pairs, want);
        assert!(parse_pairs("").is_empty());
    }

    #[test]
    fn semiflatten_lists_only_repeated_keys() {
        let pairs = parse_pairs("a=1&b=2&a=3");
        assert_eq!(semiflatten(&pairs), json!({"a": ["1", "3"], "b": "2"}));
        assert_eq!(semiflatten(&[]), json!({}));
    }
}
