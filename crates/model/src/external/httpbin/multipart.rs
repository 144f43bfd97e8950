//! `multipart/form-data` bodies, and the `type; key=value` header syntax they rely on.
//!
//! Owns: splitting a header value into its main value and parameters (quoted strings allowed), and
//! splitting a multipart body into form fields and uploaded files by name. A body that does not parse
//! yields nothing (httpbin's form parser fails silently). Leaves out: urlencoded forms (`urlcode`)
//! and how fields and files are shown (`echo`).

/// Fields and files of one multipart body, in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct Multipart {
    pub fields: Vec<(String, String)>,
    pub files: Vec<(String, String)>,
}

/// `text/html; charset="utf-8"` → (`text/html`, `[(charset, utf-8)]`). The main value is lower-case,
/// as are parameter names.
pub(super) fn header_params(value: &str) -> (String, Vec<(String, String)>) {
    let pieces = split_unquoted(value, ';');
    let mut pieces = pieces.into_iter();
    let main = pieces
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let params = pieces
        .filter_map(|piece| {
            let (key, value) = piece.split_once('=')?;
            let key = key.trim().to_ascii_lowercase();
            (!key.is_empty()).then(|| (key, unquote(value.trim())))
        })
        .collect();
    (main, params)
}

/// Split on `sep` where it is not inside a double-quoted string.
fn split_unquoted(text: &str, sep: char) -> Vec<String> {
    let mut pieces = vec![String::new()];
    let mut quoted = false;
    let mut escaped = false;
    for c in text.chars() {
        if c == sep && !quoted {
            pieces.push(String::new());
            continue;
        }
        if quoted && !escaped && c == '\\' {
            escaped = true;
        } else {
            if c == '"' && !escaped {
                quoted = !quoted;
            }
            escaped = false;
        }
        if let Some(last) = pieces.last_mut() {
            last.push(c);
        }
    }
    pieces
}

/// `"a \"b\""` → `a "b"`; an unquoted value is returned as it is.
fn unquote(value: &str) -> String {
    let Some(inner) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) else {
        return value.to_string();
    };
    let mut out = String::with_capacity(inner.len());
    let mut escaped = false;
    for c in inner.chars() {
        if c == '\\' && !escaped {
            escaped = true;
            continue;
        }
        escaped = false;
        out.push(c);
    }
    out
}

/// Parse `body` delimited by `boundary`. `None` when the body is not a complete multipart body.
pub(super) fn parse(body: &str, boundary: &str) -> Option<Multipart> {
    if boundary.is_empty() {
        return None;
    }
    let delimiter = format!("--{boundary}");
    let start = body.find(&delimiter)?;
    let mut rest = &body[start + delimiter.len()..];
    let mut parsed = Multipart::default();
    loop {
        if rest.starts_with("--") {
            return Some(parsed);
        }
        rest = rest
            .strip_prefix("\r\n")
            .or_else(|| rest.strip_prefix('\n'))?;
        let (part, after) = next_part(rest, &delimiter)?;
        rest = after;
        add_part(&mut parsed, part);
    }
}

/// The part before the next delimiter line, and what follows that delimiter.
fn next_part<'a>(text: &'a str, delimiter: &str) -> Option<(&'a str, &'a str)> {
    let crlf = format!("\r\n{delimiter}");
    if let Some(at) = text.find(&crlf) {
        return Some((&text[..at], &text[at + crlf.len()..]));
    }
    let lf = format!("\n{delimiter}");
    let at = text.find(&lf)?;
    Some((&text[..at], &text[at + lf.len()..]))
}

fn add_part(parsed: &mut Multipart, part: &str) {
    let (head, content) = part
        .split_once("\r\n\r\n")
        .or_else(|| part.split_once("\n\n"))
        .unwrap_or((part, ""));
    let disposition = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("content-disposition")
            .then(|| header_params(value))
    });
    let Some((_, params)) = disposition else {
        return;
    };
    let param = |key: &str| params.iter().find(|(k, _)| k == key).map(|(_, v)| v);
    let Some(name) = param("name") else {
        return;
    };
    let entry = (name.clone(), content.to_string());
    if param("filename").is_some() {
        parsed.files.push(entry);
    } else {
        parsed.fields.push(entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect()
    }

    #[test]
    fn header_params_split_and_unquote() {
        let (main, params) = header_params("Multipart/Form-Data; boundary=\"a;b\"; X=1");
        assert_eq!(main, "multipart/form-data");
        assert_eq!(params, pairs(&[("boundary", "a;b"), ("x", "1")]));
        let (main, params) = header_params("form-data; name=\"q\\\"x\"");
        assert_eq!(main, "form-data");
        assert_eq!(params, pairs(&[("name", "q\"x")]));
        assert_eq!(header_params(""), (String::new(), Vec::new()));
    }

    #[test]
    fn parses_fields_and_files() {
        let body = "preamble\r\n--XB\r\n\
            Content-Disposition: form-data; name=\"a\"\r\n\r\n\
            1\r\n--XB\r\n\
            content-disposition: form-data; name=\"up\"; filename=\"f.txt\"\r\n\
            Content-Type: text/plain\r\n\r\n\
            file body\nline 2\r\n--XB\r\n\
            Content-Disposition: form-data\r\n\r\nno name\r\n--XB\r\n\
            Content-Disposition: form-data; name=\"a\"\r\n\r\n\
            2\r\n--XB--\r\n";
        let parsed = parse(body, "XB").expect("complete body");
        assert_eq!(parsed.fields, pairs(&[("a", "1"), ("a", "2")]));
        assert_eq!(parsed.files, pairs(&[("up", "file body\nline 2")]));
    }

    #[test]
    fn accepts_bare_newlines() {
        let body = "--b\nContent-Disposition: form-data; name=\"k\"\n\nv\n--b--\n";
        let parsed = parse(body, "b").expect("complete body");
        assert_eq!(parsed.fields, pairs(&[("k", "v")]));
    }

    #[test]
    fn incomplete_or_foreign_bodies_yield_nothing() {
        assert_eq!(parse("no delimiter here", "b"), None);
        assert_eq!(
            parse(
                "--b\r\nContent-Disposition: form-data; name=\"k\"\r\n\r\nv",
                "b"
            ),
            None
        );
        assert_eq!(parse("--bjunk", "b"), None);
        assert_eq!(parse("--b--", ""), None);
        assert_eq!(parse("--b--", "b"), Some(Multipart::default()));
    }
}
