//! "Did you mean …?": the closest accepted word to a typo.
//!
//! Owns: `closest` — Damerau–Levenshtein distance, ignoring case, within a third of the longer
//! word (at least 2); a word that already matches, ignoring case, gets no suggestion. Leaves out:
//! the accepted words and the messages that quote a suggestion (`egressbench-resources`'s
//! `enums`, `egressbench-manifest`, `egressbench-compile`, `egressbench-scenario`).

/// The accepted word closest to `got`, when it is close enough to be a likely typo.
pub fn closest<'a>(got: &str, accepted: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let got_l = got.to_ascii_lowercase();
    accepted
        .into_iter()
        .map(|a| {
            (
                strsim::damerau_levenshtein(&got_l, &a.to_ascii_lowercase()),
                a,
            )
        })
        .filter(|(d, a)| *d > 0 && *d <= (a.len().max(got.len()) / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, a)| a)
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn finds_typos_but_not_strangers() {
        let fields = ["namespace", "workloadSelector"];
        assert_eq!(closest("workloadSelectr", fields), Some("workloadSelector"));
        assert_eq!(closest("namspace", fields), Some("namespace"));
        assert_eq!(closest("colour", fields), None);
    }
}
