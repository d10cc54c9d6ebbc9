//! The rendered template as the check reads it: which component runs under which role (from
//! the functions and task definitions that run our build artifacts), the roles' policies, and
//! the template expressions in them (`Ref`, `Fn::Sub`, `Fn::GetAtt`, `Fn::Join`, `Fn::If`)
//! resolved against what is deployed: the stack's parameters and its resources' physical ids.

use std::collections::BTreeMap;

use serde_json::Value;

use super::eval::{Patterns, Statement, condition_block, strings};

/// What is deployed, as far as resolving a template needs: the stack's partition, region and
/// account (from its id), its parameters, and the physical id of each of its resources.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Deployed {
    pub stack: String,
    pub partition: String,
    pub region: String,
    pub account: String,
    pub parameters: BTreeMap<String, String>,
    pub physical_ids: BTreeMap<String, String>,
}

impl Deployed {
    /// Partition, region and account from a stack id (`arn:aws:cloudformation:<region>:<account>:stack/<name>/<uuid>`).
    pub fn place_from_stack_id(mut self, stack_id: &str) -> Result<Deployed, String> {
        let parts: Vec<&str> = stack_id.splitn(6, ':').collect();
        match parts.as_slice() {
            ["arn", partition, "cloudformation", region, account, _] => {
                self.partition = partition.to_string();
                self.region = region.to_string();
                self.account = account.to_string();
                Ok(self)
            }
            _ => Err(format!("`{stack_id}` is not a CloudFormation stack ARN")),
        }
    }
}

/// A runtime component as the template runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    /// The component's name (`[package.metadata.mcfpipe] component`, the manifest's `{artifact: …}`).
    pub name: String,
    /// The logical id of the function or task definition that runs it, and its type.
    pub host: String,
    pub host_type: String,
    /// The logical id of its role, or why it has none the check can read.
    pub role: Result<String, String>,
    /// Actions the hosting service performs with the role on the component's behalf (logs,
    /// network interfaces): granted for the platform, not called by our code.
    pub platform: Vec<&'static str>,
}

const LAMBDA_LOGS: &[&str] = &["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"];
const LAMBDA_VPC: &[&str] = &[
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
];

/// The components the template runs: every Lambda function whose code, and every container
/// whose image, is a parameter the manifest fills with a build artifact (`artifacts`:
/// parameter → component). Anything that runs code the check cannot attribute is a finding.
pub fn components(template: &Value, artifacts: &BTreeMap<String, String>) -> (Vec<Component>, Vec<String>) {
    let mut out = Vec::new();
    let mut findings = Vec::new();
    let component_of = |v: Option<&Value>| -> Option<String> {
        let p = v?.get("Ref")?.as_str()?;
        artifacts.get(p).cloned()
    };
    for (id, r) in resources(template) {
        let ty = r.get("Type").and_then(Value::as_str).unwrap_or_default();
        let props = r.get("Properties").cloned().unwrap_or(Value::Null);
        match ty {
            "AWS::Lambda::Function" => {
                let code = props.get("Code");
                let Some(name) = component_of(code.and_then(|c| c.get("S3Key").or_else(|| c.get("ImageUri")))) else {
                    findings.push(format!(
                        "function {id} runs code that is not a build artifact of ours (Code is not an `{{artifact: …}}` parameter): the check cannot tell which recorded calls are its"
                    ));
                    continue;
                };
                let mut platform = LAMBDA_LOGS.to_vec();
                if props.get("VpcConfig").is_some() {
                    platform.extend(LAMBDA_VPC);
                }
                out.push(Component {
                    name,
                    host: id.clone(),
                    host_type: ty.into(),
                    role: role_id(template, props.get("Role"), "Role"),
                    platform,
                });
            }
            "AWS::ECS::TaskDefinition" => {
                let containers = props.get("ContainerDefinitions").and_then(Value::as_array);
                for c in containers.into_iter().flatten() {
                    let container = c.get("Name").and_then(Value::as_str).unwrap_or("?");
                    let Some(name) = component_of(c.get("Image")) else {
                        findings.push(format!(
                            "task definition {id}, container {container}: its image is not a build artifact of ours: the check cannot tell which recorded calls are its"
                        ));
                        continue;
                    };
                    out.push(Component {
                        name,
                        host: id.clone(),
                        host_type: ty.into(),
                        role: role_id(template, props.get("TaskRoleArn"), "TaskRoleArn")
                            .map_err(|e| format!("{e}; a container without a task role gets no AWS credentials")),
                        // ECS pulls and logs with the execution role, not the task role.
                        platform: Vec::new(),
                    });
                }
            }
            _ => {}
        }
    }
    (out, findings)
}

