//! `LoadError`: what users see when a manifest cannot be loaded — `file:line:column: message`,
//! an optional `help:` line, and the offending source line with a caret under the token.
//!
//! Owns: the error type and its rendering. Leaves out: finding the problem (`syntax`,
//! `diagnose`, `header`, `object`).

use super::diag::Diag;
use std::fmt::Write as _;

/// A load error: where (file:line:column, 1-based; 0:0 when there is no position), what, and how
/// to fix it. `Display` gives the first line; `render` the full report.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct LoadError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub hint: Option<String>,
    /// The text of line `line` of the file, when there is one.
    pub source_line: Option<String>,
}

impl LoadError {
    /// An error about a whole file (missing, unreadable): no position.
    pub fn file_level(file: impl Into<String>, message: impl Into<String>) -> Self {
        LoadError {
            file: file.into(),
            line: 0,
            column: 0,
            message: message.into(),
            hint: None,
            source_line: None,
        }
    }

    /// An error found in `text` (the whole file), with the diag already in file coordinates.
    pub(crate) fn from_diag(file: &str, text: &str, diag: &Diag) -> Self {
        let source_line = text
            .lines()
            .nth(diag.pos.line.saturating_sub(1))
            .map(|l| l.trim_start_matches('\u{feff}').to_string());
        LoadError {
            file: file.to_string(),
            line: diag.pos.line,
            column: diag.pos.column,
            message: diag.full_message(),
            hint: diag.hint.clone(),
            source_line,
        }
    }

    /// The report: the `Display` line, the source line with a caret under the column (as rustc
    /// does), and `  help: …` when there is a hint.
    pub fn render(&self) -> String {
        let mut out = self.to_string();
        if let (Some(src), true) = (&self.source_line, self.line > 0 && self.column > 0) {
            let number = self.line.to_string();
            let pad = " ".repeat(number.len());
            let lead: String = src
                .chars()
                .take(self.column - 1)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            let carets = "^".repeat(token_len(src, self.column));
            let _ = write!(
                out,
                "\n{pad} |\n{number} | {src}\n{pad} | {lead}{carets}",
                src = src.trim_end_matches('\r')
            );
        }
        if let Some(hint) = &self.hint {
            let _ = write!(out, "\n  help: {hint}");
        }
        out
    }
}

impl egressbench_text::Diagnostic for LoadError {
    fn help(&self) -> Option<String> {
        self.hint.clone()
    }
}

/// Length in characters of the token starting at `column` of `line` (at least 1).
fn token_len(line: &str, column: usize) -> usize {
    let rest: Vec<char> = line.chars().skip(column.saturating_sub(1)).collect();
    let quoted = matches!(rest.first(), Some('"' | '\''));
    let mut n = 0;
    while let Some(&c) = rest.get(n) {
        let ends_key = c == ':' && rest.get(n + 1).is_none_or(|c| c.is_whitespace());
        if quoted {
            if n > 0 && c == rest[0] {
                n += 1;
                break;
            }
        } else if c.is_whitespace() || ends_key || matches!(c, ',' | ']' | '}' | '#') {
            break;
        }
        n += 1;
    }
    n.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(line: usize, column: usize, src: &str, hint: Option<&str>) -> LoadError {
        LoadError {
            file: "se.yaml".into(),
            line,
            column,
            message: "unknown protocol `HTTQ`".into(),
            hint: hint.map(str::to_string),
            source_line: Some(src.into()),
        }
    }

    #[test]
    fn renders_like_rustc() {
        let e = err(12, 15, "    protocol: HTTQ", Some("did you mean `HTTP`?"));
        assert_eq!(e.to_string(), "se.yaml:12:15: unknown protocol `HTTQ`");
        assert_eq!(
            e.render(),
            "se.yaml:12:15: unknown protocol `HTTQ`\n   |\n12 |     protocol: HTTQ\n   |               ^^^^\n  help: did you mean `HTTP`?"
        );
    }

    #[test]
    fn carets_follow_tabs_and_stop_at_the_key() {
        let e = err(3, 2, "\tworkloadSelectr:", None);
        assert!(
            e.render().ends_with("\n  | \t^^^^^^^^^^^^^^^"),
            "{}",
            e.render()
        );
        assert_eq!(token_len("number: \"eighty\"", 9), 8);
        assert_eq!(token_len("{a: 1}", 5), 1);
        assert_eq!(token_len("", 1), 1);
    }

    #[test]
    fn file_level_errors_have_no_snippet() {
        let e = LoadError::file_level("missing.yaml", "cannot read `missing.yaml`: not found");
        assert_eq!(
            e.render(),
            "missing.yaml:0:0: cannot read `missing.yaml`: not found"
        );
    }
}
