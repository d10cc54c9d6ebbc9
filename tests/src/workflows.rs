//! The repository's GitHub Actions workflows, read as the tests need them: the pipeline's
//! stages in the order a change goes through them (pull request, push to main, tag, manual
//! approval of prod), each job's steps, and the commands in each `run:` block. The tests take
//! the steps from the files themselves, so a workflow that changes without its test breaks it.

use std::path::{Path, PathBuf};

use serde_norway::{Mapping, Value};

/// `.github/workflows/` of the repository this test was built from.
pub fn dir() -> PathBuf {
    crate::repo_root().join(".github/workflows")
}

/// Every workflow file (`*.yml`, `*.yaml`), sorted by name.
pub fn files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir())
        .expect(".github/workflows")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    files.sort();
    files
}

/// One workflow file, parsed.
pub struct Workflow {
    pub file: String,
    pub doc: Value,
}

impl Workflow {
    pub fn read(path: &Path) -> Workflow {
        let text = std::fs::read_to_string(path).expect("workflow file");
        Workflow {
            file: path.file_name().unwrap().to_string_lossy().to_string(),
            doc: serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
        }
    }

    pub fn all() -> Vec<Workflow> {
        files().iter().map(|p| Workflow::read(p)).collect()
    }

    pub fn on(&self) -> &Value {
        &self.doc["on"]
    }

    /// The jobs in the order they run: a job after the jobs it `needs`, otherwise file order.
    pub fn jobs(&self) -> Vec<Job> {
        let jobs = self.doc["jobs"].as_mapping().expect("jobs");
        let mut pending: Vec<Job> = jobs
            .iter()
            .map(|(id, job)| Job {
                workflow: self.file.clone(),
                id: id.as_str().expect("job id").to_string(),
                doc: job.clone(),
            })
            .collect();
        let mut ordered: Vec<Job> = Vec::new();
        while !pending.is_empty() {
            let ready = pending
                .iter()
                .position(|j| j.needs().iter().all(|n| ordered.iter().any(|o| &o.id == n)))
                .unwrap_or_else(|| panic!("{}: jobs with unmet or circular `needs`", self.file));
            ordered.push(pending.remove(ready));
        }
        ordered
    }
}

/// One job of a workflow.
#[derive(Clone)]
pub struct Job {
    pub workflow: String,
    pub id: String,
    pub doc: Value,
}

impl Job {
    pub fn needs(&self) -> Vec<String> {
        match &self.doc["needs"] {
            Value::String(s) => vec![s.clone()],
            Value::Sequence(v) => v.iter().filter_map(|n| n.as_str().map(str::to_string)).collect(),
            _ => vec![],
        }
    }

    /// `environment:` as a name (a string, or the `name` of a mapping).
    pub fn environment(&self) -> Option<String> {
        match &self.doc["environment"] {
            Value::String(s) => Some(s.clone()),
            Value::Mapping(m) => m
                .get(Value::String("name".into()))
                .and_then(|v| v.as_str())
                .map(str::to_string),
            _ => None,
        }
    }

    pub fn steps(&self) -> Vec<Mapping> {
        self.doc["steps"]
            .as_sequence()
            .map(|s| s.iter().filter_map(|v| v.as_mapping().cloned()).collect())
            .unwrap_or_default()
    }

    pub fn label(&self) -> String {
        format!("{} / {}", self.workflow, self.id)
    }
}

/// A field of a step as a string.
pub fn field<'a>(step: &'a Mapping, key: &str) -> Option<&'a str> {
    step.get(Value::String(key.into())).and_then(|v| v.as_str())
}

/// The commands of a `run:` block, one per logical line (`\` continuations joined), each cut
/// at the first shell operator: `a | tee f` is `a`, `b > f || x=$?` is `b`. Returns (command
/// words, the whole line).
pub fn commands(run: &str) -> Vec<(Vec<String>, String)> {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for raw in run.lines() {
        let line = raw.trim();
        if let Some(head) = line.strip_suffix('\\') {
            current.push_str(head);
            current.push(' ');
            continue;
        }
        current.push_str(line);
        lines.push(std::mem::take(&mut current));
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
        .into_iter()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|line| {
            let mut words = Vec::new();
            for w in line.split_whitespace() {
                if ["|", "||", "&&", ";", ">", ">>", "2>", "2>&1", "<"].contains(&w) {
                    break;
                }
                words.push(w.to_string());
            }
            (words, line)
        })
        .collect()
}

/// Where a line sends its output: the file after `tee` or `>`.
pub fn output_file(line: &str) -> Option<String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    words
        .windows(2)
        .find(|w| w[0] == "tee" || w[0] == ">")
        .map(|w| w[1].to_string())
}

/// The stage of the pipeline a workflow's trigger is, in pipeline order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Trigger {
    PullRequest,
    PushMain,
    Tag,
}

impl Workflow {
    pub fn trigger(&self) -> Trigger {
        let on = self.on();
        if !on["pull_request"].is_null() || on.as_mapping().is_some_and(|m| m.contains_key("pull_request")) {
            return Trigger::PullRequest;
        }
        let push = &on["push"];
        let has = |key: &str, want: &str| {
            push[key]
                .as_sequence()
                .is_some_and(|s| s.iter().any(|v| v.as_str() == Some(want)))
        };
        if has("branches", "main") {
            return Trigger::PushMain;
        }
        if has("tags", "v*") {
            return Trigger::Tag;
        }
        panic!("{}: a trigger the pipeline does not know: {on:?}", self.file)
    }
}

/// The pipeline: (stage name, job) in the order a change goes through them. A job with
/// `environment: prod` is its own stage, the manual approval.
pub fn pipeline() -> Vec<(String, Job)> {
    let mut workflows = Workflow::all();
    workflows.sort_by_key(|w| w.trigger());
    let mut out = Vec::new();
    for w in &workflows {
        for job in w.jobs() {
            let stage = match (w.trigger(), job.environment().as_deref()) {
                (_, Some("prod")) => "manual approval of prod".to_string(),
                (Trigger::PullRequest, _) => "pull request".to_string(),
                (Trigger::PushMain, _) => "push to main".to_string(),
                (Trigger::Tag, _) => "tag v*".to_string(),
            };
            out.push((stage, job));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_cut_at_shell_operators_and_continuations_joined() {
        let run = "mkdir -p x\ncargo xtask diff all --env dev --exit-code > x/d.txt || status=$?\n\
                   cargo xtask release \\\n  --env dev --output json | tee x/r.jsonl\n# a comment\n";
        let c = commands(run);
        assert_eq!(c[1].0, ["cargo", "xtask", "diff", "all", "--env", "dev", "--exit-code"]);
        assert_eq!(output_file(&c[1].1).as_deref(), Some("x/d.txt"));
        assert_eq!(
            c[2].0,
            ["cargo", "xtask", "release", "--env", "dev", "--output", "json"]
        );
        assert_eq!(output_file(&c[2].1).as_deref(), Some("x/r.jsonl"));
        assert_eq!(c.len(), 3);
    }
}
