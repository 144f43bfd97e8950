//! Columns aligned as Go's `text/tabwriter` aligns them with a space as padding character: each
//! cell but the last of a row is padded to its column's widest cell plus `padding` spaces (so a
//! row whose last cell is empty still ends in spaces, as Go's output does), widths in characters.
//!
//! Owns: `align`. Leaves out: what goes in the cells (the views that print tables, such as
//! `egressbench_model::proxy_config`).

/// The rows as text, one line each (`\n`-terminated), columns aligned.
pub fn align(rows: &[Vec<String>], padding: usize) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter(|r| c + 1 < r.len())
                .filter_map(|r| r.get(c))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        for (c, cell) in row.iter().enumerate() {
            out.push_str(cell);
            if c + 1 < row.len() {
                let pad = widths[c] + padding - cell.chars().count();
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|c| c.to_string()).collect()
    }

    #[test]
    fn cells_pad_to_the_widest_plus_padding_and_the_last_is_not_padded() {
        let text = align(
            &[
                row(&["SERVICE FQDN", "PORT", "DESTINATION RULE"]),
                row(&["httpbin.org", "80", "egress-tls.default"]),
                row(&["BlackHoleCluster", "-", ""]),
            ],
            5,
        );
        assert_eq!(
            text,
            "SERVICE FQDN         PORT     DESTINATION RULE\n\
             httpbin.org          80       egress-tls.default\n\
             BlackHoleCluster     -        \n"
        );
        assert_eq!(
            align(&[row(&["a", "b"]), row(&["ccc", "d"])], 1),
            "a   b\nccc d\n"
        );
    }
}
