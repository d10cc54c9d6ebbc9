//! Stack manifests (`stacks/<name>.yaml`) and the plan: the dependency graph of the stacks,
//! walked in order for deploy and in reverse for teardown.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

/// Where a CloudFormation parameter's value comes from. Written in a manifest as a mapping
/// with exactly one key: `{config: logs.retention_days}`, `{stack_output: networking.VpcId}`,
/// `{artifact: mcfparse}` or `{value: 42}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "ParamSpec")]
pub enum ParamSource {
    /// A dotted key path into the environment's config: `logs.retention_days`.
    Config(String),
    /// Another stack's output: `networking.VpcId` (the stack becomes a dependency).
    StackOutput(String),
    /// A build artifact of a runtime component: the S3 key of a Lambda zip, or an image
    /// pinned by digest. The deployer builds and publishes it before the stack.
    Artifact(String),
    /// A literal.
    Value(serde_json::Value),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ParamSpec {
    config: Option<String>,
    stack_output: Option<String>,
    artifact: Option<String>,
    value: Option<serde_json::Value>,
}

impl TryFrom<ParamSpec> for ParamSource {
    type Error = String;
    fn try_from(spec: ParamSpec) -> Result<Self, String> {
        match (spec.config, spec.stack_output, spec.artifact, spec.value) {
            (Some(c), None, None, None) => Ok(ParamSource::Config(c)),
            (None, Some(o), None, None) => Ok(ParamSource::StackOutput(o)),
            (None, None, Some(a), None) => Ok(ParamSource::Artifact(a)),
            (None, None, None, Some(v)) => Ok(ParamSource::Value(v)),
            _ => Err("a parameter takes exactly one of `config`, `stack_output`, `artifact` or `value`".into()),
        }
    }
}

impl ParamSource {
    /// `(stack, output)` for a stack output reference.
    pub fn output_ref(&self) -> Option<(&str, &str)> {
        match self {
            ParamSource::StackOutput(r) => r.split_once('.'),
            _ => None,
        }
    }

