//! Shell word splitting, as POSIX `sh` splits the command lines the documents write.
//!
//! Owns: turning a line into words and operator tokens (`|`, `&&`, `;`, `2>&1`, `>`, …) with their
//! byte offsets: single quotes, double quotes (where a backslash only escapes `$`, `` ` ``, `"`, `\`
//! and newline, so `"%{http_code}\n"` keeps its backslash-n for curl), backslash escapes, adjacent
//! quoted parts and `#` comments, and the one expansion the bench does: `$NAME` and `${NAME}`
//! outside single quotes, from the variables the scenario set (`Env`; none in a script a pod's
//! shell runs). A variable's value becomes part of the word, without field splitting. Command
//! substitution (`$(…)`, backquotes), other parameter forms and bash's `$'…'` are errors. Leaves
//! out: what the tokens mean (`shell`, `kubectl`).

use super::env::Env;
use super::error::CommandError;

/// A shell operator between words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operator {
    /// `|`
    Pipe,
    /// `||`
    OrIf,
    /// `&&`
    AndIf,
    /// `&`
    Background,
    /// `;` or a newline
    Separator,
    /// `(` or `)`
    Paren,
    /// A redirection such as `>`, `2>`, `>>`, `2>&1`, `<`: the descriptor it names, if written,
    /// and its kind. Its target is the next word.
    Redirect { fd: Option<u32>, kind: RedirectKind },
}

/// The redirection operators of POSIX sh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RedirectKind {
    /// `>` and `>|`
    Write,
    /// `>>`
    Append,
    /// `>&`
    DupWrite,
    /// `<`
    Read,
    /// `<&`
    DupRead,
    /// `<<` and `<<-`
    HereDoc,
    /// `<>`
    ReadWrite,
}

/// One token and where it stands in the line (`start..end` are byte offsets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: TokenKind,
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokenKind {
    /// A word after quote removal.
    Word(String),
    Op(Operator),
}

impl Token {
    /// The word's text, if this token is a word.
    pub(crate) fn word(&self) -> Option<&str> {
        match &self.kind {
            TokenKind::Word(w) => Some(w),
            TokenKind::Op(_) => None,
        }
    }
}

/// Split `line` into words and operators as `sh` would, expanding `$NAME` from `vars` (`None`:
/// the line is a script a pod's shell runs, where no variable is set).
pub(crate) fn tokenize(line: &str, vars: Option<&Env>) -> Result<Vec<Token>, CommandError> {
    Lexer {
        line,
        chars: line.char_indices().collect(),
        pos: 0,
        tokens: Vec::new(),
        vars,
    }
    .run()
}

/// The words of `tokens` (read from `line`); an operator among them is an error naming it,
/// with `why` saying what the line may hold.
pub(crate) fn plain_words(
    line: &str,
    tokens: &[Token],
    why: &str,
) -> Result<Vec<String>, CommandError> {
    tokens
        .iter()
        .map(|t| {
            t.word()
                .map(str::to_string)
                .ok_or_else(|| CommandError::ShellSyntax {
                    found: line[t.start..t.end].to_string(),
                    why: why.to_string(),
                })
        })
        .collect()
}

/// Just the words of `line`; any operator is an error naming it (for tests).
#[cfg(test)]
pub(crate) fn split_words(line: &str) -> Result<Vec<String>, CommandError> {
    tokenize(line, Some(&Env::default()))?
        .into_iter()
        .map(|t| match t.kind {
            TokenKind::Word(w) => Ok(w),
            TokenKind::Op(_) => Err(CommandError::ShellSyntax {
                found: line[t.start..t.end].to_string(),
                why: "only plain words are expected here".into(),
            }),
        })
        .collect()
}

/// A word being built: its text, where it began, and whether any part of it was quoted.
struct Pending {
    text: String,
    start: usize,
    quoted: bool,
}

struct Lexer<'a> {
    line: &'a str,
    chars: Vec<(usize, char)>,
    pos: usize,
    tokens: Vec<Token>,
    vars: Option<&'a Env>,
}

