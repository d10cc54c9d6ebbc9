//! The CRM's stack deployed on moto and read back through moto's API Gateway, Lambda, Events
//! and CloudFormation APIs: the REST API has `/` and `/{proxy+}`, each with `ANY` and a Lambda
//! proxy integration to the CRM function, so every path and method of the CRM's OpenAPI
//! document (`jobcrm_lambda::openapi::document`) reaches the function, matched the way API
//! Gateway matches a request to a resource; the function names the tables and the token path
//! the crate reads; the daily expiry exists only where the config schedules it, with the input
//! `{"expire": {}}`; the role reaches the token hashes and the library only, within the
//! permissions boundary of ci/github-oidc-role.yaml.
//!
//! Where moto stops: its CloudFormation does not create `AWS::ApiGateway::Stage` (the stack
//! completes without it), so the stage `api` and its throttling are read from the deployed
//! template rather than through `get-stages` (checked there too when a later moto creates it);
//! its API Gateway never runs the Lambda behind a method, so no request goes through the API
//! here (`cargo xtask crm serve` runs the handler locally; the handler's own tests cover
//! routing); and it enforces no IAM, so the role is evaluated by `xtask::iam`.

use std::collections::BTreeMap;

use mcfpipe_e2e::{Moto, Project, aws_cli, repo_root, runtime};
use serde_json::{Value, json};
use xtask::iam::{self, Context, Decision, Deployed, Request};

const STACK: &str = "mcfpipe-local-crm";
const FUNCTION: &str = "mcfpipe-local-crm";
const RULE: &str = "mcfpipe-local-crm-expiry";
const REGION: &str = "ap-southeast-1";
const ACCOUNT: &str = "123456789012";

