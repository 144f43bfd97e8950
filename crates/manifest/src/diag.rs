//! A problem found in one piece of YAML text, placed relative to that text.
//!
//! Owns: the in-flight form of an error (position, message, hint, and another place the message
//! refers to) and moving it into an enclosing text's coordinates. Leaves out: the file-level
//! `LoadError` that users see (`error`), and deciding what went wrong (`diagnose`, `syntax`).

use super::locate::Pos;

/// A problem at `pos` of the text being read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Diag {
    pub pos: Pos,
    pub message: String,
    pub hint: Option<String>,
    /// Another place the message mentions (`while parsing a block mapping`, `first defined`).
    pub related: Option<Related>,
}

/// A second place an error refers to, printed after the message as "(`what` at line L column C)".
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Related {
    pub what: String,
    pub pos: Pos,
}

impl Diag {
    pub(crate) fn new(pos: Pos, message: impl Into<String>) -> Self {
        Diag {
            pos,
            message: message.into(),
            hint: None,
            related: None,
        }
    }

    pub(crate) fn with_hint(mut self, hint: Option<String>) -> Self {
        self.hint = hint;
        self
    }

    pub(crate) fn with_related(mut self, what: impl Into<String>, pos: Pos) -> Self {
        self.related = Some(Related {
            what: what.into(),
            pos,
        });
        self
    }

    /// The same problem in another text's coordinates (every position goes through `f`).
    pub(crate) fn map_pos(mut self, f: impl Fn(Pos) -> Pos) -> Self {
        self.pos = f(self.pos);
        if let Some(r) = &mut self.related {
            r.pos = f(r.pos);
        }
        self
    }

    /// The message with the related place spelt out.
    pub(crate) fn full_message(&self) -> String {
        match &self.related {
            None => self.message.clone(),
            Some(r) => format!(
                "{} ({} at line {} column {})",
                self.message, r.what, r.pos.line, r.pos.column
            ),
        }
    }
}

/// Shift a position by `lines` lines (a document that starts further down its file).
pub(crate) fn shift(lines: usize) -> impl Fn(Pos) -> Pos {
    move |p| Pos::new(p.line + lines, p.column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn related_places_move_with_the_error() {
        let d = Diag::new(Pos::new(2, 3), "duplicate key `a`")
            .with_related("first defined", Pos::new(1, 3))
            .map_pos(shift(10));
        assert_eq!(d.pos, Pos::new(12, 3));
        assert_eq!(
            d.full_message(),
            "duplicate key `a` (first defined at line 11 column 3)"
        );
    }
}
