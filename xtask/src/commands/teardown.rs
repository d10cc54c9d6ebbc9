//! `teardown`: delete stacks in reverse dependency order (side by side where nothing depends on
//! them), emptying their buckets first (not in protected environments), and say what was
//! retained. Nothing is asked or deleted before the survey of what holds data is shown.

use anyhow::{Result, bail};
use serde_json::json;

use crate::actions::delete::{self, DeleteOptions, Doomed};
use crate::actions::walk;
use crate::session::Session;
use crate::ui::table;

#[derive(Debug, Clone, Default)]
pub struct Options {
    pub yes: bool,
    pub force: bool,
    pub confirm: Option<String>,
}

pub async fn run(s: &Session, target: &str, opts: Options) -> Result<u8> {
    let mut stacks = s.plan.select(target)?;
    stacks.reverse();
    let protected = s.config.deploy.protected;
    if protected && !opts.force {
        bail!(
            "environment {} is protected (deploy.protected in config/{}.yaml): teardown deletes nothing without --force, \
             and then asks for the environment name typed back (or --confirm {})",
            s.env,
            s.env,
            s.env
        );
    }
    let aws = s.aws().await?;
    let cfn = s.cfn(&aws);

    // What exists, and whether a stack outside the selection still needs one inside it.
    let mut existing = Vec::new();
    for stack in &stacks {
        if let Some(info) = cfn.describe(&s.full_name(stack)).await? {
            existing.push((*stack, info));
        }
    }
    for (stack, _) in &existing {
        for dependent in s.plan.dependents(&stack.name) {
            if stacks.iter().any(|x| x.name == dependent.name) {
                continue;
            }
            if cfn.describe(&s.full_name(dependent)).await?.is_some() {
                bail!(
                    "stack {} is still deployed and depends on {}: tear it down first (or `teardown all`)",
                    dependent.name,
                    stack.name
                );
            }
        }
    }
    let users = delete::outside_users(&cfn, &existing, &s.prefix()).await?;
    if !users.is_empty() {
        bail!(
            "other stacks still use what this teardown would delete; nothing was deleted:\n{}\n\
             Delete or update them first",
            users.iter().map(|u| format!("  - {u}")).collect::<Vec<_>>().join("\n")
        );
    }
    if existing.is_empty() {
        s.ui.info(&format!(
            "nothing to tear down in {}: no stack of `{target}` is deployed",
            s.env
        ));
        s.ui.emit("result", json!({"env": s.env, "deleted": [], "retained": []}));
        return Ok(0);
    }
    let names: Vec<String> = existing.iter().map(|(_, i)| i.name.clone()).collect();
    s.ui.info(&format!("will delete: {}", names.join(", ")));
    // Each stack's template and resources, read once for the survey and the deletion.
    let mut doomed = Vec::new();
    for (stack, info) in existing {
        doomed.push(Doomed {
            stack,
            template: cfn.template(&info.id).await.unwrap_or_default(),
            resources: cfn.resources(&info.id).await?,
            info,
        });
    }
    // What the teardown will do to data, before anything is asked or done.
    for line in delete::survey(&aws, &doomed, protected).await {
        s.ui.info(&format!("  {line}"));
    }
    if protected {
        let ok = match &opts.confirm {
            Some(c) => c == &s.env,
            None => s.ui.type_back(
                &format!(
                    "This deletes {} stack(s) of protected environment {}.",
                    names.len(),
                    s.env
                ),
                &s.env,
            )?,
        };
        if !ok {
            bail!("the environment name was not confirmed: nothing was deleted");
        }
    } else if !opts.yes
        && !s
            .ui
            .confirm(&format!("Delete {} stack(s) of {}?", names.len(), s.env))?
    {
        bail!("not confirmed: nothing was deleted");
    }

    let delete_opts = DeleteOptions {
        protected,
        force: opts.force,
    };
    let report = crate::lock::with_lock(s, &aws, &format!("teardown {target}"), async {
        Ok(walk::teardown(s, &aws, &doomed, delete_opts).await)
    })
    .await?;
    if !report.retained.is_empty() {
        s.ui.info("retained (DeletionPolicy), still in the account:");
        for r in &report.retained {
            s.ui.info(&format!(
                "  {} {} ({}, from {})",
                r.kind, r.physical_id, r.policy, r.stack
            ));
        }
    }
    if let Some(failure) = report.failure() {
        let mut rows = vec![vec!["STACK".into(), "OUTCOME".into(), "WHY".into()]];
        for r in &report.stacks {
            rows.push(vec![
                r.stack.clone(),
                r.outcome.to_string(),
                r.error.clone().unwrap_or_default(),
            ]);
        }
        s.ui.print(&table(&rows));
        s.ui.error(&format!("{failure:#}"));
        let mut doc = json!(report);
        doc["ok"] = json!(false);
        doc["error"] = json!(format!("{failure:#}"));
        s.ui.emit("result", doc);
        return Ok(1);
    }
    s.ui.emit("result", json!(report));
    Ok(0)
}
