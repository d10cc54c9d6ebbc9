//! The apply flow in a real headless Chromium (Debian's, over the DevTools pipe) against the
//! fake MCF website of `mcffixture`: every case of the issue, each outcome code asserted, and
//! the site's own count of submits checked (nothing submitted on a dry run, a refused claim, a
//! questionnaire).
//!
//! Without a Chromium this test says so and passes, unless `MCFPIPE_REQUIRE_BROWSER=1` (CI
//! sets it, and installs Debian's `chromium`).

use std::time::Duration;

use mcfapply::cdp::{Browser, find_browser};
use mcfapply::flow::{self, Guard, Input, Options};
use mcfapply::session::{Cookie, SameSite};
use mcfapply::{Outcome, Skip};
use mcffixture::FixtureServer;
use mcffixture::site::Case;

struct Counting {
    claims: u32,
    allow: bool,
}

impl Guard for Counting {
    async fn claim(&mut self) -> Result<(), Skip> {
        self.claims += 1;
        if self.allow {
            Ok(())
        } else {
            Err(Skip::InProgress("2026-11-29T01:00:00Z".into()))
        }
    }
}

fn browser_or_skip() -> Option<std::path::PathBuf> {
    match find_browser() {
        Ok(p) => Some(p),
        Err(e) if std::env::var("MCFPIPE_REQUIRE_BROWSER").as_deref() == Ok("1") => {
            panic!("MCFPIPE_REQUIRE_BROWSER=1 and {e}")
        }
        Err(e) => {
            eprintln!("SKIPPED: {e}");
            None
        }
    }
}

fn cookie(value: &str) -> Cookie {
    Cookie {
        name: "MCF_SESSION".into(),
        value: value.into(),
        domain: ".mycareersfuture.gov.sg".into(),
        path: "/".into(),
        secure: true,
        http_only: true,
        same_site: Some(SameSite::Lax),
        expires: None,
    }
}

