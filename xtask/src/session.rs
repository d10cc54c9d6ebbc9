//! A command's working set: the project's folders, one environment's config, the plan, the
//! output, and (on demand) the AWS connection.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Result, anyhow};

use crate::aws::Aws;
use crate::aws::Clients;
use crate::cfn::Cfn;
use crate::config::{self, Config};
use crate::render::{Rendered, Renderer};
use crate::resolve::{self, Artifacts, DeployedOutputs, Missing};
use crate::stacks::{self, Plan, Stack};
use crate::ui::Ui;

/// Where the project's files live.
#[derive(Debug, Clone)]
pub struct Project {
    /// config/, stacks/, templates/ and the generated target/mcfpipe/.
    pub root: PathBuf,
    /// The Cargo workspace whose runtime crates are built into artifacts.
    pub workspace: PathBuf,
}

impl Project {
    /// `root` if given, else the workspace this xtask was built from (which is always where
    /// the runtime crates are built from).
    pub fn new(root: Option<PathBuf>) -> Project {
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap_or(Path::new("."))
            .to_path_buf();
        Project {
            root: root.unwrap_or_else(|| workspace.clone()),
            workspace,
        }
    }
    pub fn config_dir(&self) -> PathBuf {
        self.root.join("config")
    }
    pub fn stacks_dir(&self) -> PathBuf {
        self.root.join("stacks")
    }
    pub fn templates_dir(&self) -> PathBuf {
        self.root.join("templates")
    }
    /// Generated files: rendered templates, outputs, the emulator's state.
    pub fn out_dir(&self) -> PathBuf {
        self.root.join("target/mcfpipe")
    }
    pub fn environments(&self) -> Result<Vec<String>> {
        config::environments(&self.config_dir())
            .map_err(|e| anyhow!("cannot list {}: {e}", self.config_dir().display()))
    }
}

pub struct Session {
    pub project: Project,
    pub env: String,
    pub config: Config,
    pub plan: Plan,
    pub ui: Ui,
    pub endpoint_flag: Option<String>,
}

impl Session {
    pub fn open(project: Project, env: &str, ui: Ui, endpoint_flag: Option<String>) -> Result<Session> {
        let config = config::load(&project.root, &project.config_dir(), env)?;
        let plan = Plan::new(stacks::load_all(&project.stacks_dir())?)?;
        Ok(Session {
            project,
            env: env.to_string(),
            config,
            plan,
            ui,
            endpoint_flag,
        })
    }

