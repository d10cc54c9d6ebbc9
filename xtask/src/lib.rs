//! The mcfpipe deployer. One direction of data: config + stack manifest → rendered template →
//! plan → AWS calls → events shown to the user. `cli` parses flags and dispatches to one
//! module per verb under `commands`; everything else is a library those verbs share.

pub mod actions;
pub mod artifacts;
pub mod aws;
pub mod bench;
pub mod cfn;
pub mod cli;
pub mod commands;
pub mod config;
pub mod files;
pub mod iam;
pub mod lint;
pub mod local;
pub mod lock;
pub mod logs;
pub mod release;
pub mod render;
pub mod resolve;
pub mod session;
pub mod stacks;
pub mod ui;
pub mod workflow;