fn resources(template: &Value) -> impl Iterator<Item = (&String, &Value)> {
    template
        .get("Resources")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
}

/// The role a `Role`/`TaskRoleArn` property names, when it is a role of this template.
fn role_id(template: &Value, v: Option<&Value>, property: &str) -> Result<String, String> {
    let v = v.ok_or_else(|| format!("no {property}"))?;
    let id = match v.get("Fn::GetAtt") {
        Some(Value::Array(a)) if a.get(1).and_then(Value::as_str) == Some("Arn") => a.first().and_then(Value::as_str),
        Some(Value::String(s)) => s.strip_suffix(".Arn"),
        _ => None,
    }
    .ok_or_else(|| format!("{property} is {v}, not the Arn of a role of this template"))?;
    let ty = template
        .pointer(&format!("/Resources/{id}/Type"))
        .and_then(Value::as_str);
    if ty != Some("AWS::IAM::Role") {
        return Err(format!(
            "{property} names {id}, which is not an AWS::IAM::Role of this template"
        ));
    }
    Ok(id.to_string())
}

/// Every statement that applies to role `role`: its inline `Policies`, and the
/// `AWS::IAM::Policy`/`AWS::IAM::RolePolicy` resources attached to it (those whose `Condition`
/// holds for the deployed stack; an undecidable condition is an `Err`). Managed policies are
/// not in the template: their presence is an `Err` (the check cannot see what they allow).
pub fn role_statements(template: &Value, role: &str, d: &Deployed) -> Result<Vec<Statement>, String> {
    let props = template
        .pointer(&format!("/Resources/{role}/Properties"))
        .ok_or_else(|| format!("no resource {role}"))?;
    if props
        .get("ManagedPolicyArns")
        .is_some_and(|m| m.as_array().is_none_or(|a| !a.is_empty()))
    {
        return Err(format!(
            "{role} has ManagedPolicyArns, whose documents are not in the template: the check cannot evaluate them"
        ));
    }
    let r = Resolver { template, deployed: d };
    let mut out = Vec::new();
    for p in props.get("Policies").and_then(Value::as_array).into_iter().flatten() {
        out.extend(r.statements(p.get("PolicyName"), p.get("PolicyDocument")));
    }
    for (id, res) in resources(template) {
        let ty = res.get("Type").and_then(Value::as_str).unwrap_or_default();
        let Some(p) = res.get("Properties") else { continue };
        // A policy whose condition is false for the deployed stack does not exist there.
        if let Some(condition) = res.get("Condition").and_then(Value::as_str) {
            if !r.condition(condition)? {
                continue;
            }
        }
        let attached = match ty {
            "AWS::IAM::RolePolicy" => p.get("RoleName").is_some_and(|n| names_role(n, role)),
            "AWS::IAM::Policy" => p
                .get("Roles")
                .and_then(Value::as_array)
                .is_some_and(|rs| rs.iter().any(|n| names_role(n, role))),
            _ => false,
        };
        if attached {
            let name = p
                .get("PolicyName")
                .cloned()
                .unwrap_or_else(|| Value::String(id.clone()));
            out.extend(r.statements(Some(&name), p.get("PolicyDocument")));
        }
    }
    Ok(out)
}

fn names_role(v: &Value, role: &str) -> bool {
    v.get("Ref").and_then(Value::as_str) == Some(role)
}

/// The statements of a standalone policy document (a permissions boundary), resolved against
/// `d` with `template`'s parameters and resources.
pub fn policy_statements(template: &Value, name: &str, document: &Value, d: &Deployed) -> Vec<Statement> {
    Resolver { template, deployed: d }.statements(Some(&Value::String(name.into())), Some(document))
}

struct Resolver<'a> {
    template: &'a Value,
    deployed: &'a Deployed,
}

