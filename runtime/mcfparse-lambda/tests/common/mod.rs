//! A moto server with the real database layer deployed into it (the deployer's own
//! `deploy database --env local`), the parser's handler pointed at it, and the MCF captures
//! as raw documents.
#![allow(dead_code)] // each test binary uses a different part of this module

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_sqs::types::{QueueAttributeName, SendMessageBatchRequestEntry};
use bytes::Bytes;
use mcfcore::Post;
use mcfcore::layout::{ParseMessage, raw_key};
use mcfparse_lambda::{DrainOptions, DrainSummary, Handler, drain};
use mcfpipe_e2e::{Moto, Project, runtime};
use mcfstore::{Aws, PostStore, RawStore};
use tokio::runtime::Runtime;

pub const POSTS: &str = "mcfpipe-local-posts";
pub const BUCKET: &str = "mcfpipe-local-data-123456789012-ap-southeast-1";
pub const QUEUE: &str = "mcfpipe-local-parse";
pub const DLQ: &str = "mcfpipe-local-parse-dlq";
pub const DAY: &str = "2026-11-28";
pub const DETAIL_UUID: &str = "76d3310ae51348c561935cb2472f2883";
pub const PAGE_UUID: &str = "5624187c437fddd00296eecc783ed4cd";

pub const SEARCH: &[u8] = include_bytes!("../../../../tests/fixtures/mcf/api/search_page0_limit100.json");
pub const DETAIL: &[u8] =
    include_bytes!("../../../../tests/fixtures/mcf/api/job_76d3310ae51348c561935cb2472f2883.json");
pub const PAGE: &[u8] =
    include_bytes!("../../../../tests/fixtures/mcf/html/job_page_5624187c437fddd00296eecc783ed4cd.html");

/// The captures as the scraper would store them: the job detail, each search item as a
/// document of its own, and the rendered job page.
pub fn documents() -> Vec<(ParseMessage, Bytes)> {
    let mut docs = vec![document(DETAIL_UUID, "json", Bytes::from_static(DETAIL))];
    let search: serde_json::Value = serde_json::from_slice(SEARCH).expect("search capture is JSON");
    for item in search["results"].as_array().expect("results") {
        let uuid = item["uuid"].as_str().expect("uuid");
        let bytes = serde_json::to_vec(item).expect("serialise item");
        docs.push(document(uuid, "json", Bytes::from(bytes)));
    }
    docs.push(document(PAGE_UUID, "html", Bytes::from_static(PAGE)));
    docs
}

pub fn document(uuid: &str, extension: &str, bytes: Bytes) -> (ParseMessage, Bytes) {
    let message = ParseMessage {
        uuid: uuid.into(),
        key: raw_key(DAY, uuid, extension),
    };
    (message, bytes)
}

/// The job detail with `edit` applied to its JSON.
pub fn detail_with(edit: impl FnOnce(&mut serde_json::Value)) -> Bytes {
    let mut value: serde_json::Value = serde_json::from_slice(DETAIL).expect("detail capture is JSON");
    edit(&mut value);
    Bytes::from(serde_json::to_vec(&value).expect("serialise"))
}

pub struct Local {
    pub moto: Moto,
    _project: Project,
    pub rt: Runtime,
    pub aws: Aws,
    pub handler: Handler,
    pub sqs: aws_sdk_sqs::Client,
    pub queue_url: String,
    pub dlq_url: String,
}

impl Local {
    /// moto on a free port, with the local environment's database layer deployed.
    pub fn start() -> Local {
        let moto = Moto::start();
        let project = Project::copy();
        project.xtask(&moto, &["deploy", "database", "--env", "local"]).ok();
        let aws = Aws::from_sdk(moto.sdk());
        let rt = runtime();
        let sqs = aws.sqs();
        let url = |name: &str| {
            rt.block_on(sqs.get_queue_url().queue_name(name).send())
                .unwrap_or_else(|e| panic!("queue {name}: {e:?}"))
                .queue_url
                .expect("queue url")
        };
        let (queue_url, dlq_url) = (url(QUEUE), url(DLQ));
        let handler = Local::handler_for(&aws, POSTS);
        Local {
            moto,
            _project: project,
            rt,
            aws,
            handler,
            sqs,
            queue_url,
            dlq_url,
        }
    }

