//! IAM policy evaluation for one request: Allow and Deny statements, `Action`/`NotAction`,
//! `Resource`/`NotResource` with wildcards, and the condition operators our policies use.
//! Whatever it cannot decide (an operator it does not implement, a condition key the request
//! does not model, a part of the template it could not resolve) is [`Decision::Unknown`], never
//! a pass.
//!
//! The order is IAM's for identity policies: an explicit Deny wins, then an Allow, else the
//! implicit deny. A permissions boundary is a second policy that must also allow.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// One statement, its template expressions already resolved where they could be.
#[derive(Debug, Clone)]
pub struct Statement {
    /// `Sid`, or `<policy name>[<index>]` when the statement has none.
    pub sid: String,
    pub allow: bool,
    pub actions: Patterns,
    /// `Err` when the template's resource expression could not be resolved.
    pub resources: Result<Patterns, String>,
    /// `Err` when the condition block could not be resolved.
    pub condition: Result<BTreeMap<String, BTreeMap<String, Vec<String>>>, String>,
}

/// `Action` or `NotAction` (`Resource` or `NotResource`): the patterns and which of the two.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patterns {
    pub not: bool,
    pub items: Vec<String>,
}

/// What is asked: one action on one resource ARN, with the request's condition context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub action: String,
    pub resource: String,
    pub context: Context,
}

/// Condition keys of a request. A key in `values` is present; a key in `modelled` but not in
/// `values` is known to be absent (a Scan carries no `dynamodb:LeadingKeys`); any other key is
/// unknown to the check, so a condition on it cannot be decided.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    values: BTreeMap<String, Vec<String>>,
    modelled: BTreeSet<String>,
}

impl Context {
    /// Sets `key` (IAM condition keys are case-insensitive) to `values`; an empty list makes
    /// the key absent, as IAM treats an empty multivalued key.
    pub fn with(mut self, key: &str, values: Vec<String>) -> Context {
        let key = key.to_ascii_lowercase();
        if !values.is_empty() {
            self.values.insert(key.clone(), values);
        }
        self.modelled.insert(key);
        self
    }

    /// Declares `key` known to be absent from the request.
    pub fn without(mut self, key: &str) -> Context {
        self.modelled.insert(key.to_ascii_lowercase());
        self
    }

    fn get(&self, key: &str) -> Lookup<'_> {
        let key = key.to_ascii_lowercase();
        match self.values.get(&key) {
            Some(v) => Lookup::Present(v),
            None if self.modelled.contains(&key) => Lookup::Absent,
            None => Lookup::Unknown,
        }
    }
}

enum Lookup<'a> {
    Present(&'a [String]),
    Absent,
    Unknown,
}

/// How one policy answers one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Allowed by these statements (every Allow that matched, for the unused-permission list).
    Allow(Vec<String>),
    /// An explicit Deny matched.
    Deny(String),
    /// No statement allows it; why each candidate statement did not.
    Implicit(Vec<String>),
    /// It depends on something the check cannot evaluate.
    Unknown(String),
}

/// Evaluates `request` against `statements` (one policy, or all inline policies of a role).
pub fn evaluate(statements: &[Statement], request: &Request) -> Decision {
    let mut allowed = Vec::new();
    let mut unknown = None;
    let mut misses = Vec::new();
    for st in statements {
        if !action_matches(&st.actions, &request.action) {
            continue;
        }
        let outcome = match &st.resources {
            Err(why) => Match::Unknown(format!("its Resource cannot be resolved ({why})")),
            Ok(r) if !resource_matches(r, &request.resource) => Match::No(format!(
                "{}Resource {} does not cover it",
                if r.not { "Not" } else { "" },
                r.items.join(", ")
            )),
            Ok(_) => match &st.condition {
                Err(why) => Match::Unknown(format!("its Condition cannot be resolved ({why})")),
                Ok(c) => conditions(c, &request.context),
            },
        };
        match (st.allow, outcome) {
            (false, Match::Yes) => return Decision::Deny(st.sid.clone()),
            (false, Match::Unknown(why)) => {
                unknown.get_or_insert(format!("Deny statement {} may apply: {why}", st.sid));
            }
            (true, Match::Yes) => allowed.push(st.sid.clone()),
            (true, Match::Unknown(why)) => {
                unknown.get_or_insert(format!("statement {} may allow it: {why}", st.sid));
            }
            (true, Match::No(why)) => misses.push(format!("{}: {why}", st.sid)),
            (false, Match::No(_)) => {}
        }
    }
    // A Deny that cannot be decided outranks any Allow; an Allow that cannot be decided only
    // matters when nothing else allows.
    match (unknown, allowed.is_empty()) {
        (Some(why), _) if why.starts_with("Deny") => Decision::Unknown(why),
        (_, false) => Decision::Allow(allowed),
        (Some(why), true) => Decision::Unknown(why),
        (None, true) => Decision::Implicit(misses),
    }
}

