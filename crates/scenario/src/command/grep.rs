//! `grep` (and `egrep`, `fgrep`) as a pipeline filter on curl's output.
//!
//! Owns: grep's options (-i -v -o -E -F -G -q -s -c -w -x -n -e and their long names, grouped as
//! in `-iE`, options after the pattern as GNU grep permits), line selection, `-o` matches, `-c`
//! counts, `-n` numbers and the exit status (0 when a line was selected, 1 when none). Leaves
//! out: the pattern syntax (`pattern`) and reading files (grep only filters stdin here).

use super::error::CommandError;
use super::pattern::{translate, Syntax};
use regex::Regex;

/// grep's options, as parsed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GrepOptions {
    /// The patterns (`-e` ones, or the first operand); a line is selected when any matches.
    pub patterns: Vec<String>,
    pub syntax: Syntax,
    /// `-i`
    pub ignore_case: bool,
    /// `-v`
    pub invert: bool,
    /// `-o`
    pub only_matching: bool,
    /// `-q`
    pub quiet: bool,
    /// `-c`
    pub count: bool,
    /// `-w`
    pub word: bool,
    /// `-x`
    pub line: bool,
    /// `-n`
    pub line_number: bool,
}

/// A ready-to-run grep: its options and the compiled pattern.
#[derive(Debug, Clone)]
pub struct Grep {
    pub options: GrepOptions,
    /// Capture group 1 is the text a match stands for (what `-o` prints).
    regex: Regex,
}

impl PartialEq for Grep {
    fn eq(&self, other: &Self) -> bool {
        self.options == other.options
    }
}

const SUPPORTED: &str = "-i/--ignore-case, -v/--invert-match, -o/--only-matching, \
     -E/--extended-regexp, -F/--fixed-strings, -G/--basic-regexp, -q/--quiet/--silent, \
     -s/--no-messages, -c/--count, -w/--word-regexp, -x/--line-regexp, -n/--line-number, \
     -e/--regexp PATTERN, --color=never|auto";

fn unknown(flag: &str) -> CommandError {
    CommandError::UnknownFlag {
        program: "grep",
        flag: flag.to_string(),
        supported: SUPPORTED.to_string(),
    }
}

impl Grep {
    /// Parse grep's arguments; `program` is how it was invoked (`grep`, `egrep`, `fgrep`).
    pub fn parse(program: &str, args: &[String]) -> Result<Grep, CommandError> {
        let mut o = GrepOptions {
            syntax: match program {
                "egrep" => Syntax::Extended,
                "fgrep" => Syntax::Fixed,
                _ => Syntax::Basic,
            },
            ..GrepOptions::default()
        };
        let mut operands = Vec::new();
        let mut ended = false;
        let mut rest = args.iter();
        while let Some(arg) = rest.next() {
            if ended || arg == "-" || !arg.starts_with('-') {
                operands.push(arg.clone());
            } else if arg == "--" {
                ended = true;
            } else if let Some(long) = arg.strip_prefix("--") {
                o.long(long, arg, &mut rest)?;
            } else {
                let group: Vec<char> = arg.chars().skip(1).collect();
                for (i, c) in group.iter().enumerate() {
                    if *c == 'e' {
                        let glued: String = group[i + 1..].iter().collect();
                        let pattern = if glued.is_empty() {
                            value(&mut rest, "-e")?
                        } else {
                            glued
                        };
                        o.patterns.push(pattern);
                        break;
                    }
                    o.short(*c)?;
                }
            }
        }
        let mut operands = operands.into_iter();
        if o.patterns.is_empty() {
            o.patterns
                .push(operands.next().ok_or_else(|| CommandError::Usage {
                    program: "grep",
                    message: "no pattern given; write grep PATTERN".into(),
                })?);
        }
        let files: Vec<String> = operands.collect();
        if !files.is_empty() {
            return Err(CommandError::Usage {
                program: "grep",
                message: format!(
                    "grep would read the files {files:?}, but here it only filters curl's output; \
                     drop them (or quote a pattern that contains spaces)"
                ),
            });
        }
        Grep::new(o)
    }

    fn new(options: GrepOptions) -> Result<Grep, CommandError> {
        let mut alternatives = Vec::new();
        for pattern in &options.patterns {
            for p in pattern.split('\n') {
                let re = translate(p, options.syntax).map_err(|reason| CommandError::Pattern {
                    pattern: pattern.clone(),
                    reason,
                })?;
                alternatives.push(format!("(?:{re})"));
            }
        }
        let body = alternatives.join("|");
        let core = if options.line {
            format!("^({body})$")
        } else if options.word {
            format!(r"(?:^|\W)({body})(?:\W|$)")
        } else {
            format!("({body})")
        };
        let flags = if options.ignore_case { "(?i)" } else { "" };
        let regex = Regex::new(&format!("{flags}{core}")).map_err(|e| CommandError::Pattern {
            pattern: options.patterns.join("\\n"),
            reason: format!("the regex engine rejects it: {e}"),
        })?;
        Ok(Grep { options, regex })
    }

