//! The CRM (component C07): one Lambda function behind API Gateway's REST API (proxy
//! integration) that answers the API and serves the web page, and runs the daily expiry when
//! EventBridge invokes it with `{"expire": {}}`. `cargo xtask crm serve` runs the same
//! [`App::handle`] on 127.0.0.1 ([`serve`]).
//!
//! - [`types`]: the request and response bodies (the contract; [`openapi`] is generated from
//!   them);
//! - [`http`]: the request and answer every shell maps to, errors as JSON;
//! - [`api`]: the routes;
//! - [`list`]: the jobs in memory for `GET /jobs` (filters, sorting, cursors), refreshed from
//!   the CRM table's stage index;
//! - [`auth`]: bearer tokens, only their SHA-256 stored (SSM SecureString), compared in
//!   constant time, never logged;
//! - [`lambda`]: API Gateway proxy events and the expiry event;
//! - [`expire`]: the daily expiry (`jobcrm::expires` decides);
//! - [`serve`]: the local server.

pub mod api;
pub mod auth;
pub mod config;
pub mod expire;
pub mod http;
pub mod lambda;
pub mod list;
pub mod openapi;
pub mod serve;
pub mod types;

pub use api::{App, ApplyTask, Refresh, Settings};
pub use http::{Request, Response};

/// The web page: one file, its script and style inline, nothing fetched from elsewhere.
pub const PAGE: &str = include_str!("page/index.html");
