//! The bad input: odd posts get a clear result, odd libraries a located problem; never
//! a panic.

mod common;

use jobmatch::{
    CompiledLibrary, ConfigRow, ConfigValue, KeywordTag, Library, Problem, RankTag, Seniority, Severity, Table, Tag,
    TitleTag, Track, validate,
};

fn title(tag: &str, score: f64, track: Option<&str>) -> TitleTag {
    TitleTag {
        tag: tag.into(),
        industry: None,
        count: None,
        score,
        track: track.map(Into::into),
    }
}

fn keyword(group: &str, tag: &str, score: f64) -> KeywordTag {
    KeywordTag {
        group: group.into(),
        tag: tag.into(),
        score,
    }
}

fn track(id: &str, groups: &[&str]) -> Track {
    Track {
        id: id.into(),
        name: id.into(),
        role: None,
        keyword_groups: groups.iter().map(|g| g.to_string()).collect(),
        seniority: None,
        salary_target: None,
        match_score_min: None,
        age_weeks: None,
        cv_version: Some("1".into()),
    }
}

/// (severity, table, row, column) of each problem, and the messages.
fn located(problems: &[Problem]) -> Vec<(Severity, Table, usize, &'static str)> {
    problems
        .iter()
        .map(|p| (p.severity, p.table, p.row, p.column))
        .collect()
}

fn message(problems: &[Problem], table: Table, row: usize) -> &str {
    problems
        .iter()
        .find(|p| p.table == table && p.row == row)
        .map_or("", |p| p.message.as_str())
}

#[test]
fn duplicate_tags_are_warnings_when_they_agree_and_errors_when_they_conflict() {
    let library = Library {
        title_tags: vec![
            title("data engineer", 1.0, None),
            title("Data  Engineer", 1.0, None),
            title("DATA engineer", 0.5, None),
            title("data engineer!", 1.0, None),
            title("data engineer", 0.5, Some("data")),
        ],
        keyword_tags: vec![
            keyword("g", "sql", 1.0),
            keyword("g", "SQL", 1.0),
            keyword("g", "sql", -1.0),
        ],
        tracks: vec![track("data", &["g"])],
        ..Library::default()
    };
    let problems = validate(&library);
    assert_eq!(
        located(&problems),
        [
            (Severity::Warning, Table::TitleTags, 1, "tag"),
            (Severity::Error, Table::TitleTags, 2, "score"),
            (Severity::Warning, Table::TitleTags, 3, "tag"),
            (Severity::Warning, Table::KeywordTags, 1, "tag"),
            (Severity::Error, Table::KeywordTags, 2, "score"),
        ],
        "{problems:#?}"
    );
    assert_eq!(
        message(&problems, Table::TitleTags, 2),
        "`data engineer` for every track is 0.5 here and 1 in row 0: keep one"
    );
    // A plain word with sentence punctuation is literal: a different tag, and a warning says so.
    assert_eq!(
        message(&problems, Table::TitleTags, 3),
        "`engineer!` is matched literally, punctuation included: `engineer` alone does not match it"
    );
    // A track's own row is not a duplicate of the row for every track.
    assert!(problems.iter().all(|p| p.row != 4 || p.table != Table::TitleTags));
    let err = CompiledLibrary::compile(&library).expect_err("conflicts refuse the library");
    assert_eq!(err.errors().count(), 2);
    assert!(
        err.to_string()
            .contains("error: keyword_tags[2].score: `sql` in group `g` is -1 here and 1 in row 0: keep one"),
        "{err}"
    );
}

#[test]
fn a_keyword_in_two_groups_of_one_track_with_different_scores_is_an_error() {
    let library = Library {
        keyword_tags: vec![keyword("a", "spark", -1.0), keyword("b", "spark", 1.0)],
        tracks: vec![track("data", &["a", "b"]), track("other", &["b"])],
        ..Library::default()
    };
    let problems = validate(&library);
    assert_eq!(located(&problems), [(Severity::Error, Table::KeywordTags, 1, "score")]);
    assert_eq!(
        problems[0].message,
        "`spark` is 1 in group `b` and -1 in group `a` (row 0), both used by track `data`: keep one"
    );
}

