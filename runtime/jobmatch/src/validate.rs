//! Checking a library: every problem of every row, located by table, row index and column so
//! that a caller can point at the sheet cell or the file line.
//!
//! **Errors** are rows that cannot do what they say: an empty tag; a tag that cleaning empties
//! (only stop words) or that can never meet a title as written (a title tag holding a junk or
//! rank word, which are removed before bigrams are scored; a title tag that is not two words; a
//! rank tag that is also junk); a score that is not a number, or a keyword score outside −1, 0,
//! 1; the same tag twice with different scores (in one table, for one track, or in two keyword
//! groups one track uses); a track naming an unknown keyword group or rank tag, or with a
//! target, minimum or id that cannot work; an unknown or out-of-range `match.*` parameter.
//! A library with an error does not compile.
//!
//! **Warnings** change nothing in the scores but are probably not what the user meant: the same
//! tag twice with the same score (the first row is used: a repeat is harmless, so it does not
//! stop a sync), a word with sentence punctuation stuck to it (`engineer,` is literal, so
//! `engineer` does not match it), a keep tag that is not a stop word, a track without keyword
//! groups, name or CV version.

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::clean::{Cleaner, remove_phrases};
use crate::library::{ConfigValue, Library, PARAMETERS, Seniority};

/// A table of the library, named as its file (`title_tags.yaml`) and sheet tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Table {
    TitleTags,
    RankTags,
    JunkTags,
    KeepTags,
    KeywordTags,
    Tracks,
    Config,
}

impl Table {
    pub fn name(self) -> &'static str {
        match self {
            Table::TitleTags => "title_tags",
            Table::RankTags => "rank_tags",
            Table::JunkTags => "junk_tags",
            Table::KeepTags => "keep_tags",
            Table::KeywordTags => "keyword_tags",
            Table::Tracks => "tracks",
            Table::Config => "config",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
}

/// One problem of one cell: `row` is the 0-based index of the row in its table (a sheet's
/// row number is `row + 2` under the header; a file loader maps it to the entry's line).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    pub severity: Severity,
    pub table: Table,
    pub row: usize,
    pub column: &'static str,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(
            f,
            "{level}: {}[{}].{}: {}",
            self.table.name(),
            self.row,
            self.column,
            self.message
        )
    }
}

/// Every problem of `library`, errors and warnings, in table order.
pub fn validate(library: &Library) -> Vec<Problem> {
    check(library, &Cleaner::new(library))
}

struct Report(Vec<Problem>);

impl Report {
    fn error(&mut self, table: Table, row: usize, column: &'static str, message: String) {
        self.push(Severity::Error, table, row, column, message);
    }

    fn warn(&mut self, table: Table, row: usize, column: &'static str, message: String) {
        self.push(Severity::Warning, table, row, column, message);
    }

    fn push(&mut self, severity: Severity, table: Table, row: usize, column: &'static str, message: String) {
        self.0.push(Problem {
            severity,
            table,
            row,
            column,
            message,
        });
    }

    /// Records a repeat of `key`: a warning when the value is the same, an error otherwise.
    #[allow(clippy::too_many_arguments)]
    fn repeat<K: std::hash::Hash + Eq>(
        &mut self,
        seen: &mut HashMap<K, (usize, f64)>,
        key: K,
        value: f64,
        table: Table,
        row: usize,
        column: &'static str,
        what: &str,
    ) {
        match seen.get(&key) {
            None => {
                seen.insert(key, (row, value));
            }
            Some(&(first, v)) if same(v, value) => self.warn(
                table,
                row,
                "tag",
                format!("{what} repeats row {first} with the same {column}: the first row is used"),
            ),
            Some(&(first, v)) => self.error(
                table,
                row,
                column,
                format!("{what} is {} here and {} in row {first}: keep one", num(value), num(v)),
            ),
        }
    }
}