fn outputs(moto: &Moto) -> BTreeMap<String, String> {
    let d = aws_cli(moto, &["cloudformation", "describe-stacks", "--stack-name", STACK]);
    d["Stacks"][0]["Outputs"]
        .as_array()
        .expect("the crm stack's outputs")
        .iter()
        .map(|o| {
            (
                o["OutputKey"].as_str().unwrap().to_string(),
                o["OutputValue"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The deployed template as CloudFormation holds it.
fn deployed_template(moto: &Moto) -> Value {
    let t = aws_cli(moto, &["cloudformation", "get-template", "--stack-name", STACK]);
    match &t["TemplateBody"] {
        Value::String(text) => serde_json::from_str(text)
            .or_else(|_| serde_norway::from_str(text))
            .expect("the template body"),
        body => body.clone(),
    }
}

/// One resource of the REST API: its path and its methods with their integrations.
#[derive(Debug)]
struct Route {
    path: String,
    methods: BTreeMap<String, Value>,
}

fn routes(moto: &Moto, api: &str) -> Vec<Route> {
    let resources = aws_cli(moto, &["apigateway", "get-resources", "--rest-api-id", api]);
    let mut out = Vec::new();
    for r in resources["items"].as_array().expect("the API's resources") {
        let id = r["id"].as_str().expect("resource id");
        let mut methods = BTreeMap::new();
        for m in r["resourceMethods"]
            .as_object()
            .map(|m| m.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
        {
            let method = aws_cli(
                moto,
                &[
                    "apigateway",
                    "get-method",
                    "--rest-api-id",
                    api,
                    "--resource-id",
                    id,
                    "--http-method",
                    &m,
                ],
            );
            methods.insert(m, method);
        }
        out.push(Route {
            path: r["path"].as_str().expect("resource path").to_string(),
            methods,
        });
    }
    out
}

/// The resource API Gateway sends a request for `path` to: the resource of exactly that path,
/// else the deepest `{proxy+}` whose parent is a prefix of it (a greedy variable matches one or
/// more segments). Path variables of `routes` other than `{proxy+}` are not used by this API.
fn resource_for<'a>(routes: &'a [Route], path: &str) -> Option<&'a Route> {
    if let Some(r) = routes.iter().find(|r| r.path == path) {
        return Some(r);
    }
    routes
        .iter()
        .filter_map(|r| {
            let parent = r.path.strip_suffix("{proxy+}")?;
            let rest = path.strip_prefix(parent)?;
            (!rest.is_empty() && !rest.starts_with('/')).then_some((parent.len(), r))
        })
        .max_by_key(|(depth, _)| *depth)
        .map(|(_, r)| r)
}

/// An OpenAPI path template made concrete: `{id}` → `x1`.
fn concrete(template: &str) -> String {
    template
        .split('/')
        .map(|seg| {
            if seg.starts_with('{') && seg.ends_with('}') {
                "x1".to_string()
            } else {
                seg.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

const HTTP_METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

#[test]
fn the_deployed_rest_api_sends_every_route_of_the_openapi_document_to_the_function() {
    let moto = Moto::start();
    let p = Project::with_stacks(&["networking", "database", "artifacts", "crm"]);
    p.xtask(&moto, &["deploy", "all", "--env", "local"])
        .ok()
        .contains("crm: created");

    let out = outputs(&moto);
    let api = out["CrmApiId"].clone();
    let function_arn = out["CrmFunctionArn"].clone();
    assert_eq!(
        function_arn,
        format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{FUNCTION}")
    );
    assert_eq!(out["CrmFunctionName"], FUNCTION);
    assert_eq!(out["CrmLogGroupName"], format!("/aws/lambda/{FUNCTION}"));
    assert_eq!(
        out["CrmApiUrl"],
        format!("https://{api}.execute-api.{REGION}.amazonaws.com/api/")
    );

    // The REST API, by its name.
    let apis = aws_cli(&moto, &["apigateway", "get-rest-apis"]);
    let found: Vec<&Value> = apis["items"]
        .as_array()
        .expect("REST APIs")
        .iter()
        .filter(|a| a["name"] == FUNCTION)
        .collect();
    assert_eq!(found.len(), 1, "{apis}");
    assert_eq!(found[0]["id"], api.as_str());
    // moto 5.2 drops the endpoint configuration (`{}`) that CloudFormation passes it: read
    // from the deployed template below.

    // Two resources, `/` and `/{proxy+}`, each with ANY → the function, proxied, no authorizer
    // (the function checks the bearer token itself).
    let routes = routes(&moto, &api);
    let mut paths: Vec<&str> = routes.iter().map(|r| r.path.as_str()).collect();
    paths.sort();
    assert_eq!(paths, ["/", "/{proxy+}"], "{routes:#?}");
    let uri = format!("arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{function_arn}/invocations");
    for r in &routes {
        assert_eq!(r.methods.keys().collect::<Vec<_>>(), ["ANY"], "{r:#?}");
        let m = &r.methods["ANY"];
        assert_eq!(m["authorizationType"], "NONE", "{}: {m}", r.path);
        let i = &m["methodIntegration"];
        assert_eq!(
            (&i["type"], &i["httpMethod"], &i["uri"]),
            (&json!("AWS_PROXY"), &json!("POST"), &json!(uri)),
            "{}: {m}",
            r.path
        );
    }
    let deployments = aws_cli(&moto, &["apigateway", "get-deployments", "--rest-api-id", &api]);
    assert_eq!(deployments["items"].as_array().map(Vec::len), Some(1), "{deployments}");

    // Every path and method of the OpenAPI document reaches the function through them.
    let doc = jobcrm_lambda::openapi::document();
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")),
        "an OpenAPI 3.1 document: {}",
        doc["openapi"]
    );
    let doc_paths = doc["paths"].as_object().expect("the document's paths");
    assert!(doc_paths.contains_key("/"), "the page at `/` is in the document");
    for (template, item) in doc_paths {
        let path = concrete(template);
        let route = resource_for(&routes, &path)
            .unwrap_or_else(|| panic!("{template} ({path}) reaches no resource of the API: {routes:#?}"));
        let operations: Vec<&str> = item
            .as_object()
            .expect("a path item")
            .keys()
            .map(String::as_str)
            .filter(|k| HTTP_METHODS.contains(k))
            .collect();
        assert!(!operations.is_empty(), "{template} has no operation");
        for op in operations {
            let m = route
                .methods
                .get("ANY")
                .or_else(|| route.methods.get(&op.to_ascii_uppercase()))
                .unwrap_or_else(|| panic!("{op} {template}: no method on {}", route.path));
            assert_eq!(m["methodIntegration"]["uri"], uri.as_str(), "{op} {template}");
        }
    }
    // And nothing but the document's routes is the function's to answer (its 404): the API
    // itself has no other resource.
    assert!(resource_for(&routes, "/").is_some_and(|r| r.path == "/"));

    // API Gateway may invoke the function for this API's routes only.
    let policy = aws_cli(&moto, &["lambda", "get-policy", "--function-name", FUNCTION]);
    let policy: Value = serde_json::from_str(policy["Policy"].as_str().expect("policy text")).expect("policy JSON");
    let statements = policy["Statement"].as_array().expect("statements");
    let from_api: Vec<&Value> = statements
        .iter()
        .filter(|s| s["Principal"]["Service"] == "apigateway.amazonaws.com")
        .collect();
    assert_eq!(from_api.len(), 1, "{policy}");
    assert_eq!(
        from_api[0]["Condition"]["ArnLike"]["AWS:SourceArn"],
        format!("arn:aws:execute-api:{REGION}:{ACCOUNT}:{api}/*"),
        "{policy}"
    );

    // The stage `api`, throttled as compute.crm says (base.yaml: 20/s, bursts of 40).
    let template = deployed_template(&moto);
    assert_eq!(
        template["Resources"]["CrmApi"]["Properties"]["EndpointConfiguration"],
        json!({"Types": ["REGIONAL"]})
    );
    let stage = &template["Resources"]["CrmStage"];
    assert_eq!(stage["Type"], "AWS::ApiGateway::Stage");
    assert_eq!(stage["Properties"]["StageName"], "api");
    assert_eq!(stage["Properties"]["DeploymentId"], json!({"Ref": "CrmDeployment"}));
    let settings = &stage["Properties"]["MethodSettings"];
    assert_eq!(
        settings,
        &json!([{"ResourcePath": "/*", "HttpMethod": "*", "ThrottlingRateLimit": 20.0, "ThrottlingBurstLimit": 40}]),
    );
    let stages = aws_cli(&moto, &["apigateway", "get-stages", "--rest-api-id", &api]);
    if let Some(s) = stages["item"]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["stageName"] == "api"))
    {
        let all = &s["methodSettings"]["*/*"];
        assert_eq!(
            (&all["throttlingRateLimit"], &all["throttlingBurstLimit"]),
            (&json!(20.0), &json!(40))
        );
    }

    // The function: the tables of the database stack, the token path the crate reads, MCF.
    let conf = aws_cli(
        &moto,
        &["lambda", "get-function-configuration", "--function-name", FUNCTION],
    );
    let vars = &conf["Environment"]["Variables"];
    assert_eq!(vars["CRM_TABLE"], "mcfpipe-local-crm");
    assert_eq!(vars["DIMENSIONS_TABLE"], "mcfpipe-local-dimensions");
    assert_eq!(vars["POSTS_TABLE"], "mcfpipe-local-posts");
    let token_path = jobcrm_lambda::auth::token_path("mcfpipe", "local");
    assert_eq!(vars["TOKEN_PATH"], token_path.as_str());
    assert_eq!(vars["MCF_URL"], "https://api.mycareersfuture.gov.sg");
    assert_eq!(conf["Runtime"], "provided.al2023");
    assert_eq!(conf["Timeout"], 15);
    assert!(
        conf.get("VpcConfig")
            .is_none_or(|v| v["SubnetIds"].as_array().is_none_or(Vec::is_empty))
    );

    // No schedule on local (compute.crm.expiry_schedule: null): no rule.
    let rules = aws_cli(&moto, &["events", "list-rules", "--name-prefix", RULE]);
    assert_eq!(rules["Rules"], json!([]), "{rules}");

    role_reaches_the_token_hashes_and_the_library_within_the_boundary(&p, &moto, &token_path);

    // An environment with a schedule: the daily rule, its input, its permission.
    let local = p.read("config/local.yaml");
    assert!(local.contains("expiry_schedule: null"));
    p.write(
        "config/local.yaml",
        &local.replace("expiry_schedule: null", "expiry_schedule: \"cron(0 16 * * ? *)\""),
    );
    p.xtask(&moto, &["deploy", "crm", "--env", "local"])
        .ok()
        .contains("crm: updated");
    let rule = aws_cli(&moto, &["events", "describe-rule", "--name", RULE]);
    assert_eq!(rule["ScheduleExpression"], "cron(0 16 * * ? *)");
    assert_eq!(rule["State"], "ENABLED");
    let targets = aws_cli(&moto, &["events", "list-targets-by-rule", "--rule", RULE]);
    let targets = targets["Targets"].as_array().expect("targets");
    assert_eq!(targets.len(), 1, "{targets:?}");
    assert_eq!(targets[0]["Arn"], function_arn.as_str());
    let input: Value = serde_json::from_str(targets[0]["Input"].as_str().expect("a constant input")).expect("JSON");
    assert_eq!(input, json!({"expire": {}}));
    let policy = aws_cli(&moto, &["lambda", "get-policy", "--function-name", FUNCTION]);
    let policy: Value = serde_json::from_str(policy["Policy"].as_str().unwrap()).unwrap();
    let from_rule: Vec<&Value> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["Principal"]["Service"] == "events.amazonaws.com")
        .collect();
    assert_eq!(from_rule.len(), 1, "{policy}");
    assert_eq!(from_rule[0]["Condition"]["ArnLike"]["AWS:SourceArn"], rule["Arn"]);
}

/// The deployed role evaluated as IAM would: each user's token hash and the path of them, not
/// another parameter; the library's items of the dimensions table, not another partition's;
/// and every grant of the template within the CI bootstrap stack's boundary.
fn role_reaches_the_token_hashes_and_the_library_within_the_boundary(p: &Project, moto: &Moto, token_path: &str) {
    let s = p.session(moto);
    let (template, deployed) = runtime().block_on(async {
        let aws = s.aws().await.unwrap();
        let cfn = s.cfn(&aws);
        (
            cfn.template(STACK).await.expect("the crm template"),
            iam::deployed(&cfn, STACK).await.expect("the crm stack"),
        )
    });
    let role = iam::role_statements(&template, "CrmRole", &deployed).expect("the role's statements");
    let decide = |action: &str, resource: &str, context: Context| {
        iam::eval::evaluate(
            &role,
            &Request {
                action: action.into(),
                resource: resource.into(),
                context,
            },
        )
    };
    let allowed = |d: Decision| matches!(d, Decision::Allow(_));
    let parameter = |name: &str| format!("arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{name}");
    let hash = jobcrm_lambda::auth::parameter_name(token_path, "me");
    assert!(
        !allowed(decide("ssm:GetParameter", &parameter(&hash), Context::default())),
        "by path only: {hash}"
    );
    assert!(allowed(decide(
        "ssm:GetParametersByPath",
        &parameter(token_path.trim_end_matches('/')),
        Context::default()
    )));
    assert!(!allowed(decide(
        "ssm:GetParameter",
        &parameter("/mcfpipe/local/google-service-account"),
        Context::default()
    )));
    let dimensions = format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/mcfpipe-local-dimensions");
    let keys = |k: &str| Context::default().with("dynamodb:LeadingKeys", vec![k.to_string()]);
    assert!(allowed(decide("dynamodb:PutItem", &dimensions, keys("library"))));
    assert!(!allowed(decide("dynamodb:PutItem", &dimensions, keys("profile"))));
    let crm = format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/mcfpipe-local-crm");
    for action in [
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:Query",
        "dynamodb:GetItem",
    ] {
        assert!(allowed(decide(action, &crm, Context::default())), "{action}");
    }
    assert!(
        !allowed(decide("dynamodb:DeleteItem", &crm, Context::default())),
        "nothing is deleted"
    );
    assert!(allowed(decide(
        "dynamodb:Query",
        &format!("{crm}/index/gsi1"),
        Context::default()
    )));
    assert!(!allowed(decide("dynamodb:Scan", &crm, Context::default())));

    let text = std::fs::read_to_string(repo_root().join("ci/github-oidc-role.yaml")).expect("the CI role template");
    let ci_template: Value = serde_norway::from_str(&text).expect("YAML");
    let (id, policy) = ci_template["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(_, r)| r["Type"] == "AWS::IAM::ManagedPolicy")
        .expect("the boundary");
    let ci = Deployed {
        stack: "mcfpipe-github-local".into(),
        parameters: BTreeMap::from([
            ("Project".to_string(), "mcfpipe".to_string()),
            ("Environment".to_string(), "local".to_string()),
        ]),
        ..deployed.clone()
    };
    let boundary = iam::policy_statements(&ci_template, id, &policy["Properties"]["PolicyDocument"], &ci);
    let coverage = iam::uncovered(&template, &deployed, &boundary);
    assert_eq!(coverage.outside, Vec::<String>::new(), "{coverage:#?}");
}

/// The SSM parameter `name` as stored: its type and (decrypted) value.
fn stored(moto: &Moto, name: &str) -> (String, String, i64) {
    let p = aws_cli(moto, &["ssm", "get-parameter", "--name", name, "--with-decryption"]);
    (
        p["Parameter"]["Type"].as_str().unwrap().to_string(),
        p["Parameter"]["Value"].as_str().unwrap().to_string(),
        p["Parameter"]["Version"].as_i64().unwrap(),
    )
}

/// `crm token`: the token printed once, alone on its stdout line, and kept nowhere; its
/// SHA-256 stored as a SecureString where the function looks; run again, it rotates; `--list`
/// names the users only.
#[test]
fn crm_token_stores_only_the_hash_prints_the_token_once_and_rotates() {
    let moto = Moto::start();
    let p = Project::with_stacks(&[]);
    let path = jobcrm_lambda::auth::token_path("mcfpipe", "local");
    let me = jobcrm_lambda::auth::parameter_name(&path, "me");
    assert_eq!(me, "/mcfpipe/local/crm/tokens/me");

    p.xtask(&moto, &["crm", "token", "--list", "--env", "local"])
        .ok()
        .contains("no CRM user in local: `cargo xtask crm token --env local` makes one");

    let first = p.xtask(&moto, &["crm", "token", "--env", "local"]);
    first
        .ok()
        .contains("created the CRM token of me")
        .contains(&me)
        .contains("cargo xtask crm serve --env local");
    let lines: Vec<&str> = first
        .output
        .lines()
        .filter(|l| l.starts_with(jobcrm_lambda::auth::TOKEN_PREFIX))
        .collect();
    assert_eq!(lines.len(), 1, "{}", first.output);
    let token = lines[0].to_string();
    assert_eq!(first.output.matches(&token).count(), 1, "the token shown once");
    let hash = jobcrm_lambda::auth::token_hash(&token);
    assert!(!first.output.contains(&hash), "the hash is not shown");
    assert_eq!(stored(&moto, &me), ("SecureString".to_string(), hash, 1));

    // Rotation: a new token, the new hash in place of the old one.
    let second = p.xtask(&moto, &["crm", "token", "--env", "local", "--output", "json"]);
    second.ok();
    let lines = second.json_lines();
    let result = lines.last().expect("the result line");
    assert_eq!(result["event"], "result");
    assert_eq!((&result["user"], &result["rotated"]), (&json!("me"), &json!(true)));
    let rotated = result["token"].as_str().expect("the token, in the result").to_string();
    assert_ne!(rotated, token);
    assert_eq!(second.output.matches(&rotated).count(), 1, "{}", second.output);
    let (_, value, version) = stored(&moto, &me);
    assert_eq!((value, version), (jobcrm_lambda::auth::token_hash(&rotated), 2));

    p.xtask(&moto, &["crm", "token", "--env", "local", "--user", "ann"])
        .ok();
    let listed = p.xtask(&moto, &["crm", "token", "--list", "--env", "local", "--output", "json"]);
    listed.ok().not_contains(jobcrm_lambda::auth::TOKEN_PREFIX);
    assert_eq!(listed.json_lines().last().unwrap()["users"], json!(["ann", "me"]));

    p.xtask(&moto, &["crm", "token", "--env", "local", "--user", "../x"])
        .expect_code(1)
        .contains("`../x` is not a user name");
}
