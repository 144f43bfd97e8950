//! grep patterns (POSIX basic and extended regular expressions, fixed strings) translated into the
//! `regex` crate's syntax.
//!
//! Owns: the translation, faithful to POSIX and GNU grep where the two engines differ: in basic
//! syntax `\( \) \{ \} \| \+ \?` are operators and `( ) { } | + ?` literals; `*` first in an
//! expression or group is literal; `^`/`$` anchor only at the ends of an expression or group in
//! basic syntax; in bracket expressions a backslash is literal, `]` first is literal, `[:alpha:]`
//! classes work; `\< \> \b \B \w \W \s \S` are GNU's word and space escapes. Refused with a reason:
//! back-references (`\1`, which the regex crate cannot match), collating elements (`[.a.]`,
//! `[=a=]`) and escapes with no grep meaning such as `\d`. Leaves out: how grep applies the
//! pattern (`grep`).

/// Which grep syntax a pattern is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Syntax {
    /// `grep` / `grep -G`: POSIX basic regular expressions.
    #[default]
    Basic,
    /// `grep -E`: POSIX extended regular expressions.
    Extended,
    /// `grep -F`: a literal string.
    Fixed,
}

const CLASSES: [&str; 12] = [
    "alnum", "alpha", "blank", "cntrl", "digit", "graph", "lower", "print", "punct", "space",
    "upper", "xdigit",
];

/// The pattern in `regex` crate syntax, or why it cannot be translated.
pub(crate) fn translate(pattern: &str, syntax: Syntax) -> Result<String, String> {
    if syntax == Syntax::Fixed {
        return Ok(regex::escape(pattern));
    }
    Translator {
        chars: pattern.chars().collect(),
        pos: 0,
        out: String::new(),
        extended: syntax == Syntax::Extended,
        depth: 0,
        can_repeat: false,
        at_start: true,
    }
    .run()
}

struct Translator {
    chars: Vec<char>,
    pos: usize,
    out: String,
    extended: bool,
    depth: usize,
    /// Whether a quantifier here has something to repeat.
    can_repeat: bool,
    /// At the start of the expression, a group or an alternative.
    at_start: bool,
}

