//! Turning the words after `--` back into one command line, for `parse_exec`.
//!
//! Owns: `join`. Leaves out: reading command lines (`scenario::command`).

/// The words as one command line. A single word is taken as the whole line (`-- "curl -s URL"`);
/// several are quoted where the shell would need it (`-- curl -w '%{http_code}\n' URL`).
pub(super) fn join(words: &[String]) -> String {
    if let [line] = words {
        return line.clone();
    }
    words.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ")
}

fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(ws: &[&str]) -> Vec<String> {
        ws.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn words_are_quoted_only_when_needed() {
        assert_eq!(
            join(&words(&[
                "curl",
                "-s",
                "-w",
                "%{http_code}\\n",
                "http://httpbin.org/get?a=1&b=2"
            ])),
            r"curl -s -w '%{http_code}\n' 'http://httpbin.org/get?a=1&b=2'"
        );
        assert_eq!(join(&words(&["echo", "it's", ""])), r"echo 'it'\''s' ''");
        assert_eq!(join(&words(&["curl -s http://x"])), "curl -s http://x");
    }
}
