//! Config sync run from the deployer: the recommender's library from files or the Google
//! workbook into the deployed dimensions table (`gsheetui::sync`, the same code the scheduled
//! sync function runs), and the service-account key into SSM Parameter Store.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use gsheetui::google::{Endpoints, Google, ServiceAccountKey};
use gsheetui::{Report, Source, SyncError};
use mcfstore::LibraryStore;
use mcfstore::library::{TableItem, VersionItem};

use crate::aws::Aws;
use crate::session::Session;

/// Where a sync reads the library from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A folder of YAML/CSV files, and how messages name it.
    Files { dir: PathBuf, shown: String },
    /// The configured Google workbook.
    Sheets { workbook: String },
}

impl Origin {
    /// `--from` (`sheets` or a folder), or the config's `sync.source`.
    pub fn choose(s: &Session, from: Option<&str>) -> Result<Origin> {
        let sync = &s.config.sync;
        let sheets = || {
            sync.workbook_id
                .clone()
                .map(|workbook| Origin::Sheets { workbook })
                .ok_or_else(|| {
                    anyhow!(
                        "no Google workbook configured: set sync.workbook_id in config/{}.yaml (the part of the workbook's URL between /d/ and /edit)",
                        s.env
                    )
                })
        };
        match from {
            Some("sheets") => sheets(),
            Some(dir) => Ok(Origin::Files {
                dir: PathBuf::from(dir),
                shown: dir.trim_end_matches('/').to_string(),
            }),
            None => match sync.source {
                crate::config::SyncSource::Sheets => sheets(),
                crate::config::SyncSource::Files => Ok(Origin::Files {
                    dir: s.project.root.join(&sync.dir),
                    shown: sync.dir.trim_end_matches('/').to_string(),
                }),
            },
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Origin::Files { shown, .. } => format!("files in {shown}/"),
            Origin::Sheets { workbook } => format!("Google workbook {workbook}"),
        }
    }
}

/// The Sheets API's and the token endpoint's URLs: config, overridden by `MCFPIPE_SHEETS_URL`
/// and `MCFPIPE_TOKEN_URL` (a test's fake Google).
pub fn endpoints(s: &Session) -> Endpoints {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    Endpoints {
        sheets_url: env("MCFPIPE_SHEETS_URL").unwrap_or_else(|| s.config.sync.sheets_url.clone()),
        token_url: env("MCFPIPE_TOKEN_URL").or_else(|| s.config.sync.token_url.clone()),
    }
}

/// The SSM parameter holding the environment's service-account key.
pub fn key_parameter(s: &Session) -> String {
    s.config.sync.key_parameter(&s.config.project, &s.env)
}

/// The files source read (no AWS needed); `None` for the workbook.
pub fn read_files(from: &Origin) -> Option<Source> {
    match from {
        Origin::Files { dir, shown } => {
            let (tables, problems) = gsheetui::files::read_dir(dir, shown);
            Some(Source {
                name: format!("file:{shown}"),
                tables,
                problems,
            })
        }
        Origin::Sheets { .. } => None,
    }
}

/// Reads the source (files need no AWS; the workbook needs the key from SSM).
pub async fn read(s: &Session, aws: &Aws, from: &Origin) -> Result<Source> {
    match from {
        Origin::Files { .. } => read_files(from).ok_or_else(|| anyhow!("not a files source")),
        Origin::Sheets { workbook } => {
            let key = gsheetui::google::key_from_ssm(&aws.ssm(), &key_parameter(s))
                .await
                .map_err(|e| anyhow!(e))?;
            let google = Google::new(endpoints(s))?;
            Ok(google.read_workbook(&key, workbook).await?)
        }
    }
}

/// The library items a sync of the folder `dir` writes into an empty dimensions table, the
/// library checked whole first (for tests and benchmarks that write a library of their own
/// through `LibraryStore::replace`).
pub fn file_items(dir: &Path) -> Result<(Vec<TableItem>, VersionItem)> {
    let shown = dir.display().to_string();
    let origin = Origin::Files {
        dir: dir.to_path_buf(),
        shown: shown.clone(),
    };
    let source = read_files(&origin).ok_or_else(|| anyhow!("not a files source"))?;
    let loaded = gsheetui::sync::check(&source).map_err(|e| anyhow!("{shown}: {e}"))?;
    let (_, items, version) = gsheetui::sync::plan(
        &source.name,
        &loaded,
        &mcfstore::StoredLibrary::default(),
        &mcfstore::now_utc(),
    );
    Ok((items, version))
}

/// One sync into `table` (the dimensions table).
pub async fn sync(aws: &Aws, table: &str, source: &Source, dry_run: bool) -> Result<Report, SyncError> {
    let store = LibraryStore::new(aws.dynamodb(), table);
    gsheetui::sync(&store, source, dry_run).await
}

/// Stores the service-account key of `file` as a SecureString under the environment's
/// parameter; returns the key's client_email and the parameter. The key is checked first
/// (it must sign), and never printed.
pub async fn store_key(s: &Session, aws: &Aws, file: &Path) -> Result<(String, String)> {
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let key = ServiceAccountKey::parse(&text).map_err(|e| anyhow!("{}: {e}", file.display()))?;
    let name = key_parameter(s);
    aws.ssm()
        .put_parameter()
        .name(&name)
        .value(text)
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .overwrite(true)
        .description("Google service-account key of mcfpipe's config sync (cargo xtask sync key)")
        .send()
        .await
        .map_err(|e| anyhow!("SSM PutParameter {name}: {}", mcfstore::error_text(&e)))?;
    Ok((key.client_email.clone(), name))
}
