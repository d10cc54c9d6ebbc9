//! Telling a block from one odd post.
//!
//! MCF blocks a scraper with a 403 or with a verification (bot check) page: HTML where JSON
//! was expected. Hammering a block makes it longer, so a block stops the run. But one post whose
//! detail answers the same way while the rest of the site answers JSON is not a block, and
//! stopping on it would stop every run at the same post. [`BlockWatch`] decides which it is;
//! the run (the shell) sends the requests it asks for. The rules:
//!
//! 1. **The search is never probed.** A block sign (403 or a verification page) on a search
//!    page stops the run at once, with no further request. The search is what a post's block
//!    sign is checked against, every post of a query comes through it, and a run cannot go on
//!    without it; a second search request would only repeat the question.
//! 2. **A block sign on a post's detail is a suspicion.** The run sends one confirming probe:
//!    the request that answered well most recently, the last job detail that answered well in
//!    this run, else (no detail has yet) the current search page. It goes through the same
//!    rate limit as every request, and the same retries on transient failures (5xx, timeouts);
//!    a block sign is never retried, so a real block costs exactly one request after it
//!    appeared.
//!    - The probe answers a block sign too: a real block. The run stops at once, and the probe
//!      was its only request after the block appeared.
//!    - The probe fails otherwise (5xx or timeouts past its retries): nothing is confirmed
//!      either way, and the run stops as blocked all the same: when in doubt, stop.
//!    - The probe answers well: the site answers, the post does not. The post is asked again,
//!      after a backoff, until it has been asked [`OddPostPolicy::asks`] times in all.
//! 3. **A post that keeps answering a block sign is quarantined**: its last answer and the
//!    reason are kept under `rejects/`, it is not done in the checkpoint nor in the posts
//!    table, so the next run asks for it again, and the run goes on. A post that answers well
//!    (or 404, or a transient failure past its retries) when asked again is handled as usual.
//! 4. **Many odd posts are a block.** A run quarantines at most
//!    `max(quarantine_floor, good / good_per_extra)` posts, `good` counting the details that
//!    answered well in this run (defaults: 3, or one per 20 good details when that is more:
//!    5 % of a large run). The next post to answer a block sign past that stops the run as blocked at once,
//!    with no probe and no second ask: a site that answers a bot check to that many different
//!    posts while answering others is blocking us by post, not breaking posts one by one.

/// How an answer looks to the block watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// A usable document.
    Good,
    /// 403 or a verification page.
    BlockSign,
    /// Anything else: 404, a transient failure given up after retries.
    Other,
}

/// How often a suspect post is asked, and how many odd posts a run tolerates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OddPostPolicy {
    /// Times a post is asked in all (the first included, the probe not) before it is
    /// quarantined. At least 1.
    pub asks: u32,
    /// Posts a run may quarantine whatever its size.
    pub quarantine_floor: u32,
    /// One more quarantine is allowed per this many details that answered well.
    pub good_per_extra: u32,
}

impl Default for OddPostPolicy {
    fn default() -> Self {
        OddPostPolicy {
            asks: 3,
            quarantine_floor: 3,
            good_per_extra: 20,
        }
    }
}

/// What the run does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The answer stands: use the document, or handle the failure as any other.
    Go,
    /// Send the confirming probe once, then report its answer with [`BlockWatch::probe`].
    Probe,
    /// Wait a backoff, ask the suspect post again (it has been asked `asked` times), then
    /// report its answer with [`BlockWatch::detail`].
    AskAgain { asked: u32 },
    /// Keep the post's last answer and the reason under `rejects/`, leave it undone, go on.
    Quarantine,
    /// Stop the run as blocked, with no further request.
    Stop(Blocked),
}

/// Why the run is blocked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blocked {
    /// A search page answered a block sign (rule 1).
    Search,
    /// The probe answered a block sign too (rule 2).
    Confirmed,
    /// The probe failed in another way, so the block could not be ruled out (rule 2).
    Unconfirmed,
    /// One odd post more than the run may quarantine (rule 4).
    TooManyOdd { quarantined: u32, allowed: u32 },
}

/// The state of one run: how many details answered well, how many posts were quarantined,
/// and the post under suspicion.
#[derive(Debug, Clone)]
pub struct BlockWatch {
    policy: OddPostPolicy,
    good: u32,
    quarantined: u32,
    /// Times the suspect post was asked so far; `None` when no post is suspected.
    suspect: Option<u32>,
}

