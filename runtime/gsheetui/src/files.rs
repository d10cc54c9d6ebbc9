//! The files source: one file per table in a folder (`config/seed/library/` by default),
//! `<table>.yaml` (or `.yml`) or `<table>.csv`. Every table needs its file (an empty table is
//! an empty list, `[]`, or a CSV with only its header): a missing file would otherwise read as
//! "remove every row", which is never what a missing file means.

use std::path::Path;

use crate::core::{Loc, Located, RawTable, TABLES, csv, table_named, yaml};

/// The tables of the folder `dir`, files named in messages as `shown/<file>` (the path as the
/// user typed it, or relative to the project), and the folder's own problems (a missing file,
/// two files for one table, a file no table is named after, a file that cannot be read).
pub fn read_dir(dir: &Path, shown: &str) -> (Vec<RawTable>, Vec<Located>) {
    let shown = shown.trim_end_matches('/');
    let mut tables = Vec::new();
    let mut problems = Vec::new();
    let folder = Loc::File {
        file: format!("{shown}/"),
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            problems.push(Located::error(None, folder, format!("cannot read the folder: {e}")));
            return (tables, problems);
        }
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort();
    for name in &names {
        let Some((stem, ext)) = name.rsplit_once('.') else {
            continue;
        };
        if !matches!(ext, "yaml" | "yml" | "csv") {
            continue;
        }
        if table_named(stem).is_none() {
            problems.push(Located::warning(
                None,
                Loc::File {
                    file: format!("{shown}/{name}"),
                },
                format!(
                    "not a library table (the tables are {}): ignored",
                    TABLES.map(|t| t.name()).join(", ")
                ),
            ));
        }
    }
    for table in TABLES {
        let found: Vec<&String> = names
            .iter()
            .filter(|n| {
                n.rsplit_once('.')
                    .is_some_and(|(stem, ext)| stem == table.name() && matches!(ext, "yaml" | "yml" | "csv"))
            })
            .collect();
        let file = match found.as_slice() {
            [] => {
                problems.push(Located::error(
                    Some(table),
                    folder.clone(),
                    format!(
                        "no {0}.yaml or {0}.csv: every table needs its file (`[]` in {0}.yaml for an empty table)",
                        table.name()
                    ),
                ));
                continue;
            }
            [one] => *one,
            more => {
                problems.push(Located::error(
                    Some(table),
                    folder.clone(),
                    format!(
                        "{} files for table {}: keep one",
                        more.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" and "),
                        table.name()
                    ),
                ));
                continue;
            }
        };
        let path = dir.join(file);
        let shown_file = format!("{shown}/{file}");
        let text = match std::fs::read(&path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(t) => t,
                Err(_) => {
                    problems.push(Located::error(
                        Some(table),
                        Loc::File { file: shown_file },
                        "not UTF-8 text: save it as UTF-8",
                    ));
                    continue;
                }
            },
            Err(e) => {
                problems.push(Located::error(
                    Some(table),
                    Loc::File { file: shown_file },
                    format!("cannot read it: {e}"),
                ));
                continue;
            }
        };
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        tables.push(if file.ends_with(".csv") {
            csv::table(table, &shown_file, text)
        } else {
            yaml::table(table, &shown_file, text)
        });
    }
    (tables, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/seed/library")
    }

    #[test]
    fn the_starter_library_reads_without_errors() {
        let (tables, problems) = read_dir(&seed(), "config/seed/library");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(tables.len(), 7);
        let loaded = crate::core::load::load(&tables, problems);
        let errors: Vec<String> = loaded.errors().map(ToString::to_string).collect();
        assert!(errors.is_empty(), "{errors:?}");
        assert!(
            loaded
                .tables
                .iter()
                .all(|t| t.source.starts_with("file:config/seed/library/"))
        );
    }

    #[test]
    fn missing_doubled_and_stray_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        for t in TABLES {
            std::fs::write(dir.path().join(format!("{}.yaml", t.name())), "[]\n").unwrap();
        }
        std::fs::remove_file(dir.path().join("rank_tags.yaml")).unwrap();
        std::fs::write(dir.path().join("junk_tags.csv"), "tag\nfoo\n").unwrap();
        std::fs::write(dir.path().join("notes.yaml"), "- a\n").unwrap();
        std::fs::write(dir.path().join("README.md"), "hi").unwrap();
        let (tables, problems) = read_dir(dir.path(), "lib/");
        let texts: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            texts,
            [
                "lib/notes.yaml: warning: not a library table (the tables are title_tags, rank_tags, junk_tags, keep_tags, keyword_tags, tracks, config): ignored",
                "lib/: no rank_tags.yaml or rank_tags.csv: every table needs its file (`[]` in rank_tags.yaml for an empty table)",
                "lib/: junk_tags.csv and junk_tags.yaml files for table junk_tags: keep one",
            ]
        );
        assert_eq!(tables.len(), 5);
        let (_, problems) = read_dir(&dir.path().join("nope"), "nope");
        assert!(problems[0].to_string().starts_with("nope/: cannot read the folder"));
    }
}
