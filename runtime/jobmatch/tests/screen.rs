//! The screener's rules on a real captured post, varied one field at a time.

mod common;

use jobmatch::{Day, Decision, SkipReason, Stage, screen};
use mcfcore::{Post, PostStatus};

const ALL_STAGES: [Stage; 10] = [
    Stage::Open,
    Stage::Screened,
    Stage::ToApply,
    Stage::Applied,
    Stage::Callback,
    Stage::Interview,
    Stage::Offer,
    Stage::Rejected,
    Stage::Closed,
    Stage::Expired,
];

/// The decision for the data track, scoring the post as it is.
fn decide(post: &Post, today: Day, existing: Option<Stage>) -> Decision {
    let lib = common::starter();
    let track = lib.track("data").expect("the data track");
    let scores = lib.score(post, today);
    let score = scores.track("data").expect("a data score");
    screen(post, score, track, today, existing)
}

fn data_engineer() -> Post {
    // Posted 2025-05-13 (last week), MCF status open, no closing date (a search item).
    common::capture("Data Engineer Ops")
}

#[test]
fn an_open_recent_matching_post_is_screened() {
    let post = data_engineer();
    assert_eq!(post.expiry_date, None);
    assert_eq!(decide(&post, common::today(), None), Decision::Screen);
    // Closing today is still open; a re-opened post is open.
    let mut post = data_engineer();
    post.expiry_date = Some("2025-05-19".into());
    post.status = PostStatus::Reopened;
    assert_eq!(decide(&post, common::today(), None), Decision::Screen);
}

#[test]
fn an_existing_item_is_never_moved_demoted_or_duplicated() {
    // Whatever the post has become (closed, old, no longer matching), an existing item only
    // gets its scores refreshed.
    let mut gone = data_engineer();
    gone.status = PostStatus::Closed;
    gone.title = "Business Development Manager".into();
    let much_later = Day::parse("2026-01-05").expect("a date");
    for post in [data_engineer(), gone] {
        for today in [common::today(), much_later] {
            for stage in ALL_STAGES {
                let expected = if stage == Stage::Screened {
                    Decision::UpdateScores
                } else {
                    Decision::KeepUserStage(stage)
                };
                assert_eq!(decide(&post, today, Some(stage)), expected, "{stage:?}");
            }
        }
    }
}

#[test]
fn closed_posts_are_skipped() {
    let today = common::today();
    let mut post = data_engineer();
    post.status = PostStatus::Closed;
    assert_eq!(decide(&post, today, None), Decision::Skip(SkipReason::Closed));
    let mut post = data_engineer();
    post.expiry_date = Some("2025-05-18".into());
    assert_eq!(
        decide(&post, today, None),
        Decision::Skip(SkipReason::PastClosingDate {
            closing: "2025-05-18".into()
        })
    );
    // A rendered page has no MCF status: its closing date decides.
    let mut post = data_engineer();
    post.status = PostStatus::Unknown;
    assert_eq!(decide(&post, today, None), Decision::Skip(SkipReason::OpenUnknown));
    post.expiry_date = Some("2025-06-18".into());
    assert_eq!(decide(&post, today, None), Decision::Screen);
    // An unreadable closing date is no closing date.
    post.expiry_date = Some("soon".into());
    assert_eq!(decide(&post, today, None), Decision::Skip(SkipReason::OpenUnknown));
}

#[test]
fn old_or_undated_posts_are_skipped() {
    let mut post = data_engineer();
    // Posted 2025-05-13: in the week of 2025-06-09 it is 4 weeks old (the track's age_weeks)
    // and still counts; a week later it does not.
    assert_eq!(
        decide(&post, Day::parse("2025-06-15").expect("a date"), None),
        Decision::Screen
    );
    assert_eq!(
        decide(&post, Day::parse("2025-06-16").expect("a date"), None),
        Decision::Skip(SkipReason::TooOld { weeks: 5, age_weeks: 4 })
    );
    post.posted_date = None;
    assert_eq!(
        decide(&post, common::today(), None),
        Decision::Skip(SkipReason::NoPostingDate)
    );
}

#[test]
fn posts_that_do_not_match_or_score_too_low_are_skipped() {
    let today = common::today();
    let mut post = data_engineer();
    post.title = "Business Development Manager".into();
    assert_eq!(decide(&post, today, None), Decision::Skip(SkipReason::NoMatch));
    // Database Administrator scores 0.3 for its title and a keyword: above 0, below 0.6.
    let post = common::capture("Database Administrator (12 months under agency contract) , Code : KAS");
    match decide(&post, today, None) {
        Decision::Skip(SkipReason::BelowMin { total, min }) => {
            assert!(total > 0.0 && total < min && min == 0.6, "{total} {min}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn stages_are_named_as_the_crm_names_them() {
    let names: Vec<String> = ALL_STAGES
        .iter()
        .map(|s| serde_json::to_string(s).expect("serialises"))
        .collect();
    assert_eq!(
        names.join(","),
        r#""OPEN","SCREENED","TOAPPLY","APPLIED","CALLBACK","INTERVIEW","OFFER","REJECTED","CLOSED","EXPIRED""#
    );
    assert_eq!(
        SkipReason::TooOld { weeks: 5, age_weeks: 4 }.to_string(),
        "posted 5 weeks ago, more than the track's 4"
    );
}
