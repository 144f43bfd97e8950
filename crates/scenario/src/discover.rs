//! Finding scenario files: files named directly, and the `*.yaml` / `*.yml` files directly inside
//! named folders (sorted by name, so runs are in a stable order).
//!
//! Owns: `discover`. Leaves out: reading the files (`load`) and choosing among them (`--filter`,
//! the CLI's business).

use egressbench_text::Diagnostic;
use std::path::{Path, PathBuf};

/// Why the named paths do not lead to scenarios.
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    #[error("{path}: no such file or folder")]
    NotFound { path: String },
    #[error("{path}: the folder holds no scenario file (*.yaml)")]
    Empty { path: String },
    #[error("{path}: cannot list the folder: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
}

impl Diagnostic for DiscoverError {
    fn help(&self) -> Option<String> {
        let help = match self {
            DiscoverError::NotFound { .. } => {
                "name scenario files, or folders of *.yaml scenario files (the default is scenarios/)"
            }
            DiscoverError::Empty { .. } => "add a scenario file to the folder, or name another folder",
            DiscoverError::Read { .. } => "check the folder's permissions",
        };
        Some(help.to_string())
    }
}

/// The scenario files `paths` name, in the order given, each once.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, DiscoverError> {
    let mut out: Vec<PathBuf> = Vec::new();
    for p in paths {
        let found = if p.is_dir() {
            in_folder(p)?
        } else if p.is_file() {
            vec![p.clone()]
        } else {
            return Err(DiscoverError::NotFound {
                path: p.display().to_string(),
            });
        };
        for f in found {
            if !out.contains(&f) {
                out.push(f);
            }
        }
    }
    Ok(out)
}

fn in_folder(dir: &Path) -> Result<Vec<PathBuf>, DiscoverError> {
    let read_error = |source| DiscoverError::Read {
        path: dir.display().to_string(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_error)? {
        let path = entry.map_err(read_error)?.path();
        let yaml = matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        );
        if yaml && path.is_file() {
            files.push(path);
        }
    }
    if files.is_empty() {
        return Err(DiscoverError::Empty {
            path: dir.display().to_string(),
        });
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "egressbench-discover-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn folders_give_their_yaml_files_sorted_and_files_are_taken_as_named() {
        let dir = scratch("sorted");
        for f in ["b.yaml", "a.yml", "notes.md", "c.yaml"] {
            std::fs::write(dir.join(f), "").unwrap();
        }
        std::fs::create_dir(dir.join("sub.yaml")).unwrap();
        let found = discover(&[dir.clone(), dir.join("notes.md"), dir.join("b.yaml")]).unwrap();
        let names: Vec<String> = found
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.yml", "b.yaml", "c.yaml", "notes.md"]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn missing_paths_and_empty_folders_are_errors() {
        let dir = scratch("empty");
        let err = discover(std::slice::from_ref(&dir)).unwrap_err();
        assert!(matches!(err, DiscoverError::Empty { .. }), "{err}");
        let err = discover(&[dir.join("nope")]).unwrap_err();
        assert!(err.to_string().contains("no such file or folder"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
