//! The components' CloudWatch Logs: which log groups an environment has ([`discover`]),
//! reading and merging their events ([`read`]), showing them ([`show`]), how far back
//! (`--since`, [`since`]), and shipping the lines of components run in this process
//! ([`ship`]).
//!
//! A component's log group is found, not listed here: every `AWS::Logs::LogGroup` resource of
//! the environment's stack templates (as this checkout renders them) and of its deployed stacks
//! (by their physical ids) is one, named for its component by the last part of its name without
//! the environment's prefix: `/aws/lambda/mcfpipe-dev-mcfparse` is `mcfparse`,
//! `/ecs/mcfpipe-dev-mcfscrape` is `mcfscrape`. A new component's template that declares its
//! log group is found by `cargo xtask logs` without a change here.

pub mod read;
pub mod ship;
pub mod show;
pub mod since;

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use serde::Serialize;
use serde_json::Value;

use crate::cfn::Cfn;
use crate::session::Session;

/// The CloudFormation type of a log group.
pub const LOG_GROUP: &str = "AWS::Logs::LogGroup";

/// One component's log group in one environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    /// `mcfparse`, `mcfscrape`, …
    pub component: String,
    /// The log group's name.
    pub name: String,
    /// The stack (its manifest name) that declares it.
    pub stack: String,
    /// Whether the deployed stack has it (otherwise only the render declares it).
    pub deployed: bool,
}

impl Group {
    /// What to run when it is not there.
    pub fn deploy_advice(&self, env: &str) -> String {
        format!(
            "log group {} ({}) is not deployed: stack {} does not have it yet; run `cargo xtask deploy {} --env {env}`",
            self.name, self.component, self.stack, self.stack
        )
    }
}

/// The log groups of `s`'s environment, in the plan's order: declared by the rendered
/// templates, confirmed (and named by their physical ids) by the deployed stacks.
pub async fn discover(s: &Session, cfn: &Cfn<'_>) -> Result<Vec<Group>> {
    let prefix = s.prefix();
    let mut out = Vec::new();
    for stack in s.plan.select("all")? {
        let declared = declared_log_groups(&s.renderer().template(stack)?);
        if declared.is_empty() {
            // Only stacks whose render declares a log group cost AWS calls.
            continue;
        }
        let full = s.full_name(stack);
        let deployed: BTreeMap<String, String> = match cfn.describe(&full).await? {
            Some(_) => cfn
                .resources(&full)
                .await?
                .into_iter()
                .filter(|r| r.resource_type == LOG_GROUP && !r.physical_id.is_empty())
                .map(|r| (r.logical_id, r.physical_id))
                .collect(),
            None => BTreeMap::new(),
        };
        for (logical, literal) in &declared {
            let physical = deployed.get(logical);
            // A name the template computes (a `Fn::Sub`) is known once deployed.
            let Some(name) = physical.or(literal.as_ref()) else {
                continue;
            };
            out.push(Group {
                component: component_of(name, &prefix),
                name: name.clone(),
                stack: stack.name.clone(),
                deployed: physical.is_some(),
            });
        }
        // Deployed but no longer in the render: its events are still there to read.
        for (logical, name) in &deployed {
            if !declared.iter().any(|(l, _)| l == logical) {
                out.push(Group {
                    component: component_of(name, &prefix),
                    name: name.clone(),
                    stack: stack.name.clone(),
                    deployed: true,
                });
            }
        }
    }
    Ok(out)
}

/// The groups of `component` (all of them when `None`); an unknown component is an error
/// that lists the known ones.
pub fn select<'a>(groups: &'a [Group], component: Option<&str>, env: &str) -> Result<Vec<&'a Group>> {
    if groups.is_empty() {
        bail!("no stack of {env} declares a log group (AWS::Logs::LogGroup): there is nothing to read");
    }
    let Some(wanted) = component else {
        return Ok(groups.iter().collect());
    };
    let chosen: Vec<&Group> = groups.iter().filter(|g| g.component == wanted).collect();
    if chosen.is_empty() {
        bail!(
            "unknown component `{wanted}`: the components of {env} with logs are {}",
            known(groups).join(", ")
        );
    }
    Ok(chosen)
}

/// The components, sorted, once each.
pub fn known(groups: &[Group]) -> Vec<&str> {
    let mut names: Vec<&str> = groups.iter().map(|g| g.component.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// `(logical id, literal LogGroupName)` of every log group a rendered template declares.
pub fn declared_log_groups(template: &Value) -> Vec<(String, Option<String>)> {
    let Some(resources) = template.get("Resources").and_then(Value::as_object) else {
        return Vec::new();
    };
    resources
        .iter()
        .filter(|(_, r)| r.get("Type").and_then(Value::as_str) == Some(LOG_GROUP))
        .map(|(logical, r)| {
            let name = r
                .pointer("/Properties/LogGroupName")
                .and_then(Value::as_str)
                .map(str::to_string);
            (logical.clone(), name)
        })
        .collect()
}

/// The component a log group belongs to: the last part of its name without the
/// environment's prefix (`mcfpipe-dev-`).
pub fn component_of(group: &str, prefix: &str) -> String {
    let last = group.rsplit('/').find(|p| !p.is_empty()).unwrap_or(group);
    last.strip_prefix(prefix).unwrap_or(last).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn components_are_named_by_their_groups() {
        let p = "mcfpipe-dev-";
        assert_eq!(component_of("/aws/lambda/mcfpipe-dev-mcfparse", p), "mcfparse");
        assert_eq!(component_of("/ecs/mcfpipe-dev-mcfscrape", p), "mcfscrape");
        assert_eq!(component_of("/aws/lambda/mcfpipe-dev-crm-api", p), "crm-api");
        assert_eq!(component_of("/aws/vendedlogs/states/mcfpipe-dev-etl/", p), "etl");
        assert_eq!(component_of("someone-elses", p), "someone-elses");
    }

    #[test]
    fn log_groups_are_read_from_a_rendered_template() {
        let template = json!({"Resources": {
            "ParserLogGroup": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "/aws/lambda/x-mcfparse"}},
            "Computed": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": {"Fn::Sub": "/x/${AWS::StackName}"}}},
            "Queue": {"Type": "AWS::SQS::Queue"}
        }});
        assert_eq!(
            declared_log_groups(&template),
            [
                ("ParserLogGroup".to_string(), Some("/aws/lambda/x-mcfparse".to_string())),
                ("Computed".to_string(), None)
            ]
        );
        assert!(declared_log_groups(&json!({})).is_empty());
    }

    #[test]
    fn an_unknown_component_is_refused_naming_the_known_ones() {
        let group = |component: &str| Group {
            component: component.into(),
            name: format!("/g/{component}"),
            stack: "compute".into(),
            deployed: true,
        };
        let groups = [group("mcfscrape"), group("mcfparse")];
        assert_eq!(select(&groups, None, "dev").unwrap().len(), 2);
        assert_eq!(select(&groups, Some("mcfparse"), "dev").unwrap(), [&groups[1]]);
        let err = select(&groups, Some("crm"), "dev").unwrap_err().to_string();
        assert_eq!(
            err,
            "unknown component `crm`: the components of dev with logs are mcfparse, mcfscrape"
        );
        assert!(select(&[], None, "dev").is_err());
    }
}