    pub fn renderer(&self) -> Renderer<'_> {
        Renderer::new(
            &self.project.root,
            self.project.templates_dir(),
            &self.env,
            &self.config,
        )
    }

    pub fn prefix(&self) -> String {
        self.config.name_prefix(&self.env)
    }

    pub fn full_name(&self, stack: &Stack) -> String {
        stack.full_name(&self.prefix())
    }

    /// The endpoint: `--endpoint-url`, else `AWS_ENDPOINT_URL`, else the config's (`local`
    /// starts or reuses the embedded emulator). `None` means AWS itself.
    pub fn endpoint(&self) -> Result<Option<String>> {
        if let Some(e) = &self.endpoint_flag {
            return Ok(Some(e.clone()));
        }
        if let Some(e) = std::env::var("AWS_ENDPOINT_URL").ok().filter(|e| !e.is_empty()) {
            return Ok(Some(e));
        }
        match self.config.endpoint.as_deref() {
            Some("local") => Ok(Some(crate::local::ensure(&self.project.root, &self.ui)?.url)),
            Some(url) => Ok(Some(url.to_string())),
            None => Ok(None),
        }
    }

    /// Connects and checks the account guard.
    pub async fn aws(&self) -> Result<Aws> {
        let endpoint = self.endpoint()?;
        let loopback = endpoint.as_deref().is_some_and(mcfstore::is_loopback);
        let local_credentials = self.config.is_local() || (loopback && std::env::var_os("AWS_ACCESS_KEY_ID").is_none());
        if self.config.is_local() && !loopback {
            return Err(anyhow!(
                "environment {} is local-only (endpoint: local) but the endpoint is {}: refusing to send it anywhere but 127.0.0.1",
                self.env,
                endpoint.as_deref().unwrap_or("AWS itself")
            ));
        }
        let aws = crate::aws::connect(&self.config, endpoint, local_credentials).await?;
        crate::aws::check_account(&aws, &self.config, &self.env).await?;
        Ok(aws)
    }

    pub fn cfn(&self, aws: &Aws) -> Cfn<'_> {
        let poll = if aws.endpoint().is_some() {
            Duration::from_millis(200)
        } else {
            Duration::from_secs(3)
        };
        Cfn::new(
            aws.cloudformation(),
            &self.ui,
            Duration::from_secs(u64::from(self.config.deploy.timeout_minutes) * 60),
            poll,
        )
    }

    /// Outputs of every stack that `stacks` read from, as deployed now.
    pub async fn upstream_outputs(&self, cfn: &Cfn<'_>, stacks: &[&Stack]) -> Result<DeployedOutputs> {
        let mut out = DeployedOutputs::new();
        for s in stacks {
            for p in s.manifest.parameters.values() {
                if let Some((up, _)) = p.output_ref() {
                    if out.contains_key(up) {
                        continue;
                    }
                    let up_stack = self.plan.get(up).ok_or_else(|| anyhow!("unknown stack {up}"))?;
                    let info = cfn.describe(&self.full_name(up_stack)).await?;
                    out.insert(up.to_string(), info.filter(|i| !i.is_busy()).map(|i| i.user_outputs()));
                }
            }
        }
        Ok(out)
    }

    /// Refuses a `stack_output` parameter that names an output the upstream stack's template
    /// (as this environment renders it) does not declare: found before any AWS call, with the
    /// manifest's file, line and key, instead of failing at deploy time or resolving to a
    /// placeholder for ever.
    pub fn check_output_refs(&self, stack: &Stack) -> Result<()> {
        let mut index = None;
        for (param, source) in &stack.manifest.parameters {
            let Some((up, output)) = source.output_ref() else {
                continue;
            };
            let Some(upstream) = self.plan.get(up) else { continue };
            let template = self.renderer().template(upstream)?;
            let declared: Vec<&String> = template
                .get("Outputs")
                .and_then(|o| o.as_object())
                .map(|o| o.keys().collect())
                .unwrap_or_default();
            if declared.iter().any(|k| k.as_str() == output) {
                continue;
            }
            let index = index.get_or_insert_with(|| {
                crate::config::LineIndex::build(&std::fs::read_to_string(&stack.file).unwrap_or_default())
            });
            let line = index
                .line_of(&format!("parameters.{param}"))
                .map(|l| format!(":{l}"))
                .unwrap_or_default();
            return Err(anyhow!(
                "{}{line}: parameter {param}: stack_output `{up}.{output}`: stack {up} ({}) declares no output {output}; it declares: {}",
                stack.file.display(),
                upstream.manifest.template,
                declared.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
            ));
        }
        Ok(())
    }

    /// Renders one stack with its parameters resolved from `deployed` and the artifacts
    /// built for this environment (the last build's record, see `artifacts`).
    pub fn render(&self, stack: &Stack, deployed: &DeployedOutputs, missing: Missing) -> Result<Rendered> {
        let built = crate::artifacts::record::load(&self.project.out_dir(), &self.env);
        self.render_with(stack, deployed, &built, missing)
    }

    pub fn render_with(
        &self,
        stack: &Stack,
        deployed: &DeployedOutputs,
        artifacts: &Artifacts,
        missing: Missing,
    ) -> Result<Rendered> {
        self.check_output_refs(stack)?;
        let renderer = self.renderer();
        let template = renderer.template(stack)?;
        let params = resolve::parameters(stack, &self.config, &self.env, deployed, artifacts, missing)?;
        Ok(renderer.finish(stack, template, params))
    }
}
