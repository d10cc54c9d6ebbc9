//! Permissions proven, not assumed: the AWS calls each runtime component made (recorded by
//! [`mcfstore::record`] during the end-to-end tests) checked against the policies of the role
//! that component runs under in the rendered template, resolved against the deployed stack.
//!
//! The emulator answers every call whatever the role says, so a missing permission shows only on
//! AWS. This check is what shows it before: per component, the calls no statement allows (with
//! the action, resource and why), the calls it cannot decide, and the permissions no recorded
//! call used.
//!
//! - [`template`]: which component runs under which role (followed from the functions and task
//!   definitions that run our build artifacts), the roles' statements, intrinsics resolved;
//! - [`actions`]: recorded call → IAM action(s), resource ARN, condition keys;
//! - [`eval`]: IAM's evaluation of one request against statements.

pub mod actions;
pub mod eval;
pub mod template;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use anyhow::{Result, anyhow};
use mcfstore::record::Call;
use serde_json::Value;

pub use eval::{Context, Decision, Request, Statement};
pub use template::{Component, Deployed, components, policy_statements, role_statements};

use crate::cfn::Cfn;
use crate::stacks::Stack;
use actions::{Place, needs};

/// The manifest's artifact parameters of `stack`: parameter → component.
pub fn artifact_parameters(stack: &Stack) -> BTreeMap<String, String> {
    stack
        .manifest
        .parameters
        .iter()
        .filter_map(|(p, source)| source.artifact().map(|c| (p.clone(), c.to_string())))
        .collect()
}

/// What is deployed in stack `name`, through the AWS APIs: its id (partition, region,
/// account), parameters (DescribeStacks) and physical ids (ListStackResources).
pub async fn deployed(cfn: &Cfn<'_>, name: &str) -> Result<Deployed> {
    let info = cfn
        .describe(name)
        .await?
        .ok_or_else(|| anyhow!("stack {name} is not deployed: deploy it before checking its roles"))?;
    let physical_ids = cfn
        .resources(name)
        .await?
        .into_iter()
        .map(|r| (r.logical_id, r.physical_id))
        .collect();
    Deployed {
        stack: name.to_string(),
        parameters: info.parameters,
        physical_ids,
        ..Deployed::default()
    }
    .place_from_stack_id(&info.id)
    .map_err(|e| anyhow!("stack {name}: {e}"))
}

/// The check's answer for one stack.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Report {
    pub stack: String,
    pub components: Vec<ComponentReport>,
    /// Problems outside any one call: components recorded but not in the template, or in the
    /// template but never exercised, code the check cannot attribute.
    pub findings: Vec<String>,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ComponentReport {
    pub component: String,
    /// The function or task definition that runs it.
    pub host: String,
    /// The role's logical id.
    pub role: String,
    pub calls: usize,
    /// Calls no statement allows (or one denies).
    pub denied: Vec<Finding>,
    /// Calls the check cannot decide: a condition it does not evaluate, an unresolved template
    /// expression, an operation or resource it cannot map.
    pub undecided: Vec<Finding>,
    /// Granted, and no recorded call used it.
    pub unused: Vec<Grant>,
    /// Granted for the hosting service (logs, network interfaces), which acts outside our code.
    pub platform: Vec<Grant>,
}

/// Calls of one operation that ended the same way, with the first resource as the example.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// `DynamoDB DeleteItem`
    pub operation: String,
    pub action: String,
    pub resource: String,
    pub calls: usize,
    pub why: String,
}

/// One action of one Allow statement.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Grant {
    pub sid: String,
    pub action: String,
    pub resources: Vec<String>,
}

impl Report {
    /// No denied or undecided call and no finding.
    pub fn passed(&self) -> bool {
        self.findings.is_empty()
            && self
                .components
                .iter()
                .all(|c| c.denied.is_empty() && c.undecided.is_empty())
    }

    /// The granted permissions no recorded call used, as `component: Sid action`.
    pub fn unused(&self) -> Vec<String> {
        self.components
            .iter()
            .flat_map(|c| {
                c.unused
                    .iter()
                    .map(move |g| format!("{}: {} {}", c.component, g.sid, g.action))
            })
            .collect()
    }

