//! Worked examples on the original's own library rows (ORIGINAL.md), computed by hand from the
//! formulas in `jobmatch::score`'s doc.

mod common;

use jobmatch::{
    CompiledLibrary, ConfigRow, ConfigValue, Day, KeywordTag, Library, RankTag, SalaryNote, Seniority, Tag, TitleTag,
    Track, TrackScore,
};

/// The original's example rows: title tags, rank tags, junk and keep tags, the data engineer
/// keyword group; one track aiming at `senior`.
fn original() -> Library {
    let title = |tag: &str, industry: &str, score: f64| TitleTag {
        tag: tag.into(),
        industry: Some(industry.into()),
        count: None,
        score,
        track: None,
    };
    let rank = |tag: &str, weight: f64| RankTag {
        tag: tag.into(),
        weight,
    };
    let tag = |t: &str| Tag { tag: t.into() };
    let keyword = |tag: &str, score: f64| KeywordTag {
        group: "data engineer".into(),
        tag: tag.into(),
        score,
    };
    Library {
        title_tags: vec![
            title("software engineer", "IT", 1.0),
            title("java developer", "IT", -1.0),
            title("business development", "Consulting", -1.0),
        ],
        rank_tags: vec![
            rank("assistant", -0.23),
            rank("junior", 0.07),
            rank("senior", 0.22),
            rank("lead", 0.66),
            rank("head", 0.96),
            rank("director", 1.08),
            rank("chief", 2.30),
            rank("vp", 3.00),
        ],
        junk_tags: [
            "singapore",
            "apac",
            "asia pacific",
            "sgunitedjobs",
            "contract",
            "years",
            "bonus",
        ]
        .map(tag)
        .to_vec(),
        keep_tags: vec![tag("it")],
        keyword_tags: vec![
            keyword("sql", 1.0),
            keyword("etl", 1.0),
            keyword("kafka", 0.0),
            keyword("spark", -1.0),
        ],
        tracks: vec![Track {
            id: "data".into(),
            name: "Data".into(),
            role: Some("data engineer".into()),
            keyword_groups: vec!["data engineer".into()],
            seniority: Some(Seniority::Tag("senior".into())),
            salary_target: None,
            match_score_min: None,
            age_weeks: None,
            cv_version: Some("11.4".into()),
        }],
        config: vec![ConfigRow {
            group: "match".into(),
            parameter: "match_score_min".into(),
            value: ConfigValue::Number(0.5),
        }],
    }
}

fn compile(library: &Library) -> CompiledLibrary {
    match CompiledLibrary::compile(library) {
        Ok(c) => {
            assert!(c.warnings.is_empty(), "{:?}", c.warnings);
            c.library
        }
        Err(e) => panic!("{e}"),
    }
}

fn monday() -> Day {
    Day::parse("2025-05-19").expect("a date")
}

