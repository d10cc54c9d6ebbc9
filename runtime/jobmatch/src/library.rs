//! The library: the user's tables as plain rows (title tags, rank tags, junk and keep tags,
//! keyword tags, tracks, config), with serde so that YAML files, CSV or a sheet's tabs map onto
//! them one row per entry. Nothing here checks or interprets a row: that is [`crate::validate()`]
//! and [`crate::CompiledLibrary`].

use serde::{Deserialize, Serialize};

/// Every table of a library. A row's place in its table (0-based) is how problems locate it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Library {
    #[serde(default)]
    pub title_tags: Vec<TitleTag>,
    #[serde(default)]
    pub rank_tags: Vec<RankTag>,
    #[serde(default)]
    pub junk_tags: Vec<Tag>,
    #[serde(default)]
    pub keep_tags: Vec<Tag>,
    #[serde(default)]
    pub keyword_tags: Vec<KeywordTag>,
    #[serde(default)]
    pub tracks: Vec<Track>,
    #[serde(default)]
    pub config: Vec<ConfigRow>,
}

/// A title bigram and its score: each occurrence in a post's deranked title adds `score`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TitleTag {
    pub tag: String,
    /// The original sheet's industry column: kept for the user, not used in scoring (the
    /// original used it for a salary percentile that it later disabled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub industry: Option<String>,
    /// The original sheet's `count` column (how often the bigram was seen): informational.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<f64>,
    pub score: f64,
    /// The track this row is for; none means every track. For a track, its own row wins over
    /// the row for every track (`java developer` −1 for all, +1 for `software`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub track: Option<String>,
}

/// A seniority word or phrase and its weight (the original's `weight_score`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RankTag {
    pub tag: String,
    pub weight: f64,
}

/// A row of a one-column table: junk tags (removed from titles) and keep tags (stop words
/// that are kept).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tag {
    pub tag: String,
}

/// A keyword of a group, scored −1, 0 or 1 when a post's description (or skills) holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeywordTag {
    pub group: String,
    pub tag: String,
    pub score: f64,
}

/// What the user is looking for: one CRM lane and one CV.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Track {
    /// The id search profiles and CRM items name (`data`, `software`).
    pub id: String,
    pub name: String,
    /// The role the CV is written for, for the user (`data engineer`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// The keyword groups scored against the description.
    #[serde(default)]
    pub keyword_groups: Vec<String>,
    /// The rank the track aims at; none means 0, a title without rank words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seniority: Option<Seniority>,
    /// The monthly salary (SGD) the track aims for: a post whose range reaches it fits; none
    /// means salary is not judged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salary_target: Option<f64>,
    /// Screening threshold on the total; none takes `match.match_score_min` from the config.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_score_min: Option<f64>,
    /// Posts older than this many weeks are not screened; none takes `match.age_weeks`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_weeks: Option<u32>,
    /// The CV version the apply step picks on MCF (`11.4`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cv_version: Option<String>,
}

/// A track's seniority: a rank weight, or a rank tag whose weight it takes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Seniority {
    Weight(f64),
    Tag(String),
}

/// A row of the config table (the original's `group | parameter | value`). Only the `match`
/// group is the recommender's; other groups belong to other parts and are left alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigRow {
    pub group: String,
    pub parameter: String,
    pub value: ConfigValue,
}

/// A config value as a sheet cell holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ConfigValue {
    Number(f64),
    Text(String),
}

/// The scoring parameters (`match.*` rows), with the defaults used when a row is absent.
/// [`crate::score`]'s module doc says what each one does in the formulas.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScoringConfig {
    /// Weight of the keyword score against the title score in a post's relevance.
    pub keyword_weight: f64,
    /// Net distinct keywords (positives minus negatives) that make a full keyword score of 1.
    pub keyword_saturation: f64,
    /// The keyword score a post whose title scores exactly 0 needs to match at all.
    pub keyword_rescue: f64,
    /// Rank-weight distance at which the seniority fit reaches 0.
    pub seniority_span: f64,
    /// Shortfall below the salary target, as a fraction of it, at which the salary fit reaches 0.
    pub salary_tolerance: f64,
    /// The recency factor of a post `age_weeks` old (1 for this week's posts, linear between).
    pub recency_floor: f64,
    /// Default `match_score_min` of tracks that do not set one (the original's 0.5).
    pub match_score_min: f64,
    /// Default `age_weeks` of tracks that do not set one.
    pub age_weeks: u32,
}

impl Default for ScoringConfig {
    fn default() -> Self {
        ScoringConfig {
            keyword_weight: 1.0,
            keyword_saturation: 4.0,
            keyword_rescue: 0.75,
            seniority_span: 1.5,
            salary_tolerance: 0.5,
            recency_floor: 0.5,
            match_score_min: 0.5,
            age_weeks: 4,
        }
    }
}

/// The `match.*` parameters by name, with the range each accepts (checked by validation).
pub(crate) const PARAMETERS: [(&str, Range); 8] = [
    ("keyword_weight", Range::NonNegative),
    ("keyword_saturation", Range::Positive),
    ("keyword_rescue", Range::NonNegative),
    ("seniority_span", Range::Positive),
    ("salary_tolerance", Range::Fraction),
    ("recency_floor", Range::UnitInterval),
    ("match_score_min", Range::NonNegative),
    ("age_weeks", Range::Count),
];

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Range {
    NonNegative,
    Positive,
    /// (0, 1]
    Fraction,
    /// [0, 1]
    UnitInterval,
    /// A whole number ≥ 0.
    Count,
}

impl Range {
    pub(crate) fn accepts(self, v: f64) -> bool {
        v.is_finite()
            && match self {
                Range::NonNegative => v >= 0.0,
                Range::Positive => v > 0.0,
                Range::Fraction => v > 0.0 && v <= 1.0,
                Range::UnitInterval => (0.0..=1.0).contains(&v),
                Range::Count => v >= 0.0 && v.fract() == 0.0 && v <= f64::from(u32::MAX),
            }
    }

    pub(crate) fn describe(self) -> &'static str {
        match self {
            Range::NonNegative => "a number ≥ 0",
            Range::Positive => "a number > 0",
            Range::Fraction => "a number in (0, 1]",
            Range::UnitInterval => "a number in [0, 1]",
            Range::Count => "a whole number ≥ 0",
        }
    }
}

impl ScoringConfig {
    /// Sets a parameter known to be valid (validation checked name and range).
    pub(crate) fn set(&mut self, name: &str, v: f64) {
        match name {
            "keyword_weight" => self.keyword_weight = v,
            "keyword_saturation" => self.keyword_saturation = v,
            "keyword_rescue" => self.keyword_rescue = v,
            "seniority_span" => self.seniority_span = v,
            "salary_tolerance" => self.salary_tolerance = v,
            "recency_floor" => self.recency_floor = v,
            "match_score_min" => self.match_score_min = v,
            // Range::Count: a whole number within u32.
            "age_weeks" => self.age_weeks = v as u32,
            _ => {}
        }
    }
}
