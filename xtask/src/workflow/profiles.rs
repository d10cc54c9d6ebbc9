//! Search profiles from `config/seed/search-profiles.yaml` into the dimensions table
//! (`pk = search_profile`, `sk = <name>`), until config sync exists.
//!
//! The file is checked before anything is written: unknown keys, wrong types, duplicate names
//! and categories that are not MCF's exact display names (MCF answers 400 to those) are errors
//! naming the file, line and key.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use mcfcore::SearchProfile;
use serde::Deserialize;

use crate::config::LineIndex;

/// Where the seed profiles live, relative to the project's config folder.
pub const SEED_FILE: &str = "seed/search-profiles.yaml";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedFile {
    profiles: Vec<SearchProfile>,
}

/// An error in the seed file, located like config errors are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}: {key}: {message}", file.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct ProfileError {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub key: String,
    pub message: String,
}

pub fn seed_file(config_dir: &Path) -> PathBuf {
    config_dir.join(SEED_FILE)
}

/// Reads and checks the profiles of `path`.
pub fn load(path: &Path) -> Result<Vec<SearchProfile>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(parse(path, &text)?)
}

pub fn parse(path: &Path, text: &str) -> Result<Vec<SearchProfile>, ProfileError> {
    let index = LineIndex::build(text);
    let error = |key: String, message: String| ProfileError {
        file: path.to_path_buf(),
        line: index.line_of(&key),
        key,
        message,
    };
    let document = serde_norway::Deserializer::from_str(text);
    let seed: SeedFile = serde_path_to_error::deserialize(document).map_err(|e| {
        let key = crate::config::path_string(e.path());
        let inner = e.into_inner();
        let line = inner.location().map(|l| l.line());
        let mut err = error(if key.is_empty() { "profiles".into() } else { key }, inner.to_string());
        err.line = err.line.or(line);
        err
    })?;
    let mut names = BTreeSet::new();
    for (i, p) in seed.profiles.iter().enumerate() {
        let at = |field: &str| format!("profiles[{i}].{field}");
        if p.name.trim().is_empty()
            || !p
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(error(
                at("name"),
                format!("`{}` is not a profile name (letters, digits, - and _)", p.name),
            ));
        }
        if !names.insert(p.name.as_str()) {
            return Err(error(at("name"), format!("profile `{}` is defined twice", p.name)));
        }
        if p.track.trim().is_empty() {
            return Err(error(at("track"), "a profile needs its track".into()));
        }
        for (j, c) in p.categories.iter().enumerate() {
            if !mcfscrape::core::categories::is_category(c) {
                return Err(error(
                    format!("profiles[{i}].categories[{j}]"),
                    format!("`{c}` is not one of MCF's 43 category display names (MCF would answer 400)"),
                ));
            }
        }
    }
    if seed.profiles.is_empty() {
        return Err(error(
            "profiles".into(),
            "no profiles: the scraper would have nothing to search".into(),
        ));
    }
    Ok(seed.profiles)
}

/// Upserts `profiles` into `table`; returns the names of profiles already in the table that
/// the file does not have (left alone).
pub async fn seed(
    ddb: &aws_sdk_dynamodb::Client,
    table: &str,
    profiles: &[SearchProfile],
    now: &str,
) -> Result<Vec<String>> {
    mcfscrape::aws::put_profiles(ddb, table, profiles, now)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let stored = existing(ddb, table).await?;
    let ours: BTreeSet<&str> = profiles.iter().map(|p| p.name.as_str()).collect();
    Ok(stored.into_iter().filter(|n| !ours.contains(n.as_str())).collect())
}

/// The names of the profiles in `table`.
pub async fn existing(ddb: &aws_sdk_dynamodb::Client, table: &str) -> Result<Vec<String>> {
    use aws_sdk_dynamodb::types::AttributeValue;
    use mcfcore::layout::{PK, SK, dimension};
    let mut names = Vec::new();
    let mut start = None;
    loop {
        let page = ddb
            .query()
            .table_name(table)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_values(":pk", AttributeValue::S(dimension::SEARCH_PROFILE.into()))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| anyhow!("DynamoDB Query {table} search_profile: {}", mcfstore::error_text(&e)))?;
        names.extend(
            page.items()
                .iter()
                .filter_map(|item| item.get(SK).and_then(|v| v.as_s().ok()).cloned()),
        );
        start = page.last_evaluated_key;
        if start.is_none() {
            break;
        }
    }
    Ok(names)
}

/// Upserts `list` into the dimensions table and warns about profiles there that `path` lacks
/// (left alone); returns their names.
pub async fn write(
    s: &crate::session::Session,
    aws: &crate::aws::Aws,
    names: &super::DataNames,
    path: &Path,
    list: &[mcfcore::SearchProfile],
) -> Result<Vec<String>> {
    let ddb = aws.dynamodb();
    let others = seed(&ddb, &names.dimensions_table, list, &crate::local::now_rfc3339()).await?;
    if !others.is_empty() {
        s.ui.warn(&format!(
            "left alone in {}: profile(s) not in {}: {} (the scraper still runs them)",
            names.dimensions_table,
            path.display(),
            others.join(", ")
        ));
    }
    Ok(others)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> Result<Vec<SearchProfile>, ProfileError> {
        parse(Path::new("config/seed/search-profiles.yaml"), text)
    }

    #[test]
    fn the_repository_seed_file_is_valid() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let profiles = load(&seed_file(&root.join("config"))).unwrap();
        assert!(profiles.len() >= 2);
        assert!(profiles.iter().all(|p| !p.track.is_empty()));
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let text = "profiles:\n  - name: a\n    track: data\n    categories: [Information Technology, IT]\n";
        let e = parse_text(text).unwrap_err();
        assert_eq!(e.key, "profiles[0].categories[1]");
        assert_eq!(e.line, Some(4));
        assert!(
            e.to_string()
                .starts_with("config/seed/search-profiles.yaml:4: profiles[0].categories[1]: `IT`")
        );

        let text = "profiles:\n  - name: a\n    track: data\n    keyword: [x]\n";
        let e = parse_text(text).unwrap_err();
        assert_eq!((e.key.as_str(), e.line), ("profiles[0].keyword", Some(4)), "{e}");
        assert!(e.message.contains("unknown field `keyword`"), "{e}");

        let text = "profiles:\n  - name: a\n    track: data\n  - name: a\n    track: software\n";
        let e = parse_text(text).unwrap_err();
        assert_eq!((e.key.as_str(), e.line), ("profiles[1].name", Some(4)), "{e}");

        let text = "profiles:\n  - name: a\n    track: data\n    min_salary: lots\n";
        let e = parse_text(text).unwrap_err();
        assert_eq!((e.key.as_str(), e.line), ("profiles[0].min_salary", Some(4)), "{e}");

        assert_eq!(parse_text("profiles: []\n").unwrap_err().key, "profiles");
    }
}
