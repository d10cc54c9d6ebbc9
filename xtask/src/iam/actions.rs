//! What IAM evaluates for one recorded call: the action(s) of its operation, the resource ARN
//! and the condition keys we model. An operation missing from [`OPERATIONS`] is an error that
//! says to add it here, never a silent pass.

use mcfstore::record::{Call, Target};

use super::eval::{Context, Request};

/// What an operation acts on, which decides its resource ARN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum On {
    /// A DynamoDB table (one request per table of the call).
    Table,
    /// An S3 object: `arn:…:s3:::bucket/key`.
    Object,
    /// An S3 bucket: `arn:…:s3:::bucket`.
    Bucket,
    /// An SQS queue, from its URL (or name).
    Queue,
    /// The parts of a DynamoDB transaction: each part's own action on its table.
    Transaction,
    /// A DynamoDB stream by its ARN; a listing (no stream named) is evaluated against `*`.
    Stream,
    /// An SSM parameter: `arn:…:ssm:<region>:<account>:parameter/<name>`.
    Parameter,
    /// A Lambda function, by its name or ARN.
    Function,
    /// An SNS topic, by its ARN.
    Topic,
}

/// (SDK service, SDK operation) → IAM actions. The service is the SDK's name for it (the
/// `Metadata` the recorder reads). Batch operations need the single action, as the service
/// authorization reference lists them.
const OPERATIONS: &[(&str, &str, &[&str], On)] = &[
    ("DynamoDB", "GetItem", &["dynamodb:GetItem"], On::Table),
    ("DynamoDB", "PutItem", &["dynamodb:PutItem"], On::Table),
    ("DynamoDB", "UpdateItem", &["dynamodb:UpdateItem"], On::Table),
    ("DynamoDB", "DeleteItem", &["dynamodb:DeleteItem"], On::Table),
    ("DynamoDB", "Query", &["dynamodb:Query"], On::Table),
    ("DynamoDB", "Scan", &["dynamodb:Scan"], On::Table),
    ("DynamoDB", "BatchGetItem", &["dynamodb:BatchGetItem"], On::Table),
    ("DynamoDB", "BatchWriteItem", &["dynamodb:BatchWriteItem"], On::Table),
    ("DynamoDB", "DescribeTable", &["dynamodb:DescribeTable"], On::Table),
    // The actions come from the parts (`TRANSACTION_PARTS`).
    ("DynamoDB", "TransactWriteItems", &[], On::Transaction),
    ("DynamoDB", "TransactGetItems", &[], On::Transaction),
    (
        "DynamoDB Streams",
        "DescribeStream",
        &["dynamodb:DescribeStream"],
        On::Stream,
    ),
    (
        "DynamoDB Streams",
        "GetShardIterator",
        &["dynamodb:GetShardIterator"],
        On::Stream,
    ),
    ("DynamoDB Streams", "GetRecords", &["dynamodb:GetRecords"], On::Stream),
    ("DynamoDB Streams", "ListStreams", &["dynamodb:ListStreams"], On::Stream),
    ("S3", "GetObject", &["s3:GetObject"], On::Object),
    // HEAD needs the read permission of the object, not one of its own.
    ("S3", "HeadObject", &["s3:GetObject"], On::Object),
    ("S3", "PutObject", &["s3:PutObject"], On::Object),
    ("S3", "DeleteObject", &["s3:DeleteObject"], On::Object),
    ("S3", "ListObjectsV2", &["s3:ListBucket"], On::Bucket),
    ("S3", "ListObjects", &["s3:ListBucket"], On::Bucket),
    ("S3", "HeadBucket", &["s3:ListBucket"], On::Bucket),
    ("SQS", "SendMessage", &["sqs:SendMessage"], On::Queue),
    ("SQS", "SendMessageBatch", &["sqs:SendMessage"], On::Queue),
    ("SQS", "ReceiveMessage", &["sqs:ReceiveMessage"], On::Queue),
    ("SQS", "DeleteMessage", &["sqs:DeleteMessage"], On::Queue),
    ("SQS", "DeleteMessageBatch", &["sqs:DeleteMessage"], On::Queue),
    (
        "SQS",
        "ChangeMessageVisibility",
        &["sqs:ChangeMessageVisibility"],
        On::Queue,
    ),
    (
        "SQS",
        "ChangeMessageVisibilityBatch",
        &["sqs:ChangeMessageVisibility"],
        On::Queue,
    ),
    ("SQS", "GetQueueAttributes", &["sqs:GetQueueAttributes"], On::Queue),
    ("SQS", "GetQueueUrl", &["sqs:GetQueueUrl"], On::Queue),
    // A SecureString of the account's default key (alias/aws/ssm) needs no kms:Decrypt of its
    // own: that key's policy lets Parameter Store decrypt for whoever may read the parameter.
    ("SSM", "GetParameter", &["ssm:GetParameter"], On::Parameter),
    // On the path itself (`parameter/<path>` without a trailing slash), recursive or not.
    (
        "SSM",
        "GetParametersByPath",
        &["ssm:GetParametersByPath"],
        On::Parameter,
    ),
    ("Lambda", "Invoke", &["lambda:InvokeFunction"], On::Function),
    ("SNS", "Publish", &["sns:Publish"], On::Topic),
];