#[test]
fn tags_that_can_never_match_are_errors_that_say_why() {
    let library = Library {
        title_tags: vec![
            title("", 1.0, None),
            title("the and of", 1.0, None),
            title("senior engineer", 1.0, None),
            title("engineer singapore", 1.0, None),
            title("data", 1.0, None),
            title("big data engineer", 1.0, None),
            title("c++ developer", f64::NAN, Some("nope")),
        ],
        rank_tags: vec![
            RankTag {
                tag: "senior".into(),
                weight: 0.2,
            },
            RankTag {
                tag: "Singapore".into(),
                weight: 0.1,
            },
            RankTag {
                tag: "from".into(),
                weight: 0.1,
            },
        ],
        junk_tags: vec![
            Tag {
                tag: "singapore".into(),
            },
            Tag { tag: "to be".into() },
        ],
        keep_tags: vec![
            Tag { tag: "it".into() },
            Tag { tag: "data".into() },
            Tag { tag: "it is".into() },
        ],
        keyword_tags: vec![
            keyword("g", "sql", 2.0),
            keyword("g", "of the", 1.0),
            keyword("", "etl", 1.0),
        ],
        tracks: vec![track("data", &["g", "missing"])],
        config: vec![],
    };
    let problems = validate(&library);
    let at = |t: Table, r: usize| message(&problems, t, r).to_string();
    assert_eq!(at(Table::TitleTags, 0), "the tag is empty");
    assert_eq!(
        at(Table::TitleTags, 1),
        "`the and of` is only stop words (the, and, of): cleaning removes them from every text, so it can never match"
    );
    assert_eq!(
        at(Table::TitleTags, 2),
        "`senior engineer` holds the rank tag `senior`, removed from titles before bigrams are scored: this tag can never match"
    );
    assert!(at(Table::TitleTags, 3).contains("holds the junk tag `singapore`"));
    assert_eq!(
        at(Table::TitleTags, 4),
        "title tags are bigrams, two words after cleaning: `data` is 1 word (data)"
    );
    assert!(at(Table::TitleTags, 5).contains("is 3 words (big data engineer)"));
    let row6: Vec<_> = problems
        .iter()
        .filter(|p| p.table == Table::TitleTags && p.row == 6)
        .map(|p| p.column)
        .collect();
    assert_eq!(row6, ["score", "track"]);
    assert!(at(Table::RankTags, 1).contains("junk tag"), "{problems:#?}");
    assert!(at(Table::RankTags, 2).contains("only stop words"));
    assert!(at(Table::JunkTags, 1).contains("only stop words (to, be)"));
    assert_eq!(
        at(Table::KeepTags, 1),
        "`data` is not a stop word: keeping it changes nothing"
    );
    assert!(at(Table::KeepTags, 2).starts_with("keep tags are single words"));
    assert_eq!(at(Table::KeywordTags, 0), "keyword scores are -1, 0 or 1, not 2");
    assert!(at(Table::KeywordTags, 1).contains("only stop words"));
    assert_eq!(at(Table::KeywordTags, 2), "the group is empty");
    assert_eq!(at(Table::Tracks, 0), "no keyword tag has group `missing`");
    let warnings: Vec<_> = problems
        .iter()
        .filter(|p| p.severity == Severity::Warning)
        .map(|p| (p.table, p.row))
        .collect();
    assert_eq!(warnings, [(Table::KeepTags, 1)]);
}

