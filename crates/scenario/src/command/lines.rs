//! `head`, `tail` and `wc` as pipeline filters on curl's output.
//!
//! Owns: `head -n N`/`-N`/`-nN`/`--lines N`/`-c N`, `tail` with the same plus `-n +N` (from line
//! N on), and `wc` with exactly one of `-l`/`-w`/`-c`/`-m` (printed bare, as GNU and BusyBox wc do
//! for one count read from stdin). Line ends are kept as they came, so a last line without a
//! newline stays without one. Leaves out: `tail -f` (there is no growing input) and several `wc`
//! counts at once (their column padding differs between implementations).

use super::error::CommandError;

/// What `head` or `tail` keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Take {
    /// The first (head) or last (tail) N lines.
    Lines(usize),
    /// The first (head) or last (tail) N bytes.
    Bytes(usize),
    /// tail only: everything from line N (1-based) on.
    FromLine(usize),
}

/// What `wc` counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    /// `-l`: newline characters.
    Lines,
    /// `-w`: whitespace-separated words.
    Words,
    /// `-c`: bytes.
    Bytes,
    /// `-m`: characters.
    Chars,
}

/// Parse `head`'s or `tail`'s arguments (`program` says which).
pub(crate) fn parse_take(program: &'static str, args: &[String]) -> Result<Take, CommandError> {
    let mut take = Take::Lines(10);
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let (kind, value) = match arg.as_str() {
            "-n" | "--lines" => ('n', next(&mut rest, program, arg)?),
            "-c" | "--bytes" => ('c', next(&mut rest, program, arg)?),
            "-f" | "--follow" | "-F" => {
                return Err(CommandError::Usage {
                    program,
                    message: "following a file (-f) makes no sense on curl's output, which is \
                              already complete; drop -f"
                        .into(),
                })
            }
            a if a.starts_with("--lines=") => ('n', a["--lines=".len()..].to_string()),
            a if a.starts_with("--bytes=") => ('c', a["--bytes=".len()..].to_string()),
            a if a.starts_with("-n") => ('n', a[2..].to_string()),
            a if a.starts_with("-c") => ('c', a[2..].to_string()),
            a if a
                .strip_prefix('-')
                .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())) =>
            {
                ('n', a[1..].to_string())
            }
            a if a.starts_with('-') => {
                return Err(CommandError::UnknownFlag {
                    program,
                    flag: a.to_string(),
                    supported: "-n N, -N, --lines N, -c N, --bytes N (tail also -n +N)".into(),
                })
            }
            a => {
                return Err(CommandError::Usage {
                    program,
                    message: format!(
                        "`{a}` would be read as a file, but here {program} only filters curl's \
                         output; drop it"
                    ),
                })
            }
        };
        take = count_value(program, arg, &value, kind)?;
    }
    Ok(take)
}

fn next<'a>(
    rest: &mut impl Iterator<Item = &'a String>,
    program: &'static str,
    flag: &str,
) -> Result<String, CommandError> {
    rest.next()
        .cloned()
        .ok_or_else(|| CommandError::MissingValue {
            program,
            flag: flag.to_string(),
        })
}

fn count_value(
    program: &'static str,
    flag: &str,
    value: &str,
    kind: char,
) -> Result<Take, CommandError> {
    let from = program == "tail" && kind == 'n' && value.starts_with('+');
    let digits = if from { &value[1..] } else { value };
    let n = digits
        .parse::<usize>()
        .ok()
        .filter(|_| digits.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| CommandError::BadValue {
            program,
            flag: flag.to_string(),
            value: value.to_string(),
            expected: if program == "tail" {
                "a count such as 5, or +N to start at line N".into()
            } else {
                "a count such as 5 (counting from the end with a minus sign is not supported)"
                    .into()
            },
        })?;
    Ok(match (from, kind) {
        (true, _) => Take::FromLine(n),
        (false, 'c') => Take::Bytes(n),
        _ => Take::Lines(n),
    })
}

/// `head` on `input`.
pub(crate) fn head(take: Take, input: &str) -> String {
    match take {
        Take::Lines(n) => input.split_inclusive('\n').take(n).collect(),
        Take::FromLine(n) => input
            .split_inclusive('\n')
            .skip(n.saturating_sub(1))
            .collect(),
        Take::Bytes(n) => {
            let bytes = input.as_bytes();
            String::from_utf8_lossy(&bytes[..n.min(bytes.len())]).into_owned()
        }
    }
}

/// `tail` on `input`.
pub(crate) fn tail(take: Take, input: &str) -> String {
    let lines: Vec<&str> = input.split_inclusive('\n').collect();
    match take {
        Take::Lines(n) => lines[lines.len().saturating_sub(n)..].concat(),
        Take::FromLine(n) => lines[n.saturating_sub(1).min(lines.len())..].concat(),
        Take::Bytes(n) => {
            let bytes = input.as_bytes();
            String::from_utf8_lossy(&bytes[bytes.len().saturating_sub(n)..]).into_owned()
        }
    }
}