enum Match {
    Yes,
    No(String),
    Unknown(String),
}

fn action_matches(p: &Patterns, action: &str) -> bool {
    // Action names are case-insensitive.
    let hit = p
        .items
        .iter()
        .any(|a| wildcard(&a.to_ascii_lowercase(), &action.to_ascii_lowercase()));
    hit != p.not
}

fn resource_matches(p: &Patterns, arn: &str) -> bool {
    let hit = p.items.iter().any(|pattern| arn_like(pattern, arn));
    hit != p.not
}

/// `*` and `?` wildcards over the whole text, case-sensitive.
pub fn wildcard(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    // Iterative glob with one backtrack point: linear in practice, no recursion.
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// ARN matching as IAM does it: the first five colon-separated parts (arn, partition, service,
/// region, account) each on their own, the rest (which may hold colons) as one, all with
/// wildcards. A pattern of `*` matches everything.
pub fn arn_like(pattern: &str, arn: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    let (p, a): (Vec<&str>, Vec<&str>) = (pattern.splitn(6, ':').collect(), arn.splitn(6, ':').collect());
    p.len() == 6 && a.len() == 6 && p.iter().zip(&a).all(|(p, a)| wildcard(p, a))
}

/// A condition block: every operator, every key of it, must hold (one of its values for each).
fn conditions(block: &BTreeMap<String, BTreeMap<String, Vec<String>>>, ctx: &Context) -> Match {
    for (operator, keys) in block {
        for (key, wanted) in keys {
            match condition(operator, key, wanted, ctx) {
                Ok(true) => {}
                Ok(false) => {
                    let got = match ctx.get(key) {
                        Lookup::Present(v) => v.join(", "),
                        _ => "absent".into(),
                    };
                    return Match::No(format!(
                        "Condition {operator} {key} = [{}] does not hold ({key} is {got})",
                        wanted.join(", ")
                    ));
                }
                Err(why) => return Match::Unknown(format!("Condition {operator} {key}: {why}")),
            }
        }
    }
    Match::Yes
}

/// One operator on one key. `Err` says why it cannot be decided.
fn condition(operator: &str, key: &str, wanted: &[String], ctx: &Context) -> Result<bool, String> {
    let (set, base) = match operator.split_once(':') {
        Some((set @ ("ForAllValues" | "ForAnyValue"), base)) => (Some(set), base),
        Some(_) => return Err(format!("operator {operator} is not one the check evaluates")),
        None => (None, operator),
    };
    let (base, if_exists) = match base.strip_suffix("IfExists") {
        Some(b) => (b, true),
        None => (base, false),
    };
    let values = match ctx.get(key) {
        Lookup::Present(v) => v,
        Lookup::Absent => &[][..],
        Lookup::Unknown => {
            return Err("the check does not know this key's value for the request (not modelled)".into());
        }
    };
    if base == "Null" {
        let want_absent = match wanted {
            [w] if w.eq_ignore_ascii_case("true") => true,
            [w] if w.eq_ignore_ascii_case("false") => false,
            _ => return Err("Null takes true or false".into()),
        };
        return Ok(values.is_empty() == want_absent);
    }
    let test = compare(base).ok_or_else(|| format!("operator {operator} is not one the check evaluates"))?;
    let one = |v: &String| test(v, wanted);
    Ok(match set {
        // IAM: ForAllValues holds for an absent or empty key (the classic pitfall), ForAnyValue
        // does not.
        Some("ForAllValues") => values.iter().all(one),
        Some(_) => values.iter().any(one),
        None if values.is_empty() => if_exists || negated(base),
        None if values.len() > 1 => {
            return Err(format!(
                "{key} has several values: a single-valued operator needs ForAllValues or ForAnyValue"
            ));
        }
        None => one(&values[0]),
    })
}

fn negated(base: &str) -> bool {
    base.contains("Not")
}

type Compare = fn(&String, &[String]) -> bool;

/// The comparison of one request value against the policy's values.
fn compare(base: &str) -> Option<Compare> {
    Some(match base {
        "StringEquals" => |v, w| w.iter().any(|w| w == v),
        "StringNotEquals" => |v, w| !w.iter().any(|w| w == v),
        "StringEqualsIgnoreCase" => |v, w| w.iter().any(|w| w.eq_ignore_ascii_case(v)),
        "StringNotEqualsIgnoreCase" => |v, w| !w.iter().any(|w| w.eq_ignore_ascii_case(v)),
        "StringLike" => |v, w| w.iter().any(|w| wildcard(w, v)),
        "StringNotLike" => |v, w| !w.iter().any(|w| wildcard(w, v)),
        // IAM documents ArnEquals and ArnLike as the same comparison.
        "ArnEquals" | "ArnLike" => |v, w| w.iter().any(|w| arn_like(w, v)),
        "ArnNotEquals" | "ArnNotLike" => |v, w| !w.iter().any(|w| arn_like(w, v)),
        "Bool" => |v, w| w.iter().any(|w| w.eq_ignore_ascii_case(v)),
        _ => return None,
    })
}

/// A resolved `Condition` block as operator → key → values (scalars become one-item lists).
pub fn condition_block(v: &Value) -> Result<BTreeMap<String, BTreeMap<String, Vec<String>>>, String> {
    let mut out = BTreeMap::new();
    let Some(ops) = v.as_object() else {
        return Err("Condition is not a mapping".into());
    };
    for (op, keys) in ops {
        let keys = keys
            .as_object()
            .ok_or_else(|| format!("Condition {op} is not a mapping of keys"))?;
        let mut entry = BTreeMap::new();
        for (key, values) in keys {
            entry.insert(key.clone(), strings(values).map_err(|e| format!("{op} {key}: {e}"))?);
        }
        out.insert(op.clone(), entry);
    }
    Ok(out)
}

/// A string or a list of strings (booleans and numbers as their text, as IAM reads them).
pub fn strings(v: &Value) -> Result<Vec<String>, String> {
    let one = |v: &Value| match v {
        Value::String(s) => Ok(s.clone()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(format!("{other} is not a string")),
    };
    match v {
        Value::Array(items) => items.iter().map(one).collect(),
        other => Ok(vec![one(other)?]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn st(sid: &str, allow: bool, actions: &[&str], resources: &[&str], condition: Value) -> Statement {
        Statement {
            sid: sid.into(),
            allow,
            actions: Patterns {
                not: false,
                items: actions.iter().map(|s| s.to_string()).collect(),
            },
            resources: Ok(Patterns {
                not: false,
                items: resources.iter().map(|s| s.to_string()).collect(),
            }),
            condition: if condition.is_null() {
                Ok(BTreeMap::new())
            } else {
                condition_block(&condition)
            },
        }
    }

    fn req(action: &str, resource: &str, context: Context) -> Request {
        Request {
            action: action.into(),
            resource: resource.into(),
            context,
        }
    }

    const TABLE: &str = "arn:aws:dynamodb:ap-southeast-1:123456789012:table/mcfpipe-dev-dimensions";

    #[test]
    fn wildcards_and_arns() {
        assert!(wildcard("raw/*", "raw/2026/x.json"));
        assert!(wildcard("a?c", "abc") && !wildcard("a?c", "ac"));
        assert!(wildcard("*", "") && wildcard("a*b*c", "aXbYbZc") && !wildcard("a*b", "ab/c"));
        assert!(!wildcard("Raw/*", "raw/x"), "case-sensitive");
        assert!(arn_like(
            "arn:aws:s3:::bucket/raw/*",
            "arn:aws:s3:::bucket/raw/a/b.json"
        ));
        assert!(!arn_like("arn:aws:s3:::bucket/raw/*", "arn:aws:s3:::bucket"));
        // The resource part may hold colons, and a wildcard there spans them.
        assert!(arn_like(
            "arn:aws:logs:ap-southeast-1:123456789012:log-group:*",
            "arn:aws:logs:ap-southeast-1:123456789012:log-group::log-stream:"
        ));
        // What AWS evaluates DescribeLogGroups against is no log group of ours.
        assert!(!arn_like(
            "arn:aws:logs:ap-southeast-1:123456789012:log-group:/aws/lambda/mcfpipe-dev-*",
            "arn:aws:logs:ap-southeast-1:123456789012:log-group::log-stream:"
        ));
        // A wildcard does not cross into another part of the ARN.
        assert!(!arn_like("arn:aws:s3*", "arn:aws:s3:::bucket"));
        assert!(arn_like("*", "anything"));
    }

    #[test]
    fn deny_wins_then_allow_then_implicit_deny() {
        let policy = [
            st("Read", true, &["s3:GetObject"], &["arn:aws:s3:::b/raw/*"], Value::Null),
            st("All", true, &["s3:*"], &["arn:aws:s3:::b/*"], Value::Null),
            st(
                "NoRejects",
                false,
                &["s3:Get*"],
                &["arn:aws:s3:::b/rejects/*"],
                Value::Null,
            ),
        ];
        let get = |key: &str| req("s3:GetObject", &format!("arn:aws:s3:::b/{key}"), Context::default());
        assert_eq!(
            evaluate(&policy, &get("raw/x")),
            Decision::Allow(vec!["Read".into(), "All".into()])
        );
        assert_eq!(evaluate(&policy, &get("rejects/x")), Decision::Deny("NoRejects".into()));
        let other = req("s3:GetObject", "arn:aws:s3:::other/raw/x", Context::default());
        match evaluate(&policy, &other) {
            Decision::Implicit(why) => assert!(why[0].starts_with("Read: Resource arn:aws:s3:::b/raw/*"), "{why:?}"),
            d => panic!("{d:?}"),
        }
        // Action names are case-insensitive.
        assert!(matches!(
            evaluate(
                &policy,
                &req("S3:getobject", "arn:aws:s3:::b/raw/x", Context::default())
            ),
            Decision::Allow(_)
        ));
    }

    #[test]
    fn not_action_and_not_resource() {
        let mut everything_but_iam = st("NotIam", true, &["iam:*"], &["*"], Value::Null);
        everything_but_iam.actions.not = true;
        assert!(matches!(
            evaluate(
                &[everything_but_iam.clone()],
                &req("s3:GetObject", "x", Context::default())
            ),
            Decision::Allow(_)
        ));
        assert!(matches!(
            evaluate(&[everything_but_iam], &req("iam:CreateRole", "x", Context::default())),
            Decision::Implicit(_)
        ));
        let mut outside = st("Outside", false, &["s3:*"], &["arn:aws:s3:::mine/*"], Value::Null);
        outside.resources.as_mut().unwrap().not = true;
        let allow = st("All", true, &["s3:*"], &["*"], Value::Null);
        let policy = [allow, outside];
        assert!(matches!(
            evaluate(&policy, &req("s3:GetObject", "arn:aws:s3:::mine/k", Context::default())),
            Decision::Allow(_)
        ));
        assert_eq!(
            evaluate(
                &policy,
                &req("s3:GetObject", "arn:aws:s3:::theirs/k", Context::default())
            ),
            Decision::Deny("Outside".into())
        );
    }

    #[test]
    fn leading_keys_for_all_values() {
        let policy = [st(
            "Runs",
            true,
            &["dynamodb:PutItem", "dynamodb:DeleteItem"],
            &[TABLE],
            json!({"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["scrape_run"]}}),
        )];
        let keys =
            |k: &[&str]| Context::default().with("dynamodb:LeadingKeys", k.iter().map(|s| s.to_string()).collect());
        assert!(matches!(
            evaluate(&policy, &req("dynamodb:PutItem", TABLE, keys(&["scrape_run"]))),
            Decision::Allow(_)
        ));
        match evaluate(&policy, &req("dynamodb:PutItem", TABLE, keys(&["search_profile"]))) {
            Decision::Implicit(why) => assert!(why[0].contains("dynamodb:LeadingKeys is search_profile"), "{why:?}"),
            d => panic!("{d:?}"),
        }
        // IAM's rule: ForAllValues holds when the key is absent (a Scan). The check does not
        // hide that hole; it reproduces it.
        assert!(matches!(
            evaluate(&policy, &req("dynamodb:PutItem", TABLE, keys(&[]))),
            Decision::Allow(_)
        ));
        // A request whose partition key the recorder could not read is not decided.
        assert!(matches!(
            evaluate(&policy, &req("dynamodb:PutItem", TABLE, Context::default())),
            Decision::Unknown(_)
        ));
        let any = [st(
            "Any",
            true,
            &["dynamodb:Query"],
            &[TABLE],
            json!({"ForAnyValue:StringEquals": {"dynamodb:LeadingKeys": ["a"]}}),
        )];
        assert!(matches!(
            evaluate(&any, &req("dynamodb:Query", TABLE, keys(&[]))),
            Decision::Implicit(_)
        ));
        assert!(matches!(
            evaluate(&any, &req("dynamodb:Query", TABLE, keys(&["b", "a"]))),
            Decision::Allow(_)
        ));
    }

    #[test]
    fn arn_string_null_and_if_exists_conditions() {
        let cluster = "arn:aws:ecs:ap-southeast-1:123456789012:cluster/mcfpipe-dev-cluster";
        let run = [st(
            "Run",
            true,
            &["ecs:RunTask"],
            &["*"],
            json!({"ArnEquals": {"ecs:cluster": cluster}}),
        )];
        let ctx = |c: &str| Context::default().with("ecs:cluster", vec![c.into()]);
        assert!(matches!(
            evaluate(&run, &req("ecs:RunTask", "t", ctx(cluster))),
            Decision::Allow(_)
        ));
        assert!(matches!(
            evaluate(&run, &req("ecs:RunTask", "t", ctx(&cluster.replace("dev", "prod")))),
            Decision::Implicit(_)
        ));

        let boundary = "arn:aws:iam::123456789012:policy/mcfpipe-dev-boundary";
        let create = [st(
            "Create",
            true,
            &["iam:CreateRole"],
            &["*"],
            json!({"StringEquals": {"iam:PermissionsBoundary": boundary}}),
        )];
        let with = |b: Option<&str>| match b {
            Some(b) => Context::default().with("iam:PermissionsBoundary", vec![b.into()]),
            None => Context::default().without("iam:PermissionsBoundary"),
        };
        assert!(matches!(
            evaluate(&create, &req("iam:CreateRole", "r", with(Some(boundary)))),
            Decision::Allow(_)
        ));
        assert!(matches!(
            evaluate(&create, &req("iam:CreateRole", "r", with(None))),
            Decision::Implicit(_)
        ));
        // A key the request does not model is undecidable, whatever the operator.
        assert!(matches!(
            evaluate(&create, &req("iam:CreateRole", "r", Context::default())),
            Decision::Unknown(_)
        ));
        let null = [st(
            "NoTag",
            true,
            &["x:Y"],
            &["*"],
            json!({"Null": {"aws:RequestTag/env": "true"}}),
        )];
        assert!(matches!(
            evaluate(
                &null,
                &req("x:Y", "r", Context::default().without("aws:RequestTag/env"))
            ),
            Decision::Allow(_)
        ));
        let if_exists = [st(
            "Pfx",
            true,
            &["s3:ListBucket"],
            &["*"],
            json!({"StringLikeIfExists": {"s3:prefix": "raw/*"}}),
        )];
        assert!(matches!(
            evaluate(
                &if_exists,
                &req("s3:ListBucket", "b", Context::default().without("s3:prefix"))
            ),
            Decision::Allow(_)
        ));
        let prefix = [st(
            "Pfx",
            true,
            &["s3:ListBucket"],
            &["*"],
            json!({"StringLike": {"s3:prefix": "raw/*"}}),
        )];
        assert!(matches!(
            evaluate(
                &prefix,
                &req("s3:ListBucket", "b", Context::default().without("s3:prefix"))
            ),
            Decision::Implicit(_)
        ));
        assert!(matches!(
            evaluate(
                &prefix,
                &req(
                    "s3:ListBucket",
                    "b",
                    Context::default().with("s3:prefix", vec!["raw/2026".into()])
                )
            ),
            Decision::Allow(_)
        ));
    }

    #[test]
    fn what_cannot_be_decided_is_unknown_not_allowed() {
        let numeric = [st(
            "N",
            true,
            &["s3:GetObject"],
            &["*"],
            json!({"NumericLessThan": {"s3:max-keys": "10"}}),
        )];
        let ctx = Context::default().with("s3:max-keys", vec!["5".into()]);
        match evaluate(&numeric, &req("s3:GetObject", "x", ctx)) {
            Decision::Unknown(why) => assert!(why.contains("NumericLessThan"), "{why}"),
            d => panic!("{d:?}"),
        }
        let mut unresolved = st("U", true, &["s3:GetObject"], &[], Value::Null);
        unresolved.resources = Err("Fn::ImportValue is not resolved".into());
        match evaluate(&[unresolved.clone()], &req("s3:GetObject", "x", Context::default())) {
            Decision::Unknown(why) => assert!(why.contains("Fn::ImportValue"), "{why}"),
            d => panic!("{d:?}"),
        }
        // Another statement's Allow decides it; an undecidable Deny does not let it through.
        let allow = st("A", true, &["s3:GetObject"], &["*"], Value::Null);
        assert!(matches!(
            evaluate(
                &[unresolved.clone(), allow.clone()],
                &req("s3:GetObject", "x", Context::default())
            ),
            Decision::Allow(_)
        ));
        let mut deny = unresolved;
        deny.allow = false;
        assert!(matches!(
            evaluate(&[allow, deny], &req("s3:GetObject", "x", Context::default())),
            Decision::Unknown(_)
        ));
    }
}
