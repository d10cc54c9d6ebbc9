//! `cargo xtask mcf session` end to end on moto: the browser's cookie export (or Playwright's
//! storage state) checked and stored, MCF's cookies only, SSE-KMS, at `session/mcf.json` in the
//! deployed data bucket; a refused file writes nothing; no cookie value is ever in the output.
//!
//! Where moto stops: it does not enforce bucket policies, so the Deny on reading `session/*`
//! (everyone but the apply task's and the session check's roles) cannot be exercised here; the
//! test asserts the statement is in the deployed template instead. Its SSE-KMS is reported
//! (`aws:kms`) without a real key behind it.

use std::time::{SystemTime, UNIX_EPOCH};

use mcfpipe_e2e::{Moto, Project, Run, runtime};
use serde_json::{Value, json};

const BUCKET_OUTPUT: &str = "DataBucketName";
const KEY: &str = "session/mcf.json";
const SECRET: &str = "s3cr3t-value";
const OTHER_SECRET: &str = "g00gle-value";

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// A cookie export: MCF's session cookie expiring in `days`, and a cookie of another site.
fn export(days: i64) -> String {
    json!([
        {"name": "MCF_SESSION", "value": SECRET, "domain": ".mycareersfuture.gov.sg", "path": "/",
         "secure": true, "httpOnly": true, "sameSite": "no_restriction",
         "expirationDate": (now() + days * 86_400) as f64 + 0.5},
        {"name": "csrf", "value": SECRET, "domain": "www.mycareersfuture.gov.sg", "path": "/",
         "secure": true, "httpOnly": false, "sameSite": "lax", "session": true},
        {"name": "_ga", "value": OTHER_SECRET, "domain": ".google.com", "path": "/",
         "sameSite": "lax", "expirationDate": (now() + 400 * 86_400) as f64}
    ])
    .to_string()
}

fn deployed() -> (Moto, Project) {
    let moto = Moto::start();
    let p = Project::with_stacks(&["database"]);
    p.xtask(&moto, &["deploy", "all", "--env", "local"]).ok();
    (moto, p)
}

fn bucket(moto: &Moto) -> String {
    let cfn = aws_sdk_cloudformation::Client::new(&moto.sdk());
    let out = runtime()
        .block_on(cfn.describe_stacks().stack_name("mcfpipe-local-database").send())
        .unwrap();
    out.stacks()[0]
        .outputs()
        .iter()
        .find(|o| o.output_key() == Some(BUCKET_OUTPUT))
        .and_then(|o| o.output_value())
        .expect("DataBucketName")
        .to_string()
}

/// The stored session (its JSON and its SSE as moto reports it), or `None`.
fn stored(moto: &Moto, bucket: &str) -> Option<(Value, Option<String>)> {
    let s3 = aws_sdk_s3::Client::new(&moto.sdk());
    runtime().block_on(async {
        let got = s3.get_object().bucket(bucket).key(KEY).send().await.ok()?;
        let sse = got.server_side_encryption().map(|e| e.as_str().to_string());
        let body = got.body.collect().await.unwrap().into_bytes();
        Some((serde_json::from_slice(&body).unwrap(), sse))
    })
}

fn delete(moto: &Moto, bucket: &str) {
    let s3 = aws_sdk_s3::Client::new(&moto.sdk());
    runtime()
        .block_on(s3.delete_object().bucket(bucket).key(KEY).send())
        .unwrap();
}

fn session(p: &Project, moto: &Moto, flag: &str, text: &str, extra: &[&str]) -> (Run, String) {
    let file = p.root().join("export.json");
    std::fs::write(&file, text).unwrap();
    let path = file.display().to_string();
    let mut args = vec!["mcf", "session", "--env", "local", flag, path.as_str()];
    args.extend_from_slice(extra);
    let run = p.xtask(moto, &args);
    run.not_contains(SECRET).not_contains(OTHER_SECRET);
    (run, path)
}

