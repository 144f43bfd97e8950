//! `Diagnostic`: an error as a person reads it — what is wrong, led by where (its `Display`), and
//! how to fix it (`help`). Every error enum a user can meet implements it, and the command line
//! renders any of them the same way, in one place.
//!
//! Owns: the trait. Leaves out: rendering (the CLI's `bad_input`) and the errors themselves.

/// An error with a fix. Its `Display` is the message, the location first when it has one
/// (`file:line:column: …`, `ASMEgressTrafficPolicy/ns/name: spec.…: …`).
pub trait Diagnostic: std::error::Error {
    /// How to fix it, for a `help:` line.
    fn help(&self) -> Option<String> {
        None
    }
}

/// Any diagnostic, boxed, for errors that carry another layer's (a target's engine).
pub type BoxDiagnostic = Box<dyn Diagnostic + Send + Sync>;

/// A diagnostic made of text: for a cause that only has words (a refused change reported by
/// a scripted or remote target).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Plain {
    pub message: String,
    pub help: Option<String>,
}

impl Diagnostic for Plain {
    fn help(&self) -> Option<String> {
        self.help.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_diagnostic_says_what_it_was_given() {
        let d: BoxDiagnostic = Box::new(Plain {
            message: "refused".into(),
            help: Some("ask again".into()),
        });
        assert_eq!(d.to_string(), "refused");
        assert_eq!(d.help().as_deref(), Some("ask again"));
    }
}