impl BlockWatch {
    pub fn new(policy: OddPostPolicy) -> BlockWatch {
        BlockWatch {
            policy: OddPostPolicy {
                asks: policy.asks.max(1),
                good_per_extra: policy.good_per_extra.max(1),
                ..policy
            },
            good: 0,
            quarantined: 0,
            suspect: None,
        }
    }

    /// Posts this run may quarantine now (rule 4).
    pub fn allowed(&self) -> u32 {
        self.policy.quarantine_floor.max(self.good / self.policy.good_per_extra)
    }

    /// Times a post is asked before it is quarantined.
    pub fn asks(&self) -> u32 {
        self.policy.asks
    }

    pub fn quarantined(&self) -> u32 {
        self.quarantined
    }

    /// A search page answered.
    pub fn search(&self, answer: Answer) -> Step {
        match answer {
            Answer::BlockSign => Step::Stop(Blocked::Search),
            Answer::Good | Answer::Other => Step::Go,
        }
    }

    /// A post's detail answered: the first ask, or an ask after [`Step::AskAgain`].
    pub fn detail(&mut self, answer: Answer) -> Step {
        match (answer, self.suspect) {
            (Answer::Good, _) => {
                self.suspect = None;
                self.good = self.good.saturating_add(1);
                Step::Go
            }
            (Answer::Other, _) => {
                self.suspect = None;
                Step::Go
            }
            (Answer::BlockSign, None) => {
                if self.quarantined >= self.allowed() {
                    return Step::Stop(Blocked::TooManyOdd {
                        quarantined: self.quarantined,
                        allowed: self.allowed(),
                    });
                }
                self.suspect = Some(1);
                Step::Probe
            }
            (Answer::BlockSign, Some(asked)) => self.ask_again_or_quarantine(asked + 1),
        }
    }

    /// The confirming probe answered.
    pub fn probe(&mut self, answer: Answer) -> Step {
        let Some(asked) = self.suspect else {
            // No suspect, nothing to confirm: the run asked for no probe.
            return Step::Go;
        };
        match answer {
            Answer::Good => self.ask_again_or_quarantine(asked),
            Answer::BlockSign => {
                self.suspect = None;
                Step::Stop(Blocked::Confirmed)
            }
            Answer::Other => {
                self.suspect = None;
                Step::Stop(Blocked::Unconfirmed)
            }
        }
    }

    fn ask_again_or_quarantine(&mut self, asked: u32) -> Step {
        if asked >= self.policy.asks {
            self.suspect = None;
            self.quarantined += 1;
            Step::Quarantine
        } else {
            self.suspect = Some(asked);
            Step::AskAgain { asked }
        }
    }
}

