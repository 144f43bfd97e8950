//! The programs that may follow curl in a pipeline, as one type.
//!
//! Owns: `Filter` (grep/egrep/fgrep, head, tail, wc, cut), choosing the parser by program name
//! (with or without a `/bin/` or `/usr/bin/` path) and running a filter on its input. Any other
//! program is an error naming the supported ones. Leaves out: each program's options (`grep`,
//! `lines`, `cut`).

use super::cut::Cut;
use super::error::CommandError;
use super::grep::Grep;
use super::lines::{self, Count, Take};

/// A program reading curl's output on stdin.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Grep(Grep),
    Head(Take),
    Tail(Take),
    Wc(Count),
    Cut(Cut),
}

/// For error messages: the programs a pipeline may use after curl.
pub(crate) const SUPPORTED: &str = "grep (also egrep, fgrep), head, tail, wc, cut";

/// `program` without a leading `/bin/` or `/usr/bin/`.
pub(crate) fn base_name(program: &str) -> &str {
    ["/usr/bin/", "/bin/", "/usr/local/bin/"]
        .iter()
        .find_map(|dir| program.strip_prefix(dir))
        .unwrap_or(program)
}

impl Filter {
    /// Parse a filter's words (the program name first).
    pub fn parse(words: &[String]) -> Result<Filter, CommandError> {
        let (program, args) = words
            .split_first()
            .ok_or_else(|| CommandError::ShellSyntax {
                found: "|".into(),
                why: "a pipe must be followed by a command".into(),
            })?;
        Ok(match base_name(program) {
            name @ ("grep" | "egrep" | "fgrep") => Filter::Grep(Grep::parse(name, args)?),
            "head" => Filter::Head(lines::parse_take("head", args)?),
            "tail" => Filter::Tail(lines::parse_take("tail", args)?),
            "wc" => Filter::Wc(lines::parse_wc(args)?),
            "cut" => Filter::Cut(Cut::parse(args)?),
            _ => {
                return Err(CommandError::UnknownProgram {
                    program: program.clone(),
                    position: "after a pipe",
                    supported: SUPPORTED,
                })
            }
        })
    }

    /// The filter's stdout and exit status for `input`.
    pub fn run(&self, input: &str) -> (String, i32) {
        match self {
            Filter::Grep(g) => g.run(input),
            Filter::Head(t) => (lines::head(*t, input), 0),
            Filter::Tail(t) => (lines::tail(*t, input), 0),
            Filter::Wc(c) => (lines::wc(*c, input), 0),
            Filter::Cut(c) => (c.run(input), 0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(line: &str) -> Result<Filter, CommandError> {
        let words: Vec<String> = line.split_whitespace().map(String::from).collect();
        Filter::parse(&words)
    }

    #[test]
    fn programs_by_name() {
        assert!(matches!(filter("grep url"), Ok(Filter::Grep(_))));
        assert!(matches!(filter("/bin/grep url"), Ok(Filter::Grep(_))));
        assert_eq!(filter("head -n 1"), Ok(Filter::Head(Take::Lines(1))));
        assert_eq!(filter("/usr/bin/tail -1"), Ok(Filter::Tail(Take::Lines(1))));
        assert_eq!(filter("wc -l"), Ok(Filter::Wc(Count::Lines)));
        assert!(matches!(filter("cut -c1-3"), Ok(Filter::Cut(_))));
    }

    #[test]
    fn runs_each_kind() {
        assert_eq!(filter("head -1").unwrap().run("a\nb\n"), ("a\n".into(), 0));
        assert_eq!(filter("tail -1").unwrap().run("a\nb\n"), ("b\n".into(), 0));
        assert_eq!(filter("wc -l").unwrap().run("a\nb\n"), ("2\n".into(), 0));
        assert_eq!(filter("cut -c1").unwrap().run("ab\n"), ("a\n".into(), 0));
        assert_eq!(filter("grep z").unwrap().run("ab\n"), (String::new(), 1));
    }

    #[test]
    fn other_programs_are_refused_with_the_list() {
        let e = filter("jq .url").unwrap_err().to_string();
        assert!(
            e.contains("`jq`") && e.contains("grep (also egrep, fgrep), head"),
            "{e}"
        );
        let e = filter("sort").unwrap_err().to_string();
        assert!(e.contains("`sort`"), "{e}");
    }
}