impl Translator {
    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).copied()
    }

    fn run(mut self) -> Result<String, String> {
        while let Some(c) = self.peek(0) {
            self.pos += 1;
            let was_start = self.at_start;
            self.at_start = false;
            match c {
                '\\' => self.escape()?,
                '[' => {
                    self.bracket()?;
                    self.can_repeat = true;
                }
                '.' => self.atom("."),
                '*' => self.quantifier("*"),
                '+' | '?' if self.extended => self.quantifier(if c == '+' { "+" } else { "?" }),
                '{' if self.extended => self.interval_or_literal(),
                '(' if self.extended => self.open(),
                ')' if self.extended => self.close()?,
                '|' if self.extended => self.alternative(),
                '^' if self.extended || was_start => self.out.push('^'),
                '$' if self.extended || self.at_basic_end() => self.out.push('$'),
                other => self.literal(other),
            }
        }
        if self.depth > 0 {
            return Err("a group is opened but never closed; add the missing `)`".into());
        }
        Ok(self.out)
    }

    /// In basic syntax `$` anchors only at the end of the expression, a group or an alternative.
    fn at_basic_end(&self) -> bool {
        matches!(
            (self.peek(0), self.peek(1)),
            (None, _) | (Some('\\'), Some(')' | '|'))
        )
    }

    fn atom(&mut self, re: &str) {
        self.out.push_str(re);
        self.can_repeat = true;
    }

    fn literal(&mut self, c: char) {
        let escaped = regex::escape(c.encode_utf8(&mut [0; 4]));
        self.atom(&escaped);
    }

    fn quantifier(&mut self, op: &str) {
        if self.can_repeat {
            self.out.push_str(op);
        } else {
            let c = op.chars().next().unwrap_or('*');
            self.literal(c);
        }
    }

    fn open(&mut self) {
        self.out.push('(');
        self.depth += 1;
        self.can_repeat = false;
        self.at_start = true;
    }

    fn close(&mut self) -> Result<(), String> {
        if self.depth == 0 {
            return Err(
                "`)` closes a group that was never opened; escape it to match a parenthesis".into(),
            );
        }
        self.depth -= 1;
        self.atom(")");
        Ok(())
    }

    fn alternative(&mut self) {
        self.out.push('|');
        self.can_repeat = false;
        self.at_start = true;
    }

    fn escape(&mut self) -> Result<(), String> {
        let Some(n) = self.peek(0) else {
            return Err(
                "the pattern ends in a lone backslash; write `\\\\` to match a backslash".into(),
            );
        };
        self.pos += 1;
        let basic = !self.extended;
        match n {
            '(' if basic => self.open(),
            ')' if basic => self.close()?,
            '|' if basic => self.alternative(),
            '{' if basic => {
                let Some(re) = self.interval(true) else {
                    return Err("`\\{` must start an interval such as \\{2\\} or \\{1,3\\}".into());
                };
                if !self.can_repeat {
                    return Err(format!("interval `{re}` has nothing before it to repeat"));
                }
                self.out.push_str(&re);
            }
            '+' | '?' if basic => self.quantifier(if n == '+' { "+" } else { "?" }),
            '<' => self.atom(r"\b{start}"),
            '>' => self.atom(r"\b{end}"),
            'b' | 'B' | 'w' | 'W' | 's' | 'S' => self.atom(&format!("\\{n}")),
            '`' => self.atom(r"\A"),
            '\'' => self.atom(r"\z"),
            '1'..='9' => {
                return Err(format!(
                    "back-reference `\\{n}` is not supported (the bench's regex engine cannot \
                     match repeated text); match the text itself"
                ))
            }
            c if c.is_ascii_alphanumeric() => {
                return Err(format!(
                    "`\\{c}` has no meaning in grep patterns (grep would match a plain `{c}`); \
                     write what you mean, for example [0-9] for a digit or [[:space:]] for space"
                ))
            }
            c => self.literal(c),
        }
        Ok(())
    }

    /// After `{` in extended syntax: an interval when one follows, else a literal brace.
    fn interval_or_literal(&mut self) {
        let brace = self.pos;
        match self.interval(false) {
            Some(re) if self.can_repeat => self.out.push_str(&re),
            _ => {
                self.pos = brace;
                self.literal('{');
            }
        }
    }

    /// Read `m}`, `m,}`, `m,n}` or `,n}` (with `\}` in basic syntax) after the opening brace; on
    /// success move past it and return the regex interval.
    fn interval(&mut self, basic: bool) -> Option<String> {
        let mut i = self.pos;
        let digits = |i: &mut usize| {
            let start = *i;
            while self.chars.get(*i).is_some_and(char::is_ascii_digit) {
                *i += 1;
            }
            self.chars[start..*i].iter().collect::<String>()
        };
        let min = digits(&mut i);
        let max = if self.chars.get(i) == Some(&',') {
            i += 1;
            Some(digits(&mut i))
        } else {
            None
        };
        if basic {
            if self.chars.get(i) != Some(&'\\') {
                return None;
            }
            i += 1;
        }
        if self.chars.get(i) != Some(&'}')
            || (min.is_empty() && max.as_deref().unwrap_or("").is_empty())
        {
            return None;
        }
        self.pos = i + 1;
        let min = if min.is_empty() { "0".to_string() } else { min };
        Some(match max {
            None => format!("{{{min}}}"),
            Some(max) => format!("{{{min},{max}}}"),
        })
    }

    /// A POSIX bracket expression, starting after its `[`.
    fn bracket(&mut self) -> Result<(), String> {
        let unclosed =
            || "`[` opens a bracket expression that is never closed; add `]`".to_string();
        let mut out = String::from("[");
        if self.peek(0) == Some('^') {
            out.push('^');
            self.pos += 1;
        }
        let mut first = true;
        loop {
            let c = self.peek(0).ok_or_else(unclosed)?;
            self.pos += 1;
            if c == ']' && !first {
                break;
            }
            first = false;
            if c == '[' {
                match self.peek(0) {
                    Some(':') => {
                        out.push_str(&self.class()?);
                        continue;
                    }
                    Some(k @ ('.' | '=')) => {
                        return Err(format!(
                            "`[{k}…{k}]` collating elements are not supported; list the characters instead"
                        ))
                    }
                    _ => {}
                }
            }
            if self.peek(0) == Some('-') && !matches!(self.peek(1), Some(']') | None) {
                let end = self.peek(1).unwrap_or(c);
                self.pos += 2;
                if end < c {
                    return Err(format!(
                        "range `{c}-{end}` runs backwards; write `{end}-{c}`"
                    ));
                }
                out.push_str(&format!("{}-{}", class_char(c), class_char(end)));
            } else {
                out.push_str(&class_char(c));
            }
        }
        out.push(']');
        self.out.push_str(&out);
        Ok(())
    }

    /// `[:name:]` inside a bracket expression, starting at its `:`.
    fn class(&mut self) -> Result<String, String> {
        let rest: String = self.chars[self.pos..].iter().collect();
        let Some(end) = rest.get(1..).and_then(|r| r.find(":]")).map(|e| e + 1) else {
            return Err(
                "`[:` starts a character class that never ends; write [:alpha:] and the like"
                    .into(),
            );
        };
        let name = &rest[1..end];
        if !CLASSES.contains(&name) {
            return Err(format!(
                "unknown character class `[:{name}:]`; grep knows {}",
                CLASSES.join(", ")
            ));
        }
        self.pos += rest[..end + 2].chars().count();
        Ok(format!("[:{name}:]"))
    }
}

