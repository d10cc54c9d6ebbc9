//! Environment configuration: `config/base.yaml` overlaid by `config/<env>.yaml`.
//!
//! Mappings merge key by key, scalars and lists replace. The merged document is checked
//! against one schema; every error names the file and line that hold the bad key (or, for a
//! missing key, the files where it may be set) and the key path.

mod locate;
pub mod schedule;
mod validate;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_norway::{Mapping, Value};

pub use locate::LineIndex;

/// The merged, validated configuration of one environment.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub project: String,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub account_id: Option<String>,
    #[serde(default)]
    pub endpoint: Option<String>,
    pub deploy: DeployConfig,
    pub network: NetworkConfig,
    pub database: DatabaseConfig,
    pub logs: LogsConfig,
    pub notifications: NotificationsConfig,
    pub iam: IamConfig,
    pub compute: ComputeConfig,
    pub sync: SyncConfig,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// Where config sync (`cargo xtask sync`, the scheduled sync function) reads the recommender's
/// library from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyncSource {
    /// YAML/CSV files, one per table, in `sync.dir`.
    Files,
    /// The Google workbook `sync.workbook_id`, one tab per table.
    Sheets,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncConfig {
    /// What `cargo xtask sync` reads without `--from`.
    pub source: SyncSource,
    /// The files source's folder, relative to the project.
    pub dir: String,
    /// The Google workbook's id (the part of its URL between `/d/` and `/edit`).
    #[serde(default)]
    pub workbook_id: Option<String>,
    /// The SSM parameter (SecureString) holding the service-account key; null:
    /// `/<project>/<env>/google-service-account`.
    #[serde(default)]
    pub key_parameter: Option<String>,
    /// EventBridge schedule of the sync function (UTC); null: no scheduled sync.
    #[serde(default)]
    pub schedule: Option<String>,
    /// The Sheets API's base URL (a test server's, in tests). `MCFPIPE_SHEETS_URL` overrides it.
    pub sheets_url: String,
    /// The OAuth token endpoint; null: the key's own `token_uri`. `MCFPIPE_TOKEN_URL` overrides it.
    #[serde(default)]
    pub token_url: Option<String>,
}

