//! `local start|stop|status|reset`: the embedded emulator.

use anyhow::{Result, bail};
use serde_json::json;

use crate::cli::LocalAction;
use crate::local;
use crate::session::Project;
use crate::ui::Ui;

pub fn run(project: &Project, ui: &Ui, action: LocalAction) -> Result<u8> {
    let root = &project.root;
    match action {
        LocalAction::Start => {
            let emu = local::ensure(root, ui)?;
            ui.print(&format!("{}\n", emu.url));
            ui.document(&json!({"running": true, "url": emu.url, "pid": emu.pid, "port": emu.port}));
        }
        LocalAction::Status => {
            match local::running(root) {
                Some(emu) => {
                    ui.print(&format!(
                        "running at {} (pid {}, since {})\n",
                        emu.url, emu.pid, emu.started
                    ));
                    ui.document(&json!({"running": true, "url": emu.url, "pid": emu.pid, "port": emu.port, "started": emu.started}));
                }
                None => {
                    ui.print("not running\n");
                    ui.document(&json!({"running": false}));
                }
            }
        }
        LocalAction::Stop => {
            let (emu, registry) = (local::stop(root)?, local::stop_registry(root));
            if let Some(reg) = &registry {
                ui.info(&format!("stopped the local registry (pid {}, {})", reg.pid, reg.addr));
            }
            match &emu {
                Some(emu) => ui.info(&format!("stopped the local emulator (pid {}, {})", emu.pid, emu.url)),
                None => ui.info("the local emulator was not running"),
            }
            ui.document(
                &json!({"stopped": emu.is_some(), "pid": emu.map(|e| e.pid), "registry_stopped": registry.is_some()}),
            );
        }
        LocalAction::Reset => {
            let Some(emu) = local::running(root) else {
                bail!("the local emulator is not running")
            };
            local::reset(emu.port)?;
            ui.info(&format!("cleared all state of the local emulator at {}", emu.url));
            ui.document(&json!({"reset": true}));
        }
    }
    Ok(0)
}
