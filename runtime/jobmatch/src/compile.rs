//! A checked library compiled once into the matcher that scores posts: the cleaner's word
//! table and phrases, title bigrams with one score per track, keyword phrases with one score
//! per track, and the tracks with their defaults filled in.

use std::collections::HashSet;

use serde::Serialize;

use crate::clean::{Cleaner, Trie};
use crate::library::{Library, ScoringConfig, Seniority, Track};
use crate::validate::{Problem, Severity, check, config_number};

/// A library that cannot be compiled: every problem (errors and warnings) of it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the library has {} error{}:\n{}", self.errors().count(), if self.errors().count() == 1 { "" } else { "s" }, self.errors().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n"))]
pub struct Invalid {
    pub problems: Vec<Problem>,
}

impl Invalid {
    pub fn errors(&self) -> impl Iterator<Item = &Problem> {
        self.problems.iter().filter(|p| p.severity == Severity::Error)
    }
}

/// A compiled library and the warnings its rows raised.
#[derive(Debug)]
pub struct Compiled {
    pub library: CompiledLibrary,
    pub warnings: Vec<Problem>,
}

/// A track with its defaults filled in from the config.
#[derive(Debug, Clone, Serialize)]
pub struct CompiledTrack {
    pub track: Track,
    /// The rank weight the track aims at.
    pub seniority: f64,
    pub match_score_min: f64,
    pub age_weeks: u32,
}

#[derive(Debug)]
pub(crate) struct TitleEntry {
    pub(crate) text: Box<str>,
    /// The score of the bigram for each track (its own row, else the row for every track).
    pub(crate) scores: Box<[Option<f64>]>,
}

#[derive(Debug)]
pub(crate) struct KeywordEntry {
    pub(crate) text: Box<str>,
    /// For each track: the score and the group (index into `groups`) it counts under.
    pub(crate) scores: Box<[Option<(f64, u32)>]>,
}

/// The matcher: compile once, score many posts (see [`crate::Scorer`]).
#[derive(Debug)]
pub struct CompiledLibrary {
    pub(crate) cleaner: Cleaner,
    pub(crate) title: Trie<u32>,
    pub(crate) title_entries: Vec<TitleEntry>,
    pub(crate) keywords: Trie<u32>,
    pub(crate) keyword_entries: Vec<KeywordEntry>,
    pub(crate) groups: Vec<Box<str>>,
    pub(crate) tracks: Vec<CompiledTrack>,
    pub(crate) config: ScoringConfig,
}

/// A title after cleaning (stop words and junk tags gone) and after deranking (rank tags gone
/// too): the original's `clean_title` and `deranked_title`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CleanTitle {
    pub clean: String,
    pub deranked: String,
}

impl CompiledLibrary {
    /// Checks `library` and compiles it; any error refuses it with every problem found.
    pub fn compile(library: &Library) -> Result<Compiled, Invalid> {
        let cleaner = Cleaner::new(library);
        let problems = check(library, &cleaner);
        if problems.iter().any(|p| p.severity == Severity::Error) {
            return Err(Invalid { problems });
        }

        let mut config = ScoringConfig::default();
        for row in library.config.iter().filter(|c| c.group.trim() == "match") {
            if let Some(v) = config_number(&row.value) {
                config.set(row.parameter.trim(), v);
            }
        }
        let tracks: Vec<CompiledTrack> = library
            .tracks
            .iter()
            .map(|t| CompiledTrack {
                track: t.clone(),
                seniority: match &t.seniority {
                    None => 0.0,
                    Some(Seniority::Weight(w)) => *w,
                    Some(Seniority::Tag(tag)) => cleaner
                        .rank
                        .get(&cleaner.phrase(tag))
                        .and_then(|i| cleaner.ranks.get(i as usize))
                        .map_or(0.0, |r| r.1),
                },
                match_score_min: t.match_score_min.unwrap_or(config.match_score_min),
                age_weeks: t.age_weeks.unwrap_or(config.age_weeks),
            })
            .collect();
        let n = tracks.len();
        let track_index = |id: &str| tracks.iter().position(|t| t.track.id == id);

        // Title bigrams: rows for every track first, then each track's own rows over them.
        let mut title = Trie::new(cleaner.vocab.len());
        let mut title_entries: Vec<TitleEntry> = Vec::new();
        let mut own: HashSet<(u32, usize)> = HashSet::new();
        for specific in [false, true] {
            for row in library.title_tags.iter().filter(|t| t.track.is_some() == specific) {
                let phrase = cleaner.phrase(&row.tag);
                let next = u32::try_from(title_entries.len()).unwrap_or(u32::MAX);
                let Some(entry_id) = title.insert(&phrase, next) else {
                    continue;
                };
                if entry_id == next {
                    title_entries.push(TitleEntry {
                        text: cleaner.text(&phrase).into(),
                        scores: vec![None; n].into(),
                    });
                }
                let Some(entry) = title_entries.get_mut(entry_id as usize) else {
                    continue;
                };
                match row.track.as_deref().map(track_index) {
                    // For every track: fills what no earlier row for every track filled.
                    None => entry
                        .scores
                        .iter_mut()
                        .filter(|s| s.is_none())
                        .for_each(|s| *s = Some(row.score)),
                    // Its own track: over the row for every track, first own row wins.
                    Some(Some(t)) if own.insert((entry_id, t)) => entry.scores[t] = Some(row.score),
                    _ => {}
                }
            }
        }

        // Keywords: a phrase counts for a track under the first of its groups that holds it.
        let mut groups: Vec<Box<str>> = Vec::new();
        let mut keywords = Trie::new(cleaner.vocab.len());
        let mut keyword_entries: Vec<KeywordEntry> = Vec::new();
        for (t, track) in tracks.iter().enumerate() {
            for group in &track.track.keyword_groups {
                let g = match groups.iter().position(|x| **x == **group) {
                    Some(g) => g,
                    None => {
                        groups.push(group.as_str().into());
                        groups.len() - 1
                    }
                };
                for row in library.keyword_tags.iter().filter(|k| &k.group == group) {
                    let phrase = cleaner.phrase(&row.tag);
                    let next = u32::try_from(keyword_entries.len()).unwrap_or(u32::MAX);
                    let Some(entry) = keywords.insert(&phrase, next) else {
                        continue;
                    };
                    if entry == next {
                        keyword_entries.push(KeywordEntry {
                            text: cleaner.text(&phrase).into(),
                            scores: vec![None; n].into(),
                        });
                    }
                    if let Some(slot) = keyword_entries
                        .get_mut(entry as usize)
                        .and_then(|e| e.scores.get_mut(t))
                    {
                        slot.get_or_insert((row.score, u32::try_from(g).unwrap_or(u32::MAX)));
                    }
                }
            }
        }

        let warnings = problems;
        Ok(Compiled {
            library: CompiledLibrary {
                cleaner,
                title,
                title_entries,
                keywords,
                keyword_entries,
                groups,
                tracks,
                config,
            },
            warnings,
        })
    }

    pub fn tracks(&self) -> &[CompiledTrack] {
        &self.tracks
    }

    pub fn track(&self, id: &str) -> Option<&CompiledTrack> {
        self.tracks.iter().find(|t| t.track.id == id)
    }

    pub fn config(&self) -> &ScoringConfig {
        &self.config
    }

    /// A title cleaned as the scorer cleans it.
    pub fn clean_title(&self, title: &str) -> CleanTitle {
        self.scorer().clean_title(title)
    }
}