    pub fn text(&self) -> String {
        let mut out = String::new();
        let verdict = if self.passed() { "passed" } else { "FAILED" };
        let _ = writeln!(out, "permissions of stack {}: {verdict}", self.stack);
        for f in &self.findings {
            let _ = writeln!(out, "  finding: {f}");
        }
        for c in &self.components {
            let _ = writeln!(
                out,
                "  {} (run by {} under role {}): {} call(s), {} denied, {} undecided",
                c.component,
                c.host,
                c.role,
                c.calls,
                c.denied.iter().map(|f| f.calls).sum::<usize>(),
                c.undecided.iter().map(|f| f.calls).sum::<usize>()
            );
            for (label, list) in [("DENIED", &c.denied), ("UNDECIDED", &c.undecided)] {
                for f in list {
                    let _ = writeln!(
                        out,
                        "    {label} {} ({} call(s)): {} on {}\n      {}",
                        f.operation, f.calls, f.action, f.resource, f.why
                    );
                }
            }
            for g in &c.unused {
                let _ = writeln!(out, "    unused   {} {} on {}", g.sid, g.action, g.resources.join(", "));
            }
            for g in &c.platform {
                let _ = writeln!(
                    out,
                    "    platform {} {} (used by the hosting service, not recordable)",
                    g.sid, g.action
                );
            }
        }
        out
    }
}

/// Checks `calls` against the roles of the components `template` runs, resolved against
/// `deployed`. `artifacts` maps the template's artifact parameters to components (see
/// [`artifact_parameters`]). A `boundary`, when given, must allow every call too (the
/// permissions boundary the roles carry on AWS).
pub fn check(
    template: &Value,
    deployed: &Deployed,
    artifacts: &BTreeMap<String, String>,
    calls: &[Call],
    boundary: Option<&[Statement]>,
) -> Report {
    let (found, mut findings) = components(template, artifacts);
    let place = Place {
        partition: deployed.partition.clone(),
        region: deployed.region.clone(),
        account: deployed.account.clone(),
    };
    let recorded: BTreeSet<&str> = calls.iter().map(|c| c.component.as_str()).collect();
    for name in &recorded {
        if !found.iter().any(|c| c.name == *name) {
            findings.push(format!(
                "calls were recorded for component `{name}`, which stack {} does not run (the components it runs: {})",
                deployed.stack,
                found.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")
            ));
        }
    }
    let mut reports = Vec::new();
    for c in &found {
        let mine: Vec<&Call> = calls.iter().filter(|call| call.component == c.name).collect();
        if mine.is_empty() {
            findings.push(format!(
                "component `{}` ({} {}) made no recorded call: no test exercised it, so its permissions are unproven",
                c.name, c.host_type, c.host
            ));
        }
        let role = match &c.role {
            Ok(role) => role.clone(),
            Err(why) => {
                findings.push(format!("component `{}` ({}): {why}", c.name, c.host));
                continue;
            }
        };
        match role_statements(template, &role, deployed) {
            Ok(statements) => reports.push(check_component(c, &role, &statements, boundary, &mine, &place)),
            Err(why) => findings.push(format!("component `{}`, role {role}: {why}", c.name)),
        }
    }
    Report {
        stack: deployed.stack.clone(),
        components: reports,
        findings,
    }
}

/// What [`uncovered`] found: grants of the template's roles a permissions boundary does not
/// allow (void on AWS, where a call needs both), and those it cannot decide.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Coverage {
    pub outside: Vec<String>,
    pub undecided: Vec<String>,
}

