//! The CRM's writes on moto, the way the CRM API will make them (issue 11 builds on these):
//! a job moved through `jobcrm::check` and `CrmStore::move_stage`, each move conditional on
//! the revision read and recorded as an event in the same transaction; a second writer that
//! read the old revision gets a conflict, not a lost update; the history is kept in order and
//! always ends at the job's stage.

use jobcrm::{CloseReason, Stage};
use mcfpipe_e2e::{Moto, Project, runtime};
use mcfstore::Aws;
use mcfstore::crm::{CrmStore, Event, Job};

const CRM: &str = "mcfpipe-local-crm";

fn job(uuid: &str) -> Job {
    Job {
        uuid: uuid.into(),
        track: "data".into(),
        stage: "SCREENED".into(),
        close_reason: None,
        reached: None,
        revision: 1,
        created_at: "2026-11-29T01:00:00Z".into(),
        updated_at: "2026-11-29T01:00:00Z".into(),
        stage_at: "2026-11-29T01:00:00Z".into(),
        deadline: Some("2026-12-27".into()),
        scores: None,
        reasons: None,
        summary: None,
        library_version: None,
        title: "Data Engineer".into(),
        company: Some("ACME".into()),
        url: None,
        posted_date: Some("2026-11-29".into()),
        closing_date: None,
        salary_min: None,
        salary_max: None,
        cv_version: None,
        notes: Some("kept across moves".into()),
        contacts: vec![],
    }
}

/// The move a user asks for, as the API will do it: checked by the table, then written.
async fn request(
    store: &CrmStore,
    read: &Job,
    to: Stage,
    reason: Option<CloseReason>,
    at: &str,
) -> Result<bool, String> {
    let from = parse(&read.stage);
    jobcrm::check(from, to, reason).map_err(|e| e.to_string())?;
    let event = Event {
        at: at.into(),
        from: Some(read.stage.clone()),
        to: to.as_str().into(),
        actor: "user".into(),
        note: None,
        revision: read.revision + 1,
    };
    store
        .move_stage(
            read,
            &event,
            reason.map(CloseReason::as_str),
            read.deadline.as_deref(),
            None,
        )
        .await
        .map_err(|e| e.to_string())
}

fn parse(stage: &str) -> Stage {
    *Stage::ALL.iter().find(|s| s.as_str() == stage).expect("a known stage")
}

#[test]
fn moves_follow_the_table_are_conditional_on_the_revision_and_keep_their_history() {
    let moto = Moto::start();
    let p = Project::with_stacks(&["database"]);
    p.xtask(&moto, &["deploy", "all", "--env", "local"]).ok();
    let aws = Aws::from_sdk(moto.sdk());
    let store = CrmStore::new(aws.dynamodb(), CRM);
    runtime().block_on(async {
        let created = Event {
            at: "2026-11-29T01:00:00Z".into(),
            from: None,
            to: "SCREENED".into(),
            actor: "screener".into(),
            note: None,
            revision: 1,
        };
        assert!(store.create(&job("u1"), &created).await.unwrap());

        // Two browser tabs read the same job; the first moves it, the second is refused.
        let tab1 = store.get("u1", "data").await.unwrap().expect("the job");
        let tab2 = tab1.clone();
        assert_eq!(
            request(&store, &tab1, Stage::ToApply, None, "2026-11-29T02:00:00Z").await,
            Ok(true)
        );
        assert_eq!(
            request(
                &store,
                &tab2,
                Stage::Closed,
                Some(CloseReason::NotInterested),
                "2026-11-29T02:00:01Z"
            )
            .await,
            Ok(false),
            "a stale revision is a conflict, not a lost update"
        );
        let now = store.get("u1", "data").await.unwrap().unwrap();
        assert_eq!((now.stage.as_str(), now.revision), ("TOAPPLY", 2));
        assert_eq!(
            now.notes.as_deref(),
            Some("kept across moves"),
            "a move writes nothing else"
        );

        // A move the table refuses never reaches the table, and says what is allowed.
        let refused = request(&store, &now, Stage::Offer, None, "2026-11-29T03:00:00Z").await;
        assert_eq!(
            refused,
            Err(
                "TOAPPLY → OFFER is not allowed; from TOAPPLY a job moves to APPLIED, SCREENED, CLOSED, EXPIRED".into()
            )
        );
        let refused = request(&store, &now, Stage::Closed, None, "2026-11-29T03:00:00Z").await;
        assert!(refused.unwrap_err().starts_with("a move to CLOSED needs a reason"));

        // Closed, with its reason; the stage index moves with it.
        assert_eq!(
            request(
                &store,
                &now,
                Stage::Closed,
                Some(CloseReason::PostClosed),
                "2026-11-29T04:00:00Z"
            )
            .await,
            Ok(true)
        );
        let closed = store.get("u1", "data").await.unwrap().unwrap();
        assert_eq!(
            (closed.stage.as_str(), closed.close_reason.as_deref(), closed.revision),
            ("CLOSED", Some("post_closed"), 3)
        );
        let item = aws
            .dynamodb()
            .get_item()
            .table_name(CRM)
            .key("pk", aws_sdk_dynamodb::types::AttributeValue::S("u1".into()))
            .key("sk", aws_sdk_dynamodb::types::AttributeValue::S("JOB#data".into()))
            .send()
            .await
            .unwrap()
            .item
            .unwrap();
        assert_eq!(item["gsi1pk"].as_s().unwrap(), "STAGE#CLOSED");
        assert!(
            item["gsi1sk"]
                .as_s()
                .unwrap()
                .starts_with("2026-11-29T04:00:00Z#u1#data")
        );

        // The history: every change, in order, ending at the job's stage.
        let history = store.events("u1", "data").await.unwrap();
        let path: Vec<(Option<&str>, &str, u64)> = history
            .iter()
            .map(|e| (e.from.as_deref(), e.to.as_str(), e.revision))
            .collect();
        assert_eq!(
            path,
            [
                (None, "SCREENED", 1),
                (Some("SCREENED"), "TOAPPLY", 2),
                (Some("TOAPPLY"), "CLOSED", 3)
            ]
        );
        assert_eq!(history.last().unwrap().to, closed.stage);
        // An event that does not follow the job read is refused before any write.
        let wrong = Event {
            revision: 9,
            ..history[1].clone()
        };
        assert!(store.move_stage(&closed, &wrong, None, None, None).await.is_err());
        assert_eq!(store.events("u1", "data").await.unwrap().len(), 3);
    });
}