impl SyncConfig {
    /// The SSM parameter of the service-account key.
    pub fn key_parameter(&self, project: &str, env: &str) -> String {
        self.key_parameter
            .clone()
            .unwrap_or_else(|| format!("/{project}/{env}/google-service-account"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeployMethod {
    Changeset,
    Direct,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeployConfig {
    pub method: DeployMethod,
    pub approval: bool,
    pub protected: bool,
    pub termination_protection: bool,
    pub timeout_minutes: u32,
    /// Stacks deployed (or deleted) at the same time, at most.
    pub max_parallel: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkConfig {
    pub vpc_cidr: String,
    pub availability_zones: Vec<String>,
    pub public_subnet_cidrs: Vec<String>,
    pub private_subnet_cidr: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BillingMode {
    PayPerRequest,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    pub billing_mode: BillingMode,
    pub point_in_time_recovery: bool,
    pub deletion_protection: bool,
    pub retain_data: bool,
    pub bucket_versioning: bool,
    pub raw_documents_expire_days: u32,
    pub parse_queue: QueueConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueConfig {
    pub visibility_timeout_seconds: u32,
    pub max_receive_count: u32,
    pub message_retention_days: u32,
    pub dead_letter_retention_days: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogsConfig {
    pub retention_days: u32,
}

/// Where failures are told: one SNS topic per environment, an e-mail subscription, and the
/// alarms that cost money (each named in base.yaml with its price).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationsConfig {
    /// The address subscribed to the topic (SNS asks it to confirm once); null: no e-mail.
    pub email: Option<String>,
    /// A CloudWatch alarm on each dead-letter queue (US$0.10 a month each beyond the free
    /// tier's 10 alarms).
    pub dead_letter_alarm: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IamConfig {
    /// The managed policy every role of the templates carries as its permissions boundary
    /// (`PermissionsBoundary`, through `Fn::Sub`, so `${AWS::Partition}` and
    /// `${AWS::AccountId}` may stand in the ARN): the ceiling of what a workload role can ever
    /// do, created by the CI bootstrap stack (ci/github-oidc-role.yaml), whose deploy role
    /// creates no role without it. `None`: no boundary (the emulator, which has no such policy).
    pub permissions_boundary: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Architecture {
    Arm64,
    X86_64,
}

impl Architecture {
    /// The Rust target that builds for it.
    pub fn rust_target(self) -> &'static str {
        match self {
            Architecture::Arm64 => "aarch64-unknown-linux-gnu",
            Architecture::X86_64 => "x86_64-unknown-linux-gnu",
        }
    }
}

/// Where container images are pushed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Registry {
    /// The artifacts stack's ECR repository (what AWS runs), with a static release build.
    Ecr,
    /// A `docker-registry` the deployer starts on 127.0.0.1, with the host's debug build: for an
    /// emulator, whose ECR has no registry to push to. Refused against AWS itself.
    Local,
}

/// How Lambda zips are built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LambdaBuild {
    CargoLambda,
    HostDebug,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComputeConfig {
    pub architecture: Architecture,
    pub lambda_build: LambdaBuild,
    pub registry: Registry,
    pub parser: ParserConfig,
    pub scraper: ScraperConfig,
    pub recommender: RecommenderConfig,
    pub crm: CrmConfig,
    pub apply: ApplyConfig,
}

/// The apply task and the daily MCF session check (`stacks/apply.yaml`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplyConfig {
    /// Fargate CPU units of the apply task.
    pub cpu: u32,
    /// Fargate memory of the apply task, MB (a pair Fargate offers with `cpu`).
    pub memory_mb: u32,
    /// Submit the applications; false: a dry run that stops at the submit button.
    pub submit: bool,
    /// Seconds between two applications of a run.
    pub pause_seconds: f64,
    /// EventBridge schedule of the apply run (UTC); null: no rule, it runs on demand.
    #[serde(default)]
    pub schedule: Option<String>,
    /// EventBridge schedule of the session check (UTC); null: no rule.
    #[serde(default)]
    pub session_check_schedule: Option<String>,
    /// MCF's website, where the applications are made and the session is checked.
    pub site: String,
}

/// The CRM (`stacks/crm.yaml`): its function, the REST API stage's throttling and the daily
/// expiry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrmConfig {
    pub memory_mb: u32,
    pub timeout_seconds: u32,
    /// The stage's steady rate, requests per second, for every method.
    pub throttle_rate_per_second: f64,
    /// The stage's burst above the rate, requests.
    pub throttle_burst: u32,
    /// EventBridge schedule of the daily expiry (UTC); null: no rule (the emulator).
    #[serde(default)]
    pub expiry_schedule: Option<String>,
}

/// The recommender function (`stacks/recommend.yaml`) and its stream mapping.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecommenderConfig {
    pub memory_mb: u32,
    pub timeout_seconds: u32,
    /// Stream records per invocation (1 to 10000).
    pub batch_size: u32,
    /// Seconds the mapping may wait to fill a batch (0 to 300).
    pub max_batching_window_seconds: u32,
    /// Retries of a failing batch (bisected) before its description goes to the DLQ (0 to 10000).
    pub max_retry_attempts: u32,
    /// Weeks of posts a rescore reads back (1 to 52).
    pub rescore_weeks: u32,
    /// Whether the stack has the stream's event source mapping. Off on the emulator: moto
    /// "invokes" a mapped function on every write without running it and empties the stream
    /// (whatever `Enabled` says); the local stream player plays it there.
    pub stream_mapping: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParserConfig {
    pub memory_mb: u32,
    pub timeout_seconds: u32,
    pub batch_size: u32,
    pub max_concurrency: u32,
    /// Whether the SQS event source mapping runs. Off on the emulator: moto "invokes" the
    /// function on every send without running it and deletes the messages; the local
    /// poller plays the mapping there.
    pub mapping_enabled: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScraperConfig {
    pub schedule: String,
    pub schedule_enabled: bool,
    pub cpu: u32,
    pub memory_mb: u32,
    pub rate_per_second: f64,
    pub mcf_url: String,
}

/// A configuration error, located in the file that holds the offending key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub key: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: ", self.file.display())?,
            None => write!(f, "{}: ", self.file.display())?,
        }
        if !self.key.is_empty() {
            write!(f, "key `{}`: ", self.key)?;
        }
        write!(f, "{}", self.message)
    }
}

impl std::error::Error for ConfigError {}

/// One YAML file as read from disk, with the line of every key.
struct Source {
    path: PathBuf,
    value: Value,
    lines: LineIndex,
}

impl Source {
    fn read(path: &Path, display: PathBuf) -> Result<Source, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: display.clone(),
            line: None,
            key: String::new(),
            message: format!("cannot read: {e}"),
        })?;
        let value: Value = if text.trim().is_empty() {
            Value::Mapping(Mapping::new())
        } else {
            serde_norway::from_str(&text).map_err(|e| ConfigError {
                file: display.clone(),
                line: e.location().map(|l| l.line()),
                key: String::new(),
                message: format!("not valid YAML: {e}"),
            })?
        };
        if !matches!(value, Value::Mapping(_)) {
            return Err(ConfigError {
                file: display,
                line: Some(1),
                key: String::new(),
                message: "the file must be a mapping of keys to values".into(),
            });
        }
        Ok(Source {
            path: display,
            value,
            lines: LineIndex::build(&text),
        })
    }
}

/// Names of the environments: every `config/*.yaml` but `base.yaml`, sorted.
pub fn environments(config_dir: &Path) -> std::io::Result<Vec<String>> {
    let mut envs = Vec::new();
    for entry in std::fs::read_dir(config_dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "yaml") {
            if let Some(stem) = path.file_stem().and_then(|s| s.to_str()) {
                if stem != "base" {
                    envs.push(stem.to_string());
                }
            }
        }
    }
    envs.sort();
    Ok(envs)
}

