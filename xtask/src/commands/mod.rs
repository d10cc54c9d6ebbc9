//! One module per verb, each with one `run`: the verb's flags → its flow → its result, top to
//! bottom. The work itself lives below (`actions`, `release`, `artifacts`, `workflow`, `cfn`):
//! no verb imports another.

pub mod apply;
pub mod build;
pub mod crm;
pub mod deploy;
pub mod diff;
pub mod drift;
pub mod lint;
pub mod local;
pub mod logs;
pub mod mcf;
pub mod outputs;
pub mod promote;
pub mod recommend;
pub mod release;
pub mod render;
pub mod search;
pub mod seed;
pub mod status;
pub mod sync;
pub mod teardown;
pub mod unlock;
pub mod up;