impl Lexer<'_> {
    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).map(|&(_, c)| c)
    }

    fn offset(&self) -> usize {
        self.chars
            .get(self.pos)
            .map_or(self.line.len(), |&(i, _)| i)
    }

    fn run(mut self) -> Result<Vec<Token>, CommandError> {
        let mut word: Option<Pending> = None;
        while let Some(c) = self.peek(0) {
            let at = self.offset();
            match c {
                ' ' | '\t' => {
                    self.finish(&mut word, at);
                    self.pos += 1;
                }
                '#' if word.is_none() => break,
                // The end of a YAML block (`kubectl: |`): nothing follows the last line.
                '\n' if self.line[at..].trim().is_empty() => break,
                '\'' => {
                    let w = word.get_or_insert_with(|| pending(at));
                    w.quoted = true;
                    self.pos += 1;
                    self.single_quoted(w)?;
                }
                '"' => {
                    let w = word.get_or_insert_with(|| pending(at));
                    w.quoted = true;
                    self.pos += 1;
                    self.double_quoted(w)?;
                }
                '\\' => {
                    let next = self.peek(1);
                    self.pos += 2;
                    match next {
                        Some('\n') => {}
                        Some(n) => {
                            let w = word.get_or_insert_with(|| pending(at));
                            w.quoted = true;
                            w.text.push(n);
                        }
                        None => {
                            self.pos -= 1;
                            word.get_or_insert_with(|| pending(at)).text.push('\\');
                        }
                    }
                }
                '$' | '`' => {
                    let w = word.get_or_insert_with(|| pending(at));
                    match self.expansion(false)? {
                        Some(value) => w.text.push_str(&value),
                        None => {
                            w.text.push(c);
                            self.pos += 1;
                        }
                    }
                }
                '|' | '&' | ';' | '<' | '>' | '(' | ')' | '\n' => {
                    let fd = io_number(word.as_ref(), c);
                    if fd.is_some() {
                        word = None;
                    }
                    self.finish(&mut word, at);
                    let start = if fd.is_some() {
                        self.word_start_of_fd(at)
                    } else {
                        at
                    };
                    let op = self.operator(fd);
                    self.tokens.push(Token {
                        kind: TokenKind::Op(op),
                        start,
                        end: self.offset(),
                    });
                }
                _ => {
                    word.get_or_insert_with(|| pending(at)).text.push(c);
                    self.pos += 1;
                }
            }
        }
        let end = self.line.len();
        self.finish(&mut word, end);
        Ok(self.tokens)
    }

    /// Where the digits of an IO number (`2` in `2>&1`) began: just before the operator.
    fn word_start_of_fd(&self, op_at: usize) -> usize {
        let digits = self.line[..op_at]
            .chars()
            .rev()
            .take_while(char::is_ascii_digit)
            .count();
        op_at - digits
    }

    fn finish(&mut self, word: &mut Option<Pending>, end: usize) {
        if let Some(w) = word.take() {
            self.tokens.push(Token {
                kind: TokenKind::Word(w.text),
                start: w.start,
                end,
            });
        }
    }

    fn single_quoted(&mut self, w: &mut Pending) -> Result<(), CommandError> {
        while let Some(c) = self.peek(0) {
            self.pos += 1;
            if c == '\'' {
                return Ok(());
            }
            w.text.push(c);
        }
        Err(CommandError::UnterminatedQuote {
            quote: "single",
            line: self.line.to_string(),
        })
    }

    fn double_quoted(&mut self, w: &mut Pending) -> Result<(), CommandError> {
        while let Some(c) = self.peek(0) {
            match c {
                '"' => {
                    self.pos += 1;
                    return Ok(());
                }
                '\\' => match self.peek(1) {
                    Some('\n') => self.pos += 2,
                    Some(n @ ('$' | '`' | '"' | '\\')) => {
                        w.text.push(n);
                        self.pos += 2;
                    }
                    _ => {
                        w.text.push('\\');
                        self.pos += 1;
                    }
                },
                '$' | '`' => match self.expansion(true)? {
                    Some(value) => w.text.push_str(&value),
                    None => {
                        w.text.push(c);
                        self.pos += 1;
                    }
                },
                _ => {
                    w.text.push(c);
                    self.pos += 1;
                }
            }
        }
        Err(CommandError::UnterminatedQuote {
            quote: "double",
            line: self.line.to_string(),
        })
    }

    /// At a `$` or backquote: a variable's value (the cursor moved past `$NAME` or `${NAME}`), a
    /// pod lookup's answer (past `$(…)`), `None` for a literal `$` (the cursor left on it), or an
    /// error for any other expansion. Outside double quotes `$'…'` is bash's escape quoting, which
    /// `sh` does not share: refused.
    fn expansion(&mut self, in_double: bool) -> Result<Option<String>, CommandError> {
        if let (Some(env), Some(inner)) = (self.vars, self.substitution()) {
            let len = inner.chars().count() + 3;
            let value = if env.is_lenient() {
                format!("$({inner})")
            } else {
                let query = super::lookup::lookup(&inner, env)?;
                env.answer(&query).map_err(|why| CommandError::Usage {
                    program: "kubectl",
                    message: format!("`$({inner})`: {why}"),
                })?
            };
            self.pos += len;
            return Ok(Some(value));
        }
        if let Some((name, len)) = self.variable() {
            let value = match self.vars {
                None => return Err(CommandError::PodVariable { name }),
                Some(vars) if vars.is_lenient() && vars.get(&name).is_none() => format!("${name}"),
                Some(vars) => vars
                    .get(&name)
                    .ok_or_else(|| CommandError::UnsetVariable {
                        name: name.clone(),
                        set: vars.names(),
                    })?
                    .to_string(),
            };
            self.pos += len;
            return Ok(Some(value));
        }
        self.expansion_check(in_double).map(|()| None)
    }

    /// At a `$(`: the text up to its matching `)` (quotes inside respected), if it closes.
    fn substitution(&self) -> Option<String> {
        if self.peek(0) != Some('$') || self.peek(1) != Some('(') {
            return None;
        }
        let mut depth = 1;
        let mut quote: Option<char> = None;
        let mut inner = String::new();
        let mut i = 2;
        while let Some(c) = self.peek(i) {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '\'' | '"') => quote = Some(c),
                (None, '(') => depth += 1,
                (None, ')') => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(inner);
                    }
                }
                _ => {}
            }
            inner.push(c);
            i += 1;
        }
        None
    }

    /// At a `$`: the name of `$NAME` or `${NAME}` and how many characters it spans.
    fn variable(&self) -> Option<(String, usize)> {
        if self.peek(0) != Some('$') {
            return None;
        }
        let braced = self.peek(1) == Some('{');
        let from = if braced { 2 } else { 1 };
        let mut name = String::new();
        while let Some(c) = self.peek(from + name.len()) {
            if c.is_ascii_alphanumeric() || c == '_' {
                name.push(c);
            } else {
                break;
            }
        }
        if !super::env::is_name(&name) {
            return None;
        }
        if braced {
            (self.peek(from + name.len()) == Some('}')).then(|| (name.clone(), name.len() + 3))
        } else {
            Some((name.clone(), name.len() + 1))
        }
    }

    fn expansion_check(&self, in_double: bool) -> Result<(), CommandError> {
        let c = self.peek(0);
        let next = self.peek(1);
        let expands = c == Some('`')
            || matches!(next, Some(n) if n.is_ascii_alphanumeric()
                || matches!(n, '_' | '{' | '(' | '@' | '*' | '#' | '?' | '$' | '!' | '-')
                || (n == '\'' && !in_double));
        if !expands {
            return Ok(());
        }
        let at = self.offset();
        let found: String = self.line[at..].chars().take(12).collect();
        Err(CommandError::Expansion {
            found,
            line: self.line.to_string(),
        })
    }

    /// Read the operator at the cursor (maximal munch) and move past it.
    fn operator(&mut self, fd: Option<u32>) -> Operator {
        let c = self.peek(0);
        let n = self.peek(1);
        let (op, len) = match (c, n) {
            (Some('|'), Some('|')) => (Operator::OrIf, 2),
            (Some('|'), _) => (Operator::Pipe, 1),
            (Some('&'), Some('&')) => (Operator::AndIf, 2),
            (Some('&'), _) => (Operator::Background, 1),
            (Some(';' | '\n'), _) => (Operator::Separator, 1),
            (Some('(' | ')'), _) => (Operator::Paren, 1),
            (Some('>'), Some('>')) => (redirect(fd, RedirectKind::Append), 2),
            (Some('>'), Some('&')) => (redirect(fd, RedirectKind::DupWrite), 2),
            (Some('>'), Some('|')) => (redirect(fd, RedirectKind::Write), 2),
            (Some('>'), _) => (redirect(fd, RedirectKind::Write), 1),
            (Some('<'), Some('<')) => {
                let dash = usize::from(self.peek(2) == Some('-'));
                (redirect(fd, RedirectKind::HereDoc), 2 + dash)
            }
            (Some('<'), Some('&')) => (redirect(fd, RedirectKind::DupRead), 2),
            (Some('<'), Some('>')) => (redirect(fd, RedirectKind::ReadWrite), 2),
            _ => (redirect(fd, RedirectKind::Read), 1),
        };
        self.pos += len;
        op
    }
}

