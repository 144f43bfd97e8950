//! Reading `--flag value` and `--flag=value` the way kubectl-style tools (kubectl, istioctl) read
//! them.
//!
//! Owns: `split_inline` (a word into the flag and its `=value`) and `value` (that value, or the
//! next word). Leaves out: which flags a program has (`kubectl`, `istioctl`, `lookup`).

use super::error::CommandError;

/// `--name=value` → (`--name`, `Some("value")`); any other word → (the word, `None`). A word that
/// is not a flag is returned whole (`app=sleep` stays a value).
pub(crate) fn split_inline(word: &str) -> (&str, Option<&str>) {
    match word.split_once('=') {
        Some((flag, value)) if flag.starts_with('-') => (flag, Some(value)),
        _ => (word, None),
    }
}

/// The value of `flag` of `program`: written after `=`, else the next word of `rest`.
pub(crate) fn value<'a>(
    program: &'static str,
    flag: &str,
    inline: Option<&str>,
    rest: &mut impl Iterator<Item = &'a String>,
) -> Result<String, CommandError> {
    let missing = || CommandError::MissingValue {
        program,
        flag: flag.to_string(),
    };
    match inline {
        Some("") => Err(missing()),
        Some(v) => Ok(v.to_string()),
        None => rest.next().cloned().ok_or_else(missing),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_and_next_word_values() {
        assert_eq!(split_inline("--name=80"), ("--name", Some("80")));
        assert_eq!(
            split_inline("-o=jsonpath={.a}"),
            ("-o", Some("jsonpath={.a}"))
        );
        assert_eq!(split_inline("app=sleep"), ("app=sleep", None));
        let words = ["x".to_string()];
        let mut rest = words.iter();
        assert_eq!(value("istioctl", "--fqdn", None, &mut rest).unwrap(), "x");
        let e = value("istioctl", "--fqdn", None, &mut rest).unwrap_err();
        assert!(e.to_string().contains("`--fqdn` needs a value"), "{e}");
        assert!(value("istioctl", "--fqdn", Some(""), &mut rest).is_err());
    }
}