#[test]
fn an_export_is_checked_and_stored_encrypted_and_a_refused_one_writes_nothing() {
    let (moto, p) = deployed();
    let bucket = bucket(&moto);

    // A cookie export: MCF's two cookies stored, Google's left out, the expiry said.
    let (run, _) = session(&p, &moto, "--cookies", &export(30), &[]);
    run.ok()
        .contains(&format!("s3://{bucket}/{KEY}"))
        .contains("2 MCF cookies")
        .contains("in 30 days")
        .not_contains("expires within");
    let (doc, sse) = stored(&moto, &bucket).expect("the session is stored");
    assert_eq!(sse.as_deref(), Some("aws:kms"));
    let cookies = doc["cookies"].as_array().unwrap();
    assert_eq!(cookies.len(), 2, "{doc}");
    assert!(
        cookies
            .iter()
            .all(|c| c["domain"].as_str().unwrap().contains("mycareersfuture.gov.sg"))
    );
    assert!(cookies.iter().any(|c| c["value"] == SECRET));
    assert!(!doc.to_string().contains(OTHER_SECRET));
    assert!(doc["valid_until"].as_i64().unwrap() > now() + 29 * 86_400);

    // The JSON result: where, how many, when; no value.
    let (run, _) = session(&p, &moto, "--cookies", &export(2), &["--output", "json"]);
    run.ok();
    let result = run.json_lines().last().cloned().unwrap();
    assert_eq!(result["ok"], true, "{}", run.output);
    assert_eq!(result["key"], KEY);
    assert_eq!(result["cookies"], 2);
    assert_eq!(result["expires_soon"], true);
    assert_eq!(result["expires_in_days"], 2);
    // Within WARN_DAYS: a warning.
    session(&p, &moto, "--cookies", &export(2), &[])
        .0
        .ok()
        .contains("in 2 days")
        .contains("expires within 3 days");

    // Playwright's storage state.
    delete(&moto, &bucket);
    let state = json!({
        "cookies": [
            {"name": "MCF_SESSION", "value": SECRET, "domain": ".mycareersfuture.gov.sg", "path": "/",
             "expires": -1, "httpOnly": true, "secure": true, "sameSite": "Lax"},
            {"name": "_ga", "value": OTHER_SECRET, "domain": ".google.com", "path": "/",
             "expires": now() + 86_400, "httpOnly": false, "secure": false, "sameSite": "None"}
        ],
        "origins": []
    })
    .to_string();
    session(&p, &moto, "--storage-state", &state, &[])
        .0
        .ok()
        .contains("(1 MCF cookie, SSE-KMS)")
        .contains("only session cookies, whose end MCF decides");
    let (doc, _) = stored(&moto, &bucket).expect("the storage state's session is stored");
    assert_eq!(doc["cookies"].as_array().unwrap().len(), 1);
    assert_eq!(doc["valid_until"], Value::Null);

    // Refused: nothing written.
    delete(&moto, &bucket);
    let (run, path) = session(&p, &moto, "--cookies", &export(-1), &[]);
    run.expect_code(1)
        .contains(&path)
        .contains("MCF_SESSION expired")
        .contains("sign in again")
        .contains("nothing was stored");
    assert!(stored(&moto, &bucket).is_none());
    let google_only = json!([{"name": "_ga", "value": OTHER_SECRET, "domain": ".google.com", "path": "/"}]).to_string();
    let (run, path) = session(&p, &moto, "--cookies", &google_only, &[]);
    run.expect_code(1)
        .contains(&path)
        .contains("no cookie of mycareersfuture.gov.sg")
        .contains("nothing was stored");
    assert!(stored(&moto, &bucket).is_none());
    // A missing file is named.
    let missing = p.root().join("nowhere.json").display().to_string();
    p.xtask(&moto, &["mcf", "session", "--env", "local", "--cookies", &missing])
        .expect_code(1)
        .contains(&format!("cannot read {missing}"));
    assert!(stored(&moto, &bucket).is_none());
}

/// moto does not enforce bucket policies (see the header): the Deny on `session/*` is checked
/// in the template CloudFormation deployed.
#[test]
fn the_deployed_bucket_policy_denies_reading_the_session_to_all_but_the_apply_and_session_roles() {
    let (moto, _p) = deployed();
    let cfn = aws_sdk_cloudformation::Client::new(&moto.sdk());
    let body = runtime()
        .block_on(cfn.get_template().stack_name("mcfpipe-local-database").send())
        .unwrap()
        .template_body()
        .unwrap()
        .to_string();
    let template: Value = serde_json::from_str(&body).expect("the deployer sends JSON");
    let statements = template["Resources"]["DataBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
        .as_array()
        .unwrap();
    let deny = statements
        .iter()
        .find(|s| s["Sid"] == "SessionReadersOnly")
        .expect("the session statement");
    assert_eq!(deny["Effect"], "Deny");
    assert_eq!(deny["Principal"], "*");
    assert_eq!(deny["Action"], "s3:GetObject");
    assert_eq!(deny["Resource"]["Fn::Sub"], "${DataBucket.Arn}/session/*");
    let allowed: Vec<&str> = deny["Condition"]["ArnNotLike"]["aws:PrincipalArn"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["Fn::Sub"].as_str().unwrap())
        .collect();
    assert_eq!(
        allowed,
        [
            "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/mcfpipe-local-apply",
            "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/mcfpipe-local-session",
        ]
    );
}
