//! Properties of cleaning and scoring over generated titles and descriptions.

mod common;

use std::sync::OnceLock;

use jobmatch::{CompiledLibrary, KeywordTag, Library, PostScores, TitleTag, Track};
use mcfcore::Post;
use proptest::prelude::*;

fn starter() -> &'static CompiledLibrary {
    static LIB: OnceLock<CompiledLibrary> = OnceLock::new();
    LIB.get_or_init(common::starter)
}

/// Every word of the starter library's tags (symbol words like `c++` and `.net` included).
fn library_words() -> Vec<String> {
    let lib = common::starter_library();
    let tags = lib
        .title_tags
        .iter()
        .map(|t| t.tag.clone())
        .chain(lib.keyword_tags.iter().map(|t| t.tag.clone()))
        .chain(lib.rank_tags.iter().map(|t| t.tag.clone()))
        .chain(lib.junk_tags.iter().map(|t| t.tag.clone()))
        .chain(["it", "the", "of", "and"].map(String::from));
    let mut words: Vec<String> = tags
        .flat_map(|t| t.split_whitespace().map(String::from).collect::<Vec<_>>())
        .collect();
    words.sort();
    words.dedup();
    words
}

/// A word of the library or a random lowercase word.
fn word() -> impl Strategy<Value = String> {
    prop_oneof![3 => prop::sample::select(library_words()), 1 => "[a-z]{1,8}"]
}

/// Separators that hold no character of a symbol word of the starter library (`+ . # / -`)
/// and no `&` (which the cleaning reads as a word).
fn separator() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        " ", ", ", "; ", " | ", " (", ") ", "! ", ": ", "  ", "\t", "\n", " _ ", "?", "... ",
    ])
}