/// The part of a transaction → the action IAM asks for it (the service authorization
/// reference: a transaction needs the single-item action of each of its parts).
const TRANSACTION_PARTS: &[(&str, &str)] = &[
    ("Put", "dynamodb:PutItem"),
    ("Update", "dynamodb:UpdateItem"),
    ("Delete", "dynamodb:DeleteItem"),
    ("ConditionCheck", "dynamodb:ConditionCheckItem"),
    ("Get", "dynamodb:GetItem"),
];

/// The partition, region and account a call's resources live in (the deployed stack's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub partition: String,
    pub region: String,
    pub account: String,
}

/// One request IAM evaluates for a call, and why it is asked when the call alone does not say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    pub request: Request,
    pub note: Option<String>,
}

/// The requests IAM evaluates for `call`, or why the check cannot tell.
pub fn needs(call: &Call, at: &Place) -> Result<Vec<Need>, String> {
    let Some((_, _, actions, on)) = OPERATIONS
        .iter()
        .find(|(s, o, _, _)| *s == call.service && *o == call.operation)
    else {
        return Err(format!(
            "{} {}: no IAM action is known for this operation: add it to OPERATIONS in xtask/src/iam/actions.rs",
            call.service, call.operation
        ));
    };
    let p = &at.partition;
    let plain = |action: &str, resource: String, context: Context| Need {
        request: Request {
            action: action.to_string(),
            resource,
            context,
        },
        note: None,
    };
    let mut out = Vec::new();
    match (on, &call.target) {
        (On::Table | On::Transaction, Target::Tables(tables)) if !tables.is_empty() => {
            for t in tables {
                let mut arn = format!("arn:{p}:dynamodb:{}:{}:table/{}", at.region, at.account, t.table);
                if let Some(index) = &t.index {
                    arn = format!("{arn}/index/{index}");
                }
                let part;
                let actions: &[&str] = match (on, &t.part) {
                    (On::Transaction, Some(name)) => {
                        part = TRANSACTION_PARTS
                            .iter()
                            .find(|(n, _)| n == name)
                            .map(|(_, a)| *a)
                            .ok_or_else(|| {
                                format!(
                                    "{} {}: a part `{name}` has no known IAM action: add it to TRANSACTION_PARTS in xtask/src/iam/actions.rs",
                                    call.service, call.operation
                                )
                            })?;
                        std::slice::from_ref(&part)
                    }
                    (On::Transaction, None) => {
                        return Err(format!(
                            "{} {}: recorded without the kind of its parts",
                            call.service, call.operation
                        ));
                    }
                    _ => actions,
                };
                // Unknown keys stay out of the context, so a LeadingKeys condition is undecided.
                let context = match &t.leading_keys {
                    Some(keys) => Context::default().with("dynamodb:LeadingKeys", keys.clone()),
                    None => Context::default(),
                };
                out.extend(actions.iter().map(|a| plain(a, arn.clone(), context.clone())));
            }
        }
        (
            On::Object,
            Target::S3 {
                bucket, key: Some(key), ..
            },
        ) => {
            let arn = format!("arn:{p}:s3:::{bucket}/{key}");
            out.extend(actions.iter().map(|a| plain(a, arn.clone(), Context::default())));
            // S3 answers a missing key with 404 only to a caller that may list the bucket;
            // to others it says 403 AccessDenied, so that nobody learns which keys exist. The
            // listing permission is evaluated for the bucket, with no prefix in the request.
            if call.status == Some(404) && matches!(call.operation.as_str(), "GetObject" | "HeadObject") {
                out.push(Need {
                    request: Request {
                        action: "s3:ListBucket".into(),
                        resource: format!("arn:{p}:s3:::{bucket}"),
                        context: Context::default().without("s3:prefix"),
                    },
                    note: Some(format!(
                        "{} of a missing key answered 404 NoSuchKey on the emulator; AWS answers 404 only to a caller \
                         allowed s3:ListBucket on the bucket, and 403 AccessDenied to any other",
                        call.operation
                    )),
                });
            }
        }
        (On::Bucket, Target::S3 { bucket, prefix, .. }) => {
            let context = match prefix {
                Some(prefix) => Context::default().with("s3:prefix", vec![prefix.clone()]),
                None => Context::default().without("s3:prefix"),
            };
            let arn = format!("arn:{p}:s3:::{bucket}");
            out.extend(actions.iter().map(|a| plain(a, arn.clone(), context.clone())));
        }
        (On::Stream, Target::Stream { arn }) => {
            let resource = arn.clone().unwrap_or_else(|| "*".to_string());
            out.extend(actions.iter().map(|a| plain(a, resource.clone(), Context::default())));
        }
        (On::Queue, Target::Queue { url, name }) => {
            let arn = queue_arn(url.as_deref(), name.as_deref(), at)
                .ok_or_else(|| format!("{} {}: the request names no queue", call.service, call.operation))?;
            out.extend(actions.iter().map(|a| plain(a, arn.clone(), Context::default())));
        }
        (On::Parameter, Target::Parameter { name, .. }) => {
            // A name with a leading `/` is a path: the ARN has no second slash.
            let arn = format!(
                "arn:{p}:ssm:{}:{}:parameter/{}",
                at.region,
                at.account,
                name.trim_start_matches('/')
            );
            out.extend(actions.iter().map(|a| plain(a, arn.clone(), Context::default())));
        }
        (On::Function, Target::Function { name }) => {
            let arn = if name.starts_with("arn:") {
                name.clone()
            } else {
                format!("arn:{p}:lambda:{}:{}:function:{name}", at.region, at.account)
            };
            out.extend(actions.iter().map(|a| plain(a, arn.clone(), Context::default())));
        }
        (On::Topic, Target::Topic { arn }) => {
            out.extend(actions.iter().map(|a| plain(a, arn.clone(), Context::default())));
        }
        (_, Target::Unread(why)) => {
            return Err(format!(
                "{} {}: the recorder could not read the resource ({why})",
                call.service, call.operation
            ));
        }
        (_, other) => {
            return Err(format!(
                "{} {}: recorded with {other:?}, which is not the resource this operation acts on",
                call.service, call.operation
            ));
        }
    }
    Ok(out)
}

