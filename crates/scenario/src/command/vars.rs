//! Shell variables a scenario defines: its `vars:` block and `export NAME=…` steps.
//!
//! Owns: `Vars` (names and values, in the order defined) and the rule for names (`[A-Za-z_]
//! [A-Za-z0-9_]*`, as `sh` has them). Leaves out: expanding them in a command line (`words`, which
//! expands `$NAME` and `${NAME}` outside single quotes) and where values come from (`kubectl`'s
//! `export` lines, the scenario loader).

use std::collections::BTreeMap;

/// Variables the user's shell holds when a step's command line is read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Vars {
    values: BTreeMap<String, String>,
    /// Unset names expand to themselves (`$NAME`) instead of being an error: for reading what
    /// kind of line a step is before the variables it uses are known.
    lenient: bool,
}

impl Vars {
    /// Variables for a first reading of a line: every name is "set" to its own `$NAME`.
    pub(crate) fn lenient() -> Vars {
        Vars {
            values: BTreeMap::new(),
            lenient: true,
        }
    }

    /// Whether unset names expand to themselves.
    pub(crate) fn is_lenient(&self) -> bool {
        self.lenient
    }

    /// The value of `name`, if it is set.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// Set `name` (a valid name, see `is_name`) to `value`.
    pub fn set(&mut self, name: &str, value: &str) {
        self.values.insert(name.to_string(), value.to_string());
    }

    /// The names set, sorted, for error messages.
    pub fn names(&self) -> String {
        if self.values.is_empty() {
            return "none".into();
        }
        self.values
            .keys()
            .map(|k| format!("${k}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Whether `name` can name a shell variable.
pub fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_values() {
        let mut v = Vars::default();
        assert_eq!(v.names(), "none");
        v.set("SOURCE_POD", "sleep-1");
        v.set("A", "x");
        assert_eq!(v.get("SOURCE_POD"), Some("sleep-1"));
        assert_eq!(v.get("B"), None);
        assert_eq!(v.names(), "$A, $SOURCE_POD");
        assert!(is_name("INGRESS_HOST") && is_name("_x1"));
        assert!(!is_name("1A") && !is_name("") && !is_name("A-B"));
    }
}