    /// grep's stdout and exit status for `input`.
    pub fn run(&self, input: &str) -> (String, i32) {
        let o = &self.options;
        let mut out = String::new();
        let mut selected = 0usize;
        for (n, line) in lines(input).enumerate() {
            if self.regex.is_match(line) == o.invert {
                continue;
            }
            selected += 1;
            if o.quiet || o.count {
                continue;
            }
            let prefix = if o.line_number {
                format!("{}:", n + 1)
            } else {
                String::new()
            };
            if !o.only_matching {
                out.push_str(&format!("{prefix}{line}\n"));
            } else if !o.invert {
                for m in self.matches(line) {
                    out.push_str(&format!("{prefix}{m}\n"));
                }
            }
        }
        if o.count && !o.quiet {
            out = format!("{selected}\n");
        }
        (out, if selected > 0 { 0 } else { 1 })
    }

    /// The non-empty matches in `line`, left to right (a word match may share its boundary
    /// character with the next one).
    fn matches<'a>(&self, line: &'a str) -> Vec<&'a str> {
        let mut found = Vec::new();
        let mut pos = 0;
        while pos <= line.len() {
            let Some(m) = self.regex.captures_at(line, pos).and_then(|c| c.get(1)) else {
                break;
            };
            if m.is_empty() {
                pos = m.end() + line[m.end()..].chars().next().map_or(1, char::len_utf8);
            } else {
                found.push(m.as_str());
                pos = m.end();
            }
        }
        found
    }
}

impl GrepOptions {
    fn short(&mut self, c: char) -> Result<(), CommandError> {
        match c {
            'i' | 'y' => self.ignore_case = true,
            'v' => self.invert = true,
            'o' => self.only_matching = true,
            'E' => self.syntax = Syntax::Extended,
            'F' => self.syntax = Syntax::Fixed,
            'G' => self.syntax = Syntax::Basic,
            'q' => self.quiet = true,
            's' => {}
            'c' => self.count = true,
            'w' => self.word = true,
            'x' => self.line = true,
            'n' => self.line_number = true,
            other => return Err(unknown(&format!("-{other}"))),
        }
        Ok(())
    }

    fn long<'a>(
        &mut self,
        long: &str,
        arg: &str,
        rest: &mut impl Iterator<Item = &'a String>,
    ) -> Result<(), CommandError> {
        let (name, inline) = match long.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (long, None),
        };
        let short = match name {
            "ignore-case" => 'i',
            "invert-match" => 'v',
            "only-matching" => 'o',
            "extended-regexp" => 'E',
            "fixed-strings" => 'F',
            "basic-regexp" => 'G',
            "quiet" | "silent" => 'q',
            "no-messages" => 's',
            "count" => 'c',
            "word-regexp" => 'w',
            "line-regexp" => 'x',
            "line-number" => 'n',
            "regexp" => {
                let p = match inline {
                    Some(v) => v,
                    None => value(rest, arg)?,
                };
                self.patterns.push(p);
                return Ok(());
            }
            "color" | "colour" => {
                return match inline.as_deref() {
                    None | Some("never" | "auto") => Ok(()),
                    Some(other) => Err(CommandError::BadValue {
                        program: "grep",
                        flag: arg.to_string(),
                        value: other.to_string(),
                        expected: "never or auto (grep's output here is not a terminal, so it \
                                   is never coloured)"
                            .into(),
                    }),
                };
            }
            _ => return Err(unknown(arg)),
        };
        if inline.is_some() {
            return Err(unknown(arg));
        }
        self.short(short)
    }
}

fn value<'a>(
    rest: &mut impl Iterator<Item = &'a String>,
    flag: &str,
) -> Result<String, CommandError> {
    rest.next()
        .cloned()
        .ok_or_else(|| CommandError::MissingValue {
            program: "grep",
            flag: flag.to_string(),
        })
}

