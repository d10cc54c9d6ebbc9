//! A record of the AWS calls a runtime component makes, for checking them against the policies
//! of the role it runs under (the deployer's `iam` check; docs/permissions.md).
//!
//! The emulator answers every call whatever a role allows, so the tests record what each
//! component asks instead: an SDK interceptor on every client of a connection made with
//! [`Aws::recording`](crate::Aws::recording) notes the service, the operation, the resource
//! (DynamoDB tables with the partition keys of the items, the index a request reads and the kind
//! of each part of a transaction; DynamoDB streams; S3 bucket and key; SQS queue; SSM parameter; Lambda function) and the HTTP
//! status of the answer. A connection without a recorder has no interceptor at all.

use std::sync::{Arc, Mutex, PoisonError};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, Metadata};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use serde::Serialize;
use serde_json::Value;

/// Where the calls go: shared by every connection it is attached to, each with its own
/// component label. Cloning shares the record.
#[derive(Clone, Debug, Default)]
pub struct Recorder {
    calls: Arc<Mutex<Vec<Call>>>,
}

impl Recorder {
    pub fn new() -> Recorder {
        Recorder::default()
    }

    /// Every call recorded so far, in the order they finished.
    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn push(&self, call: Call) {
        self.calls.lock().unwrap_or_else(PoisonError::into_inner).push(call);
    }
}

/// One AWS call (after its retries).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Call {
    /// The label of the connection that made it: the component's name.
    pub component: String,
    /// The SDK's service name: `DynamoDB`, `S3`, `SQS`.
    pub service: String,
    /// The SDK's operation name: `GetItem`, `SendMessageBatch`.
    pub operation: String,
    pub target: Target,
    /// The HTTP status of the last answer; `None` when no answer came.
    pub status: Option<u16>,
}

/// What a call acted on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// DynamoDB: every table the request names.
    Tables(Vec<TableAccess>),
    /// S3: the bucket, the key of an object operation, the prefix of a listing.
    S3 {
        bucket: String,
        key: Option<String>,
        prefix: Option<String>,
    },
    /// SQS: the queue URL, or the name `GetQueueUrl` asks for.
    Queue { url: Option<String>, name: Option<String> },
    /// DynamoDB Streams: the stream's ARN (read from `GetRecords`' shard iterator, which
    /// starts with it), or `None` for a listing (`ListStreams`, which names no stream).
    Stream { arn: Option<String> },
    /// SSM Parameter Store: the parameter, and whether the call asked for the decrypted value
    /// (a SecureString is decrypted with its KMS key on the caller's behalf).
    Parameter { name: String, with_decryption: bool },
    /// Lambda: the function the call names, as sent (a name or an ARN).
    Function { name: String },
    /// SNS: the topic a `Publish` names, by its ARN.
    Topic { arn: String },
    /// Why the recorder could not tell (a service it does not read, a body it cannot parse).
    Unread(String),
}

/// One table of a DynamoDB request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableAccess {
    pub table: String,
    /// The partition key values the request touches (IAM's `dynamodb:LeadingKeys`): empty when
    /// it names no item (Scan, DescribeTable), `None` when the recorder could not read them.
    /// Every table of ours keys its partition by `pk` ([`mcfcore::layout::PK`]).
    pub leading_keys: Option<Vec<String>>,
    /// The index a Query or Scan reads (`IndexName`): IAM evaluates those against the index's
    /// ARN, `table/<name>/index/<index>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<String>,
    /// In a transaction, the kind of its parts on this table (`Put`, `Update`, `Delete`,
    /// `ConditionCheck`, `Get`): each needs its own action.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub part: Option<String>,
}

/// The interceptor [`Aws`](crate::Aws) adds to every client of a recording connection.
#[derive(Debug)]
pub(crate) struct Interceptor {
    pub(crate) recorder: Recorder,
    pub(crate) component: Arc<str>,
}

/// What `read_before_transmit` read from the request, for `read_after_execution`.
#[derive(Debug, Clone)]
struct Pending(Target);

impl Storable for Pending {
    type Storer = StoreReplace<Self>;
}