fn score(lib: &CompiledLibrary, post: &mcfcore::Post) -> TrackScore {
    lib.score(post, monday()).tracks.remove(0)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn titles_are_cleaned_in_the_original_order() {
    let lib = compile(&original());
    let t = lib.clean_title("Senior Software Engineer (Contract), Singapore");
    assert_eq!(
        (t.clean.as_str(), t.deranked.as_str()),
        ("senior software engineer", "software engineer")
    );
    // Stop words go (`of`), junk phrases as phrases (`asia pacific`), `it` is kept.
    let t = lib.clean_title("Head of IT Business Development, Asia Pacific");
    assert_eq!(t.clean, "head it business development");
    assert_eq!(t.deranked, "it business development");
    // The entity debris: `R&amp;D` is `rd`, a lone `&` is `and`, a stop word.
    let t = lib.clean_title("R&amp;D Software Engineer & Lead");
    assert_eq!(
        (t.clean.as_str(), t.deranked.as_str()),
        ("rd software engineer lead", "rd software engineer")
    );
    // Removing a junk word joins a junk phrase: it goes too.
    assert_eq!(lib.clean_title("Asia Singapore Pacific Engineer").clean, "engineer");
    // Cleaning a clean title changes nothing.
    assert_eq!(lib.clean_title(&t.clean).clean, t.clean);
}

#[test]
fn a_senior_software_engineer_with_data_keywords() {
    let lib = compile(&original());
    let mut post = common::post("Senior Software Engineer (Contract), Singapore");
    post.description = Some("We use SQL and ETL daily. Kafka is a plus; Spark, SQL and more SQL.".into());
    post.posted_date = Some("2025-05-20".into());
    let s = score(&lib, &post);
    // title: `software engineer` once, +1. Keywords, each once: sql 1 + etl 1 + kafka 0 + spark
    // −1 = 1, ÷ saturation 4 = 0.25. Rank: senior 0.22 = the track's seniority: fit 1. No salary
    // target: 1. Posted this week: recency 1. Total (1 + 1 × 0.25) × 1 × 1 × 1 = 1.25.
    assert_eq!(s.title_score, 1.0);
    assert!(close(s.keyword_score, 0.25), "{s:?}");
    assert!(
        close(s.seniority_fit, 1.0) && s.salary_fit == 1.0 && s.recency == 1.0,
        "{s:?}"
    );
    assert!(close(s.total, 1.25), "{s:?}");
    assert_eq!(
        s.reasons.summary,
        "software engineer +1, senior +0.22, keywords: sql, etl, against: spark"
    );
    assert_eq!(s.reasons.salary, SalaryNote::NoTarget);
    let keywords: Vec<(&str, f64)> = s
        .reasons
        .keywords
        .iter()
        .map(|k| (k.keyword.as_str(), k.score))
        .collect();
    assert_eq!(
        keywords,
        [("sql", 1.0), ("etl", 1.0), ("spark", -1.0)],
        "kafka scores 0: not a reason"
    );
}

#[test]
fn a_negative_title_never_matches_whatever_the_keywords() {
    let lib = compile(&original());
    let mut post = common::post("Java Developer - APAC");
    post.description = Some("SQL, ETL".into());
    let s = score(&lib, &post);
    assert_eq!((s.title_score, s.total), (-1.0, 0.0));
    assert_eq!(s.reasons.no_match.as_deref(), Some("the title scores -1"));
    assert!(
        s.reasons
            .summary
            .starts_with("no match: the title scores -1; java developer -1"),
        "{}",
        s.reasons.summary
    );

    let s = score(&lib, &common::post("Head of Business Development, Asia Pacific"));
    assert_eq!((s.title_score, s.total), (-1.0, 0.0));
    assert_eq!(s.reasons.rank[0].tag, "head");
}

#[test]
fn each_occurrence_of_a_bigram_counts() {
    let lib = compile(&original());
    let s = score(&lib, &common::post("IT Software Engineer / Software Engineer"));
    // it software, software engineer, engineer software, software engineer: 2 × 1.
    assert_eq!(s.title_score, 2.0);
    assert_eq!(s.reasons.title[0].count, 2);
    // Per occurrence, then how often.
    assert_eq!(s.reasons.summary, "software engineer +1 ×2");
}

#[test]
fn seniority_is_the_sum_of_the_title_rank_weights_against_the_track() {
    let lib = compile(&original());
    let s = score(&lib, &common::post("Assistant Director, Software Engineer"));
    // −0.23 + 1.08 = 0.85 against senior 0.22: 1 − 0.63 / 1.5 = 0.58.
    assert!(close(s.seniority_fit, 0.58), "{s:?}");
    assert!(close(s.total, 0.58), "{s:?}");
    // A chief (2.30) is 2.08 away: past the span, fit 0, total 0 though the title matches.
    let s = score(&lib, &common::post("Chief Software Engineer"));
    assert_eq!((s.title_score, s.seniority_fit, s.total), (1.0, 0.0, 0.0));
    assert_eq!(s.reasons.no_match, None, "it matches; it is the wrong level");
    // No rank word: rank 0, 0.22 away.
    let s = score(&lib, &common::post("Software Engineer"));
    assert!(close(s.seniority_fit, 1.0 - 0.22 / 1.5), "{s:?}");
}

#[test]
fn salary_fit_against_the_target_and_neutral_when_unknown() {
    let mut library = original();
    library.tracks[0].salary_target = Some(8000.0);
    let lib = compile(&library);
    let mut post = common::post("Senior Software Engineer");
    let fit = |p: &mcfcore::Post| {
        let s = score(&lib, p);
        (s.salary_fit, s.reasons.salary)
    };
    // No salary: neutral.
    assert_eq!(fit(&post), (1.0, SalaryNote::Unknown));
    // 5,000–6,000 against 8,000, tolerance 0.5: 1 − 2,000 / 4,000 = 0.5.
    post.salary_min = Some(5000);
    post.salary_max = Some(6000);
    assert_eq!(
        fit(&post),
        (
            0.5,
            SalaryNote::Below {
                monthly_max: 6000.0,
                target: 8000.0
            }
        )
    );
    assert!(
        score(&lib, &post)
            .reasons
            .summary
            .ends_with("; salary below target (6000 < 8000)")
    );
    // A range reaching the target fits; 96,000 a year is 8,000 a month.
    post.salary_max = Some(9000);
    assert_eq!(fit(&post).0, 1.0);
    post.salary_type = Some("Annually".into());
    post.salary_min = Some(60_000);
    post.salary_max = Some(96_000);
    assert_eq!(
        fit(&post),
        (
            1.0,
            SalaryNote::Fits {
                monthly_max: 8000.0,
                target: 8000.0
            }
        )
    );
    // Hourly pay is not compared with a monthly target: neutral.
    post.salary_type = Some("Hourly".into());
    assert_eq!(fit(&post).0, 1.0);
    // 2,000 or less: 0.
    post.salary_type = None;
    post.salary_min = Some(1000);
    post.salary_max = Some(2000);
    assert_eq!(fit(&post).0, 0.0);
}

#[test]
fn recency_falls_to_the_floor_at_age_weeks() {
    let lib = compile(&original());
    let mut post = common::post("Senior Software Engineer");
    for (posted, weeks, recency) in [
        ("2025-05-25", 0, 1.0),
        ("2025-05-18", 1, 0.875),
        ("2025-04-28", 3, 0.625),
        ("2025-04-21", 4, 0.5),
        ("2025-01-01", 20, 0.5),
        ("2025-06-09", -3, 1.0),
    ] {
        post.posted_date = Some(posted.into());
        let scores = lib.score(&post, monday());
        assert_eq!(scores.weeks, Some(weeks), "{posted}");
        assert!(
            close(scores.tracks[0].recency, recency),
            "{posted}: {}",
            scores.tracks[0].recency
        );
    }
}

#[test]
fn a_neutral_title_is_rescued_only_by_strong_keywords() {
    let mut post = common::post("Consultant");
    post.description = Some("SQL and ETL".into());
    // Two keywords of saturation 4: 0.5 < 0.75.
    let s = score(&compile(&original()), &post);
    assert_eq!((s.title_score, s.keyword_score, s.total), (0.0, 0.5, 0.0));
    assert_eq!(
        s.reasons.no_match.as_deref(),
        Some("no title tag, and keywords 0.5 < 0.75 to match on keywords alone")
    );
    // Saturation 2: the same two keywords make 1, enough: total 1 × seniority (0.853...).
    let mut library = original();
    library.config.push(ConfigRow {
        group: "match".into(),
        parameter: "keyword_saturation".into(),
        value: ConfigValue::Text("2".into()),
    });
    let s = score(&compile(&library), &post);
    assert_eq!(s.keyword_score, 1.0);
    assert!(close(s.total, 1.0 - 0.22 / 1.5), "{s:?}");
    // Keywords against the post outweigh a weak title: no match.
    let mut library = original();
    library.title_tags[0].score = 0.2;
    let mut post = common::post("Software Engineer");
    post.description = Some("Spark".into());
    let s = score(&compile(&library), &post);
    assert_eq!((s.keyword_score, s.total), (-0.25, 0.0));
    assert_eq!(
        s.reasons.no_match.as_deref(),
        Some("keywords -0.25 outweigh the title's 0.2")
    );
}

#[test]
fn a_track_own_title_row_wins_over_the_row_for_every_track() {
    let mut library = original();
    let mut software = library.tracks[0].clone();
    software.id = "software".into();
    library.tracks.push(software);
    library.title_tags.push(TitleTag {
        tag: "Java Developer".into(),
        industry: None,
        count: None,
        score: 1.0,
        track: Some("software".into()),
    });
    let lib = compile(&library);
    let scores = lib.score(&common::post("Java Developer"), monday());
    assert_eq!(scores.track("data").map(|s| s.title_score), Some(-1.0));
    assert_eq!(scores.track("software").map(|s| s.title_score), Some(1.0));
}
