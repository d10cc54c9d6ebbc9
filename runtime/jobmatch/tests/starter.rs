//! The starter library (config/seed/library) read as config sync will read it, checked, and
//! scored on the real MCF captures: the shortlist it makes is the one a data or software
//! engineer would want.

mod common;

use jobmatch::{CompiledLibrary, Decision, screen};

#[test]
fn the_starter_library_validates_without_a_problem() {
    let (library, texts) = common::load_library(&common::seed_dir()).expect("the files read");
    let problems: Vec<String> = jobmatch::validate(&library)
        .iter()
        .map(|p| common::locate(p, &texts))
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let ids: Vec<&str> = library.tracks.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(
        ids,
        ["data", "software"],
        "the ids config/seed/search-profiles.yaml names"
    );
    // The original's example rows are in it.
    assert!(
        library
            .title_tags
            .iter()
            .any(|t| t.tag == "software engineer" && t.score == 1.0 && t.track.is_none())
    );
    assert!(library.rank_tags.iter().any(|t| t.tag == "chief" && t.weight == 2.30));
    assert!(
        library
            .keyword_tags
            .iter()
            .any(|k| k.group == "data engineer" && k.tag == "spark" && k.score == -1.0)
    );
    let compiled = CompiledLibrary::compile(&library).expect("compiles");
    assert!(compiled.warnings.is_empty());
}

#[test]
fn a_located_problem_names_the_file_and_line() {
    let (mut library, texts) = common::load_library(&common::seed_dir()).expect("the files read");
    library.title_tags[2].score = f64::NAN;
    let problems = jobmatch::validate(&library);
    let line = common::row_line(&texts[0].1, 2).expect("row 2 has a line");
    assert_eq!(
        common::locate(&problems[0], &texts),
        format!("config/seed/library/title_tags.yaml:{line}: error: title_tags[2].score: `NaN` is not a number")
    );
    let text = std::fs::read_to_string(common::seed_dir().join("title_tags.yaml")).expect("reads");
    assert!(
        text.lines()
            .nth(line - 1)
            .is_some_and(|l| l.contains("business development"))
    );
}

/// Titles of the captures the screener puts in the CRM for a track, best first.
fn shortlist(track: &str) -> Vec<(String, f64)> {
    let lib = common::starter();
    let t = lib.track(track).expect("track");
    let mut scorer = lib.scorer();
    let mut out: Vec<(String, f64)> = common::captures()
        .iter()
        .filter_map(|post| {
            let scores = scorer.score(post, common::today());
            let s = scores.track(track)?;
            (screen(post, s, t, common::today(), None) == Decision::Screen).then(|| (post.title.clone(), s.total))
        })
        .collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1));
    out
}

#[test]
fn the_shortlists_of_the_captures_are_data_and_software_posts() {
    let titles = |track| shortlist(track).into_iter().map(|(t, _)| t).collect::<Vec<_>>();
    assert_eq!(
        titles("data"),
        [
            "IT Data Engineer (12 months Agency Contract) , Code : KAS",
            "Data Engineer Ops",
            "Senior Information Technology Consultant (1 year contract)",
        ]
    );
    assert_eq!(
        titles("software"),
        [
            "DevOps Engineer (C# & Azure)",
            "Golang Software Engineer - 12 Months - up to SGD8.5k",
            "AI and ML Engineer",
            "Head of Software Engineering & AI Solutions",
            "IT Solution Architect (12 months agency contract) , Code : KAS",
            "Application Developer JAVA/.NET (12 months agency contract), Code : KAS",
            "Principal Engineer (4 Openings) - 2-Year Contract Up $12K",
        ]
    );
}

#[test]
fn sales_finance_and_other_posts_score_zero_for_both_tracks() {
    let lib = common::starter();
    let mut scorer = lib.scorer();
    let posts = common::captures();
    let mut zero = 0;
    for post in &posts {
        let scores = scorer.score(post, common::today());
        if scores.tracks.iter().all(|s| s.total == 0.0) {
            zero += 1;
        }
    }
    for title in [
        "Business Development Manager Engineering(ID: 675151)",
        "[Tai Seng] US Tech MNC - 9 Months Senior Accountant",
        "Relationship Manager (Offshore Banking - Associate Director/Director)",
        "Sales Manager, Supply Chain Solutions – $7,000+Allowances+Commissions (ID: 675008)",
        "*NEW* 12 Months Financial Analyst (Banks)",
        "Senior Recruitment Consultant",
        "Restructuring & Insolvency Senior Manager / Associate Director",
    ] {
        let scores = scorer.score(&common::capture(title), common::today());
        assert!(scores.tracks.iter().all(|s| s.total == 0.0), "{title}: {scores:#?}");
    }
    // Of 102 captures, most are neither data nor software engineering.
    assert!(zero >= 85, "{zero} of {} score 0 for both tracks", posts.len());
}

#[test]
fn real_posts_score_as_expected_with_their_reasons() {
    let lib = common::starter();
    let today = common::today();
    let data = lib.track("data").expect("data").match_score_min;
    let software = lib.track("software").expect("software").match_score_min;

    // A data engineer post: data above the minimum on its title and skills; not software.
    let post = common::capture("Data Engineer Ops");
    let s = lib.score(&post, today);
    assert_eq!(s.deranked_title, "data engineer ops");
    let d = s.track("data").expect("data");
    assert!(d.total > data, "{d:#?}");
    assert_eq!(
        d.reasons.summary,
        "data engineer +1, keywords: teradata, informatica, etl, sql, ssis; salary fits"
    );
    assert_eq!(s.track("software").expect("software").total, 0.0);

    // The same post as "Senior Data Engineer": senior is the track's seniority, a better fit.
    let mut senior = post.clone();
    senior.title = "Senior Data Engineer".into();
    let s2 = lib.score(&senior, today);
    let d2 = s2.track("data").expect("data");
    assert!(d2.total > d.total && d2.seniority_fit == 1.0, "{d2:#?}");
    assert!(
        d2.reasons
            .summary
            .starts_with("data engineer +1, senior +0.22, keywords:")
    );
    assert!(s2.track("software").expect("software").total < software);

    // Symbol tags from the skills: c#, .net.
    let post = common::capture("DevOps Engineer (C# & Azure)");
    let s = lib.score(&post, today);
    let w = s.track("software").expect("software");
    assert!(w.total > software, "{w:#?}");
    let keywords: Vec<&str> = w.reasons.keywords.iter().map(|k| k.keyword.as_str()).collect();
    assert!(keywords.contains(&"c#") && keywords.contains(&".net"), "{keywords:?}");
    assert!(s.track("data").expect("data").total < data);

    // No title tag, but a description full of data-engineering skills: rescued for data only.
    let post = common::capture("Senior Information Technology Consultant (1 year contract)");
    let s = lib.score(&post, today);
    let d = s.track("data").expect("data");
    assert_eq!((d.title_score, d.keyword_score), (0.0, 1.0));
    assert!(d.total > data);
    assert!(s.track("software").expect("software").reasons.no_match.is_some());

    // The job detail (a restructuring manager) with its full description: no match anywhere.
    let post = common::capture("Restructuring & Insolvency Senior Manager / Associate Director");
    assert!(post.description.as_deref().is_some_and(|d| d.len() > 2000));
    let s = lib.score(&post, today);
    assert!(
        s.tracks.iter().all(|t| t.total == 0.0 && t.keyword_score < 0.0),
        "{s:#?}"
    );
}