impl Intercept for Interceptor {
    fn name(&self) -> &'static str {
        "mcfstore::record"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let target = match cfg.load::<Metadata>() {
            Some(m) => read_target(m.service(), context.request()),
            None => Target::Unread("the SDK gave no operation metadata".into()),
        };
        cfg.interceptor_state().store_put(Pending(target));
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (service, operation) = cfg
            .load::<Metadata>()
            .map(|m| (m.service().to_string(), m.name().to_string()))
            .unwrap_or_else(|| ("?".into(), "?".into()));
        let target = cfg
            .load::<Pending>()
            .map(|p| p.0.clone())
            .unwrap_or_else(|| Target::Unread("the request was never sent".into()));
        self.recorder.push(Call {
            component: self.component.to_string(),
            service,
            operation,
            target,
            status: context.response().map(|r| r.status().as_u16()),
        });
        Ok(())
    }
}

fn read_target(service: &str, request: &HttpRequest) -> Target {
    let body = || {
        request
            .body()
            .bytes()
            .and_then(|b| serde_json::from_slice::<Value>(b).ok())
            .ok_or_else(|| Target::Unread(format!("the {service} request body is not JSON")))
    };
    let read = match service {
        "DynamoDB" => body().map(|b| tables(&b)),
        "SQS" => body().map(|b| Target::Queue {
            url: b["QueueUrl"].as_str().map(str::to_string),
            name: b["QueueName"].as_str().map(str::to_string),
        }),
        "S3" => Ok(s3_target(request.uri(), request.headers().get("host"))),
        "DynamoDB Streams" => body().map(|b| stream(&b)),
        // GetParameter names a parameter; GetParametersByPath a path (IAM's resource too).
        "SSM" => body().and_then(|b| match b["Name"].as_str().or(b["Path"].as_str()) {
            Some(name) => Ok(Target::Parameter {
                name: name.to_string(),
                with_decryption: b["WithDecryption"].as_bool().unwrap_or(false),
            }),
            None => Err(Target::Unread("the SSM request names no parameter".into())),
        }),
        "Lambda" => function_target(request.uri()),
        "SNS" => topic_target(request.body().bytes().unwrap_or_default()),
        other => Err(Target::Unread(format!("the recorder does not read {other} requests"))),
    };
    read.unwrap_or_else(|unread| unread)
}

/// The tables of a DynamoDB request and the partition keys of the items it names.
fn tables(body: &Value) -> Target {
    let mut out: Vec<TableAccess> = Vec::new();
    let mut add = |table: &str, index: Option<&str>, part: Option<&str>, keys: Option<Vec<String>>| {
        let (index, part) = (index.map(str::to_string), part.map(str::to_string));
        let slot = match out
            .iter()
            .position(|t| t.table == table && t.index == index && t.part == part)
        {
            Some(i) => &mut out[i],
            None => {
                out.push(TableAccess {
                    table: table.to_string(),
                    leading_keys: Some(Vec::new()),
                    index,
                    part,
                });
                out.last_mut().expect("just pushed")
            }
        };
        // One unreadable key makes the table's keys unknown.
        slot.leading_keys = match (slot.leading_keys.take(), keys) {
            (Some(mut all), Some(keys)) => {
                for k in keys {
                    if !all.contains(&k) {
                        all.push(k);
                    }
                }
                Some(all)
            }
            _ => None,
        };
    };
    if let Some(table) = body["TableName"].as_str() {
        add(table, body["IndexName"].as_str(), None, single_request_keys(body));
    }
    // BatchGetItem: {table: {Keys: [...]}}; BatchWriteItem: {table: [{PutRequest|DeleteRequest}]}.
    for (table, request) in body["RequestItems"].as_object().into_iter().flatten() {
        let items: Vec<&Value> = match request {
            Value::Array(writes) => writes
                .iter()
                .map(|w| {
                    w.pointer("/PutRequest/Item")
                        .or_else(|| w.pointer("/DeleteRequest/Key"))
                        .unwrap_or(&Value::Null)
                })
                .collect(),
            other => other["Keys"].as_array().into_iter().flatten().collect(),
        };
        add(table, None, None, items.into_iter().map(partition_key).collect());
    }
    // TransactGetItems / TransactWriteItems: [{Get|Put|Update|Delete|ConditionCheck: {TableName, Key|Item}}].
    for entry in body["TransactItems"].as_array().into_iter().flatten() {
        for (part, op) in entry.as_object().into_iter().flatten() {
            if let Some(table) = op["TableName"].as_str() {
                add(table, None, Some(part), single_request_keys(op));
            }
        }
    }
    if out.is_empty() {
        Target::Unread("the DynamoDB request names no table".into())
    } else {
        Target::Tables(out)
    }
}