/// The key a quarantined post's answer is kept under: `rejects/<date>/<uuid>.<ext>`, where the
/// parser keeps the documents it rejects (`layout::reject_key` of the raw key the answer would
/// have had), the extension told by the body: `html` for a page, `json` for JSON, `txt` for
/// anything else.
pub fn quarantine_key(fetch_date: &str, uuid: &str, body: &[u8]) -> String {
    let extension = match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'<') => "html",
        Some(b'{' | b'[') => "json",
        _ => "txt",
    };
    mcfcore::layout::reject_key(&mcfcore::layout::raw_key(fetch_date, uuid, extension))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn watch() -> BlockWatch {
        BlockWatch::new(OddPostPolicy::default())
    }

    #[test]
    fn a_block_sign_on_the_search_stops_without_a_probe() {
        let w = watch();
        assert_eq!(w.search(Answer::BlockSign), Step::Stop(Blocked::Search));
        assert_eq!(w.search(Answer::Good), Step::Go);
        assert_eq!(w.search(Answer::Other), Step::Go);
    }

    #[test]
    fn a_block_sign_on_a_post_is_probed_and_a_bad_probe_confirms_the_block() {
        let mut w = watch();
        assert_eq!(w.detail(Answer::Good), Step::Go);
        assert_eq!(w.detail(Answer::BlockSign), Step::Probe);
        assert_eq!(w.probe(Answer::BlockSign), Step::Stop(Blocked::Confirmed));

        let mut w = watch();
        assert_eq!(w.detail(Answer::BlockSign), Step::Probe);
        assert_eq!(w.probe(Answer::Other), Step::Stop(Blocked::Unconfirmed));
    }

    #[test]
    fn a_post_that_keeps_answering_wrongly_while_the_probe_answers_well_is_quarantined() {
        let mut w = watch();
        assert_eq!(w.detail(Answer::BlockSign), Step::Probe);
        assert_eq!(w.probe(Answer::Good), Step::AskAgain { asked: 1 });
        assert_eq!(w.detail(Answer::BlockSign), Step::AskAgain { asked: 2 });
        assert_eq!(w.detail(Answer::BlockSign), Step::Quarantine);
        assert_eq!(w.quarantined(), 1);
        // The next post starts afresh.
        assert_eq!(w.detail(Answer::Good), Step::Go);
        assert_eq!(w.detail(Answer::BlockSign), Step::Probe);
    }

    #[test]
    fn a_post_that_answers_when_asked_again_is_not_quarantined() {
        let mut w = watch();
        assert_eq!(w.detail(Answer::BlockSign), Step::Probe);
        assert_eq!(w.probe(Answer::Good), Step::AskAgain { asked: 1 });
        assert_eq!(w.detail(Answer::Good), Step::Go);
        assert_eq!(w.quarantined(), 0);
        // 404 or a failure past retries on the second ask: handled as usual, not quarantined.
        assert_eq!(w.detail(Answer::BlockSign), Step::Probe);
        assert_eq!(w.probe(Answer::Good), Step::AskAgain { asked: 1 });
        assert_eq!(w.detail(Answer::Other), Step::Go);
        assert_eq!(w.quarantined(), 0);
        // A probe reported with no suspect asks for nothing.
        assert_eq!(w.probe(Answer::BlockSign), Step::Go);
    }

    #[test]
    fn one_ask_quarantines_right_after_a_good_probe() {
        let mut w = BlockWatch::new(OddPostPolicy {
            asks: 0,
            ..OddPostPolicy::default()
        });
        assert_eq!(w.detail(Answer::BlockSign), Step::Probe);
        assert_eq!(w.probe(Answer::Good), Step::Quarantine);
    }

    /// Quarantines one odd post: block sign, good probe, then block signs until quarantined.
    fn odd_post(w: &mut BlockWatch) -> Step {
        let mut step = w.detail(Answer::BlockSign);
        if step == Step::Probe {
            step = w.probe(Answer::Good);
        }
        while let Step::AskAgain { .. } = step {
            step = w.detail(Answer::BlockSign);
        }
        step
    }

    #[test]
    fn more_odd_posts_than_allowed_stop_the_run_at_once() {
        let mut w = watch();
        for _ in 0..3 {
            assert_eq!(odd_post(&mut w), Step::Quarantine);
        }
        // The 4th odd post, with no good detail yet: no probe, no second ask.
        assert_eq!(
            w.detail(Answer::BlockSign),
            Step::Stop(Blocked::TooManyOdd {
                quarantined: 3,
                allowed: 3
            })
        );
    }

    #[test]
    fn the_allowance_grows_with_the_details_that_answered_well() {
        let mut w = watch();
        for _ in 0..79 {
            w.detail(Answer::Good);
        }
        assert_eq!(w.allowed(), 3);
        w.detail(Answer::Good);
        assert_eq!(w.allowed(), 4, "80 good details: one per 20");
        for _ in 0..4 {
            assert_eq!(odd_post(&mut w), Step::Quarantine);
        }
        assert!(matches!(
            w.detail(Answer::BlockSign),
            Step::Stop(Blocked::TooManyOdd {
                quarantined: 4,
                allowed: 4
            })
        ));
        // Probes answering well do not count as good details.
        let mut w = watch();
        for _ in 0..3 {
            w.detail(Answer::BlockSign);
            w.probe(Answer::Good);
            w.detail(Answer::Good);
        }
        assert_eq!(w.allowed(), 3);
    }

    #[test]
    fn quarantined_answers_go_where_the_parser_keeps_its_rejects() {
        let uuid = "5624187c437fddd00296eecc783ed4cd";
        assert_eq!(
            quarantine_key("2026-11-28", uuid, b"\n<!DOCTYPE html>"),
            format!("rejects/2026-11-28/{uuid}.html")
        );
        assert_eq!(
            quarantine_key("2026-11-28", uuid, br#"{"message": "forbidden"}"#),
            format!("rejects/2026-11-28/{uuid}.json")
        );
        assert_eq!(
            quarantine_key("2026-11-28", uuid, b""),
            format!("rejects/2026-11-28/{uuid}.txt")
        );
    }
}
