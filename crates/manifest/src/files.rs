//! Which files a list of paths names: files as given, folders searched recursively for
//! `*.yaml` / `*.yml`, in path order.
//!
//! Owns: walking folders deterministically (sorted, hidden entries skipped, each folder once even
//! through symlinks). Leaves out: reading and parsing the files.

use super::error::LoadError;
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// The files to load, in order: each argument in turn; a folder's files sorted by path.
pub(crate) fn collect<P: AsRef<Path>>(paths: &[P]) -> Result<Vec<PathBuf>, LoadError> {
    let mut out = Vec::new();
    let mut seen_dirs = BTreeSet::new();
    for p in paths {
        let p = p.as_ref();
        let meta = fs::metadata(p).map_err(|e| unreadable(p, &e))?;
        if meta.is_dir() {
            let mut found = Vec::new();
            walk(p, &mut found, &mut seen_dirs)?;
            found.sort();
            out.extend(found);
        } else {
            out.push(p.to_path_buf());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>, seen: &mut BTreeSet<PathBuf>) -> Result<(), LoadError> {
    let canonical = fs::canonicalize(dir).map_err(|e| unreadable(dir, &e))?;
    if !seen.insert(canonical) {
        return Ok(());
    }
    let entries = fs::read_dir(dir).map_err(|e| unreadable(dir, &e))?;
    for entry in entries {
        let entry = entry.map_err(|e| unreadable(dir, &e))?;
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if hidden {
            continue;
        }
        let meta = fs::metadata(&path).map_err(|e| unreadable(&path, &e))?;
        if meta.is_dir() {
            walk(&path, out, seen)?;
        } else if is_yaml(&path) {
            out.push(path);
        }
    }
    Ok(())
}

fn is_yaml(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    )
}

pub(crate) fn unreadable(path: &Path, err: &std::io::Error) -> LoadError {
    let shown = path.display();
    let message = match err.kind() {
        std::io::ErrorKind::NotFound => format!("no such file or folder `{shown}`"),
        std::io::ErrorKind::InvalidData => format!("cannot read `{shown}`: not UTF-8 text"),
        _ => format!("cannot read `{shown}`: {err}"),
    };
    LoadError::file_level(shown.to_string(), message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("egressbench-files-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn folders_sorted_recursive_yaml_only() -> std::io::Result<()> {
        let dir = scratch("walk");
        fs::create_dir_all(dir.join("b/inner"))?;
        fs::create_dir_all(dir.join(".hidden"))?;
        for f in [
            "z.yaml",
            "a.yml",
            "b/inner/c.yaml",
            "b/readme.md",
            ".hidden/x.yaml",
            "b/a.yaml",
        ] {
            fs::write(dir.join(f), "")?;
        }
        let files = collect(&[&dir]).unwrap_or_default();
        let rel: Vec<String> = files
            .iter()
            .filter_map(|f| f.strip_prefix(&dir).ok())
            .map(|f| f.display().to_string())
            .collect();
        assert_eq!(rel, ["a.yml", "b/a.yaml", "b/inner/c.yaml", "z.yaml"]);
        fs::remove_dir_all(&dir)
    }

    #[test]
    fn missing_path_names_it() {
        let err = collect(&["/nonexistent/egressbench/x.yaml"]).unwrap_err();
        assert_eq!((err.line, err.column), (0, 0));
        assert_eq!(err.file, "/nonexistent/egressbench/x.yaml");
        assert!(
            err.message.contains("`/nonexistent/egressbench/x.yaml`"),
            "{}",
            err.message
        );
    }
}