/// The stream of a DynamoDB Streams request: `StreamArn`, or the ARN a shard iterator starts
/// with (`<stream arn>|<n>|<opaque>`, on AWS and on moto alike).
fn stream(body: &Value) -> Target {
    if let Some(arn) = body["StreamArn"].as_str() {
        return Target::Stream {
            arn: Some(arn.to_string()),
        };
    }
    match body["ShardIterator"].as_str() {
        Some(iterator) => match iterator.split_once('|') {
            Some((arn, _)) if arn.starts_with("arn:") => Target::Stream {
                arn: Some(arn.to_string()),
            },
            _ => Target::Unread("the shard iterator does not start with a stream ARN".into()),
        },
        None => Target::Stream { arn: None },
    }
}

/// The partition key of a request on one table: `Key`, `Item`, or the key condition of a
/// Query. Empty when the request names no item (Scan, DescribeTable).
fn single_request_keys(body: &Value) -> Option<Vec<String>> {
    if let Some(item) = body.get("Key").or_else(|| body.get("Item")) {
        return partition_key(item).map(|k| vec![k]);
    }
    if let Some(expression) = body["KeyConditionExpression"].as_str() {
        return query_key(expression, body).map(|k| vec![k]);
    }
    if let Some(conditions) = body.get("KeyConditions") {
        let c = &conditions[mcfcore::layout::PK];
        return (c["ComparisonOperator"] == "EQ")
            .then(|| c.pointer("/AttributeValueList/0/S")?.as_str().map(str::to_string))
            .flatten()
            .map(|k| vec![k]);
    }
    Some(Vec::new())
}

fn partition_key(item: &Value) -> Option<String> {
    item.pointer(&format!("/{}/S", mcfcore::layout::PK))
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// The value the partition key is compared with in `#pk = :v AND …` (names and values through
/// the expression's attribute maps).
fn query_key(expression: &str, body: &Value) -> Option<String> {
    let upper = expression.to_ascii_uppercase();
    let mut clauses = Vec::new();
    let mut start = 0;
    while let Some(at) = upper[start..].find(" AND ") {
        clauses.push(&expression[start..start + at]);
        start += at + 5;
    }
    clauses.push(&expression[start..]);
    clauses.into_iter().find_map(|clause| {
        let clause = clause.trim().trim_start_matches('(').trim_end_matches(')');
        let (left, right) = clause.split_once('=')?;
        if left.ends_with(['<', '>', '!']) {
            return None;
        }
        let (name, value) = (left.trim(), right.trim());
        let name = match name.strip_prefix('#') {
            Some(_) => body["ExpressionAttributeNames"][name].as_str()?,
            None => name,
        };
        if name != mcfcore::layout::PK {
            return None;
        }
        body["ExpressionAttributeValues"][value]["S"]
            .as_str()
            .map(str::to_string)
    })
}

/// The function of a Lambda request: `/2015-03-31/functions/<name or ARN>/invocations` and the
/// other `/functions/<name>/…` paths.
fn function_target(uri: &str) -> Result<Target, Target> {
    let path = uri.split_once("://").map_or(uri, |(_, rest)| rest);
    let path = path.split_once('?').map_or(path, |(p, _)| p);
    path.split_once("/functions/")
        .map(|(_, rest)| rest.split('/').next().unwrap_or_default())
        .filter(|name| !name.is_empty())
        .map(|name| Target::Function {
            name: percent_decode(name),
        })
        .ok_or_else(|| Target::Unread(format!("no function in {uri}")))
}

/// The topic of an SNS request: `TopicArn` of its form body (the query protocol), or of a JSON
/// body.
fn topic_target(body: &[u8]) -> Result<Target, Target> {
    let text = String::from_utf8_lossy(body);
    let from_json = serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|b| b["TopicArn"].as_str().map(str::to_string));
    let from_form = || {
        text.split('&')
            .find_map(|pair| pair.strip_prefix("TopicArn="))
            .map(|v| percent_decode(&v.replace('+', " ")))
    };
    from_json
        .or_else(from_form)
        .filter(|arn| !arn.is_empty())
        .map(|arn| Target::Topic { arn })
        .ok_or_else(|| Target::Unread("the SNS request names no topic".into()))
}

