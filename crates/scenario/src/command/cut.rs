//! `cut` as a pipeline filter on curl's output.
//!
//! Owns: `cut -d DELIM -f LIST [-s]` and `cut -c LIST`, with LIST as `N`, `N-`, `-M`, `N-M`
//! joined by commas (selected pieces come out in input order, each once, as POSIX says), the
//! delimiter also glued (`-d:`, `-f2`). Lines without the delimiter pass whole unless `-s`.
//! Leaves out: `-b` (bytes), `--complement` and `--output-delimiter`.

use super::error::CommandError;

/// A parsed `cut`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cut {
    /// Field delimiter for `-f` (tab unless `-d`); `None` means `-c` (characters).
    pub delimiter: Option<char>,
    /// Selected 1-based positions as inclusive ranges (`usize::MAX` for an open end).
    pub ranges: Vec<(usize, usize)>,
    /// `-s`: drop lines without the delimiter.
    pub only_delimited: bool,
}

const SUPPORTED: &str = "-d DELIM, -f LIST, -c LIST, -s";

fn usage(message: impl Into<String>) -> CommandError {
    CommandError::Usage {
        program: "cut",
        message: message.into(),
    }
}

impl Cut {
    pub fn parse(args: &[String]) -> Result<Cut, CommandError> {
        let mut delimiter = None;
        let mut fields = None;
        let mut chars = None;
        let mut only_delimited = false;
        let mut rest = args.iter();
        while let Some(arg) = rest.next() {
            let mut value = |flag: &str| -> Result<String, CommandError> {
                let glued = &arg[flag.len()..];
                if glued.is_empty() {
                    rest.next()
                        .cloned()
                        .ok_or_else(|| CommandError::MissingValue {
                            program: "cut",
                            flag: flag.to_string(),
                        })
                } else {
                    Ok(glued.to_string())
                }
            };
            match arg.as_str() {
                "-s" | "--only-delimited" => only_delimited = true,
                a if a.starts_with("-d") => delimiter = Some(value("-d")?),
                a if a.starts_with("-f") => fields = Some(value("-f")?),
                a if a.starts_with("-c") => chars = Some(value("-c")?),
                a if a.starts_with('-') => {
                    return Err(CommandError::UnknownFlag {
                        program: "cut",
                        flag: a.to_string(),
                        supported: SUPPORTED.into(),
                    })
                }
                a => {
                    return Err(usage(format!(
                        "`{a}` would be read as a file, but here cut only filters curl's output; \
                         drop it"
                    )))
                }
            }
        }
        let (list, delimiter) = match (fields, chars) {
            (Some(list), None) => {
                let d = delimiter.unwrap_or_else(|| "\t".into());
                let mut it = d.chars();
                match (it.next(), it.next()) {
                    (Some(c), None) => (list, Some(c)),
                    _ => {
                        return Err(CommandError::BadValue {
                            program: "cut",
                            flag: "-d".into(),
                            value: d.clone(),
                            expected: "a single character".into(),
                        })
                    }
                }
            }
            (None, Some(list)) if delimiter.is_none() && !only_delimited => (list, None),
            (None, Some(_)) => return Err(usage("-d and -s only go with -f, not with -c")),
            _ => {
                return Err(usage(
                    "give exactly one of -f LIST (fields) or -c LIST (characters)",
                ))
            }
        };
        Ok(Cut {
            delimiter,
            ranges: parse_list(&list)?,
            only_delimited,
        })
    }

    /// cut's output for `input`.
    pub fn run(&self, input: &str) -> String {
        let mut out = String::new();
        for line in super::grep::lines(input) {
            match self.delimiter {
                None => {
                    let kept: String = line
                        .chars()
                        .enumerate()
                        .filter(|(i, _)| self.selects(i + 1))
                        .map(|(_, c)| c)
                        .collect();
                    out.push_str(&kept);
                }
                Some(d) if !line.contains(d) => {
                    if self.only_delimited {
                        continue;
                    }
                    out.push_str(line);
                }
                Some(d) => {
                    let kept: Vec<&str> = line
                        .split(d)
                        .enumerate()
                        .filter(|(i, _)| self.selects(i + 1))
                        .map(|(_, f)| f)
                        .collect();
                    out.push_str(&kept.join(d.encode_utf8(&mut [0; 4])));
                }
            }
            out.push('\n');
        }
        out
    }

    fn selects(&self, position: usize) -> bool {
        self.ranges
            .iter()
            .any(|&(a, b)| a <= position && position <= b)
    }
}

fn parse_list(list: &str) -> Result<Vec<(usize, usize)>, CommandError> {
    let bad = || CommandError::BadValue {
        program: "cut",
        flag: "-f/-c".into(),
        value: list.to_string(),
        expected: "positions from 1 such as 2, 1,3, 2- , -3 or 2-4".into(),
    };
    let number = |s: &str| -> Result<usize, CommandError> {
        match s.parse::<usize>() {
            Ok(n) if n > 0 && s.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
            _ => Err(bad()),
        }
    };
    list.split(',')
        .map(|part| {
            let range = match part.split_once('-') {
                None => (number(part)?, number(part)?),
                Some(("", "")) => return Err(bad()),
                Some(("", b)) => (1, number(b)?),
                Some((a, "")) => (number(a)?, usize::MAX),
                Some((a, b)) => (number(a)?, number(b)?),
            };
            if range.0 > range.1 {
                return Err(bad());
            }
            Ok(range)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::words::split_words;

    fn cut(line: &str) -> Cut {
        Cut::parse(&split_words(line).unwrap()[1..]).unwrap()
    }

    fn err(line: &str) -> String {
        Cut::parse(&split_words(line).unwrap()[1..])
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn fields_by_delimiter() {
        let input = "  \"url\": \"https://httpbin.org/anything\"\nno colon here\n";
        assert_eq!(
            cut("cut -d '\"' -f4").run(input),
            "https://httpbin.org/anything\nno colon here\n"
        );
        assert_eq!(
            cut("cut -d '\"' -f 4 -s").run(input),
            "https://httpbin.org/anything\n"
        );
        assert_eq!(cut("cut -d: -f3,1").run("a:b:c:d"), "a:c\n");
        assert_eq!(cut("cut -d : -f 2-").run("a:b:c\n"), "b:c\n");
        assert_eq!(cut("cut -f2").run("a\tb\n"), "b\n");
    }

    #[test]
    fn characters() {
        assert_eq!(cut("cut -c1-3").run("HTTP/1.1 200 OK\r\n"), "HTT\n");
        assert_eq!(cut("cut -c 10-12").run("HTTP/1.1 200 OK"), "200\n");
        assert_eq!(cut("cut -c -2,5").run("abcdef\n"), "abe\n");
    }

    #[test]
    fn bad_usage_is_explained() {
        assert!(err("cut -d: -f0").contains("positions from 1"));
        assert!(err("cut -d: -f3-1").contains("positions from 1"));
        assert!(err("cut -d:: -f1").contains("single character"));
        assert!(err("cut -d:").contains("exactly one of"));
        assert!(err("cut -c1 -d:").contains("only go with -f"));
        assert!(err("cut -b1").contains("unknown cut option `-b1`"));
        assert!(err("cut -f1 file").contains("file"));
        assert!(err("cut -f").contains("needs a value"));
    }
}