/// The lines of `text` without their newlines; a last line without one still counts.
pub(crate) fn lines(text: &str) -> impl Iterator<Item = &str> {
    let text = text.strip_suffix('\n').unwrap_or(text);
    let empty = text.is_empty();
    text.split('\n').filter(move |_| !empty)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::words::split_words;

    const BODY: &str = "{\n  \"args\": {}, \n  \"method\": \"GET\", \n  \"url\": \"https://httpbin.org/anything\"\n}\n";

    fn grep(line: &str) -> Grep {
        let w = split_words(line).unwrap();
        Grep::parse(&w[0], &w[1..]).unwrap()
    }

    fn run(line: &str, input: &str) -> (String, i32) {
        grep(line).run(input)
    }

    fn err(line: &str) -> String {
        let w = split_words(line).unwrap();
        Grep::parse(&w[0], &w[1..]).unwrap_err().to_string()
    }

    #[test]
    fn the_seed_pipeline_filter() {
        assert_eq!(
            run("grep url", BODY),
            ("  \"url\": \"https://httpbin.org/anything\"\n".into(), 0)
        );
        assert_eq!(run("grep nothing-here", BODY), (String::new(), 1));
    }

    #[test]
    fn case_invert_count_quiet() {
        assert_eq!(run("grep -i URL", BODY).1, 0);
        assert_eq!(run("grep -c '\"'", BODY), ("3\n".into(), 0));
        assert_eq!(run("grep -vc '\"'", BODY), ("2\n".into(), 0));
        assert_eq!(run("grep -c zzz", BODY), ("0\n".into(), 1));
        assert_eq!(run("grep -q url", BODY), (String::new(), 0));
        assert_eq!(run("grep -q zzz", BODY), (String::new(), 1));
        assert_eq!(run("grep -v '^'", BODY), (String::new(), 1));
    }

    #[test]
    fn only_matching_and_line_numbers() {
        assert_eq!(
            run(r#"grep -oE '"[a-z]+":'"#, BODY),
            ("\"args\":\n\"method\":\n\"url\":\n".into(), 0)
        );
        assert_eq!(
            run("grep -n GET", BODY),
            ("3:  \"method\": \"GET\", \n".into(), 0)
        );
        assert_eq!(run("grep -on o", "foo\n"), ("1:o\n1:o\n".into(), 0));
        assert_eq!(run("grep -ov x", "a\nx\n"), (String::new(), 0));
    }

    #[test]
    fn word_and_line_matching() {
        assert_eq!(
            run("grep -w url", "curl\nthe url\n"),
            ("the url\n".into(), 0)
        );
        assert_eq!(
            run("grep -ow foo", "foo foo,xfoo\n"),
            ("foo\nfoo\n".into(), 0)
        );
        assert_eq!(run("grep -x 'a.c'", "abc\nabcd\n"), ("abc\n".into(), 0));
        assert_eq!(run("grep -xw abc", "abc\n"), ("abc\n".into(), 0));
    }

    #[test]
    fn syntaxes_and_several_patterns() {
        assert_eq!(run("grep -F 'a.c'", "abc\na.c\n"), ("a.c\n".into(), 0));
        assert_eq!(run("fgrep 'a.c'", "abc\na.c\n"), ("a.c\n".into(), 0));
        assert_eq!(run("grep 'a|b'", "a\na|b\n"), ("a|b\n".into(), 0));
        assert_eq!(run("grep -E 'a|b'", "a\nc\n"), ("a\n".into(), 0));
        assert_eq!(run("egrep 'x+'", "xx\n"), ("xx\n".into(), 0));
        assert_eq!(run("grep -e a -e c", "a\nb\nc\n"), ("a\nc\n".into(), 0));
        assert_eq!(run("grep -ec", "a\nb\nc\n"), ("c\n".into(), 0));
        assert_eq!(run("grep --regexp=b", "a\nb\n"), ("b\n".into(), 0));
    }

    #[test]
    fn options_after_the_pattern_and_long_names() {
        assert_eq!(run("grep url -i", "URL\n"), ("URL\n".into(), 0));
        assert_eq!(
            run("grep --ignore-case --count --color=never url", "URL\nx\n"),
            ("1\n".into(), 0)
        );
        assert_eq!(run("grep -- -v", "-v\n"), ("-v\n".into(), 0));
    }

    #[test]
    fn last_line_without_newline_and_carriage_returns() {
        assert_eq!(run("grep 200", "000\n200"), ("200\n".into(), 0));
        assert_eq!(
            run("grep HTTP/", "HTTP/1.1 200 OK\r\nserver: envoy\r\n\r\n"),
            ("HTTP/1.1 200 OK\r\n".into(), 0)
        );
        assert_eq!(run("grep ''", ""), (String::new(), 1));
    }

    #[test]
    fn bad_usage_is_explained() {
        assert!(err("grep").contains("no pattern"));
        assert!(err("grep url body.json").contains("only filters curl's output"));
        assert!(err("grep -A 2 url").contains("unknown grep option `-A`"));
        assert!(err("grep --context=2 url").contains("`--context=2`"));
        assert!(err("grep --color=always url").contains("never or auto"));
        assert!(err("grep -e").contains("`-e` needs a value"));
        assert!(err(r"grep '\(a\)\1'").contains("back-reference"));
    }
}