#[test]
fn tracks_and_config_are_checked_cell_by_cell() {
    let mut bad = track("data", &[]);
    bad.seniority = Some(Seniority::Tag("wizard".into()));
    bad.salary_target = Some(0.0);
    bad.match_score_min = Some(-1.0);
    bad.cv_version = None;
    let mut twin = track("data", &[]);
    twin.name = " ".into();
    twin.seniority = Some(Seniority::Weight(f64::INFINITY));
    let number = |parameter: &str, v: f64| ConfigRow {
        group: "match".into(),
        parameter: parameter.into(),
        value: ConfigValue::Number(v),
    };
    let library = Library {
        tracks: vec![bad, twin],
        config: vec![
            number("keyword_weight", 2.0),
            number("keyword_wieght", 1.0),
            number("recency_floor", 1.5),
            ConfigRow {
                group: "match".into(),
                parameter: "age_weeks".into(),
                value: ConfigValue::Text("four".into()),
            },
            number("age_weeks", 2.5),
            number("keyword_weight", 3.0),
            number("salary_min", -5.0),
            ConfigRow {
                group: "search".into(),
                parameter: "salary_min".into(),
                value: ConfigValue::Number(6000.0),
            },
        ],
        ..Library::default()
    };
    let problems = validate(&library);
    let got: Vec<_> = problems
        .iter()
        .map(|p| (p.severity, p.table, p.row, p.column))
        .collect();
    use Severity::*;
    use Table::*;
    assert_eq!(
        got,
        [
            (Warning, Tracks, 0, "keyword_groups"),
            (Error, Tracks, 0, "seniority"),
            (Error, Tracks, 0, "salary_target"),
            (Error, Tracks, 0, "match_score_min"),
            (Warning, Tracks, 0, "cv_version"),
            (Error, Tracks, 1, "id"),
            (Warning, Tracks, 1, "name"),
            (Warning, Tracks, 1, "keyword_groups"),
            (Error, Tracks, 1, "seniority"),
            (Error, Config, 1, "parameter"),
            (Error, Config, 2, "value"),
            (Error, Config, 3, "value"),
            (Error, Config, 4, "value"),
            (Error, Config, 5, "value"),
            (Error, Config, 6, "parameter"),
        ],
        "{problems:#?}"
    );
    assert_eq!(message(&problems, Tracks, 1), "track `data` is also row 0");
    assert!(
        message(&problems, Config, 1).starts_with("unknown match parameter `keyword_wieght` (known: keyword_weight,")
    );
    assert_eq!(
        message(&problems, Config, 2),
        "`recency_floor` must be a number in [0, 1], not 1.5"
    );
    assert_eq!(
        message(&problems, Config, 4),
        "`age_weeks` must be a whole number ≥ 0, not 2.5"
    );
    assert_eq!(
        problems[0].to_string(),
        "warning: tracks[0].keyword_groups: no keyword groups: descriptions are not scored for this track"
    );
}

#[test]
fn odd_titles_get_a_clear_zero() {
    let lib = common::starter();
    let today = common::today();
    for (title, why) in [
        ("", "the title has no words left after cleaning"),
        ("   (12 months) — $8k!!", "the title has no words left after cleaning"),
        ("The And Of", "the title has no words left after cleaning"),
        ("高级数据工程师", "no title tag"),
        ("மூத்த தரவு பொறியாளர்", "no title tag"),
    ] {
        let scores = lib.score(&common::post(title), today);
        for s in &scores.tracks {
            assert_eq!(s.total, 0.0, "{title:?}");
            let no_match = s.reasons.no_match.as_deref().unwrap_or_default();
            assert!(no_match.starts_with(why), "{title:?}: {no_match}");
        }
    }
}

#[test]
fn a_one_megabyte_description_cannot_outweigh_the_title() {
    let lib = common::starter();
    let today = common::today();
    let mut post = common::post("Data Engineer");
    post.description = Some("We use SQL, ETL, Airflow and dbt.".into());
    let short = lib.score(&post, today);
    // The same keywords a hundred thousand times, with noise: ~1 MB.
    let unit = "SQL etl AIRFLOW dbt, lorem ipsum\n";
    let long = unit.repeat(1_000_000 / unit.len() + 1);
    assert!(long.len() >= 1_000_000);
    post.description = Some(long);
    let big = lib.score(&post, today);
    assert_eq!(big, short, "keywords count once: length changes nothing");
    let data = big.track("data").expect("data track");
    assert_eq!(data.keyword_score, 1.0);
    // Every keyword of every group in one text: still bounded by 1.
    let library = common::starter_library();
    let all: Vec<&str> = library
        .keyword_tags
        .iter()
        .filter(|k| k.score > 0.0)
        .map(|k| k.tag.as_str())
        .collect();
    post.description = Some(all.join(" . ").repeat(2000));
    for s in lib.score(&post, today).tracks {
        assert!(s.keyword_score <= 1.0 && s.keyword_score >= -1.0, "{s:?}");
    }
}