fn job(uuid: &str, cv: &str) -> Input {
    Input {
        uuid: uuid.into(),
        url: Some(format!(
            "https://www.mycareersfuture.gov.sg/job/engineering/data-engineer-acme-{uuid}"
        )),
        cv_version: Some(cv.into()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_case_ends_in_its_outcome_in_a_real_browser() {
    let Some(binary) = browser_or_skip() else {
        return;
    };
    let site = FixtureServer::default_on_free_port().unwrap();
    site.site(|s| {
        for (uuid, case) in [
            ("already", Case::AlreadyApplied),
            ("closed", Case::Closed),
            ("nobutton", Case::NoButton),
            ("questions", Case::Questionnaire),
            ("unconfirmed", Case::NoConfirmation),
            ("missing", Case::Missing),
            ("slow", Case::Slow(Duration::from_millis(1500))),
            ("tooslow", Case::Slow(Duration::from_secs(6))),
        ] {
            s.cases.insert(uuid.into(), case);
        }
    });
    let browser = Browser::launch(&binary, None, Duration::from_secs(30)).await.unwrap();
    assert!(!browser.product.is_empty(), "the browser says its version");
    let mut page = browser.page(Duration::from_secs(4)).await.unwrap();
    page.set_cookies(&[cookie("fixture-session")], "127.0.0.1", false)
        .await
        .unwrap();
    let dry = Options {
        site: site.url().to_string(),
        submit: false,
        button_tries: 2,
        button_wait: Duration::from_millis(300),
        ..Options::default()
    };
    let submit = Options {
        submit: true,
        ..dry.clone()
    };

    struct Want {
        job: Input,
        options: Options,
        outcome: Outcome,
        submits: u64,
        claims: u32,
        evidence: bool,
        says: &'static str,
    }
    let w = |job: Input,
             options: &Options,
             outcome: Outcome,
             submits: u64,
             claims: u32,
             evidence: bool,
             says: &'static str| Want {
        job,
        options: options.clone(),
        outcome,
        submits,
        claims,
        evidence,
        says,
    };
    let cases = vec![
        w(job("dry", "11.4"), &dry, Outcome::DryRunOk, 0, 0, true, "dry run"),
        w(
            job("normal", "11.4"),
            &submit,
            Outcome::Applied,
            1,
            1,
            false,
            "MCF confirmed",
        ),
        w(
            job("already", "11.4"),
            &submit,
            Outcome::Applied,
            0,
            0,
            false,
            "already applied",
        ),
        w(
            job("closed", "11.4"),
            &submit,
            Outcome::PostClosed,
            0,
            0,
            true,
            "no longer accepting",
        ),
        w(
            job("nobutton", "11.4"),
            &submit,
            Outcome::UnableToApply,
            0,
            0,
            true,
            "after 2 tries",
        ),
        w(
            job("questions", "11.4"),
            &submit,
            Outcome::Questionnaire,
            0,
            0,
            true,
            "questionnaire",
        ),
        w(
            job("unconfirmed", "11.4"),
            &submit,
            Outcome::SubmittedUnconfirmed,
            1,
            1,
            true,
            "no confirmation",
        ),
        w(
            job("missing", "11.4"),
            &submit,
            Outcome::PostUnavailable,
            0,
            0,
            true,
            "HTTP 404",
        ),
        w(
            job("nocv", "12.0"),
            &submit,
            Outcome::CvNotFound,
            0,
            0,
            true,
            "Resume v11.3.pdf, Resume v11.4.pdf",
        ),
        w(job("slow", "11.4"), &dry, Outcome::DryRunOk, 0, 0, true, "dry run"),
        w(
            job("tooslow", "11.4"),
            &dry,
            Outcome::PostUnavailable,
            0,
            0,
            false,
            "no answer within",
        ),
        w(
            Input {
                url: None,
                ..job("nourl", "11.4")
            },
            &submit,
            Outcome::InvalidInput,
            0,
            0,
            false,
            "no URL",
        ),
    ];
    for want in cases {
        let mut guard = Counting { claims: 0, allow: true };
        let a = flow::apply(&page, &want.job, &want.options, &mut guard).await.unwrap();
        let uuid = &want.job.uuid;
        eprintln!("{uuid}: {} in {:.2} s ({})", a.outcome.code(), a.seconds, a.detail);
        assert_eq!(a.outcome, want.outcome, "{uuid}: {a:?}");
        assert!(
            a.detail.contains(want.says),
            "{uuid}: {:?} lacks {:?}",
            a.detail,
            want.says
        );
        assert_eq!(site.submits(uuid), want.submits, "{uuid}: submits seen by the site");
        assert_eq!(guard.claims, want.claims, "{uuid}: claims");
        assert_eq!(a.claimed, want.claims == 1, "{uuid}");
        assert_eq!(a.evidence.is_some(), want.evidence, "{uuid}: evidence {:?}", a.evidence);
        if let Some(e) = &a.evidence {
            assert!(e.png.starts_with(b"\x89PNG"), "{uuid}: a PNG");
            assert!(e.html.contains("<html"), "{uuid}: the page's HTML");
        }
    }
    // What the site saw of the normal job: the CV chosen is the one asked for.
    site.site(|s| assert_eq!(s.chosen.get("normal").map(String::as_str), Some("Resume v11.4.pdf")));

    // A refused claim submits nothing.
    let mut refusing = Counting {
        claims: 0,
        allow: false,
    };
    let refused = flow::apply(&page, &job("refused", "11.4"), &submit, &mut refusing).await;
    assert!(matches!(refused, Err(Skip::InProgress(_))), "{refused:?}");
    assert_eq!((refusing.claims, site.submits("refused")), (1, 0));

    // Signed out: the login page ends the attempt as an expired session.
    page.set_cookies(&[cookie("stale")], "127.0.0.1", false).await.unwrap();
    page.timeout = Duration::from_secs(4);
    let mut guard = Counting { claims: 0, allow: true };
    let a = flow::apply(&page, &job("loggedout", "11.4"), &submit, &mut guard)
        .await
        .unwrap();
    assert_eq!(a.outcome, Outcome::SessionExpired, "{a:?}");
    assert!(a.url.as_deref().is_some_and(|u| u.ends_with("/login")), "{a:?}");
    assert!(a.evidence.is_some());
    assert_eq!(site.submits("loggedout"), 0);
    drop(page);
    assert!(
        browser.close().await,
        "the browser exits when asked (Browser.close), not killed"
    );
}