fn same(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

/// A number for a message: at most 4 decimals, no trailing zeros (`1`, `0.22`, `-0.23`).
pub(crate) fn num(v: f64) -> String {
    // Rounded, then the shortest form that reads back (fast; `{:.4}` formats exactly, slowly).
    let r = (v * 10_000.0).round() / 10_000.0;
    if r == 0.0 {
        "0".into()
    } else if r.is_finite() {
        format!("{r}")
    } else {
        format!("{v}")
    }
}

/// A warning for a tag word that is a plain word with sentence punctuation stuck to it
/// (`engineer,` from a sheet): like any word with a symbol it is matched literally, so the plain
/// word does not match it. `c++`, `.net` or `(x)` are left alone: their symbols are the point.
fn stray_punctuation(tag: &str) -> Option<String> {
    const STRAY: &[char] = &[',', ';', ':', '!', '?', '"', '\''];
    tag.split_whitespace().find_map(|word| {
        let core = word.trim_matches(STRAY);
        let core = core.strip_suffix('.').unwrap_or(core);
        (core != word && !core.is_empty() && core.chars().all(char::is_alphabetic))
            .then(|| format!("`{word}` is matched literally, punctuation included: `{core}` alone does not match it"))
    })
}

/// A tag's phrase; an error when it has none (recorded, `None`), a warning for stray
/// punctuation.
fn phrase_of(r: &mut Report, cleaner: &Cleaner, table: Table, row: usize, tag: &str) -> Option<Vec<u32>> {
    if tag.trim().is_empty() {
        r.error(table, row, "tag", "the tag is empty".into());
        return None;
    }
    let phrase = cleaner.phrase(tag);
    if phrase.is_empty() {
        r.error(
            table,
            row,
            "tag",
            format!(
                "`{tag}` is only stop words ({}): cleaning removes them from every text, so it can never match",
                cleaner.tokens(tag).join(", ")
            ),
        );
        return None;
    }
    if let Some(message) = stray_punctuation(tag) {
        r.warn(table, row, "tag", message);
    }
    Some(phrase)
}

pub(crate) fn check(lib: &Library, cleaner: &Cleaner) -> Vec<Problem> {
    let mut r = Report(Vec::new());
    let track_ids: Vec<&str> = lib.tracks.iter().map(|t| t.id.as_str()).collect();

    // Title tags: bigrams of the deranked title.
    let mut seen = HashMap::new();
    for (row, t) in lib.title_tags.iter().enumerate() {
        let table = Table::TitleTags;
        if !t.score.is_finite() {
            r.error(table, row, "score", format!("`{}` is not a number", num(t.score)));
        }
        if let Some(track) = &t.track {
            if !track_ids.contains(&track.as_str()) {
                r.error(
                    table,
                    row,
                    "track",
                    format!("no track has id `{track}` (tracks: {})", track_ids.join(", ")),
                );
            }
        }
        let Some(phrase) = phrase_of(&mut r, cleaner, table, row, &t.tag) else {
            continue;
        };
        let mut left = phrase.clone();
        let mut junk = Vec::new();
        remove_phrases(&cleaner.junk, &mut left, |j| junk.push(j));
        let mut ranks = Vec::new();
        remove_phrases(&cleaner.rank, &mut left, |k| ranks.push(k));
        if let Some(j) = junk.first() {
            let word = lib.junk_tags.get(*j as usize).map_or("", |j| j.tag.as_str());
            r.error(
                table,
                row,
                "tag",
                format!(
                    "`{}` holds the junk tag `{word}`, removed from titles before bigrams are scored: this tag can never match",
                    t.tag
                ),
            );
        } else if let Some(k) = ranks.first() {
            let word = cleaner.ranks.get(*k as usize).map_or("", |k| &*k.0);
            r.error(
                table,
                row,
                "tag",
                format!(
                    "`{}` holds the rank tag `{word}`, removed from titles before bigrams are scored: this tag can never match",
                    t.tag
                ),
            );
        } else if phrase.len() != 2 {
            r.error(
                table,
                row,
                "tag",
                format!(
                    "title tags are bigrams, two words after cleaning: `{}` is {} word{} ({})",
                    t.tag,
                    phrase.len(),
                    if phrase.len() == 1 { "" } else { "s" },
                    cleaner.text(&phrase)
                ),
            );
        } else {
            let what = match &t.track {
                Some(track) => format!("`{}` for track `{track}`", cleaner.text(&phrase)),
                None => format!("`{}` for every track", cleaner.text(&phrase)),
            };
            r.repeat(
                &mut seen,
                (phrase, t.track.clone()),
                t.score,
                table,
                row,
                "score",
                &what,
            );
        }
    }

    // Rank tags.
    let mut seen = HashMap::new();
    for (row, t) in lib.rank_tags.iter().enumerate() {
        let table = Table::RankTags;
        if !t.weight.is_finite() {
            r.error(table, row, "weight", format!("`{}` is not a number", num(t.weight)));
        }
        let Some(phrase) = phrase_of(&mut r, cleaner, table, row, &t.tag) else {
            continue;
        };
        let mut left = phrase.clone();
        remove_phrases(&cleaner.junk, &mut left, |_| {});
        if left != phrase {
            r.error(
                table,
                row,
                "tag",
                format!(
                    "`{}` is (or holds) a junk tag: junk is removed from titles first, so this weight never counts",
                    t.tag
                ),
            );
            continue;
        }
        let what = format!("`{}`", cleaner.text(&phrase));
        r.repeat(&mut seen, phrase, t.weight, table, row, "weight", &what);
    }

    // Junk tags.
    let mut seen = HashMap::new();
    for (row, t) in lib.junk_tags.iter().enumerate() {
        if let Some(phrase) = phrase_of(&mut r, cleaner, Table::JunkTags, row, &t.tag) {
            let what = format!("`{}`", cleaner.text(&phrase));
            r.repeat(&mut seen, phrase, 0.0, Table::JunkTags, row, "tag", &what);
        }
    }

    // Keep tags: exceptions to the stop-word list.
    let mut seen = HashMap::new();
    for (row, t) in lib.keep_tags.iter().enumerate() {
        let table = Table::KeepTags;
        let tokens = cleaner.tokens(&t.tag);
        match tokens.as_slice() {
            [] => r.error(table, row, "tag", "the tag is empty".into()),
            [word] => {
                let stop = crate::stopwords::STOP_WORDS.contains(&word.as_str());
                if !stop {
                    r.warn(
                        table,
                        row,
                        "tag",
                        format!("`{word}` is not a stop word: keeping it changes nothing"),
                    );
                }
                r.repeat(&mut seen, word.clone(), 0.0, table, row, "tag", &format!("`{word}`"));
            }
            more => r.error(
                table,
                row,
                "tag",
                format!(
                    "keep tags are single words (exceptions to the stop-word list): `{}` is {} words",
                    t.tag,
                    more.len()
                ),
            ),
        }
    }

    // Keyword tags.
    let groups: Vec<&str> = lib.keyword_tags.iter().map(|k| k.group.as_str()).collect();
    let mut seen = HashMap::new();
    let mut phrases: Vec<Option<Vec<u32>>> = Vec::with_capacity(lib.keyword_tags.len());
    for (row, k) in lib.keyword_tags.iter().enumerate() {
        let table = Table::KeywordTags;
        if k.group.trim().is_empty() {
            r.error(table, row, "group", "the group is empty".into());
        }
        if !matches!(k.score, -1.0 | 0.0 | 1.0) {
            r.error(
                table,
                row,
                "score",
                format!("keyword scores are -1, 0 or 1, not {}", num(k.score)),
            );
        }
        let phrase = phrase_of(&mut r, cleaner, table, row, &k.tag);
        if let Some(phrase) = &phrase {
            let what = format!("`{}` in group `{}`", cleaner.text(phrase), k.group);
            r.repeat(
                &mut seen,
                (k.group.clone(), phrase.clone()),
                k.score,
                table,
                row,
                "score",
                &what,
            );
        }
        phrases.push(phrase);
    }

    // Tracks.
    let mut ids: HashMap<&str, usize> = HashMap::new();
    for (row, t) in lib.tracks.iter().enumerate() {
        let table = Table::Tracks;
        if t.id.trim().is_empty() {
            r.error(table, row, "id", "the track id is empty".into());
        } else if let Some(first) = ids.insert(t.id.as_str(), row) {
            r.error(table, row, "id", format!("track `{}` is also row {first}", t.id));
        }
        if t.name.trim().is_empty() {
            r.warn(table, row, "name", "the track has no name".into());
        }
        if t.keyword_groups.is_empty() {
            r.warn(
                table,
                row,
                "keyword_groups",
                "no keyword groups: descriptions are not scored for this track".into(),
            );
        }
        for g in &t.keyword_groups {
            if !groups.contains(&g.as_str()) {
                r.error(table, row, "keyword_groups", format!("no keyword tag has group `{g}`"));
            }
        }
        match &t.seniority {
            Some(Seniority::Weight(w)) if !w.is_finite() => {
                r.error(table, row, "seniority", format!("`{}` is not a number", num(*w)))
            }
            Some(Seniority::Tag(tag)) if cleaner.rank.get(&cleaner.phrase(tag)).is_none() => r.error(
                table,
                row,
                "seniority",
                format!("`{tag}` is not a rank tag: give a rank tag or a weight"),
            ),
            _ => {}
        }
        if let Some(v) = t.salary_target.filter(|v| !(v.is_finite() && *v > 0.0)) {
            r.error(
                table,
                row,
                "salary_target",
                format!("the monthly salary target must be a number > 0, not {}", num(v)),
            );
        }
        if let Some(v) = t.match_score_min.filter(|v| !(v.is_finite() && *v >= 0.0)) {
            r.error(
                table,
                row,
                "match_score_min",
                format!("must be a number ≥ 0, not {}", num(v)),
            );
        }
        if t.cv_version.as_deref().is_none_or(|v| v.trim().is_empty()) {
            r.warn(
                table,
                row,
                "cv_version",
                "no CV version: the apply step cannot pick a CV for this track".into(),
            );
        }
        // One keyword in two of the track's groups with different scores: which one counts?
        let mut scores: HashMap<&[u32], (usize, &str, f64)> = HashMap::new();
        for g in &t.keyword_groups {
            for (krow, k) in lib.keyword_tags.iter().enumerate().filter(|(_, k)| &k.group == g) {
                let Some(Some(phrase)) = phrases.get(krow) else {
                    continue;
                };
                match scores.get(phrase.as_slice()) {
                    None => {
                        scores.insert(phrase, (krow, &k.group, k.score));
                    }
                    Some(&(first, group, score)) if group != k.group && !same(score, k.score) => r.error(
                        Table::KeywordTags,
                        krow,
                        "score",
                        format!(
                            "`{}` is {} in group `{}` and {} in group `{group}` (row {first}), both used by track `{}`: keep one",
                            k.tag,
                            num(k.score),
                            k.group,
                            num(score),
                            t.id
                        ),
                    ),
                    Some(_) => {}
                }
            }
        }
    }

    // Config: the `match` group is ours.
    let mut seen = HashMap::new();
    for (row, c) in lib.config.iter().enumerate() {
        if c.group.trim() != "match" {
            continue;
        }
        let table = Table::Config;
        let name = c.parameter.trim();
        let Some((_, range)) = PARAMETERS.iter().find(|(p, _)| *p == name) else {
            r.error(
                table,
                row,
                "parameter",
                format!(
                    "unknown match parameter `{name}` (known: {})",
                    PARAMETERS.map(|p| p.0).join(", ")
                ),
            );
            continue;
        };
        let Some(v) = config_number(&c.value) else {
            r.error(table, row, "value", format!("`{name}` needs a number"));
            continue;
        };
        if !range.accepts(v) {
            r.error(
                table,
                row,
                "value",
                format!("`{name}` must be {}, not {}", range.describe(), num(v)),
            );
            continue;
        }
        r.repeat(
            &mut seen,
            name.to_string(),
            v,
            table,
            row,
            "value",
            &format!("`match.{name}`"),
        );
    }
    r.0
}

/// A config cell as a number: numbers, or text that reads as one (a sheet may send text).
pub(crate) fn config_number(value: &ConfigValue) -> Option<f64> {
    match value {
        ConfigValue::Number(v) => Some(*v),
        ConfigValue::Text(t) => t.trim().parse().ok(),
    }
}