/// `arn:…:sqs:<region>:<account>:<name>` from a queue URL (`https://sqs.<region>.amazonaws.com/<account>/<name>`,
/// or an emulator's `http://127.0.0.1:PORT/<account>/<name>`), or from a bare name in `at`'s account.
fn queue_arn(url: Option<&str>, name: Option<&str>, at: &Place) -> Option<String> {
    let (account, name) = match (url, name) {
        (Some(url), _) => {
            let path = url.split("://").nth(1)?.split_once('/')?.1;
            let (account, name) = path.trim_end_matches('/').split_once('/')?;
            (account.to_string(), name.to_string())
        }
        (None, Some(name)) => (at.account.clone(), name.to_string()),
        (None, None) => return None,
    };
    Some(format!("arn:{}:sqs:{}:{account}:{name}", at.partition, at.region))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcfstore::record::TableAccess;

    fn place() -> Place {
        Place {
            partition: "aws".into(),
            region: "ap-southeast-1".into(),
            account: "123456789012".into(),
        }
    }

    fn call(service: &str, operation: &str, target: Target, status: u16) -> Call {
        Call {
            component: "c".into(),
            service: service.into(),
            operation: operation.into(),
            target,
            status: Some(status),
        }
    }

    fn s3(key: Option<&str>, prefix: Option<&str>) -> Target {
        Target::S3 {
            bucket: "b".into(),
            key: key.map(str::to_string),
            prefix: prefix.map(str::to_string),
        }
    }

    #[test]
    fn batch_operations_need_the_single_action() {
        let q = Target::Queue {
            url: Some("http://127.0.0.1:5000/123456789012/mcfpipe-local-parse".into()),
            name: None,
        };
        let n = needs(&call("SQS", "SendMessageBatch", q.clone(), 200), &place()).unwrap();
        assert_eq!(n[0].request.action, "sqs:SendMessage");
        assert_eq!(
            n[0].request.resource,
            "arn:aws:sqs:ap-southeast-1:123456789012:mcfpipe-local-parse"
        );
        let n = needs(&call("SQS", "DeleteMessageBatch", q, 200), &place()).unwrap();
        assert_eq!(n[0].request.action, "sqs:DeleteMessage");
        let n = needs(&call("S3", "ListObjectsV2", s3(None, Some("raw/")), 200), &place()).unwrap();
        assert_eq!(
            (n[0].request.action.as_str(), n[0].request.resource.as_str()),
            ("s3:ListBucket", "arn:aws:s3:::b")
        );
        let n = needs(&call("S3", "HeadObject", s3(Some("raw/x"), None), 200), &place()).unwrap();
        assert_eq!(n[0].request.action, "s3:GetObject");
    }

    #[test]
    fn a_missing_object_needs_the_listing_permission_too() {
        let n = needs(&call("S3", "GetObject", s3(Some("raw/x.json"), None), 200), &place()).unwrap();
        assert_eq!(n.len(), 1);
        let n = needs(&call("S3", "GetObject", s3(Some("raw/x.json"), None), 404), &place()).unwrap();
        assert_eq!(n.len(), 2);
        assert_eq!(n[0].request.resource, "arn:aws:s3:::b/raw/x.json");
        assert_eq!(
            (n[1].request.action.as_str(), n[1].request.resource.as_str()),
            ("s3:ListBucket", "arn:aws:s3:::b")
        );
        assert!(n[1].note.as_deref().unwrap().contains("403 AccessDenied"));
    }

    #[test]
    fn one_request_per_table_with_its_leading_keys() {
        let t = Target::Tables(vec![
            TableAccess {
                table: "posts".into(),
                leading_keys: Some(vec!["u1".into(), "u2".into()]),
                index: None,
                part: None,
            },
            TableAccess {
                table: "dims".into(),
                leading_keys: None,
                index: None,
                part: None,
            },
        ]);
        let n = needs(&call("DynamoDB", "BatchGetItem", t, 200), &place()).unwrap();
        assert_eq!(n.len(), 2);
        assert_eq!(
            n[0].request.resource,
            "arn:aws:dynamodb:ap-southeast-1:123456789012:table/posts"
        );
        assert_eq!(
            n[0].request.context,
            Context::default().with("dynamodb:LeadingKeys", vec!["u1".into(), "u2".into()])
        );
        assert_eq!(n[1].request.context, Context::default());
    }

    #[test]
    fn transactions_need_each_parts_action_and_queries_of_an_index_name_it() {
        let access = |part: &str, key: &str| TableAccess {
            table: "crm".into(),
            leading_keys: Some(vec![key.into()]),
            index: None,
            part: Some(part.into()),
        };
        let t = Target::Tables(vec![
            access("Put", "u"),
            access("Update", "v"),
            access("ConditionCheck", "w"),
        ]);
        let n = needs(&call("DynamoDB", "TransactWriteItems", t, 200), &place()).unwrap();
        let got: Vec<(&str, &str)> = n
            .iter()
            .map(|n| (n.request.action.as_str(), n.request.resource.as_str()))
            .collect();
        let crm = "arn:aws:dynamodb:ap-southeast-1:123456789012:table/crm";
        assert_eq!(
            got,
            [
                ("dynamodb:PutItem", crm),
                ("dynamodb:UpdateItem", crm),
                ("dynamodb:ConditionCheckItem", crm)
            ]
        );
        assert_eq!(
            n[0].request.context,
            Context::default().with("dynamodb:LeadingKeys", vec!["u".into()])
        );
        let e = needs(
            &call(
                "DynamoDB",
                "TransactWriteItems",
                Target::Tables(vec![access("Merge", "u")]),
                200,
            ),
            &place(),
        )
        .unwrap_err();
        assert!(e.contains("TRANSACTION_PARTS"), "{e}");
        let query = Target::Tables(vec![TableAccess {
            table: "posts".into(),
            leading_keys: None,
            index: Some("gsi1".into()),
            part: None,
        }]);
        let n = needs(&call("DynamoDB", "Query", query, 200), &place()).unwrap();
        assert_eq!(
            n[0].request.resource,
            "arn:aws:dynamodb:ap-southeast-1:123456789012:table/posts/index/gsi1"
        );
    }

    #[test]
    fn parameters_and_functions_by_name_or_path() {
        let get = |name: &str| {
            let t = Target::Parameter {
                name: name.into(),
                with_decryption: true,
            };
            needs(&call("SSM", "GetParameter", t, 200), &place()).unwrap()[0]
                .request
                .clone()
        };
        let arn = "arn:aws:ssm:ap-southeast-1:123456789012:parameter/mcfpipe/dev/google-key";
        assert_eq!(
            (
                get("/mcfpipe/dev/google-key").action.as_str(),
                get("/mcfpipe/dev/google-key").resource.as_str()
            ),
            ("ssm:GetParameter", arn)
        );
        assert_eq!(get("mcfpipe/dev/google-key").resource, arn);
        let invoke = |name: &str| {
            let t = Target::Function { name: name.into() };
            needs(&call("Lambda", "Invoke", t, 200), &place()).unwrap()[0]
                .request
                .clone()
        };
        let f = "arn:aws:lambda:ap-southeast-1:123456789012:function:mcfpipe-dev-rescore";
        assert_eq!(invoke("mcfpipe-dev-rescore").resource, f);
        assert_eq!(invoke(f).resource, f);
        assert_eq!(invoke(f).action, "lambda:InvokeFunction");
    }

    #[test]
    fn stream_reads_are_on_the_stream_and_listing_on_everything() {
        let arn = "arn:aws:dynamodb:ap-southeast-1:123456789012:table/posts/stream/2026-11-29T09:00:00.000";
        let n = needs(
            &call(
                "DynamoDB Streams",
                "GetRecords",
                Target::Stream { arn: Some(arn.into()) },
                200,
            ),
            &place(),
        )
        .unwrap();
        assert_eq!(
            (n[0].request.action.as_str(), n[0].request.resource.as_str()),
            ("dynamodb:GetRecords", arn)
        );
        let n = needs(
            &call("DynamoDB Streams", "ListStreams", Target::Stream { arn: None }, 200),
            &place(),
        )
        .unwrap();
        assert_eq!(
            (n[0].request.action.as_str(), n[0].request.resource.as_str()),
            ("dynamodb:ListStreams", "*")
        );
    }

    #[test]
    fn unknown_operations_and_unread_resources_are_errors() {
        let e = needs(&call("S3", "CopyObject", s3(Some("k"), None), 200), &place()).unwrap_err();
        assert!(e.contains("S3 CopyObject") && e.contains("actions.rs"), "{e}");
        let e = needs(
            &call("SQS", "SendMessage", Target::Unread("no body".into()), 200),
            &place(),
        )
        .unwrap_err();
        assert!(e.contains("no body"), "{e}");
        let e = needs(&call("S3", "GetObject", s3(None, None), 200), &place()).unwrap_err();
        assert!(e.contains("not the resource"), "{e}");
    }
}