/// Parse `wc`'s arguments: exactly one count.
pub(crate) fn parse_wc(args: &[String]) -> Result<Count, CommandError> {
    let mut counts = Vec::new();
    for arg in args {
        let found = match arg.as_str() {
            "--lines" => vec![Count::Lines],
            "--words" => vec![Count::Words],
            "--bytes" => vec![Count::Bytes],
            "--chars" => vec![Count::Chars],
            a if a.starts_with('-') && a.len() > 1 && !a.starts_with("--") => a[1..]
                .chars()
                .map(|c| match c {
                    'l' => Ok(Count::Lines),
                    'w' => Ok(Count::Words),
                    'c' => Ok(Count::Bytes),
                    'm' => Ok(Count::Chars),
                    other => Err(wc_unknown(&format!("-{other}"))),
                })
                .collect::<Result<_, _>>()?,
            a if a.starts_with('-') => return Err(wc_unknown(a)),
            a => {
                return Err(CommandError::Usage {
                    program: "wc",
                    message: format!(
                    "`{a}` would be read as a file, but here wc only counts curl's output; drop it"
                ),
                })
            }
        };
        counts.extend(found);
    }
    counts.dedup();
    match counts.as_slice() {
        [one] => Ok(*one),
        _ => Err(CommandError::Usage {
            program: "wc",
            message: "give exactly one of -l, -w, -c or -m: with none or several, wc prints \
                      padded columns whose widths differ between implementations"
                .into(),
        }),
    }
}

fn wc_unknown(flag: &str) -> CommandError {
    CommandError::UnknownFlag {
        program: "wc",
        flag: flag.to_string(),
        supported: "-l/--lines, -w/--words, -c/--bytes, -m/--chars".into(),
    }
}

/// `wc` on `input`: the count and a newline.
pub(crate) fn wc(count: Count, input: &str) -> String {
    let n = match count {
        Count::Lines => input.matches('\n').count(),
        Count::Words => input.split_whitespace().count(),
        Count::Bytes => input.len(),
        Count::Chars => input.chars().count(),
    };
    format!("{n}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    const TEXT: &str = "1\n2\n3\n4";

    #[test]
    fn head_forms() {
        for form in ["-n 2", "-2", "-n2", "--lines 2", "--lines=2"] {
            assert_eq!(
                parse_take("head", &args(form)),
                Ok(Take::Lines(2)),
                "{form}"
            );
        }
        assert_eq!(parse_take("head", &[]), Ok(Take::Lines(10)));
        assert_eq!(head(Take::Lines(2), TEXT), "1\n2\n");
        assert_eq!(head(Take::Lines(9), TEXT), TEXT);
        assert_eq!(head(Take::Lines(0), TEXT), "");
        assert_eq!(
            head(parse_take("head", &args("-c 3")).unwrap(), TEXT),
            "1\n2"
        );
    }

    #[test]
    fn tail_forms() {
        assert_eq!(tail(parse_take("tail", &args("-n 1")).unwrap(), TEXT), "4");
        assert_eq!(
            tail(parse_take("tail", &args("-2")).unwrap(), "a\nb\nc\n"),
            "b\nc\n"
        );
        assert_eq!(
            tail(parse_take("tail", &args("-n +3")).unwrap(), TEXT),
            "3\n4"
        );
        assert_eq!(tail(Take::FromLine(9), TEXT), "");
        assert_eq!(tail(Take::Bytes(2), TEXT), "\n4");
        assert_eq!(tail(Take::Lines(1), ""), "");
    }

    #[test]
    fn head_and_tail_refuse_what_they_cannot_do() {
        let e = parse_take("head", &args("-n -1")).unwrap_err().to_string();
        assert!(e.contains("minus sign"), "{e}");
        let e = parse_take("tail", &args("-f")).unwrap_err().to_string();
        assert!(e.contains("drop -f"), "{e}");
        let e = parse_take("head", &args("-q")).unwrap_err().to_string();
        assert!(e.contains("unknown head option `-q`"), "{e}");
        let e = parse_take("tail", &args("out.txt"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("file"), "{e}");
        let e = parse_take("head", &args("-n")).unwrap_err().to_string();
        assert!(e.contains("needs a value"), "{e}");
    }

    #[test]
    fn wc_counts_one_thing() {
        assert_eq!(wc(parse_wc(&args("-l")).unwrap(), "a\nb\n"), "2\n");
        assert_eq!(wc(Count::Lines, "a\nb"), "1\n");
        assert_eq!(wc(parse_wc(&args("--words")).unwrap(), " a b\tc\n"), "3\n");
        assert_eq!(wc(parse_wc(&args("-c")).unwrap(), "é\n"), "3\n");
        assert_eq!(wc(parse_wc(&args("-m")).unwrap(), "é\n"), "2\n");
        assert_eq!(parse_wc(&args("-l -l")), Ok(Count::Lines));
        assert!(parse_wc(&[])
            .unwrap_err()
            .to_string()
            .contains("exactly one"));
        assert!(parse_wc(&args("-lc"))
            .unwrap_err()
            .to_string()
            .contains("exactly one"));
        assert!(parse_wc(&args("-L"))
            .unwrap_err()
            .to_string()
            .contains("`-L`"));
    }
}