/// Loads `base.yaml` + `<env>.yaml` from `config_dir`. `root` only shortens the paths in errors.
pub fn load(root: &Path, config_dir: &Path, env: &str) -> Result<Config, ConfigError> {
    let rel = |p: &Path| p.strip_prefix(root).unwrap_or(p).to_path_buf();
    let base_path = config_dir.join("base.yaml");
    let env_path = config_dir.join(format!("{env}.yaml"));
    if !valid_env_name(env) {
        return Err(ConfigError {
            file: rel(&env_path),
            line: None,
            key: String::new(),
            message: format!(
                "`{env}` is not a valid environment name (lowercase letters, digits and '-', starting with a letter, at most 16 characters)"
            ),
        });
    }
    if !env_path.exists() {
        let known = environments(config_dir).unwrap_or_default().join(", ");
        return Err(ConfigError {
            file: rel(&env_path),
            line: None,
            key: String::new(),
            message: format!("no such environment `{env}` (known: {known}); create the file to add one"),
        });
    }
    let base = Source::read(&base_path, rel(&base_path))?;
    let over = Source::read(&env_path, rel(&env_path))?;
    let mut merged = base.value.clone();
    merge(&mut merged, over.value.clone());

    let sources = [&over, &base];
    let config: Config = serde_path_to_error::deserialize(merged).map_err(|e| {
        let path = path_string(e.path());
        let inner = e.into_inner().to_string();
        let (key, message) = refine(&path, inner);
        locate(&sources, &key, message)
    })?;
    validate::validate(&config, env).map_err(|(key, message)| locate(&sources, &key, message))?;
    Ok(config)
}

fn valid_env_name(env: &str) -> bool {
    let mut chars = env.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && env.len() <= 16
        && env
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Environment file values win; nested mappings merge.
pub fn merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Mapping(b), Value::Mapping(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(slot) => merge(slot, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (slot, v) => *slot = v,
    }
}

pub(crate) fn path_string(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Segment::Unknown => {}
        }
    }
    out
}

/// Serde names unknown and missing fields in the message, with the path of their parent:
/// move the field name into the key path and say what to do.
fn refine(path: &str, message: String) -> (String, String) {
    let field = |prefix: &str| -> Option<String> {
        let rest = message.strip_prefix(prefix)?;
        let name = rest.split('`').next()?;
        // serde_path_to_error already ends the path with an unknown field, not a missing one.
        Some(if path.is_empty() {
            name.to_string()
        } else if path == name || path.ends_with(&format!(".{name}")) {
            path.to_string()
        } else {
            format!("{path}.{name}")
        })
    };
    if let Some(key) = field("unknown field `") {
        let expected = message
            .split_once(", expected ")
            .map(|(_, e)| format!(" (expected {e})"))
            .unwrap_or_default();
        return (key, format!("unknown key{expected}"));
    }
    if let Some(key) = field("missing field `") {
        return (key, "missing required value".into());
    }
    (path.to_string(), message)
}

/// The file (environment first, then base) and line where `key` is written.
fn locate(sources: &[&Source], key: &str, message: String) -> ConfigError {
    for source in sources {
        if source.lines.contains(key) {
            return ConfigError {
                file: source.path.clone(),
                line: source.lines.line_of(key),
                key: key.to_string(),
                message,
            };
        }
    }
    // Not written anywhere (a missing value): point at both files.
    let files = sources
        .iter()
        .rev()
        .map(|s| s.path.display().to_string())
        .collect::<Vec<_>>()
        .join(" or ");
    ConfigError {
        file: sources[0].path.clone(),
        line: None,
        key: key.to_string(),
        message: format!("{message}: set it in {files}"),
    }
}

impl Config {
    /// Whether the embedded local emulator serves this environment.
    pub fn is_local(&self) -> bool {
        self.endpoint.as_deref() == Some("local")
    }

    /// The prefix of every physical name: `mcfpipe-<env>-`.
    pub fn name_prefix(&self, env: &str) -> String {
        format!("{}-{env}-", self.project)
    }
}

#[cfg(test)]
mod tests;
