//! Splitting a YAML stream into its documents, each with the line it starts on.
//!
//! Owns: finding document boundaries (`---` lines, `...` end markers), keeping leading comments
//! with the document they precede, and dropping documents with no content. Leaves out: parsing
//! (the parser sees one document at a time, so its line numbers are offset by `first_line`).
//!
//! YAML forbids `---` and `...` at the start of a line inside content (block scalars included),
//! so a line-based split agrees with the parser.

/// One document of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Chunk<'a> {
    /// The document's text, from the start of its first line (a `---` line when it has one).
    pub text: &'a str,
    /// How many lines of the stream come before `text` (0 for the first document).
    pub first_line: usize,
}

/// What one line of the stream is, for splitting purposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Line {
    /// `---`, optionally followed by content on the same line.
    Start {
        with_content: bool,
    },
    /// `...`
    End,
    /// Blank, a comment, or a `%` directive.
    Quiet,
    Content,
}

fn classify(line: &str) -> Line {
    let line = line.strip_suffix('\r').unwrap_or(line);
    let marker = |m: &str| {
        line.strip_prefix(m)
            .filter(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
    };
    if let Some(rest) = marker("---") {
        let rest = rest.trim();
        return Line::Start {
            with_content: !(rest.is_empty() || rest.starts_with('#')),
        };
    }
    if marker("...").is_some() {
        return Line::End;
    }
    let trimmed = line.trim_start();
    if trimmed.is_empty() || trimmed.starts_with('#') || line.starts_with('%') {
        Line::Quiet
    } else {
        Line::Content
    }
}

/// The documents of `text` that have content, in order. A UTF-8 byte order mark is ignored.
pub(crate) fn split(text: &str) -> Vec<Chunk<'_>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut chunks = Vec::new();
    // Current document: byte start, first line, whether it has content / a `---` of its own.
    let mut start = 0usize;
    let mut start_line = 0usize;
    let mut has_content = false;
    let mut has_marker = false;

    let mut offset = 0usize;
    for (n, line) in text.split_inclusive('\n').enumerate() {
        let kind = classify(line.strip_suffix('\n').unwrap_or(line));
        match kind {
            Line::Start { with_content } => {
                if has_content || has_marker {
                    if has_content {
                        chunks.push(Chunk {
                            text: &text[start..offset],
                            first_line: start_line,
                        });
                    }
                    start = offset;
                    start_line = n;
                }
                has_marker = true;
                has_content = with_content;
            }
            Line::End => {
                let end = offset + line.len();
                if has_content {
                    chunks.push(Chunk {
                        text: &text[start..end],
                        first_line: start_line,
                    });
                }
                start = end;
                start_line = n + 1;
                has_content = false;
                has_marker = false;
            }
            Line::Quiet => {}
            Line::Content => has_content = true,
        }
        offset += line.len();
    }
    if has_content {
        chunks.push(Chunk {
            text: &text[start..],
            first_line: start_line,
        });
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<(usize, &str)> {
        split(text)
            .into_iter()
            .map(|c| (c.first_line, c.text))
            .collect()
    }

    #[test]
    fn separators_comments_and_end_markers() {
        let text =
            "# header comment\n---\na: 1\n---\n# only a comment\n---\n\nb: 2\n...\n---\nc: 3\n";
        assert_eq!(
            lines(text),
            [
                (0, "# header comment\n---\na: 1\n"),
                (5, "---\n\nb: 2\n...\n"),
                (9, "---\nc: 3\n"),
            ]
        );
    }

    #[test]
    fn leading_comments_stay_with_their_document() {
        let text = "a: 1\n---\n# Source: chart/templates/se.yaml\nb: 2\n";
        assert_eq!(
            lines(text),
            [
                (0, "a: 1\n"),
                (1, "---\n# Source: chart/templates/se.yaml\nb: 2\n")
            ]
        );
    }

    #[test]
    fn empty_documents_and_streams() {
        assert!(split("").is_empty());
        assert!(split("---\n---\n# nothing\n...\n").is_empty());
        assert_eq!(lines("--- {a: 1}\n"), [(0, "--- {a: 1}\n")]);
        assert_eq!(lines("---   # note\nx: 1"), [(0, "---   # note\nx: 1")]);
    }

    #[test]
    fn markers_need_a_break_after_them() {
        // `----` and `---x` are content, not separators.
        assert_eq!(lines("a: |\n  ----\n  ---x\nb: 1\n").len(), 1);
    }

    #[test]
    fn crlf_and_bom() {
        let text = "\u{feff}a: 1\r\n---\r\nb: 2\r\n";
        assert_eq!(lines(text), [(0, "a: 1\r\n"), (1, "---\r\nb: 2\r\n")]);
    }

    #[test]
    fn content_after_end_marker_starts_a_bare_document() {
        assert_eq!(
            lines("a: 1\n...\nb: 2\n"),
            [(0, "a: 1\n...\n"), (2, "b: 2\n")]
        );
    }
}