/// Bucket, key and listing prefix from an S3 request: path style (`/bucket/key`, an emulator)
/// or virtual host (`bucket.s3.<region>.amazonaws.com/key`).
fn s3_target(uri: &str, host_header: Option<&str>) -> Target {
    let after_scheme = uri.split_once("://").map_or(uri, |(_, rest)| rest);
    let (authority, path_and_query) = after_scheme.split_once('/').unwrap_or((after_scheme, ""));
    let host = host_header.unwrap_or(authority);
    let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
    let virtual_bucket = host
        .find(".s3.")
        .or_else(|| host.find(".s3-"))
        .map(|i| host[..i].to_string());
    let (bucket, key) = match virtual_bucket {
        Some(bucket) => (bucket, path.to_string()),
        None => match path.split_once('/') {
            Some((bucket, key)) => (bucket.to_string(), key.to_string()),
            None => (path.to_string(), String::new()),
        },
    };
    if bucket.is_empty() {
        return Target::Unread(format!("no bucket in {uri}"));
    }
    let prefix = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("prefix="))
        .map(percent_decode);
    Target::S3 {
        bucket: percent_decode(&bucket),
        key: (!key.is_empty()).then(|| percent_decode(&key)),
        prefix,
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn access(table: &str, keys: Option<&[&str]>) -> TableAccess {
        TableAccess {
            table: table.into(),
            leading_keys: keys.map(|k| k.iter().map(|s| s.to_string()).collect()),
            index: None,
            part: None,
        }
    }

    fn part(table: &str, keys: &[&str], part: &str) -> TableAccess {
        TableAccess {
            part: Some(part.into()),
            ..access(table, Some(keys))
        }
    }

    #[test]
    fn dynamodb_requests_name_their_tables_and_partition_keys() {
        let get = json!({"TableName": "d", "Key": {"pk": {"S": "scrape_run"}, "sk": {"S": "CHECKPOINT"}}});
        assert_eq!(tables(&get), Target::Tables(vec![access("d", Some(&["scrape_run"]))]));
        let put = json!({"TableName": "p", "Item": {"pk": {"S": "u1"}, "title": {"S": "x"}}});
        assert_eq!(tables(&put), Target::Tables(vec![access("p", Some(&["u1"]))]));
        let query = json!({"TableName": "d", "KeyConditionExpression": "#pk = :kind AND begins_with(sk, :p)",
            "ExpressionAttributeNames": {"#pk": "pk"}, "ExpressionAttributeValues": {":kind": {"S": "search_profile"}, ":p": {"S": "a"}}});
        assert_eq!(
            tables(&query),
            Target::Tables(vec![access("d", Some(&["search_profile"]))])
        );
        let plain = json!({"TableName": "d", "KeyConditionExpression": "sk >= :s and pk = :k",
            "ExpressionAttributeValues": {":k": {"S": "k"}, ":s": {"S": "a"}}});
        assert_eq!(tables(&plain), Target::Tables(vec![access("d", Some(&["k"]))]));
        let batch = json!({"RequestItems": {"p": {"Keys": [{"pk": {"S": "u1"}, "sk": {"S": "POST"}}, {"pk": {"S": "u2"}, "sk": {"S": "POST"}}]}}});
        assert_eq!(tables(&batch), Target::Tables(vec![access("p", Some(&["u1", "u2"]))]));
        let write = json!({"RequestItems": {"p": [{"PutRequest": {"Item": {"pk": {"S": "u1"}}}}, {"DeleteRequest": {"Key": {"pk": {"S": "u1"}}}}]}});
        assert_eq!(tables(&write), Target::Tables(vec![access("p", Some(&["u1"]))]));
        let scan = json!({"TableName": "p"});
        assert_eq!(tables(&scan), Target::Tables(vec![access("p", Some(&[]))]));
        // Not read: no `pk`, or a key condition the recorder cannot follow.
        let other_key = json!({"TableName": "x", "Key": {"id": {"S": "1"}}});
        assert_eq!(tables(&other_key), Target::Tables(vec![access("x", None)]));
        let odd = json!({"TableName": "x", "KeyConditionExpression": "pk BETWEEN :a AND :b"});
        assert_eq!(tables(&odd), Target::Tables(vec![access("x", None)]));
        let transact = json!({"TransactItems": [{"Put": {"TableName": "a", "Item": {"pk": {"S": "1"}}}}, {"Delete": {"TableName": "b", "Key": {"pk": {"S": "2"}}}}]});
        assert_eq!(
            tables(&transact),
            Target::Tables(vec![part("a", &["1"], "Put"), part("b", &["2"], "Delete")])
        );
        // A job and its event: two puts on one table are one access; an update is another.
        let screen = json!({"TransactItems": [
            {"Put": {"TableName": "crm", "Item": {"pk": {"S": "u"}, "sk": {"S": "JOB#data"}}}},
            {"Put": {"TableName": "crm", "Item": {"pk": {"S": "u"}, "sk": {"S": "JOB#data#EVENT#t#000001"}}}},
            {"Update": {"TableName": "crm", "Key": {"pk": {"S": "v"}, "sk": {"S": "JOB#data"}}}}]});
        assert_eq!(
            tables(&screen),
            Target::Tables(vec![part("crm", &["u"], "Put"), part("crm", &["v"], "Update")])
        );
        // A Query of an index names it.
        let index = json!({"TableName": "p", "IndexName": "gsi1", "KeyConditionExpression": "#k = :m",
            "ExpressionAttributeNames": {"#k": "gsi1pk"}, "ExpressionAttributeValues": {":m": {"S": "POSTED#2025-05"}}});
        assert_eq!(
            tables(&index),
            Target::Tables(vec![TableAccess {
                index: Some("gsi1".into()),
                ..access("p", None)
            }])
        );
    }

    #[test]
    fn lambda_requests_name_their_function() {
        assert_eq!(
            function_target(
                "https://lambda.ap-southeast-1.amazonaws.com/2015-03-31/functions/arn%3Aaws%3Alambda%3Aap-southeast-1%3A123456789012%3Afunction%3Amcfpipe-dev-rescore/invocations"
            ),
            Ok(Target::Function {
                name: "arn:aws:lambda:ap-southeast-1:123456789012:function:mcfpipe-dev-rescore".into()
            })
        );
        assert_eq!(
            function_target("http://127.0.0.1:5000/2015-03-31/functions/f/invocations?x=1"),
            Ok(Target::Function { name: "f".into() })
        );
        assert!(function_target("http://127.0.0.1:5000/2015-03-31/functions/").is_err());
    }

    #[test]
    fn sns_requests_name_their_topic() {
        let arn = "arn:aws:sns:ap-southeast-1:123456789012:mcfpipe-dev-alerts";
        assert_eq!(
            topic_target(
                b"Action=Publish&Version=2010-03-31&TopicArn=arn%3Aaws%3Asns%3Aap-southeast-1%3A123456789012%3Amcfpipe-dev-alerts&Message=a+b"
            ),
            Ok(Target::Topic { arn: arn.into() })
        );
        assert_eq!(
            topic_target(format!("{{\"TopicArn\": \"{arn}\"}}").as_bytes()),
            Ok(Target::Topic { arn: arn.into() })
        );
        assert!(topic_target(b"Action=Publish&Message=x").is_err());
    }

    #[test]
    fn stream_requests_name_their_stream() {
        let arn =
            "arn:aws:dynamodb:ap-southeast-1:123456789012:table/mcfpipe-local-posts/stream/2026-11-29T09:00:00.000000";
        let want = Target::Stream {
            arn: Some(arn.to_string()),
        };
        assert_eq!(stream(&json!({"StreamArn": arn})), want);
        assert_eq!(stream(&json!({"StreamArn": arn, "ShardId": "shardId-1"})), want);
        assert_eq!(
            stream(&json!({"ShardIterator": format!("{arn}|1|AAAA/opaque==")})),
            want
        );
        assert_eq!(
            stream(&json!({"TableName": "mcfpipe-local-posts"})),
            Target::Stream { arn: None }
        );
        assert!(matches!(stream(&json!({"ShardIterator": "opaque"})), Target::Unread(_)));
    }

    #[test]
    fn s3_requests_by_path_and_by_virtual_host() {
        assert_eq!(
            s3_target(
                "http://127.0.0.1:5000/mcfpipe-local-data/raw/2026-01-01/a%20b.json?x-id=GetObject",
                None
            ),
            Target::S3 {
                bucket: "mcfpipe-local-data".into(),
                key: Some("raw/2026-01-01/a b.json".into()),
                prefix: None
            }
        );
        assert_eq!(
            s3_target(
                "https://mcfpipe-dev-data.s3.ap-southeast-1.amazonaws.com/rejects/x.json",
                None
            ),
            Target::S3 {
                bucket: "mcfpipe-dev-data".into(),
                key: Some("rejects/x.json".into()),
                prefix: None
            }
        );
        assert_eq!(
            s3_target("http://127.0.0.1:5000/b?list-type=2&prefix=raw%2F", None),
            Target::S3 {
                bucket: "b".into(),
                key: None,
                prefix: Some("raw/".into())
            }
        );
        assert!(matches!(s3_target("http://127.0.0.1:5000/", None), Target::Unread(_)));
    }
}