impl Resolver<'_> {
    fn statements(&self, name: Option<&Value>, document: Option<&Value>) -> Vec<Statement> {
        let name = name.and_then(Value::as_str).unwrap_or("policy").to_string();
        let list = match document.and_then(|d| d.get("Statement")) {
            Some(Value::Array(a)) => a.clone(),
            Some(one) => vec![one.clone()],
            None => Vec::new(),
        };
        list.iter()
            .enumerate()
            .map(|(i, st)| {
                let sid = st
                    .get("Sid")
                    .and_then(Value::as_str)
                    .map_or_else(|| format!("{name}[{i}]"), str::to_string);
                let patterns = |yes: &str, no: &str| -> Result<Patterns, String> {
                    let (not, v) = match (st.get(yes), st.get(no)) {
                        (Some(v), None) => (false, v),
                        (None, Some(v)) => (true, v),
                        _ => return Err(format!("needs exactly one of {yes} and {no}")),
                    };
                    let items = strings(&self.resolve(v)?)?;
                    Ok(Patterns { not, items })
                };
                // An action list that cannot be read may concern any request: it matches every
                // action, and its resources carry the reason, so each such request is undecided.
                let (actions, resources) = match patterns("Action", "NotAction") {
                    Ok(actions) => (actions, patterns("Resource", "NotResource")),
                    Err(e) => (
                        Patterns {
                            not: true,
                            items: Vec::new(),
                        },
                        Err(format!("its actions cannot be read: {e}")),
                    ),
                };
                Statement {
                    allow: st.get("Effect").and_then(Value::as_str) == Some("Allow"),
                    actions,
                    resources,
                    condition: match st.get("Condition") {
                        None => Ok(BTreeMap::new()),
                        Some(c) => self.resolve(c).and_then(|c| condition_block(&c)),
                    },
                    sid,
                }
            })
            .collect()
    }

    /// `v` with every intrinsic function replaced by its value.
    fn resolve(&self, v: &Value) -> Result<Value, String> {
        match v {
            Value::Object(map) if map.len() == 1 => {
                let (k, arg) = map.iter().next().expect("one entry");
                match k.as_str() {
                    "Ref" => self.reference(arg.as_str().ok_or("Ref takes a name")?),
                    "Fn::GetAtt" => self.get_att(arg),
                    "Fn::Sub" => self.sub(arg),
                    "Fn::Join" => self.join(arg),
                    "Fn::If" => self.fn_if(arg),
                    f if f.starts_with("Fn::") => Err(format!("{f} is not resolved by the check")),
                    _ => Ok(Value::Object([(k.clone(), self.resolve(arg)?)].into_iter().collect())),
                }
            }
            Value::Object(map) => map
                .iter()
                .map(|(k, v)| Ok((k.clone(), self.resolve(v)?)))
                .collect::<Result<serde_json::Map<_, _>, String>>()
                .map(Value::Object),
            Value::Array(items) => {
                let mut out = Vec::new();
                for item in items {
                    if item.get("Ref").and_then(Value::as_str) == Some("AWS::NoValue") {
                        continue;
                    }
                    match self.resolve(item)? {
                        // A list parameter inside a list flattens, as CloudFormation does.
                        Value::Array(inner) if item.get("Ref").is_some() => out.extend(inner),
                        other => out.push(other),
                    }
                }
                Ok(Value::Array(out))
            }
            other => Ok(other.clone()),
        }
    }

    fn reference(&self, name: &str) -> Result<Value, String> {
        let d = self.deployed;
        let s = |v: &str| Ok(Value::String(v.to_string()));
        match name {
            "AWS::Partition" => return s(&d.partition),
            "AWS::Region" => return s(&d.region),
            "AWS::AccountId" => return s(&d.account),
            "AWS::StackName" => return s(&d.stack),
            "AWS::URLSuffix" => return s("amazonaws.com"),
            _ => {}
        }
        if let Some(decl) = self.template.pointer(&format!("/Parameters/{name}")) {
            let value = d
                .parameters
                .get(name)
                .cloned()
                .or_else(|| decl.get("Default").and_then(Value::as_str).map(str::to_string))
                .ok_or_else(|| format!("parameter {name} has no value in stack {}", d.stack))?;
            let ty = decl.get("Type").and_then(Value::as_str).unwrap_or("String");
            if ty.starts_with("List<") || ty == "CommaDelimitedList" {
                return Ok(Value::Array(
                    value.split(',').map(|p| Value::String(p.trim().to_string())).collect(),
                ));
            }
            return s(&value);
        }
        if self.template.pointer(&format!("/Resources/{name}")).is_some() {
            return d
                .physical_ids
                .get(name)
                .map(|id| Value::String(id.clone()))
                .ok_or_else(|| format!("resource {name} has no physical id in stack {}", d.stack));
        }
        Err(format!("Ref {name} names nothing in the template"))
    }

    fn get_att(&self, arg: &Value) -> Result<Value, String> {
        let (id, attr) = match arg {
            Value::Array(a) => (
                a.first().and_then(Value::as_str).unwrap_or_default(),
                a.get(1).and_then(Value::as_str).unwrap_or_default(),
            ),
            Value::String(s) => s.split_once('.').unwrap_or((s, "")),
            _ => return Err("Fn::GetAtt takes [resource, attribute]".into()),
        };
        self.attribute(id, attr).map(Value::String)
    }

    /// The attributes our policies use: the `Arn` of what they name, built from its physical id
    /// the way CloudFormation's `Fn::GetAtt` returns it.
    fn attribute(&self, id: &str, attr: &str) -> Result<String, String> {
        let d = self.deployed;
        let res = self
            .template
            .pointer(&format!("/Resources/{id}"))
            .ok_or_else(|| format!("Fn::GetAtt {id}.{attr} names no resource"))?;
        let ty = res.get("Type").and_then(Value::as_str).unwrap_or_default();
        let physical = d
            .physical_ids
            .get(id)
            .ok_or_else(|| format!("resource {id} has no physical id in stack {}", d.stack))?;
        if attr != "Arn" {
            return Err(format!(
                "Fn::GetAtt {id}.{attr} is not resolved by the check (only Arn)"
            ));
        }
        if physical.starts_with("arn:") {
            return Ok(physical.clone());
        }
        let (p, r, a) = (&d.partition, &d.region, &d.account);
        Ok(match ty {
            "AWS::IAM::Role" => {
                let path = res.pointer("/Properties/Path").and_then(Value::as_str).unwrap_or("/");
                format!("arn:{p}:iam::{a}:role{path}{physical}")
            }
            "AWS::Logs::LogGroup" => format!("arn:{p}:logs:{r}:{a}:log-group:{physical}:*"),
            "AWS::ECS::Cluster" => format!("arn:{p}:ecs:{r}:{a}:cluster/{physical}"),
            "AWS::DynamoDB::Table" => format!("arn:{p}:dynamodb:{r}:{a}:table/{physical}"),
            "AWS::S3::Bucket" => format!("arn:{p}:s3:::{physical}"),
            "AWS::Lambda::Function" => format!("arn:{p}:lambda:{r}:{a}:function:{physical}"),
            "AWS::SQS::Queue" => {
                let name = physical.rsplit('/').next().unwrap_or(physical);
                format!("arn:{p}:sqs:{r}:{a}:{name}")
            }
            _ => return Err(format!("Fn::GetAtt {id}.Arn of a {ty} is not resolved by the check")),
        })
    }

    fn sub(&self, arg: &Value) -> Result<Value, String> {
        let (text, vars) = match arg {
            Value::String(s) => (s.as_str(), None),
            Value::Array(a) => (
                a.first().and_then(Value::as_str).ok_or("Fn::Sub takes a string")?,
                a.get(1).and_then(Value::as_object),
            ),
            _ => return Err("Fn::Sub takes a string or [string, variables]".into()),
        };
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| format!("Fn::Sub `{text}`: unclosed ${{"))?;
            let var = after[..end].trim();
            if let Some(literal) = var.strip_prefix('!') {
                out.push_str(&format!("${{{literal}}}"));
            } else {
                let value = match vars.and_then(|m| m.get(var)) {
                    Some(v) => self.resolve(v)?,
                    None => match var.split_once('.') {
                        Some((id, attr)) => Value::String(self.attribute(id, attr)?),
                        None => self.reference(var)?,
                    },
                };
                out.push_str(
                    value
                        .as_str()
                        .ok_or_else(|| format!("Fn::Sub `{text}`: ${{{var}}} is not a string"))?,
                );
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(Value::String(out))
    }

    fn join(&self, arg: &Value) -> Result<Value, String> {
        let (Some(delim), Some(items)) = (
            arg.get(0).and_then(Value::as_str),
            arg.get(1).map(|v| self.resolve(v)).transpose()?,
        ) else {
            return Err("Fn::Join takes [delimiter, list]".into());
        };
        Ok(Value::String(strings(&items)?.join(delim)))
    }

    fn fn_if(&self, arg: &Value) -> Result<Value, String> {
        let name = arg
            .get(0)
            .and_then(Value::as_str)
            .ok_or("Fn::If takes [condition, then, else]")?;
        let branch = if self.condition(name)? { 1 } else { 2 };
        self.resolve(arg.get(branch).ok_or("Fn::If takes [condition, then, else]")?)
    }

    fn condition(&self, name: &str) -> Result<bool, String> {
        let expr = self
            .template
            .pointer(&format!("/Conditions/{name}"))
            .ok_or_else(|| format!("no condition {name}"))?;
        self.truth(expr)
    }

    fn truth(&self, expr: &Value) -> Result<bool, String> {
        let Some((k, arg)) = expr.as_object().and_then(|m| m.iter().next()) else {
            return Err(format!("condition {expr} is not an expression"));
        };
        let args = || arg.as_array().cloned().unwrap_or_default();
        match k.as_str() {
            "Fn::Equals" => {
                let a = args();
                let (Some(x), Some(y)) = (a.first(), a.get(1)) else {
                    return Err("Fn::Equals takes two values".into());
                };
                Ok(self.resolve(x)? == self.resolve(y)?)
            }
            "Fn::Not" => Ok(!self.truth(args().first().ok_or("Fn::Not takes one condition")?)?),
            "Fn::And" => args().iter().try_fold(true, |acc, c| Ok(acc && self.truth(c)?)),
            "Fn::Or" => args().iter().try_fold(false, |acc, c| Ok(acc || self.truth(c)?)),
            "Condition" => self.condition(arg.as_str().ok_or("Condition takes a name")?),
            other => Err(format!("{other} in a condition is not resolved by the check")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployed() -> Deployed {
        Deployed {
            stack: "mcfpipe-dev-compute".into(),
            parameters: BTreeMap::from([
                (
                    "TableArn".into(),
                    "arn:aws:dynamodb:ap-southeast-1:123456789012:table/t".into(),
                ),
                ("BucketArn".into(), "arn:aws:s3:::b".into()),
                ("Subnets".into(), "subnet-1,subnet-2".into()),
                ("Code".into(), "lambda/fn/abc.zip".into()),
            ]),
            physical_ids: BTreeMap::from([
                ("Logs".into(), "/aws/lambda/mcfpipe-dev-fn".into()),
                ("Role".into(), "mcfpipe-dev-fn".into()),
                ("Cluster".into(), "mcfpipe-dev-cluster".into()),
            ]),
            ..Deployed::default()
        }
        .place_from_stack_id("arn:aws:cloudformation:ap-southeast-1:123456789012:stack/mcfpipe-dev-compute/x")
        .unwrap()
    }

    fn template() -> Value {
        json!({
            "Parameters": {
                "TableArn": {"Type": "String"}, "BucketArn": {"Type": "String"},
                "Subnets": {"Type": "List<AWS::EC2::Subnet::Id>"}, "Code": {"Type": "String"},
                "Env": {"Type": "String", "Default": "dev"}
            },
            "Conditions": {"IsDev": {"Fn::Equals": [{"Ref": "Env"}, "dev"]}},
            "Resources": {
                "Logs": {"Type": "AWS::Logs::LogGroup"},
                "Cluster": {"Type": "AWS::ECS::Cluster"},
                "Role": {"Type": "AWS::IAM::Role", "Properties": {"Policies": [{"PolicyName": "p", "PolicyDocument": {"Statement": [
                    {"Sid": "Rows", "Effect": "Allow", "Action": ["dynamodb:GetItem"], "Resource": {"Ref": "TableArn"},
                     "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["k"]}}},
                    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": {"Fn::Sub": "${BucketArn}/raw/*"}},
                    {"Effect": "Deny", "NotAction": "logs:*", "Resource": [{"Fn::GetAtt": ["Logs", "Arn"]}, {"Fn::Sub": "${Cluster.Arn}"}]},
                    {"Effect": "Allow", "Action": "x:Y", "Resource": {"Fn::ImportValue": "elsewhere"}},
                    {"Effect": "Allow", "Action": "x:Z", "Resource": {"Fn::If": ["IsDev", {"Fn::Join": ["", ["a", "-", {"Ref": "Env"}]]}, "b"]}}
                ]}}]}},
                "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Code": {"S3Key": {"Ref": "Code"}},
                       "Role": {"Fn::GetAtt": ["Role", "Arn"]}, "VpcConfig": {}}},
                "Inline": {"Type": "AWS::Lambda::Function", "Properties": {"Code": {"ZipFile": "x"}, "Role": {"Fn::GetAtt": ["Role", "Arn"]}}},
                "Task": {"Type": "AWS::ECS::TaskDefinition", "Properties": {"ContainerDefinitions": [{"Name": "c", "Image": {"Ref": "Image"}}]}}
            }
        })
    }

    #[test]
    fn a_role_policy_counts_only_where_its_condition_holds() {
        let mut t = template();
        let policy = |condition: &str, sid: &str| {
            json!({"Type": "AWS::IAM::RolePolicy", "Condition": condition, "Properties": {
                "RoleName": {"Ref": "Role"}, "PolicyName": sid,
                "PolicyDocument": {"Statement": [{"Sid": sid, "Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "*"}]}}})
        };
        t["Conditions"]["IsProd"] = json!({"Fn::Equals": [{"Ref": "Env"}, "prod"]});
        t["Resources"]["OnDev"] = policy("IsDev", "OnDev");
        t["Resources"]["OnProd"] = policy("IsProd", "OnProd");
        let st = role_statements(&t, "Role", &deployed()).unwrap();
        let sids: Vec<&str> = st.iter().map(|s| s.sid.as_str()).collect();
        assert!(sids.contains(&"OnDev") && !sids.contains(&"OnProd"), "{sids:?}");
        t["Resources"]["OnProd"]["Condition"] = json!("NoSuchCondition");
        assert!(
            role_statements(&t, "Role", &deployed())
                .unwrap_err()
                .contains("NoSuchCondition")
        );
    }

    #[test]
    fn statements_resolve_against_the_deployed_stack() {
        let st = role_statements(&template(), "Role", &deployed()).unwrap();
        assert_eq!(st.len(), 5);
        assert_eq!(st[0].sid, "Rows");
        assert_eq!(
            st[0].resources.as_ref().unwrap().items,
            ["arn:aws:dynamodb:ap-southeast-1:123456789012:table/t"]
        );
        assert_eq!(
            st[0].condition.as_ref().unwrap()["ForAllValues:StringEquals"]["dynamodb:LeadingKeys"],
            ["k"]
        );
        assert_eq!(st[1].sid, "p[1]");
        assert_eq!(st[1].resources.as_ref().unwrap().items, ["arn:aws:s3:::b/raw/*"]);
        assert!(!st[2].allow && st[2].actions.not);
        assert_eq!(
            st[2].resources.as_ref().unwrap().items,
            [
                "arn:aws:logs:ap-southeast-1:123456789012:log-group:/aws/lambda/mcfpipe-dev-fn:*",
                "arn:aws:ecs:ap-southeast-1:123456789012:cluster/mcfpipe-dev-cluster"
            ]
        );
        assert!(st[3].resources.as_ref().unwrap_err().contains("Fn::ImportValue"));
        assert_eq!(st[4].resources.as_ref().unwrap().items, ["a-dev"]);
    }

    #[test]
    fn components_follow_artifact_parameters_to_their_roles() {
        let artifacts = BTreeMap::from([
            ("Code".to_string(), "fn".to_string()),
            ("Image".to_string(), "img".to_string()),
        ]);
        let (c, findings) = components(&template(), &artifacts);
        assert_eq!(c.len(), 2, "{c:?}");
        assert_eq!((c[0].name.as_str(), c[0].host.as_str()), ("fn", "Fn"));
        assert_eq!(c[0].role, Ok("Role".into()));
        assert!(c[0].platform.contains(&"ec2:CreateNetworkInterface"));
        assert_eq!(c[1].name, "img");
        assert!(
            c[1].role.as_ref().unwrap_err().contains("no TaskRoleArn"),
            "{:?}",
            c[1].role
        );
        assert_eq!(findings.len(), 1);
        assert!(findings[0].contains("function Inline"), "{findings:?}");
    }

    #[test]
    fn list_parameters_and_unknown_references() {
        let r = Resolver {
            template: &template(),
            deployed: &deployed(),
        };
        assert_eq!(
            r.resolve(&json!([{"Ref": "Subnets"}, "x"])).unwrap(),
            json!(["subnet-1", "subnet-2", "x"])
        );
        assert!(r.resolve(&json!({"Ref": "Nope"})).unwrap_err().contains("Nope"));
        assert!(
            r.resolve(&json!({"Fn::GetAtt": ["Logs", "Name"]}))
                .unwrap_err()
                .contains("only Arn")
        );
        assert_eq!(
            r.resolve(&json!({"Fn::Sub": "${!Literal}-${AWS::Region}"})).unwrap(),
            json!("${Literal}-ap-southeast-1")
        );
    }
}
