//! `status`: each stack's state, last change, and whether it matches the local files (the deploy
//! hash, and the parameters, tags and termination protection as deployed); the stacks to
//! redeploy because an upstream output moved; and which release the environment runs.

use anyhow::Result;
use serde_json::json;

use crate::actions::compare;
use crate::release::running::{Running, running_release};
use crate::release::short;
use crate::render::without_hash;
use crate::resolve::Missing;
use crate::session::Session;
use crate::ui::table;
use crate::workflow::health;

pub async fn run(s: &Session) -> Result<u8> {
    let aws = s.aws().await?;
    let cfn = s.cfn(&aws);
    let running = Running::read(s, &aws).await?;
    let mut rows = vec![vec![
        "STACK".into(),
        "STATUS".into(),
        "LAST CHANGE".into(),
        "LOCAL FILES".into(),
    ]];
    let mut docs = Vec::new();
    let mut stale: Vec<serde_json::Value> = Vec::new();
    let mut details: Vec<String> = Vec::new();
    for stack in &s.plan.stacks {
        let info = running.stacks.get(&stack.name);
        if let Some(i) = info {
            for (param, source) in &stack.manifest.parameters {
                // A parameter taken from an upstream output that has changed since this stack
                // was deployed: the stack runs with the old value until it is redeployed.
                if let Some((up, output)) = source.output_ref() {
                    let now = running
                        .deployed
                        .get(up)
                        .and_then(|o| o.as_ref())
                        .and_then(|o| o.get(output));
                    if let (Some(now), Some(was)) = (now, i.parameters.get(param)) {
                        if *now != compare::list_parameter(was) {
                            stale.push(
                                json!({"stack": stack.name, "parameter": param, "from": format!("{up}.{output}"),
                                "deployed": was, "now": now}),
                            );
                        }
                    }
                }
            }
        }
        let rendered = s.render(stack, &running.deployed, Missing::Placeholder)?;
        let (status, last, sync, differences, reason) = match info {
            None => ("NOT_DEPLOYED".to_string(), String::new(), "-".to_string(), vec![], None),
            Some(i) => {
                let deployed_template = if i.deployed_hash() == Some(rendered.hash.as_str()) {
                    None
                } else {
                    Some(cfn.template(&i.name).await.unwrap_or_default())
                };
                let mut diffs = compare::differences(
                    i,
                    &rendered,
                    s.config.deploy.termination_protection,
                    deployed_template.as_ref(),
                );
                // The deploy hash covers parameters and tags too: say "template" only when the
                // template itself differs.
                if let Some(deployed) = &deployed_template {
                    let same_template = without_hash(deployed.clone()) == without_hash(rendered.template.clone());
                    if same_template && diffs.len() > 1 {
                        diffs.retain(|d| d != &compare::Difference::Template);
                    }
                }
                let sync = if diffs.is_empty() {
                    "in sync".to_string()
                } else {
                    format!("differs: {}", compare::kinds(&diffs))
                };
                // The parameters, tags and protection the files do not explain: changed
                // behind the deployer's back when the template is the one we sent.
                if !diffs.contains(&compare::Difference::Template) && i.deployed_hash() == Some(rendered.hash.as_str())
                {
                    details.extend(
                        diffs
                            .iter()
                            .map(|d| format!("{}: changed outside the deployer: {}", stack.name, d.text())),
                    );
                }
                (
                    i.status.clone(),
                    i.last_change().unwrap_or_default().to_string(),
                    sync,
                    diffs,
                    i.reason.clone(),
                )
            }
        };
        rows.push(vec![stack.name.clone(), status.clone(), last.clone(), sync.clone()]);
        docs.push(
            json!({"stack": stack.name, "stack_name": s.full_name(stack), "layer": stack.manifest.layer,
            "status": status, "last_change": last, "local_files": sync, "differences": differences,
            "reason": reason}),
        );
    }
    let release = running_release(&aws, running.bucket.as_deref(), &running.artifacts).await;
    let release_line = match &release {
        Ok(Some(m)) => format!(
            "release {} (commit {}, built {} for {})",
            m.release,
            short(&m.git.commit),
            m.created,
            m.env
        ),
        Ok(None) if running.artifacts.is_empty() => "release: nothing deployed that runs code".to_string(),
        Ok(None) => "release: none of the stored release manifests names the deployed artifacts (built by `deploy`/`build`, not `release`)".to_string(),
        Err(e) => format!("release: unknown ({e:#})"),
    };
    // How the workflows are doing: their last runs and the dead letters.
    let database = running.deployed.get("database").cloned().flatten().unwrap_or_default();
    let runs = health::last_runs(&aws, &database).await;
    let dead = health::dead_letters(&aws, &database).await?;
    let mut workflows = String::new();
    for run in &runs {
        match run {
            Ok(Some(r)) => workflows.push_str(&format!(
                "last {}: {} at {} ({})\n",
                r.workflow, r.outcome, r.finished_at, r.summary
            )),
            Ok(None) => workflows.push_str("last search: never run (`cargo xtask run search`)\n"),
            Err(e) => workflows.push_str(&format!("last search: unknown ({e})\n")),
        }
    }
    for d in &dead {
        workflows.push_str(&match (d.messages, &d.error) {
            (Some(0), _) => format!("dead letters: {} is empty\n", d.queue),
            (Some(n), _) => format!(
                "dead letters: {n} message(s) in {}: documents a component gave up on; why: `cargo xtask logs --env {}`\n",
                d.queue, s.env
            ),
            (None, e) => format!(
                "dead letters: {}: unknown ({})\n",
                d.queue,
                e.as_deref().unwrap_or("no answer")
            ),
        });
    }
    let mut notes = String::new();
    for line in &details {
        notes.push_str(line);
        notes.push('\n');
    }
    for x in &stale {
        notes.push_str(&format!(
            "redeploy {}: its parameter {} is {} but {} is now {}\n",
            x["stack"].as_str().unwrap_or_default(),
            x["parameter"].as_str().unwrap_or_default(),
            x["deployed"].as_str().unwrap_or_default(),
            x["from"].as_str().unwrap_or_default(),
            x["now"].as_str().unwrap_or_default()
        ));
    }
    if !details.is_empty() {
        notes.push_str(&format!(
            "`cargo xtask deploy --env {}` sets them back to what the files say\n",
            s.env
        ));
    }
    s.ui.print(&format!(
        "environment {} ({})\n{}{notes}{release_line}\n{workflows}",
        s.env,
        aws.target(),
        table(&rows)
    ));
    let runs: Vec<serde_json::Value> = runs
        .into_iter()
        .map(|r| match r {
            Ok(r) => json!(r),
            Err(e) => json!({"error": e}),
        })
        .collect();
    s.ui.document(
        &json!({"env": s.env, "stacks": docs, "artifacts": running.artifacts, "redeploy": stale,
        "release": release.ok().flatten().map(|m| m.release), "last_runs": runs, "dead_letters": dead}),
    );
    Ok(0)
}