    /// The component of an artifact reference.
    pub fn artifact(&self) -> Option<&str> {
        match self {
            ParamSource::Artifact(c) => Some(c),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub layer: String,
    pub template: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub depends_on: Vec<String>,
    #[serde(default)]
    pub parameters: BTreeMap<String, ParamSource>,
}

#[derive(Debug, Clone)]
pub struct Stack {
    /// The manifest's file stem: `networking`.
    pub name: String,
    pub file: PathBuf,
    pub manifest: Manifest,
}

impl Stack {
    /// The runtime components whose build artifacts this stack's parameters name.
    pub fn artifacts(&self) -> Vec<&str> {
        self.manifest
            .parameters
            .values()
            .filter_map(ParamSource::artifact)
            .collect()
    }

    /// Every stack this one needs deployed first: explicit and through its parameters.
    pub fn dependencies(&self) -> BTreeSet<&str> {
        let mut deps: BTreeSet<&str> = self.manifest.depends_on.iter().map(String::as_str).collect();
        for source in self.manifest.parameters.values() {
            if let Some((stack, _)) = source.output_ref() {
                deps.insert(stack);
            }
        }
        deps
    }

    /// The CloudFormation stack name: `mcfpipe-<env>-<name>`.
    pub fn full_name(&self, prefix: &str) -> String {
        format!("{prefix}{}", self.name)
    }
}

/// Reads every `*.yaml` manifest in `dir`.
pub fn load_all(dir: &Path) -> Result<Vec<Stack>> {
    let mut stacks = Vec::new();
    let entries = std::fs::read_dir(dir).with_context(|| format!("cannot read the stacks folder {}", dir.display()))?;
    for entry in entries {
        let file = entry?.path();
        if file.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let name = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
        let manifest: Manifest = serde_norway::from_str(&text).map_err(|e| {
            // The message carries the key path; the location goes up front, as in config errors.
            let line = e.location().map(|l| format!(":{}", l.line())).unwrap_or_default();
            let msg = e.to_string();
            let msg = msg
                .rsplit_once(" at line ")
                .map_or(msg.as_str(), |(m, _)| m)
                .to_string();
            anyhow::anyhow!("{}{line}: {msg}", file.display())
        })?;
        stacks.push(Stack { name, file, manifest });
    }
    stacks.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(stacks)
}

/// The stacks in dependency order.
#[derive(Debug, Clone)]
pub struct Plan {
    pub stacks: Vec<Stack>,
}

impl Plan {
    /// Orders `stacks` so that each comes after what it depends on. Unknown stacks and cycles
    /// are errors that name the manifest.
    pub fn new(stacks: Vec<Stack>) -> Result<Plan> {
        let names: BTreeSet<&str> = stacks.iter().map(|s| s.name.as_str()).collect();
        for stack in &stacks {
            for dep in stack.dependencies() {
                if !names.contains(dep) {
                    bail!(
                        "{}: depends on unknown stack `{dep}` (known: {})",
                        stack.file.display(),
                        names.iter().copied().collect::<Vec<_>>().join(", ")
                    );
                }
                if dep == stack.name {
                    bail!("{}: a stack cannot depend on itself", stack.file.display());
                }
            }
            for (param, source) in &stack.manifest.parameters {
                if let ParamSource::StackOutput(r) = source {
                    if r.split_once('.').is_none_or(|(s, o)| s.is_empty() || o.is_empty()) {
                        bail!(
                            "{}: parameter {param}: stack_output `{r}` must read `<stack>.<Output>`",
                            stack.file.display()
                        );
                    }
                }
            }
        }
        // Kahn's algorithm; among ready stacks, alphabetical, so the order is stable.
        let mut placed: Vec<Stack> = Vec::new();
        let mut rest = stacks;
        while !rest.is_empty() {
            let done: BTreeSet<String> = placed.iter().map(|s| s.name.clone()).collect();
            let ready = rest
                .iter()
                .position(|s| s.dependencies().iter().all(|d| done.contains(*d)));
            match ready {
                Some(i) => placed.push(rest.remove(i)),
                None => bail!("{}", describe_cycle(&rest)),
            }
        }
        Ok(Plan { stacks: placed })
    }

    pub fn get(&self, name: &str) -> Option<&Stack> {
        self.stacks.iter().find(|s| s.name == name)
    }

    /// The layers, in the order their first stack deploys.
    pub fn layers(&self) -> Vec<&str> {
        let mut layers: Vec<&str> = Vec::new();
        for s in &self.stacks {
            if !layers.contains(&s.manifest.layer.as_str()) {
                layers.push(&s.manifest.layer);
            }
        }
        layers
    }

    /// The stacks `target` names (`all`, a layer or a stack), in deploy order.
    pub fn select(&self, target: &str) -> Result<Vec<&Stack>> {
        let chosen: Vec<&Stack> = self
            .stacks
            .iter()
            .filter(|s| target == "all" || s.manifest.layer == target || s.name == target)
            .collect();
        if chosen.is_empty() {
            bail!(
                "`{target}` is neither `all`, a layer ({}) nor a stack ({})",
                self.layers().join(", "),
                self.stacks
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        Ok(chosen)
    }

    /// `selected` in waves: each stack of a wave needs (within the selection) only stacks of
    /// earlier waves, so a wave's stacks can deploy side by side. Stacks outside the
    /// selection are taken as deployed. Within a wave, plan order.
    pub fn waves<'a>(&self, selected: &[&'a Stack]) -> Vec<Vec<&'a Stack>> {
        // Plan order puts every stack after what it needs, so one pass settles the levels.
        self.levels(selected, self.stacks.iter(), |s| {
            s.dependencies().into_iter().map(str::to_string).collect()
        })
    }

    /// `selected` in teardown waves: each stack of a wave is needed (within the selection)
    /// only by stacks of earlier waves, so it can go as soon as they are gone. Plan order
    /// within a wave.
    pub fn teardown_waves<'a>(&self, selected: &[&'a Stack]) -> Vec<Vec<&'a Stack>> {
        // Reverse plan order puts every stack after the stacks that need it.
        self.levels(selected, self.stacks.iter().rev(), |s| {
            self.stacks
                .iter()
                .filter(|d| d.dependencies().contains(s.name.as_str()))
                .map(|d| d.name.clone())
                .collect()
        })
    }

    /// Each selected stack's level: one more than the highest level of the stacks it waits for
    /// (`waits_for`), visited in `order`, which must put every stack after those; then the
    /// stacks grouped by level, in plan order.
    fn levels<'a, 'p>(
        &'p self,
        selected: &[&'a Stack],
        order: impl Iterator<Item = &'p Stack>,
        waits_for: impl Fn(&Stack) -> Vec<String>,
    ) -> Vec<Vec<&'a Stack>> {
        let names: BTreeSet<&str> = selected.iter().map(|s| s.name.as_str()).collect();
        let mut level: BTreeMap<String, usize> = BTreeMap::new();
        for s in order.filter(|s| names.contains(s.name.as_str())) {
            let l = waits_for(s)
                .iter()
                .filter_map(|w| level.get(w))
                .map(|l| l + 1)
                .max()
                .unwrap_or(0);
            level.insert(s.name.clone(), l);
        }
        let depth = level.values().max().map_or(0, |m| m + 1);
        let mut waves: Vec<Vec<&'a Stack>> = vec![Vec::new(); depth];
        for s in &self.stacks {
            if let (Some(l), Some(chosen)) = (level.get(&s.name), selected.iter().find(|x| x.name == s.name)) {
                waves[*l].push(chosen);
            }
        }
        waves
    }

    /// Stacks that depend on `name`, directly or not.
    pub fn dependents(&self, name: &str) -> Vec<&Stack> {
        let mut found: BTreeSet<&str> = BTreeSet::from([name]);
        let mut out = Vec::new();
        for s in &self.stacks {
            if s.dependencies().iter().any(|d| found.contains(d)) {
                found.insert(&s.name);
                out.push(s);
            }
        }
        out
    }
}

