//! `jobmatch`: the recommender's pure core. It scores MyCareersFuture posts against the user's
//! tracks with the user's library of tags, says why, and decides what enters the CRM.
//!
//! - [`Library`] holds the tables as rows (serde: YAML files, CSV or sheet tabs map onto them);
//!   [`validate()`] lists every problem with its table, row and column.
//! - [`CompiledLibrary::compile`] turns a valid library into the matcher once; a [`Scorer`]
//!   then scores posts ([`PostScores`]: per track a [`TrackScore`] with its [`Reasons`]).
//! - [`screen()`] decides, for one (post, track) and the CRM item if any, whether to put the post
//!   in the CRM as `SCREENED`, refresh an item's scores, leave the user's stage alone, or skip.
//!
//! It is not for I/O: it reads no file, table or sheet, and writes no item. The Lambda shell
//! loads the library and posts, stores the scores and items; config sync loads the tables.
//!
//! **Cleaning** follows the original (`match.py`, see `text` and `clean`): letters only,
//! lowercase, its entity debris rule, NLTK's English stop words except the keep tags, junk
//! tags out (the clean title), rank tags out (the deranked title), all as whole words; it is
//! idempotent. One change: tags are literal. A tag word with anything but letters in it
//! (`c++`, `.net`, `node.js`, `c#`, `ci/cd`) is kept whole where the text holds it as a whole
//! word, where the original reduced it to letters and matched tags as unescaped regexes. No
//! tag is ever a pattern.
//!
//! **No batch statistics.** The original fitted scikit-learn's `CountVectorizer(min_df=5)` per
//! batch of 500 titles, so a bigram counted only when five titles of the same batch had it, and
//! a post's score depended on which posts were scraped with it. That rule is dropped: a post's
//! score depends on the post, the library and the day only, so a rescore gives the same
//! answer, a post scored alone scores as in a batch, and the reasons hold for that post.
//!
//! The formulas are in [`score`]'s doc, the screener's rules in [`screen`](mod@screen)'s, the
//! validation rules in [`validate`](mod@validate)'s.

mod clean;
mod compile;
mod day;
pub mod library;
pub mod score;
pub mod screen;
pub mod stopwords;
mod text;
pub mod validate;

pub use compile::{CleanTitle, Compiled, CompiledLibrary, CompiledTrack, Invalid};
pub use day::Day;
pub use library::{
    ConfigRow, ConfigValue, KeywordTag, Library, RankTag, ScoringConfig, Seniority, Tag, TitleTag, Track,
};
pub use score::{Counted, KeywordHit, PostScores, PostView, Reasons, SalaryNote, Scorer, TrackScore};
pub use screen::{Decision, SkipReason, Stage, screen};
pub use validate::{Problem, Severity, Table, validate};