/// `words` joined with the given separators and each ASCII letter's case flipped as told.
fn dress(words: &[String], seps: &[&str], flips: &[bool]) -> String {
    let mut text = String::new();
    for (i, w) in words.iter().enumerate() {
        if i > 0 {
            text.push_str(seps.get(i % seps.len().max(1)).copied().unwrap_or(" "));
        }
        text.push_str(w);
    }
    text.chars()
        .enumerate()
        .map(|(i, c)| {
            if flips.get(i % flips.len().max(1)).copied().unwrap_or(false) {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect()
}

fn post(title: &str, description: &str) -> Post {
    let mut p = common::post(title);
    p.description = Some(description.to_string());
    p.posted_date = Some("2025-05-13".into());
    p.salary_min = Some(5000);
    p.salary_max = Some(8000);
    p
}

fn score(p: &Post) -> PostScores {
    starter().score(p, common::today())
}

/// A library whose tags are full of regex metacharacters.
const META: [&str; 8] = ["c++", ".net", "a.b", "(x)", "[y]", "*", "c#", "node.js"];

fn meta_library() -> &'static CompiledLibrary {
    static LIB: OnceLock<CompiledLibrary> = OnceLock::new();
    LIB.get_or_init(|| {
        let library = Library {
            title_tags: META
                .iter()
                .map(|m| TitleTag {
                    tag: format!("{m} developer"),
                    industry: None,
                    count: None,
                    score: 1.0,
                    track: None,
                })
                .collect(),
            keyword_tags: META
                .iter()
                .map(|m| KeywordTag {
                    group: "meta".into(),
                    tag: m.to_string(),
                    score: 1.0,
                })
                .collect(),
            tracks: vec![Track {
                id: "t".into(),
                name: "t".into(),
                role: None,
                keyword_groups: vec!["meta".into()],
                seniority: None,
                salary_target: None,
                match_score_min: None,
                age_weeks: None,
                cv_version: Some("1".into()),
            }],
            ..Library::default()
        };
        CompiledLibrary::compile(&library)
            .map(|c| c.library)
            .unwrap_or_else(|e| panic!("{e}"))
    })
}

/// Words over the metacharacters' alphabet that hold none of the tags (so none can match).
fn near_miss() -> impl Strategy<Value = String> {
    "[a-z+.#()\\[\\]*]{1,6}".prop_filter("holds a tag", |w| !META.iter().any(|m| w.contains(m)))
}

/// A tag glued to more of a word, so that it is not a whole word: a letter or digit on either
/// side, or its own edge symbol repeated (`c+++`, `**`, `..net`, `(x))`).
fn glued() -> impl Strategy<Value = String> {
    (prop::sample::select(META.to_vec()), 0..6usize).prop_map(|(tag, how)| {
        let first = tag.chars().next().unwrap_or('a');
        let last = tag.chars().next_back().unwrap_or('a');
        match how {
            0 => format!("a{tag}"),
            1 => format!("{tag}b"),
            2 => format!("7{tag}"),
            3 => format!("{tag}7"),
            4 if !first.is_alphanumeric() => format!("{first}{tag}"),
            _ if !last.is_alphanumeric() => format!("{tag}{last}"),
            _ => format!("x{tag}x"),
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn case_and_punctuation_do_not_change_a_score(
        title in prop::collection::vec(word(), 0..10),
        description in prop::collection::vec(word(), 0..60),
        seps in prop::collection::vec(separator(), 1..6),
        flips in prop::collection::vec(any::<bool>(), 1..9),
    ) {
        let plain = post(&title.join(" "), &description.join(" "));
        let dressed = post(&dress(&title, &seps, &flips), &dress(&description, &seps, &flips));
        prop_assert_eq!(score(&dressed), score(&plain));
    }

    #[test]
    fn cleaning_is_idempotent(
        words in prop::collection::vec(word(), 0..12),
        // Few words, many of them junk, parts of a junk phrase or rank words: removing one
        // often joins others into a phrase (`asia singapore pacific`).
        junkish in prop::collection::vec(
            prop::sample::select(vec!["asia", "pacific", "singapore", "contract", "senior", "data", "engineer", "head"]),
            0..12,
        ),
        seps in prop::collection::vec(separator(), 1..4),
        noise in "\\PC{0,40}",
    ) {
        let lib = starter();
        let junkish = junkish.join(" ");
        for title in [dress(&words, &seps, &[false]), junkish, noise.clone(), format!("{noise} {}", words.join(" "))] {
            let once = lib.clean_title(&title);
            let twice = lib.clean_title(&once.clean);
            prop_assert_eq!(&twice.clean, &once.clean, "{:?}", title);
            prop_assert_eq!(&twice.deranked, &once.deranked, "{:?}", title);
            prop_assert_eq!(&lib.clean_title(&once.deranked).clean, &lib.clean_title(&once.deranked).deranked);
        }
    }

    #[test]
    fn a_tag_with_regex_metacharacters_matches_only_itself(
        words in prop::collection::vec(prop_oneof![near_miss(), glued()], 0..12),
        tag in prop::sample::select(META.to_vec()),
        at in any::<prop::sample::Index>(),
    ) {
        let lib = meta_library();
        let score = |title: &str, description: &str| {
            let mut s = lib.score(&post(title, description), common::today());
            s.tracks.remove(0)
        };
        // No tag stands as a whole word in the text: nothing matches, whatever a regex (or
        // a substring search) would have said.
        let text = words.join(" ");
        let s = score(&format!("{text} developer"), &text);
        prop_assert!(s.reasons.keywords.is_empty() && s.reasons.title.is_empty(), "{:?}", s.reasons);
        // The tag as a word: it matches, alone.
        let mut with = words.clone();
        with.insert(at.index(words.len() + 1), tag.to_string());
        let text = with.join(" ");
        let s = score(&format!("{text} developer {tag} developer"), &text);
        let keywords: Vec<&str> = s.reasons.keywords.iter().map(|k| k.keyword.as_str()).collect();
        prop_assert_eq!(keywords, vec![tag]);
        let titles: Vec<String> = s.reasons.title.iter().map(|k| k.tag.clone()).collect();
        prop_assert_eq!(titles, vec![format!("{tag} developer")]);
    }

    #[test]
    fn arbitrary_text_never_panics_and_scores_stay_in_range(
        title in any::<String>(),
        description in any::<String>(),
        skills in prop::collection::vec(any::<String>(), 0..4),
        posted in prop::option::of("\\PC{0,12}"),
        salary in prop::option::of((any::<u32>(), any::<u32>())),
        salary_type in prop::option::of("\\PC{0,10}"),
    ) {
        let mut p = post(&title, &description);
        p.skills = skills;
        p.posted_date = posted;
        p.salary_min = salary.map(|s| s.0);
        p.salary_max = salary.map(|s| s.1);
        p.salary_type = salary_type;
        let scores = score(&p);
        for s in &scores.tracks {
            prop_assert!(s.total.is_finite() && s.total >= 0.0, "{:?}", s);
            prop_assert!((-1.0..=1.0).contains(&s.keyword_score));
            for fit in [s.seniority_fit, s.salary_fit, s.recency] {
                prop_assert!((0.0..=1.0).contains(&fit), "{:?}", s);
            }
        }
        let lib = starter();
        let track = &lib.tracks()[0];
        let _ = jobmatch::screen(&p, &scores.tracks[0], track, common::today(), None);
    }

    #[test]
    fn a_post_scores_the_same_alone_or_among_others(
        posts in prop::collection::vec(
            (prop::collection::vec(word(), 0..8), prop::collection::vec(word(), 0..40)),
            1..8,
        ),
    ) {
        let posts: Vec<Post> = posts.iter().map(|(t, d)| post(&t.join(" "), &d.join(" "))).collect();
        let alone: Vec<PostScores> = posts.iter().map(|p| starter().score(p, common::today())).collect();
        let mut scorer = starter().scorer();
        let together: Vec<PostScores> = posts.iter().map(|p| scorer.score(p, common::today())).collect();
        prop_assert_eq!(&together, &alone);
        let mut reversed: Vec<PostScores> = posts.iter().rev().map(|p| scorer.score(p, common::today())).collect();
        reversed.reverse();
        prop_assert_eq!(&reversed, &alone);
    }
}