/// A character inside a `regex` class, escaped when the crate would read it as syntax.
fn class_char(c: char) -> String {
    if matches!(c, '\\' | '[' | ']' | '^' | '-' | '&' | '~') {
        format!("\\{c}")
    } else {
        c.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;

    fn basic(p: &str) -> String {
        translate(p, Syntax::Basic).unwrap()
    }

    fn ext(p: &str) -> String {
        translate(p, Syntax::Extended).unwrap()
    }

    fn matches(p: &str, syntax: Syntax, text: &str) -> bool {
        Regex::new(&translate(p, syntax).unwrap())
            .unwrap()
            .is_match(text)
    }

    #[test]
    fn plain_words_pass_through() {
        assert_eq!(basic("url"), "url");
        assert!(matches(
            "url",
            Syntax::Basic,
            r#"  "url": "https://httpbin.org/anything""#
        ));
    }

    #[test]
    fn basic_operators_need_backslashes() {
        assert_eq!(basic(r"a\(b\|c\)\{2,3\}"), "a(b|c){2,3}");
        assert_eq!(basic("a(b|c){2}+?"), r"a\(b\|c\)\{2\}\+\?");
        assert_eq!(basic(r"a\+b\?"), "a+b?");
        assert_eq!(basic(r"x\{,2\}"), "x{0,2}");
    }

    #[test]
    fn extended_operators_are_bare() {
        assert_eq!(ext("a(b|c){2,3}+?"), "a(b|c){2,3}+?");
        assert_eq!(ext(r"a\(b\|c\)\{\}"), r"a\(b\|c\)\{\}");
        assert_eq!(ext("a{x"), r"a\{x");
        assert_eq!(ext("{1}a"), r"\{1\}a");
    }

    #[test]
    fn leading_star_is_literal() {
        assert_eq!(basic("*a"), r"\*a");
        assert_eq!(basic(r"\(*a\)"), r"(\*a)");
        assert_eq!(basic("^*"), r"^\*");
        assert_eq!(ext("a|*b"), r"a|\*b");
        assert_eq!(basic("a*"), "a*");
    }

    #[test]
    fn anchors_in_basic_syntax_only_at_the_ends() {
        assert_eq!(basic("^HTTP/1.1 200$"), "^HTTP/1.1 200$");
        assert_eq!(basic(r"1\.1"), r"1\.1");
        assert_eq!(basic("a^b$c"), r"a\^b\$c");
        assert_eq!(basic(r"\(^a$\)"), "(^a$)");
        assert_eq!(ext("a^b$c"), "a^b$c");
        assert!(matches("HTTP/", Syntax::Basic, "HTTP/1.1 200 OK\r"));
    }

    #[test]
    fn bracket_expressions_follow_posix() {
        assert_eq!(basic("[]a]"), r"[\]a]");
        assert_eq!(basic("[^]a]"), r"[^\]a]");
        assert_eq!(basic(r"[\.]"), r"[\\.]");
        assert_eq!(basic("[a-z0-9_-]"), r"[a-z0-9_\-]");
        assert_eq!(basic("[[:digit:]]x"), "[[:digit:]]x");
        assert_eq!(basic("[&~]"), r"[\&\~]");
        assert!(matches("[[:upper:]][[:space:]]", Syntax::Extended, "aB c"));
        assert!(matches(r"[\.]", Syntax::Basic, r"a\b"));
    }

    #[test]
    fn gnu_escapes() {
        assert_eq!(basic(r"\<url\>"), r"\b{start}url\b{end}");
        assert_eq!(basic(r"\w\s\.\*"), r"\w\s\.\*");
        assert!(matches(r"\<url\>", Syntax::Basic, "the url is"));
        assert!(!matches(r"\<url\>", Syntax::Basic, "curly"));
    }

    #[test]
    fn fixed_strings_are_escaped() {
        assert_eq!(translate("a.b*[c]", Syntax::Fixed).unwrap(), r"a\.b\*\[c\]");
    }

    #[test]
    fn regex_special_characters_are_literal() {
        assert!(matches("a#b&c~d", Syntax::Basic, "a#b&c~d"));
        assert!(matches(
            r#""url": "https"#,
            Syntax::Extended,
            r#""url": "https://x""#
        ));
    }

    #[test]
    fn unsupported_patterns_are_explained() {
        let err = |p: &str, s| translate(p, s).unwrap_err();
        assert!(err(r"\(a\)\1", Syntax::Basic).contains("back-reference"));
        assert!(err(r"\d+", Syntax::Extended).contains("[0-9]"));
        assert!(err("[a", Syntax::Basic).contains("never closed"));
        assert!(err("[[:word:]]", Syntax::Basic).contains("unknown character class"));
        assert!(err("[[:]]", Syntax::Basic).contains("never ends"));
        assert!(err("[[.a.]]", Syntax::Basic).contains("collating"));
        assert!(err("[z-a]", Syntax::Basic).contains("backwards"));
        assert!(err("(a", Syntax::Extended).contains("never closed"));
        assert!(err("a)", Syntax::Extended).contains("never opened"));
        assert!(err(r"a\{x", Syntax::Basic).contains("interval"));
        assert!(err("a\\", Syntax::Basic).contains("lone backslash"));
    }
}