/// Every grant of every role of `template` (each action of each Allow statement, on each of
/// its resources, with the statement's own condition values as the request's) evaluated
/// against `boundary`. This covers the roles no component's calls reach: what ECS does with
/// the execution role, EventBridge with the schedule's, Lambda with a function's logs. A
/// wildcard action or resource is taken literally, so a grant wider than the boundary shows.
pub fn uncovered(template: &Value, deployed: &Deployed, boundary: &[Statement]) -> Coverage {
    let mut out = Coverage::default();
    let roles = template
        .get("Resources")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(|(_, r)| r.get("Type").and_then(Value::as_str) == Some("AWS::IAM::Role"));
    for (role, _) in roles {
        let statements = match role_statements(template, role, deployed) {
            Ok(s) => s,
            Err(why) => {
                out.undecided.push(format!("{role}: {why}"));
                continue;
            }
        };
        for st in statements.iter().filter(|s| s.allow) {
            let resources = match (&st.resources, st.actions.not) {
                (Ok(r), false) if !r.not => r.items.clone(),
                (Err(why), _) => {
                    out.undecided.push(format!("{role} {}: {why}", st.sid));
                    continue;
                }
                _ => {
                    out.undecided.push(format!(
                        "{role} {}: NotAction or NotResource cannot be compared with a boundary",
                        st.sid
                    ));
                    continue;
                }
            };
            let mut context = Context::default();
            for keys in st.condition.iter().flat_map(|c| c.values()) {
                for (key, values) in keys {
                    context = context.with(key, values.clone());
                }
            }
            for action in &st.actions.items {
                for resource in &resources {
                    let request = Request {
                        action: action.clone(),
                        resource: resource.clone(),
                        context: context.clone(),
                    };
                    let line = |what: String| format!("{role} {} {action} on {resource}: {what}", st.sid);
                    match eval::evaluate(boundary, &request) {
                        Decision::Allow(_) => {}
                        Decision::Unknown(why) => out.undecided.push(line(why)),
                        Decision::Deny(sid) => out.outside.push(line(format!("the boundary's {sid} denies it"))),
                        Decision::Implicit(_) => out.outside.push(line("the boundary does not allow it".into())),
                    }
                }
            }
        }
    }
    out
}

