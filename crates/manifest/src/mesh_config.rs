//! The mesh config inside the `istio` ConfigMap: `data.mesh` is YAML written inside a YAML
//! string. Parse it, and place its errors on the file's own lines.
//!
//! Owns: reading the `mesh` string and mapping positions inside it back into the document (exact
//! for `|` block scalars, the usual form; the start of the value when the string was folded or
//! escaped). Leaves out: choosing which ConfigMaps are mesh configs (`object`) and what the
//! fields mean (`egressbench_resources::mesh_config`).

use super::diag::Diag;
use super::diagnose::Ctx;
use super::field_path::FieldPath;
use super::locate::{self, Pos};
use super::{syntax, typed};
use egressbench_resources::mesh_config::MeshConfig;

/// Parse `mesh`, the string at `mesh_at` in document `doc`. Errors are in `doc`'s coordinates.
pub(crate) fn read(doc: &str, mesh_at: &FieldPath, mesh: &str) -> Result<MeshConfig, Diag> {
    let has_content = mesh.lines().any(|l| {
        let t = l.trim();
        !t.is_empty() && !t.starts_with('#') && t != "---"
    });
    if !has_content {
        return Ok(MeshConfig::default());
    }
    let start = locate::value_at(doc, mesh_at).unwrap_or(Pos::new(1, 1));
    let place = Place::of(doc, start);
    let ctx = Ctx {
        within: Some("data.mesh"),
        ..Ctx::default()
    };
    let inner = syntax::check(mesh)
        .and_then(|()| typed::read_at::<MeshConfig>(mesh, &FieldPath::root(), &ctx));
    match inner {
        Ok(config) => Ok(config.unwrap_or_default()),
        Err(diag) => Err(diag.map_pos(|p| place.to_doc(p))),
    }
}

/// How the string sits in the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    /// `|` block: string line N is document line `start.line + N`, shifted right by `indent`.
    Literal { indent: usize },
    /// `"..."` or `'...'` on one line.
    Quoted,
    /// A plain scalar.
    Plain,
    /// Folded (`>`), tagged or anchored: lines do not map one to one.
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Place {
    start: Pos,
    style: Style,
}

impl Place {
    fn of(doc: &str, start: Pos) -> Place {
        let lines: Vec<&str> = doc.lines().collect();
        let header = lines
            .get(start.line.saturating_sub(1))
            .copied()
            .unwrap_or("");
        let rest: String = header
            .chars()
            .skip(start.column.saturating_sub(1))
            .collect();
        let style = match rest.chars().next() {
            Some('|') => {
                let explicit = rest[1..]
                    .chars()
                    .find(|c| c.is_ascii_digit())
                    .and_then(|c| c.to_digit(10));
                let indent = match explicit {
                    Some(d) => leading_spaces(header) + d as usize,
                    None => lines
                        .iter()
                        .skip(start.line)
                        .find(|l| !l.trim().is_empty())
                        .map(|l| leading_spaces(l))
                        .unwrap_or(0),
                };
                Style::Literal { indent }
            }
            Some('"' | '\'') => Style::Quoted,
            Some('>' | '!' | '&' | '*') | None => Style::Other,
            Some(_) => Style::Plain,
        };
        Place { start, style }
    }

    /// A position inside the string, in the document.
    fn to_doc(self, p: Pos) -> Pos {
        match self.style {
            Style::Literal { indent } => Pos::new(self.start.line + p.line, indent + p.column),
            Style::Quoted if p.line == 1 => Pos::new(self.start.line, self.start.column + p.column),
            Style::Plain if p.line == 1 => {
                Pos::new(self.start.line, self.start.column + p.column - 1)
            }
            _ => self.start,
        }
    }
}

fn leading_spaces(line: &str) -> usize {
    line.chars().take_while(|c| *c == ' ').count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use egressbench_resources::enums::OutboundMode;

    fn mesh_of(doc: &str) -> Result<MeshConfig, Diag> {
        let value: serde_yaml::Value = serde_yaml::from_str(doc).unwrap_or_default();
        let mesh = value["data"]["mesh"].as_str().unwrap_or("").to_string();
        read(doc, &FieldPath::root().key("data").key("mesh"), &mesh)
    }

    const GOOD: &str = "\
metadata: {name: istio}
data:
  mesh: |-
    # egress through the registry only
    outboundTrafficPolicy:
      mode: REGISTRY_ONLY
    trustDomain: cluster.local
";

    #[test]
    fn reads_the_mesh_string() {
        let m = mesh_of(GOOD).unwrap_or_default();
        assert_eq!(m.outbound_mode(), OutboundMode::RegistryOnly);
        assert_eq!(m.trust_domain(), "cluster.local");
    }

    #[test]
    fn bad_word_inside_the_block_points_at_the_file_line() {
        let doc = GOOD.replace("mode: REGISTRY_ONLY", "mode: REGISTRY_ONL");
        let d = mesh_of(&doc).unwrap_err();
        assert_eq!(d.pos, Pos::new(6, 13));
        assert_eq!(d.hint.as_deref(), Some("did you mean `REGISTRY_ONLY`?"));
        assert!(
            d.message
                .ends_with("at outboundTrafficPolicy.mode in data.mesh"),
            "{}",
            d.message
        );
    }

    #[test]
    fn unknown_field_inside_the_block() {
        let doc = GOOD.replace("      mode:", "      mdoe:");
        let d = mesh_of(&doc).unwrap_err();
        assert_eq!(d.pos, Pos::new(6, 7));
        assert_eq!(d.hint.as_deref(), Some("did you mean `mode`?"));
    }

    #[test]
    fn syntax_error_inside_the_block() {
        // One space of indentation inside the string: neither a sibling nor a child.
        let doc = GOOD.replace("    trustDomain:", "     trustDomain:");
        let d = mesh_of(&doc).unwrap_err();
        assert_eq!(d.pos.line, 7);
        assert!(d.message.starts_with("invalid YAML"), "{}", d.message);
    }

    #[test]
    fn explicit_indentation_and_one_line_strings() {
        let doc = "data:\n  mesh: |2\n      outboundTrafficPolicy: {mode: NOPE}\n";
        let d = mesh_of(doc).unwrap_err();
        assert_eq!(d.pos, Pos::new(3, 37));
        let doc = "data:\n  mesh: \"outboundTrafficPolicy: {mode: NOPE}\"\n";
        assert_eq!(mesh_of(doc).unwrap_err().pos, Pos::new(2, 40));
        let doc = "data:\n  mesh: >\n    outboundTrafficPolicy: {mode: NOPE}\n";
        assert_eq!(mesh_of(doc).unwrap_err().pos, Pos::new(2, 9));
    }

    #[test]
    fn empty_mesh_is_the_default() {
        let doc = "data:\n  mesh: |\n    # nothing yet\n";
        assert_eq!(mesh_of(doc), Ok(MeshConfig::default()));
    }
}