fn pending(start: usize) -> Pending {
    Pending {
        text: String::new(),
        start,
        quoted: false,
    }
}

fn redirect(fd: Option<u32>, kind: RedirectKind) -> Operator {
    Operator::Redirect { fd, kind }
}

/// An unquoted all-digit word directly before `<` or `>` names a file descriptor (`2>&1`).
fn io_number(word: Option<&Pending>, op: char) -> Option<u32> {
    let w = word?;
    if w.quoted || !matches!(op, '<' | '>') || w.text.is_empty() {
        return None;
    }
    if !w.text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    w.text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        split_words(line).unwrap()
    }

    fn kinds(line: &str) -> Vec<TokenKind> {
        tokenize(line, None)
            .unwrap()
            .into_iter()
            .map(|t| t.kind)
            .collect()
    }

    fn w(s: &str) -> TokenKind {
        TokenKind::Word(s.to_string())
    }

    #[test]
    fn double_quotes_keep_backslash_n_for_curl() {
        assert_eq!(
            words(r#"curl -s -o /dev/null -w "%{http_code}\n" http://www.httpbin.org"#),
            [
                "curl",
                "-s",
                "-o",
                "/dev/null",
                "-w",
                r"%{http_code}\n",
                "http://www.httpbin.org"
            ]
        );
    }

    #[test]
    fn single_quotes_are_literal() {
        assert_eq!(
            words(r#"echo 'a "b" \n $HOME'"#),
            ["echo", r#"a "b" \n $HOME"#]
        );
    }

    #[test]
    fn double_quotes_escape_only_their_specials() {
        assert_eq!(words(r#"x "a\"b\\c\$d\e""#), ["x", r#"a"b\c$d\e"#]);
    }

    #[test]
    fn unquoted_backslash_escapes_the_next_character() {
        assert_eq!(words(r"a\ b \| c\\"), ["a b", "|", r"c\"]);
        assert_eq!(words("a\\\nb"), ["ab"]);
    }

    #[test]
    fn adjacent_quoted_parts_join_into_one_word() {
        assert_eq!(words(r#"-H 'x: '"y"z"#), ["-H", "x: yz"]);
        assert_eq!(words(r#"'' """#), ["", ""]);
    }

    #[test]
    fn sh_c_script_is_one_word() {
        assert_eq!(
            words(r#"sh -c "curl -s http://httpbin.org/anything | grep url""#),
            ["sh", "-c", "curl -s http://httpbin.org/anything | grep url"]
        );
    }

    #[test]
    fn operators_split_words() {
        assert_eq!(
            kinds("curl x|grep 'a|b' 2>&1 >/dev/null"),
            [
                w("curl"),
                w("x"),
                TokenKind::Op(Operator::Pipe),
                w("grep"),
                w("a|b"),
                TokenKind::Op(redirect(Some(2), RedirectKind::DupWrite)),
                w("1"),
                TokenKind::Op(redirect(None, RedirectKind::Write)),
                w("/dev/null"),
            ]
        );
        assert_eq!(
            kinds("a && b || c; d & e"),
            [
                w("a"),
                TokenKind::Op(Operator::AndIf),
                w("b"),
                TokenKind::Op(Operator::OrIf),
                w("c"),
                TokenKind::Op(Operator::Separator),
                w("d"),
                TokenKind::Op(Operator::Background),
                w("e"),
            ]
        );
    }

    #[test]
    fn quoted_digits_are_not_descriptors() {
        assert_eq!(
            kinds("echo '2'>x"),
            [
                w("echo"),
                w("2"),
                TokenKind::Op(redirect(None, RedirectKind::Write)),
                w("x")
            ]
        );
    }

    #[test]
    fn offsets_point_into_the_line() {
        let line = r#"kubectl exec x -- curl "a b" 2>&1"#;
        let toks = tokenize(line, None).unwrap();
        assert_eq!(&line[toks[4].start..toks[4].end], "curl");
        assert_eq!(&line[toks[5].start..toks[5].end], r#""a b""#);
        assert_eq!(&line[toks[6].start..toks[6].end], "2>&");
    }

    #[test]
    fn comments_end_the_line() {
        assert_eq!(words("curl http://a # the first try"), ["curl", "http://a"]);
        assert_eq!(words("grep a#b"), ["grep", "a#b"]);
    }

    #[test]
    fn literal_dollars_pass_and_expansions_fail() {
        assert_eq!(
            words(r#"grep "OK$" 'x$y' a$"#),
            ["grep", "OK$", "x$y", "a$"]
        );
        for line in [
            "kubectl exec $(kubectl get pod -l app=a -o jsonpath={.items..metadata.name} -- x",
            "echo $(hostname",
            "echo `id`",
            "echo $'\\n'",
            "echo ${A:-b}",
            "echo $1",
        ] {
            let err = tokenize(line, Some(&Env::default())).unwrap_err();
            assert!(
                matches!(err, CommandError::Expansion { .. }),
                "{line}: {err:?}"
            );
        }
    }

    #[test]
    fn variables_expand_outside_single_quotes() {
        let mut vars = Env::default();
        vars.set("SOURCE_POD", "sleep-7d4b9c5f6-x2x9z");
        vars.set("HOST", "a b");
        let words = |line: &str| -> Vec<String> {
            tokenize(line, Some(&vars))
                .unwrap()
                .into_iter()
                .filter_map(|t| t.word().map(str::to_string))
                .collect()
        };
        assert_eq!(
            words(r#"kubectl exec "$SOURCE_POD" -- curl http://${HOST}x/ '$HOST' \$HOST"#),
            [
                "kubectl",
                "exec",
                "sleep-7d4b9c5f6-x2x9z",
                "--",
                "curl",
                "http://a bx/",
                "$HOST",
                "$HOST"
            ]
        );
        let err = tokenize("curl $URL", Some(&vars)).unwrap_err().to_string();
        assert!(
            err.contains("`$URL` is not set") && err.contains("$HOST, $SOURCE_POD"),
            "{err}"
        );
        let err = tokenize("curl $HOST", None).unwrap_err().to_string();
        assert!(err.contains("pod's shell"), "{err}");
        let err = tokenize(r#"curl "${URL""#, Some(&vars)).unwrap_err();
        assert!(matches!(err, CommandError::Expansion { .. }), "{err:?}");
        let err = tokenize("echo $(hostname)", Some(&vars))
            .unwrap_err()
            .to_string();
        assert!(err.contains("kubectl get pod -l app=NAME"), "{err}");
    }

    #[test]
    fn pod_lookups_are_substituted() {
        let mut env = Env::default();
        env.add_pod(
            egressbench_model::request::WorkloadRef::new("test", "sleep"),
            vec![("app".into(), "sleep".into())],
            vec!["sleep".into()],
        );
        let line = r#"kubectl exec "$(kubectl get pod -n test -l app=sleep -o jsonpath='{.items[0].metadata.name}')" -n test -- curl http://a"#;
        let words: Vec<String> = tokenize(line, Some(&env))
            .unwrap()
            .into_iter()
            .filter_map(|t| t.word().map(str::to_string))
            .collect();
        let pod = egressbench_resources::kube::pod_name("test", "sleep");
        assert_eq!(words[2], pod);
        assert_eq!(words[3..], ["-n", "test", "--", "curl", "http://a"]);
        let lenient = tokenize(line, Some(&Env::lenient())).unwrap();
        assert!(lenient[2].word().unwrap().starts_with("$(kubectl get pod"));
    }

    #[test]
    fn unterminated_quotes_are_errors() {
        let err = tokenize(r#"curl "http://a"#, None).unwrap_err();
        assert!(
            err.to_string().contains("unterminated double quote"),
            "{err}"
        );
        let err = tokenize("grep 'url", None).unwrap_err();
        assert!(
            err.to_string().contains("unterminated single quote"),
            "{err}"
        );
    }

    #[test]
    fn split_words_rejects_operators() {
        let err = split_words("kubectl apply -f a.yaml | tee").unwrap_err();
        assert!(err.to_string().contains("`|`"), "{err}");
    }
}
