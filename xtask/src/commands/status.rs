//! `status`: each stack's state, last change, and whether it matches the local files.

use anyhow::Result;
use serde_json::json;

use super::table;
use crate::render::without_hash;
use crate::resolve::Missing;
use crate::session::Session;

pub async fn run(s: &Session) -> Result<u8> {
    let aws = s.aws().await?;
    let cfn = s.cfn(&aws);
    let all: Vec<_> = s.plan.stacks.iter().collect();
    let deployed = s.upstream_outputs(&cfn, &all).await?;
    let mut rows = vec![vec![
        "STACK".into(),
        "STATUS".into(),
        "LAST CHANGE".into(),
        "LOCAL FILES".into(),
    ]];
    let mut docs = Vec::new();
    // component → the artifact the deployed stacks run (from their parameters).
    let mut running = std::collections::BTreeMap::new();
    let mut stale: Vec<serde_json::Value> = Vec::new();
    for stack in &all {
        let full = s.full_name(stack);
        let info = cfn.describe(&full).await?;
        if let Some(i) = &info {
            for (param, source) in &stack.manifest.parameters {
                if let (Some(component), Some(value)) = (source.artifact(), i.parameters.get(param)) {
                    running.insert(component.to_string(), value.clone());
                }
                // A parameter taken from an upstream output that has changed since this stack
                // was deployed: the stack runs with the old value until it is redeployed.
                if let Some((up, output)) = source.output_ref() {
                    let now = deployed.get(up).and_then(|o| o.as_ref()).and_then(|o| o.get(output));
                    if let (Some(now), Some(was)) = (now, i.parameters.get(param)) {
                        if now != was {
                            stale.push(
                                json!({"stack": stack.name, "parameter": param, "from": format!("{up}.{output}"),
                                "deployed": was, "now": now}),
                            );
                        }
                    }
                }
            }
        }
        let rendered = s.render(stack, &deployed, Missing::Placeholder)?;
        let (status, last, sync, reason) = match &info {
            None => ("NOT_DEPLOYED".to_string(), String::new(), "-".to_string(), None),
            Some(i) => {
                let sync = if i.deployed_hash() == Some(rendered.hash.as_str()) {
                    "in sync".to_string()
                } else {
                    let mut what = Vec::new();
                    if i.parameters != rendered.parameters {
                        what.push("parameters");
                    }
                    let deployed_template = without_hash(cfn.template(&full).await.unwrap_or_default());
                    if deployed_template != without_hash(rendered.template.clone()) {
                        what.push("template");
                    }
                    if i.tags != rendered.tags {
                        what.push("tags");
                    }
                    if what.is_empty() {
                        what.push("deploy hash");
                    }
                    format!("differs: {}", what.join(", "))
                };
                (
                    i.status.clone(),
                    i.last_change().unwrap_or_default().to_string(),
                    sync,
                    i.reason.clone(),
                )
            }
        };
        rows.push(vec![stack.name.clone(), status.clone(), last.clone(), sync.clone()]);
        docs.push(
            json!({"stack": stack.name, "stack_name": full, "layer": stack.manifest.layer, "status": status,
            "last_change": last, "local_files": sync, "reason": reason}),
        );
    }
    let release = running_release(s, &aws, &deployed, &running).await;
    let release_line = match &release {
        Ok(Some(m)) => format!(
            "release {} (commit {}, built {} for {})",
            m.release,
            m.git.commit.get(..12).unwrap_or(&m.git.commit),
            m.created,
            m.env
        ),
        Ok(None) if running.is_empty() => "release: nothing deployed that runs code".to_string(),
        Ok(None) => "release: none of the stored release manifests names the deployed artifacts (built by `deploy`/`build`, not `release`)".to_string(),
        Err(e) => format!("release: unknown ({e:#})"),
    };
    let mut redeploy = String::new();
    for x in &stale {
        redeploy.push_str(&format!(
            "redeploy {}: its parameter {} is {} but {} is now {}\n",
            x["stack"].as_str().unwrap_or_default(),
            x["parameter"].as_str().unwrap_or_default(),
            x["deployed"].as_str().unwrap_or_default(),
            x["from"].as_str().unwrap_or_default(),
            x["now"].as_str().unwrap_or_default()
        ));
    }
    s.ui.print(&format!(
        "environment {} ({})\n{}{redeploy}{release_line}\n",
        s.env,
        aws.target(),
        table(&rows)
    ));
    s.ui.document(
        &json!({"env": s.env, "stacks": docs, "artifacts": running, "redeploy": stale,
        "release": release.ok().flatten().map(|m| m.release)}),
    );
    Ok(0)
}

/// The stored release manifest (`releases/*.json` in the artifact bucket) whose components are
/// exactly what the deployed stacks run, newest first.
pub(crate) async fn running_release(
    s: &Session,
    aws: &crate::aws::Aws,
    deployed: &crate::resolve::DeployedOutputs,
    running: &std::collections::BTreeMap<String, String>,
) -> Result<Option<super::release::Manifest>> {
    if running.is_empty() {
        return Ok(None);
    }
    let bucket = match deployed
        .get("artifacts")
        .cloned()
        .flatten()
        .and_then(|o| o.get("ArtifactBucketName").cloned())
    {
        Some(b) => b,
        None => match crate::lock::bucket(s, aws).await? {
            Some(b) => b,
            None => return Ok(None),
        },
    };
    let s3 = aws.s3();
    let mut found: Vec<super::release::Manifest> = Vec::new();
    let mut token = None;
    loop {
        let page = s3
            .list_objects_v2()
            .bucket(&bucket)
            .prefix("releases/")
            .set_continuation_token(token)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("listing s3://{bucket}/releases/: {}", crate::aws::error_text(&e)))?;
        for object in page.contents() {
            let Some(key) = object.key() else { continue };
            let Ok(got) = s3.get_object().bucket(&bucket).key(key).send().await else {
                continue;
            };
            let Ok(bytes) = got.body.collect().await else { continue };
            let Ok(m) = serde_json::from_slice::<super::release::Manifest>(&bytes.into_bytes()) else {
                continue;
            };
            let same = m.components.len() == running.len()
                && m.components
                    .iter()
                    .all(|(name, c)| running.get(name) == Some(&c.artifact));
            if same {
                found.push(m);
            }
        }
        token = page.next_continuation_token.clone();
        if token.is_none() {
            break;
        }
    }
    found.sort_by(|a, b| b.created.cmp(&a.created));
    Ok(found.into_iter().next())
}
