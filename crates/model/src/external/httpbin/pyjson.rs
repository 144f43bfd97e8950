//! JSON text as httpbin prints it (Flask `jsonify` with pretty-printing on, under Python).
//!
//! Owns: rendering a `serde_json::Value` with 2-space indentation, Python's separators `", "` and
//! `": "` (so every line that ends an item ends in a space), keys sorted by code point, everything
//! outside printable ASCII escaped as `\uXXXX` (lower-case hex, surrogate pairs above U+FFFF), floats
//! in Python's `repr` form, and one final newline. Leaves out: parsing (serde_json) and deciding what to print (`echo`).
//!
//! Known gaps: integers beyond 64 bits arrive as floats (serde_json without `arbitrary_precision`),
//! and `NaN` / `Infinity`, which Python's parser accepts, do not parse at all.

use serde_json::{Number, Value};

/// Pretty form, ending in a newline: `{\n  "a": 1, \n  "b": []\n}\n`.
pub(super) fn pretty(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value, 0);
    out.push('\n');
    out
}

fn write_value(out: &mut String, value: &Value, depth: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => out.push_str(&number(n)),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            write_container(out, ('[', ']'), items.iter().map(|v| (None, v)), depth);
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let entries = entries.into_iter().map(|(k, v)| (Some(k.as_str()), v));
            write_container(out, ('{', '}'), entries, depth);
        }
    }
}

fn write_container<'a>(
    out: &mut String,
    (open, close): (char, char),
    entries: impl ExactSizeIterator<Item = (Option<&'a str>, &'a Value)>,
    depth: usize,
) {
    if entries.len() == 0 {
        out.push(open);
        out.push(close);
        return;
    }
    out.push(open);
    let inner = depth + 1;
    for (i, (key, value)) in entries.enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        newline(out, inner);
        if let Some(key) = key {
            write_string(out, key);
            out.push_str(": ");
        }
        write_value(out, value, inner);
    }
    newline(out, depth);
    out.push(close);
}

fn newline(out: &mut String, depth: usize) {
    out.push('\n');
    out.push_str(&"  ".repeat(depth));
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
}

fn number(n: &Number) -> String {
    match (n.as_i64(), n.as_u64(), n.as_f64()) {
        (Some(i), _, _) => i.to_string(),
        (None, Some(u), _) => u.to_string(),
        (None, None, Some(f)) => python_float(f),
        (None, None, None) => n.to_string(),
    }
}

/// Python's `repr(float)`: shortest round-trip digits, fixed notation when the decimal exponent is in
/// -4..16 (always with a fractional part), otherwise `d.ddde±XX`.
fn python_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let sci = format!("{f:e}");
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let sign = if mantissa.starts_with('-') { "-" } else { "" };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if (-4..16).contains(&exponent) {
        if let Ok(whole_len) = usize::try_from(exponent + 1) {
            if digits.len() <= whole_len {
                format!("{sign}{digits:0<whole_len$}.0")
            } else {
                let (whole, fraction) = digits.split_at(whole_len);
                format!("{sign}{whole}.{fraction}")
            }
        } else {
            let zeros = "0".repeat(usize::try_from(-exponent - 1).unwrap_or(0));
            format!("{sign}0.{zeros}{digits}")
        }
    } else {
        let (first, rest) = digits.split_at(digits.len().min(1));
        let dot = if rest.is_empty() { "" } else { "." };
        let exp_sign = if exponent < 0 { '-' } else { '+' };
        format!(
            "{sign}{first}{dot}{rest}e{exp_sign}{:02}",
            exponent.unsigned_abs()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pretty_matches_flask_output() {
        let v =
            json!({"url": "http://x/", "args": {}, "headers": {"B": "2", "A": "1"}, "json": null});
        assert_eq!(
            pretty(&v),
            "{\n  \"args\": {}, \n  \"headers\": {\n    \"A\": \"1\", \n    \"B\": \"2\"\n  }, \n  \
             \"json\": null, \n  \"url\": \"http://x/\"\n}\n"
        );
    }

    #[test]
    fn arrays_nest_and_empty_containers_stay_short() {
        let v = json!({"a": [1, [], {"k": true}]});
        assert_eq!(
            pretty(&v),
            "{\n  \"a\": [\n    1, \n    [], \n    {\n      \"k\": true\n    }\n  ]\n}\n"
        );
        assert_eq!(pretty(&json!([])), "[]\n");
    }

    #[test]
    fn strings_are_escaped_to_ascii() {
        let v = json!("a\"b\\c\n\t\u{1}\u{7f}é😀/");
        assert_eq!(
            pretty(&v),
            "\"a\\\"b\\\\c\\n\\t\\u0001\\u007f\\u00e9\\ud83d\\ude00/\"\n"
        );
    }

    #[test]
    fn floats_print_like_python_repr() {
        let cases = [
            (1.0, "1.0"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.5, "1.5"),
            (123.25, "123.25"),
            (0.0001, "0.0001"),
            (0.00012, "0.00012"),
            (1e-5, "1e-05"),
            (-2.5e-7, "-2.5e-07"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1.25e100, "1.25e+100"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Infinity"),
        ];
        for (f, want) in cases {
            assert_eq!(python_float(f), want, "{f}");
        }
    }

    #[test]
    fn numbers_keep_integers_exact() {
        let v: Value =
            serde_json::from_str("[1, -2, 18446744073709551615, 2.50]").unwrap_or_default();
        assert_eq!(
            pretty(&v),
            "[\n  1, \n  -2, \n  18446744073709551615, \n  2.5\n]\n"
        );
    }
}