fn describe_cycle(rest: &[Stack]) -> String {
    // Follow unmet dependencies from the first stack until a name repeats.
    let by_name: BTreeMap<&str, &Stack> = rest.iter().map(|s| (s.name.as_str(), s)).collect();
    let mut path = vec![rest[0].name.as_str()];
    loop {
        let current = by_name[path.last().copied().unwrap_or_default()];
        let next = current.dependencies().into_iter().find(|d| by_name.contains_key(d));
        let Some(next) = next else { break };
        if let Some(start) = path.iter().position(|p| *p == next) {
            let mut cycle: Vec<&str> = path[start..].to_vec();
            cycle.push(next);
            let files: Vec<String> = path[start..]
                .iter()
                .map(|n| by_name[n].file.display().to_string())
                .collect();
            return format!(
                "dependency cycle between stacks: {} (in {})",
                cycle.join(" -> "),
                files.join(", ")
            );
        }
        path.push(next);
    }
    "dependency cycle between stacks".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack(name: &str, layer: &str, deps: &[&str], outputs: &[(&str, &str)]) -> Stack {
        Stack {
            name: name.into(),
            file: PathBuf::from(format!("stacks/{name}.yaml")),
            manifest: Manifest {
                layer: layer.into(),
                template: format!("{name}.yaml.j2"),
                description: None,
                depends_on: deps.iter().map(|d| d.to_string()).collect(),
                parameters: outputs
                    .iter()
                    .map(|(p, r)| (p.to_string(), ParamSource::StackOutput(r.to_string())))
                    .collect(),
            },
        }
    }

    fn order(plan: &Plan) -> Vec<&str> {
        plan.stacks.iter().map(|s| s.name.as_str()).collect()
    }

    #[test]
    fn orders_by_dependencies_including_output_references() {
        let plan = Plan::new(vec![
            stack(
                "compute",
                "compute",
                &[],
                &[("VpcId", "networking.VpcId"), ("Table", "database.PostsTableName")],
            ),
            stack("database", "database", &["networking"], &[]),
            stack("networking", "networking", &[], &[]),
        ])
        .unwrap();
        assert_eq!(order(&plan), ["networking", "database", "compute"]);
        assert_eq!(plan.layers(), ["networking", "database", "compute"]);
        let dependents: Vec<&str> = plan.dependents("networking").iter().map(|s| s.name.as_str()).collect();
        assert_eq!(dependents, ["database", "compute"]);
        let sel: Vec<&str> = plan
            .select("database")
            .unwrap()
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        assert_eq!(sel, ["database"]);
        assert_eq!(plan.select("all").unwrap().len(), 3);
        assert!(plan.select("nope").unwrap_err().to_string().contains("neither `all`"));
    }

    #[test]
    fn waves_put_independent_stacks_side_by_side() {
        let plan = Plan::new(vec![
            stack(
                "compute",
                "compute",
                &["artifacts"],
                &[("Vpc", "networking.Vpc"), ("Table", "database.Table")],
            ),
            stack("artifacts", "artifacts", &[], &[]),
            stack("database", "database", &[], &[]),
            stack("networking", "networking", &[], &[]),
            stack("report", "compute", &[], &[("Fn", "compute.Fn")]),
        ])
        .unwrap();
        let names = |w: Vec<Vec<&Stack>>| -> Vec<Vec<String>> {
            w.into_iter()
                .map(|w| w.into_iter().map(|s| s.name.clone()).collect())
                .collect()
        };
        let all: Vec<&Stack> = plan.stacks.iter().collect();
        assert_eq!(
            names(plan.waves(&all)),
            [
                vec!["artifacts", "database", "networking"],
                vec!["compute"],
                vec!["report"]
            ]
        );
        // A selection's stacks outside it count as deployed.
        let layer = plan.select("compute").unwrap();
        assert_eq!(names(plan.waves(&layer)), [vec!["compute"], vec!["report"]]);
        let one = plan.select("database").unwrap();
        assert_eq!(names(plan.waves(&one)), [vec!["database"]]);
        // Teardown: what nothing needs goes first; what others need waits for them.
        assert_eq!(
            names(plan.teardown_waves(&all)),
            [
                vec!["report"],
                vec!["compute"],
                vec!["artifacts", "database", "networking"]
            ]
        );
    }

    #[test]
    fn rejects_cycles_naming_them() {
        let err = Plan::new(vec![
            stack("a", "x", &["b"], &[]),
            stack("b", "x", &[], &[("P", "c.Out")]),
            stack("c", "x", &["a"], &[]),
            stack("d", "x", &[], &[]),
        ])
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("dependency cycle between stacks: a -> b -> c -> a"),
            "{err}"
        );
        assert!(err.contains("stacks/a.yaml"), "{err}");
    }

    #[test]
    fn rejects_unknown_stacks_and_malformed_references() {
        let err = Plan::new(vec![stack("a", "x", &[], &[("P", "ghost.Out")])])
            .unwrap_err()
            .to_string();
        assert!(err.contains("stacks/a.yaml: depends on unknown stack `ghost`"), "{err}");
        let err = Plan::new(vec![stack("a", "x", &["a"], &[])]).unwrap_err().to_string();
        assert!(err.contains("cannot depend on itself"), "{err}");
        let mut bad = stack("a", "x", &[], &[]);
        bad.manifest
            .parameters
            .insert("P".into(), ParamSource::StackOutput("nodot".into()));
        let err = Plan::new(vec![bad]).unwrap_err().to_string();
        assert!(err.contains("must read `<stack>.<Output>`"), "{err}");
    }

    #[test]
    fn manifest_parameters_take_exactly_one_source() {
        let m: Manifest = serde_norway::from_str(
            "layer: compute\ntemplate: c.j2\nparameters:\n  A: {config: logs.retention_days}\n  B: {stack_output: networking.VpcId}\n  C: {value: 3}\n",
        )
        .unwrap();
        assert_eq!(m.parameters["A"], ParamSource::Config("logs.retention_days".into()));
        assert_eq!(m.parameters["B"].output_ref(), Some(("networking", "VpcId")));
        assert_eq!(m.parameters["C"], ParamSource::Value(serde_json::json!(3)));
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("c.yaml"),
            "layer: compute\ntemplate: c.j2\nparameters:\n  A: {config: x, value: 1}\n",
        )
        .unwrap();
        let e = load_all(dir.path()).unwrap_err().to_string();
        assert!(
            e.ends_with(
                "c.yaml:4: parameters: a parameter takes exactly one of `config`, `stack_output`, `artifact` or `value`"
            ),
            "{e}"
        );
    }

    #[test]
    fn repository_manifests_form_a_plan() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../stacks");
        let plan = Plan::new(load_all(&dir).unwrap()).unwrap();
        // The database takes nothing from the network: the two deploy side by side. The CRM
        // takes the network's public subnets (where "apply now" starts the apply task), so it
        // follows networking, beside the other compute stacks.
        assert_eq!(
            order(&plan),
            [
                "artifacts",
                "database",
                "networking",
                "apply",
                "compute",
                "crm",
                "recommend",
                "sync"
            ]
        );
        let all: Vec<&Stack> = plan.stacks.iter().collect();
        let waves: Vec<Vec<&str>> = plan
            .waves(&all)
            .iter()
            .map(|w| w.iter().map(|s| s.name.as_str()).collect())
            .collect();
        // The recommender needs only the database and the artifacts, the apply stack and the CRM
        // also the network (the apply task's subnets): they deploy beside compute; the sync
        // function invokes the recommender's rescore, so it comes after it.
        assert_eq!(
            waves,
            [
                vec!["artifacts", "database", "networking"],
                vec!["apply", "compute", "crm", "recommend"],
                vec!["sync"]
            ]
        );
    }
}