    fn handler_for(aws: &Aws, table: &str) -> Handler {
        Handler::new(PostStore::new(aws.dynamodb(), table), RawStore::new(aws.s3(), BUCKET))
    }

    /// A handler whose posts table does not exist: every write fails as a misconfigured
    /// function's would (DynamoDB's ResourceNotFoundException), a transient failure.
    pub fn handler_with_table(&self, table: &str) -> Handler {
        Local::handler_for(&self.aws, table)
    }

    pub fn put_raw(&self, key: &str, bytes: &Bytes) {
        self.rt
            .block_on(self.handler.raw().put(key, bytes.clone()))
            .unwrap_or_else(|e| panic!("{e}"));
    }

    pub fn put_documents(&self, docs: &[(ParseMessage, Bytes)]) {
        for (message, bytes) in docs {
            self.put_raw(&message.key, bytes);
        }
    }

    pub fn send(&self, messages: &[&ParseMessage]) {
        let bodies: Vec<String> = messages
            .iter()
            .map(|m| serde_json::to_string(m).expect("message JSON"))
            .collect();
        self.send_bodies(&bodies);
    }

    /// Sends raw message bodies, 10 per SendMessageBatch; returns their message ids.
    pub fn send_bodies(&self, bodies: &[String]) -> Vec<String> {
        let mut ids = Vec::new();
        for chunk in bodies.chunks(10) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, body)| {
                    SendMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .message_body(body)
                        .build()
                        .expect("entry")
                })
                .collect();
            let sent = self
                .rt
                .block_on(
                    self.sqs
                        .send_message_batch()
                        .queue_url(&self.queue_url)
                        .set_entries(Some(entries))
                        .send(),
                )
                .expect("SendMessageBatch");
            assert!(sent.failed.is_empty(), "{:?}", sent.failed);
            ids.extend(sent.successful.iter().map(|s| s.message_id.clone()));
        }
        ids
    }

    pub fn drain(&self, handler: &Handler, options: &DrainOptions) -> DrainSummary {
        self.rt
            .block_on(drain(&self.sqs, &self.queue_url, handler, options))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// (visible, in flight) messages of a queue.
    pub fn queue_counts(&self, url: &str) -> (u32, u32) {
        let out = self
            .rt
            .block_on(
                self.sqs
                    .get_queue_attributes()
                    .queue_url(url)
                    .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
                    .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
                    .send(),
            )
            .expect("GetQueueAttributes");
        let attributes = out.attributes.unwrap_or_default();
        let count = |name| {
            attributes
                .get(&name)
                .and_then(|v| v.parse().ok())
                .expect("count attribute")
        };
        (
            count(QueueAttributeName::ApproximateNumberOfMessages),
            count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
        )
    }

    pub fn get(&self, uuid: &str) -> Option<Post> {
        self.rt
            .block_on(self.handler.posts().get(uuid))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Every item of the posts table, by `pk`.
    pub fn items(&self) -> HashMap<String, HashMap<String, AttributeValue>> {
        let client = self.aws.dynamodb();
        let out = self.rt.block_on(client.scan().table_name(POSTS).send()).expect("Scan");
        assert!(out.last_evaluated_key.is_none(), "one page is enough for these tests");
        out.items
            .unwrap_or_default()
            .into_iter()
            .map(|item| (s(&item, "pk"), item))
            .collect()
    }

    pub fn object(&self, key: &str) -> Option<Bytes> {
        self.rt
            .block_on(self.handler.raw().get(key))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    pub fn keys_under(&self, prefix: &str) -> Vec<String> {
        let out = self
            .rt
            .block_on(self.aws.s3().list_objects_v2().bucket(BUCKET).prefix(prefix).send())
            .expect("ListObjectsV2");
        let mut keys: Vec<String> = out.contents().iter().filter_map(|o| o.key.clone()).collect();
        keys.sort();
        keys
    }
}

/// A string attribute of an item ("" when absent).
pub fn s(item: &HashMap<String, AttributeValue>, name: &str) -> String {
    match item.get(name) {
        Some(AttributeValue::S(v)) => v.clone(),
        Some(AttributeValue::N(v)) => v.clone(),
        _ => String::new(),
    }
}