fn check_component(
    c: &Component,
    role: &str,
    statements: &[Statement],
    boundary: Option<&[Statement]>,
    calls: &[&Call],
    place: &Place,
) -> ComponentReport {
    let mut denied: Vec<Finding> = Vec::new();
    let mut undecided: Vec<Finding> = Vec::new();
    let mut used: BTreeSet<(String, String)> = BTreeSet::new();
    let add = |list: &mut Vec<Finding>, call: &Call, action: &str, resource: &str, why: String| {
        let operation = format!("{} {}", call.service, call.operation);
        match list
            .iter_mut()
            .find(|f| f.operation == operation && f.action == action && f.why == why)
        {
            Some(f) => f.calls += 1,
            None => list.push(Finding {
                operation,
                action: action.to_string(),
                resource: resource.to_string(),
                calls: 1,
                why,
            }),
        }
    };
    for call in calls {
        let needs = match needs(call, place) {
            Ok(n) => n,
            Err(why) => {
                add(&mut undecided, call, "?", "?", why);
                continue;
            }
        };
        for need in needs {
            let r = &need.request;
            let note = need.note.as_deref().map(|n| format!(" ({n})")).unwrap_or_default();
            let by_role = eval::evaluate(statements, r);
            let by_boundary = boundary.map(|b| eval::evaluate(b, r));
            match (by_role, by_boundary) {
                (Decision::Allow(sids), None | Some(Decision::Allow(_))) => {
                    used.extend(sids.into_iter().map(|sid| (sid, r.action.to_ascii_lowercase())));
                }
                (Decision::Deny(sid), _) => {
                    add(
                        &mut denied,
                        call,
                        &r.action,
                        &r.resource,
                        format!("statement {sid} denies it{note}"),
                    );
                }
                (Decision::Implicit(misses), _) => {
                    let why = if misses.is_empty() {
                        format!("no statement of {role} allows {}", r.action)
                    } else {
                        format!("no statement of {role} allows it: {}", misses.join("; "))
                    };
                    add(&mut denied, call, &r.action, &r.resource, format!("{why}{note}"));
                }
                (Decision::Unknown(why), _) => {
                    add(&mut undecided, call, &r.action, &r.resource, format!("{why}{note}"))
                }
                (Decision::Allow(_), Some(Decision::Unknown(why))) => {
                    add(
                        &mut undecided,
                        call,
                        &r.action,
                        &r.resource,
                        format!("the permissions boundary: {why}{note}"),
                    );
                }
                (Decision::Allow(_), Some(Decision::Deny(sid))) => add(
                    &mut denied,
                    call,
                    &r.action,
                    &r.resource,
                    format!("the role allows it, but the permissions boundary's statement {sid} denies it{note}"),
                ),
                (Decision::Allow(_), Some(Decision::Implicit(_))) => add(
                    &mut denied,
                    call,
                    &r.action,
                    &r.resource,
                    format!("the role allows it, but the permissions boundary does not{note}"),
                ),
            }
        }
    }
    let (mut unused, mut platform) = (Vec::new(), Vec::new());
    for st in statements.iter().filter(|s| s.allow && !s.actions.not) {
        for action in &st.actions.items {
            let grant = Grant {
                sid: st.sid.clone(),
                action: action.clone(),
                resources: st.resources.as_ref().map(|r| r.items.clone()).unwrap_or_default(),
            };
            let pattern = action.to_ascii_lowercase();
            if used
                .iter()
                .any(|(sid, a)| *sid == st.sid && eval::wildcard(&pattern, a))
            {
                continue;
            }
            if c.platform
                .iter()
                .any(|p| eval::wildcard(&pattern, &p.to_ascii_lowercase()))
            {
                platform.push(grant);
            } else {
                unused.push(grant);
            }
        }
    }
    ComponentReport {
        component: c.name.clone(),
        host: c.host.clone(),
        role: role.to_string(),
        calls: calls.len(),
        denied,
        undecided,
        unused,
        platform,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcfstore::record::{TableAccess, Target};
    use serde_json::json;

    const TABLE: &str = "arn:aws:dynamodb:ap-southeast-1:123456789012:table/mcfpipe-dev-dimensions";

    fn template(statements: Value) -> Value {
        json!({
            "Parameters": {"TableArn": {"Type": "String"}, "Code": {"Type": "String"}},
            "Resources": {
                "Role": {"Type": "AWS::IAM::Role", "Properties": {"Policies": [{"PolicyName": "p", "PolicyDocument": {"Statement": statements}}]}},
                "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Code": {"S3Key": {"Ref": "Code"}}, "Role": {"Fn::GetAtt": ["Role", "Arn"]}}}
            }
        })
    }

    fn deployed() -> Deployed {
        Deployed {
            stack: "mcfpipe-dev-compute".into(),
            parameters: BTreeMap::from([("TableArn".into(), TABLE.into()), ("Code".into(), "k".into())]),
            physical_ids: BTreeMap::from([("Role".into(), "mcfpipe-dev-fn".into())]),
            ..Deployed::default()
        }
        .place_from_stack_id("arn:aws:cloudformation:ap-southeast-1:123456789012:stack/mcfpipe-dev-compute/x")
        .unwrap()
    }

    fn artifacts() -> BTreeMap<String, String> {
        BTreeMap::from([("Code".to_string(), "fn".to_string())])
    }

    fn call(component: &str, operation: &str, keys: Option<&[&str]>) -> Call {
        Call {
            component: component.into(),
            service: "DynamoDB".into(),
            operation: operation.into(),
            target: Target::Tables(vec![TableAccess {
                table: "mcfpipe-dev-dimensions".into(),
                leading_keys: keys.map(|k| k.iter().map(|s| s.to_string()).collect()),
                index: None,
                part: None,
            }]),
            status: Some(200),
        }
    }

    fn runs_statement() -> Value {
        json!([{"Sid": "Runs", "Effect": "Allow", "Action": ["dynamodb:PutItem", "dynamodb:UpdateItem"], "Resource": {"Ref": "TableArn"},
                "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["scrape_run"]}}}])
    }

    #[test]
    fn a_missing_action_is_denied_and_an_unused_one_listed() {
        let calls = [
            call("fn", "PutItem", Some(&["scrape_run"])),
            call("fn", "DeleteItem", Some(&["scrape_run"])),
            call("fn", "DeleteItem", Some(&["scrape_run"])),
            call("fn", "PutItem", Some(&["search_profile"])),
        ];
        let r = check(&template(runs_statement()), &deployed(), &artifacts(), &calls, None);
        assert!(!r.passed());
        let c = &r.components[0];
        assert_eq!((c.component.as_str(), c.role.as_str(), c.calls), ("fn", "Role", 4));
        assert_eq!(c.denied.len(), 2, "{}", r.text());
        assert_eq!(
            (c.denied[0].action.as_str(), c.denied[0].calls),
            ("dynamodb:DeleteItem", 2)
        );
        assert_eq!(c.denied[0].resource, TABLE);
        assert!(
            c.denied[0]
                .why
                .contains("no statement of Role allows dynamodb:DeleteItem")
        );
        assert!(
            c.denied[1].why.contains("dynamodb:LeadingKeys is search_profile"),
            "{}",
            r.text()
        );
        assert_eq!(r.unused(), ["fn: Runs dynamodb:UpdateItem"]);
        assert!(
            r.text().contains("DENIED DynamoDB DeleteItem (2 call(s))"),
            "{}",
            r.text()
        );
    }

    #[test]
    fn components_must_be_recorded_and_recorded_components_must_exist() {
        let r = check(
            &template(runs_statement()),
            &deployed(),
            &artifacts(),
            &[call("other", "PutItem", Some(&["scrape_run"]))],
            None,
        );
        assert_eq!(r.findings.len(), 2, "{:?}", r.findings);
        assert!(r.findings[0].contains("component `other`, which stack mcfpipe-dev-compute does not run"));
        assert!(r.findings[1].contains("`fn` (AWS::Lambda::Function Fn) made no recorded call"));
        assert!(!r.passed());
    }

    #[test]
    fn undecidable_calls_fail_the_check() {
        let calls = [call("fn", "PutItem", None), call("fn", "CreateTable", Some(&[]))];
        let r = check(&template(runs_statement()), &deployed(), &artifacts(), &calls, None);
        let c = &r.components[0];
        assert_eq!(c.undecided.len(), 2, "{}", r.text());
        assert!(c.undecided[0].why.contains("not modelled"), "{}", r.text());
        assert!(c.undecided[1].why.contains("DynamoDB CreateTable"), "{}", r.text());
        assert!(!r.passed());
    }

    #[test]
    fn grants_beyond_the_boundary_are_found() {
        let t = template(json!([
            {"Sid": "Rows", "Effect": "Allow", "Action": ["dynamodb:PutItem", "dynamodb:Scan"], "Resource": {"Ref": "TableArn"},
             "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["scrape_run"]}}},
            {"Sid": "Pass", "Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}
        ]));
        let boundary = policy_statements(
            &t,
            "boundary",
            &json!({"Statement": [
                {"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": "arn:aws:dynamodb:*:*:table/mcfpipe-dev-*",
                 "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["scrape_run", "search_profile"]}}},
                {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*", "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}}
            ]}),
            &deployed(),
        );
        let c = uncovered(&t, &deployed(), &boundary);
        assert_eq!(c.outside.len(), 1, "{c:?}");
        assert!(
            c.outside[0].starts_with("Role Rows dynamodb:Scan on arn:aws:dynamodb:"),
            "{c:?}"
        );
        assert_eq!(c.undecided.len(), 1, "{c:?}");
        assert!(c.undecided[0].contains("iam:PassedToService"), "{c:?}");
    }

    #[test]
    fn a_boundary_must_allow_too_and_platform_grants_are_not_unused() {
        let statements = json!([
            {"Sid": "Runs", "Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": {"Ref": "TableArn"}},
            {"Sid": "Logs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"}
        ]);
        let t = template(statements);
        let calls = [call("fn", "PutItem", Some(&["scrape_run"]))];
        let passed = check(&t, &deployed(), &artifacts(), &calls, None);
        assert!(passed.passed(), "{}", passed.text());
        assert!(passed.unused().is_empty(), "{:?}", passed.unused());
        assert_eq!(passed.components[0].platform.len(), 2);
        let boundary = policy_statements(
            &t,
            "boundary",
            &json!({"Statement": [{"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*"}]}),
            &deployed(),
        );
        let r = check(&t, &deployed(), &artifacts(), &calls, Some(&boundary));
        assert!(!r.passed());
        assert!(
            r.components[0].denied[0].why.contains("permissions boundary does not"),
            "{}",
            r.text()
        );
    }
}
