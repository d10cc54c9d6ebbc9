//! The command line: flags are parsed here and each verb is handed to its module.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::session::{Project, Session};
use crate::ui::{Format, Ui};
use crate::{bench, commands};

#[derive(Parser, Debug)]
#[command(
    name = "cargo xtask",
    about = "mcfpipe: deploy the job-search pipeline's CloudFormation stacks, build and release its components, and run its workflows",
    long_about = "mcfpipe: deploy the job-search pipeline's CloudFormation stacks, build and release its components,\n\
and run its workflows (`up` does all of it on the embedded local emulator).\n\n\
Configuration comes from config/base.yaml overlaid by config/<env>.yaml; stacks are described by\n\
stacks/<name>.yaml and rendered from templates/. The environment `local` runs against an\n\
embedded AWS emulator (moto) that the deployer starts itself on 127.0.0.1.\n\n\
AWS access uses the standard chain: AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, SSO,\n\
AWS_REGION (when the config names no region) and AWS_ENDPOINT_URL.\n\n\
Exit codes: 0 success (nothing to do is success); 1 error; 2 `diff --exit-code` found changes,\n\
or `drift` found drift.",
    version
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Output format: text for people, json for pipelines (one document, or JSON lines for progress).
    #[arg(long, global = true, value_enum, default_value = "text")]
    pub output: Format,
    /// Send every AWS request here instead (overrides AWS_ENDPOINT_URL and the config).
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// The project folder (config/, stacks/, templates/); defaults to this workspace.
    #[arg(long, global = true, env = "MCFPIPE_ROOT", value_name = "DIR", hide = true)]
    pub root: Option<PathBuf>,
}

#[derive(Args, Debug, Clone)]
pub struct EnvArg {
    /// The environment: a file config/<ENV>.yaml.
    #[arg(long, short = 'e', env = "MCFPIPE_ENV", default_value = "local")]
    pub env: String,
}

#[derive(Subcommand, Debug)]
pub enum SyncAction {
    /// Store the Google service-account key (the JSON file from Google's console) in SSM
    /// Parameter Store as a SecureString (sync.key_parameter); it is never printed.
    Key {
        #[command(flatten)]
        env: EnvArg,
        /// The key file.
        #[arg(long, value_name = "KEY.json")]
        file: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum CrmAction {
    /// Make a user's bearer token for the CRM and print it once; only its SHA-256 is stored
    /// (SSM SecureString /<project>/<env>/crm/tokens/<user>). Again for the same user rotates it.
    #[command(long_about = "Make a user's bearer token for the CRM and print it once.\n\n\
The token is random (32 bytes), printed once on stdout (with --output json, in the result line)\n\
and kept nowhere: only its SHA-256 is stored, as the SSM SecureString\n\
/<project>/<env>/crm/tokens/<user>, which the CRM function compares in constant time. Running it\n\
again for the same user rotates the token: the old one stops working within a minute.\n\
--list lists the users that have a token (names only).")]
    Token {
        #[command(flatten)]
        env: EnvArg,
        /// Whose token (letters, digits, '-', '_', '.'); each user's moves are recorded as theirs.
        #[arg(long, default_value = "me", value_name = "NAME")]
        user: String,
        /// List the users that have a token instead (names only).
        #[arg(long, conflicts_with = "user")]
        list: bool,
    },
    /// Serve the CRM (its page and API) on 127.0.0.1 with the function's own handler, until
    /// Ctrl-C: the emulator's API Gateway runs no Lambda code.
    #[command(
        long_about = "Serve the CRM (its page at / and its API) on 127.0.0.1 until Ctrl-C.\n\n\
The same handler the deployed function runs (jobcrm-lambda), against the tables of the\n\
environment's deployed database stack and its tokens (`cargo xtask crm token`); it prints the\n\
URL. Made for `--env local`, whose API Gateway (moto) runs no Lambda code. Against another\n\
environment it works too: a server on this machine on that environment's real tables, with\n\
this machine's AWS credentials (the deployed CRM is at the crm stack's CrmApiUrl output)."
    )]
    Serve {
        #[command(flatten)]
        env: EnvArg,
        /// The port on 127.0.0.1; 0: a free one.
        #[arg(long, default_value_t = 0, value_name = "N")]
        port: u16,
    },
}

#[derive(Subcommand, Debug)]
pub enum McfAction {
    /// Check the browser's MCF cookies (signed in with Singpass) and store them encrypted in the
    /// data bucket for the apply task; they are never printed.
    #[command(
        long_about = "Check the browser's MCF cookies and store them encrypted for the apply task.\n\n\
Reads the browser's cookie export (--cookies: a JSON list of cookies, the format of a cookie-export\n\
extension) or Playwright's storage state (--storage-state), keeps the cookies of\n\
mycareersfuture.gov.sg, refuses the file when there is none or one has expired, and stores them\n\
(SSE-KMS) in the environment's data bucket at session/mcf.json, which only the apply task and the\n\
session check may read. It says how many cookies and when they expire, and warns within 3 days.\n\
No cookie value is ever printed or logged. Exit 0 stored; 1 refused (nothing stored) or AWS failed."
    )]
    Session {
        #[command(flatten)]
        env: EnvArg,
        /// The browser's cookie export (a JSON list of cookies).
        #[arg(
            long,
            value_name = "FILE",
            required_unless_present = "storage_state",
            conflicts_with = "storage_state"
        )]
        cookies: Option<PathBuf>,
        /// Playwright's storage state (`{"cookies": [...], "origins": [...]}`).
        #[arg(long, value_name = "FILE")]
        storage_state: Option<PathBuf>,
    },
    /// Check the stored MCF session against MCF now (what the daily function does): record its
    /// state for the CRM and tell the notification topic when it has expired or soon will.
    #[command(
        long_about = "Check the stored MCF session against MCF now, as the daily session check does.\n\n\
Sends the stored session to a page of MCF's that needs a signed-in user (without following\n\
redirects: the login page means expired), records the state (valid, expires_soon, expired,\n\
missing) with its dates in the dimensions table for the CRM page, and publishes to the\n\
notification topic when it has expired, expires within 3 days, or is missing. On an emulator\n\
MCF is the fake website of mcffixture, started here, unless --site names one.\n\n\
Exit 0 valid; 3 expired, expiring within 3 days or missing; 1 no verdict (MCF did not answer) or\n\
AWS failed."
    )]
    Check {
        #[command(flatten)]
        env: EnvArg,
        /// MCF's website, or a fake one's origin (default: MCF; on an emulator a fake started here).
        #[arg(long, value_name = "URL")]
        site: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Write the rendered CloudFormation templates and their parameters (no AWS calls).
    Render {
        /// `all`, a layer or a stack.
        #[arg(default_value = "all")]
        target: String,
        #[command(flatten)]
        env: EnvArg,
        /// Folder to write to (default target/mcfpipe/rendered/<env>).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Render and check every stack: our checks (names, tags, unresolved values, required
    /// policies) and cfn-lint when it is installed. Exits 1 on findings.
    Lint {
        #[command(flatten)]
        env: EnvArg,
        /// Lint every environment in config/.
        #[arg(long, conflicts_with = "env")]
        all_envs: bool,
        /// Skip cfn-lint even when it is installed.
        #[arg(long)]
        no_cfn_lint: bool,
    },
    /// Preview what a deploy would change, resource by resource (a change set, deleted after).
    Diff {
        #[arg(default_value = "all")]
        target: String,
        #[command(flatten)]
        env: EnvArg,
        /// Exit 2 when there are changes, 0 when there are none, 1 on error.
        #[arg(long)]
        exit_code: bool,
    },
    /// Create or update the stacks of a layer (or `all`) in dependency order.
    #[command(
        long_about = "Create or update the stacks of a layer (or `all`) in dependency order.\n\n\
A stack whose rendered template, parameters and tags hash to what is deployed is left alone\n\
(\"unchanged\": no API writes). Otherwise a missing stack is created, and an existing one is\n\
updated through a change set that is shown before it runs (deploy.method: direct uses\n\
UpdateStack, for the emulator). A stack left in ROLLBACK_COMPLETE by a failed create is\n\
deleted and created again; a busy stack is refused.\n\n\
Parameters come, in this order of precedence, from the stack manifest (stacks/<name>.yaml):\n\
`value` literals, `config` key paths of the environment's config, and `stack_output` of an\n\
upstream stack, read from the deployed stack at deploy time (not CloudFormation exports).\n\n\
Environments with deploy.approval ask before executing; without a terminal they need --yes."
    )]
    Deploy {
        #[arg(default_value = "all")]
        target: String,
        #[command(flatten)]
        env: EnvArg,
        /// Do not ask for approval.
        #[arg(long, short = 'y')]
        yes: bool,
        /// Create the change sets and leave them for review instead of executing them.
        #[arg(long)]
        no_execute: bool,
        /// Do not build: deploy the artifacts the last build recorded for this environment.
        #[arg(long)]
        no_build: bool,
    },
    /// Build and publish runtime components: Lambda zips to the artifact bucket (by SHA-256),
    /// images to the registry (by digest). Creates the artifacts stack first if it is missing.
    Build {
        /// A component (`mcfparse`, `mcfscrape`) or `all`.
        #[arg(default_value = "all")]
        component: String,
        #[command(flatten)]
        env: EnvArg,
    },
    /// Write the search profiles of config/seed/search-profiles.yaml into the environment's
    /// dimensions table, where the scraper reads them.
    Seed {
        #[command(flatten)]
        env: EnvArg,
        /// Another profiles file (same format).
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// Sync the recommender's library (title, rank, junk, keep and keyword tags, tracks,
    /// config) into the environment's dimensions table from files (config/seed/library by
    /// default) or the Google workbook; `sync key` stores the Google service-account key.
    #[command(
        args_conflicts_with_subcommands = true,
        long_about = "Sync the recommender's library into the environment's dimensions table, all or nothing.\n\n\
Sources: a folder of one YAML or CSV file per table (sync.dir, config/seed/library by default, or\n\
--from DIR), or the Google workbook sync.workbook_id, one tab per table (--from sheets, or\n\
sync.source: sheets), read with the service-account key stored by `cargo xtask sync key`.\n\n\
Any invalid row stops the sync with every error located (file:line, or tab!A1), and nothing is\n\
written. A valid sync writes the tables that changed and the library's version in one\n\
transaction, and prints rows added, changed and removed per table; an unchanged library writes\n\
nothing. A sync that wrote a new version rescores the recent posts with it (`run recommend\n\
--rescore`: in this process on an emulator, the deployed recommender invoked on AWS) unless\n\
--no-rescore. Exit 0 synced or unchanged, 1 errors (or a rescore that failed after the write)."
    )]
    Sync {
        #[command(subcommand)]
        action: Option<SyncAction>,
        #[command(flatten)]
        env: EnvArg,
        /// `sheets` (the configured workbook) or a folder of <table>.yaml/.csv files; default:
        /// the config's sync.source.
        #[arg(long, value_name = "sheets|DIR")]
        from: Option<String>,
        /// Report what would change; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Write the library without rescoring the recent posts (the JSON result's
        /// `rescore_due` says one is due; `run recommend --rescore` does it later).
        #[arg(long, conflicts_with = "dry_run")]
        no_rescore: bool,
        /// Rescore as of this day (`YYYY-MM-DD`, an emulator only), as `run recommend --as-of`:
        /// the repository's MCF captures are recent only as of the day they were taken.
        #[arg(long, value_name = "YYYY-MM-DD", conflicts_with = "no_rescore")]
        as_of: Option<String>,
    },
    /// The CRM: `crm token` makes (or rotates) a user's bearer token, `crm serve` serves the
    /// CRM on 127.0.0.1 (the emulator's API Gateway runs no Lambda code).
    Crm {
        #[command(subcommand)]
        action: CrmAction,
    },
    /// MCF itself: `mcf session` stores the browser's signed-in MCF session for the apply task.
    Mcf {
        #[command(subcommand)]
        action: McfAction,
    },
    /// Run a workflow of the pipeline against a deployed environment.
    Run {
        #[command(subcommand)]
        workflow: Workflow,
    },
    /// Deploy every layer, seed the search profiles, run one jobs search and print a summary:
    /// the first command on a fresh machine (`--env local` by default: the embedded emulator).
    #[command(
        long_about = "Deploy every layer, seed the search profiles, run one jobs search and print a summary.\n\n\
On the local environment the scraper runs in this process against the embedded emulator, and the\n\
parser step runs the Lambda's handler through a local poller (the emulator runs no Lambda code).\n\
When MCF cannot be reached (or with --offline), the repository's MCF captures are served by a\n\
fixture server on 127.0.0.1 instead. With no Docker engine the scraper image is skipped (said so)\n\
and the workflow still runs."
    )]
    Up {
        #[command(flatten)]
        search: SearchArgs,
        /// Do not ask for approval (environments with deploy.approval).
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Build and publish every component, then write the release manifest (git commit, config
    /// and template hashes, each artifact's SHA-256 / digest, S3 key and version) to the
    /// artifact bucket (releases/<id>.json) and target/mcfpipe/<env>/release.json.
    Release {
        #[command(flatten)]
        env: EnvArg,
        /// Also write the manifest to this file.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Deploy to another environment exactly the release an environment runs, without
    /// building: reads what --from runs from its deployed stacks (it must be a release, see
    /// `release`), copies the Lambda zips and images by hash and digest into --to's artifact
    /// bucket and repositories, deploys --to with them, then verifies that --to's functions
    /// report the same CodeSha256 and its task definitions the same image digests. Refuses when
    /// --to would run templates --from did not (changed since --from was deployed, or
    /// resources only --to's config creates), unless --allow-untested. Exit 0 promoted and
    /// verified, 1 refused or failed.
    Promote {
        /// The environment whose running release is promoted.
        #[arg(long)]
        from: String,
        /// The environment that receives it.
        #[arg(long)]
        to: String,
        /// Do not ask for approval (environments with deploy.approval, e.g. prod).
        #[arg(long, short = 'y')]
        yes: bool,
        /// Promote even when the target would run templates the source has not run.
        #[arg(long)]
        allow_untested: bool,
    },
    /// What changed in AWS behind our back: CloudFormation drift detection on every deployed
    /// stack, with each MODIFIED or DELETED resource and its drifted properties. Exit 0 no
    /// drift, 2 drift, 1 error (the emulator does not implement drift detection).
    Drift {
        #[command(flatten)]
        env: EnvArg,
    },
    /// Every stack: its state, last change, and whether it differs from what the files render.
    Status {
        #[command(flatten)]
        env: EnvArg,
    },
    /// The stacks' outputs; also written to target/mcfpipe/<env>/outputs.json.
    Outputs {
        #[arg(default_value = "all")]
        target: String,
        #[command(flatten)]
        env: EnvArg,
        /// Also write the outputs (JSON) to this file.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Delete the stacks of a layer (or all) in reverse dependency order.
    Teardown {
        #[arg(default_value = "all")]
        target: String,
        #[command(flatten)]
        env: EnvArg,
        /// Do not ask for confirmation (not enough for a protected environment).
        #[arg(long, short = 'y')]
        yes: bool,
        /// Required for a protected environment (prod), with the name typed back or --confirm.
        #[arg(long)]
        force: bool,
        /// The environment name, typed back without a terminal (with --force).
        #[arg(long, value_name = "ENV")]
        confirm: Option<String>,
    },
    /// The components' CloudWatch Logs (the parser function, the scraper task, every log group
    /// the stacks declare), merged by time.
    #[command(
        long_about = "The components' CloudWatch Logs, merged by time: every AWS::Logs::LogGroup of the\n\
environment's stacks (the parser function's, the scraper task's, and any later component's),\n\
or one component's. Each event is shown as `time component level message key=value…`; lines\n\
that are not JSON log lines (the Lambda runtime's START/END/REPORT) as they are.\n\
--output json prints each event as a JSON line (group, stream, timestamp, message parsed when\n\
it is JSON), then the result line.\n\n\
Runs of the scraper and the parser in this process (`run search`, `up`) ship their lines to the\n\
same groups, under a stream xtask/<date>/<time>-<pid>, so this works the same on `local`.\n\n\
--follow polls for new events (every 2 s on AWS, faster on an emulator) until interrupted\n\
(Ctrl-C); --follow-for 10m follows for that long, then prints the result line and exits 0.\n\n\
Exit codes: 0 the events were read, none included (\"no log events since …\"); 1 an unknown\n\
component (the known ones are listed), a log group not deployed yet (with the deploy command\n\
that creates it), or an AWS error."
    )]
    Logs {
        /// One component (`mcfparse`, `mcfscrape`, …); default: every component with logs.
        component: Option<String>,
        #[command(flatten)]
        env: EnvArg,
        /// From when: a duration back from now (30s, 30m, 1h, 2d, 1w, 1h30m) or a time
        /// (2026-11-28T18:00:00Z, 2026-11-29T02:00:00+08:00, 2026-11-28).
        #[arg(long, default_value = "1h", value_name = "WHEN")]
        since: String,
        /// Keep polling for new events until interrupted (Ctrl-C).
        #[arg(long, short = 'f')]
        follow: bool,
        /// Follow for this long (30s, 10m, 1h), then stop with the result line.
        #[arg(long, value_name = "DURATION")]
        follow_for: Option<String>,
        /// A CloudWatch Logs filter pattern, passed as is: `error`, `"a uuid"`,
        /// `{ $.level = "error" }`.
        #[arg(long, value_name = "PATTERN")]
        filter: Option<String>,
    },
    /// Remove the environment's deploy lock (left by a deploy or teardown that was killed),
    /// naming who held it.
    Unlock {
        #[command(flatten)]
        env: EnvArg,
    },
    /// The embedded local AWS emulator.
    Local {
        #[command(subcommand)]
        action: LocalAction,
    },
    /// Benchmarks (docs/benchmarks.md). Plain `bench` is `bench deploy`.
    #[command(args_conflicts_with_subcommands = true)]
    Bench {
        #[command(subcommand)]
        which: Option<BenchCommand>,
        #[command(flatten)]
        options: BenchOptions,
    },
}

#[derive(Subcommand, Debug)]
pub enum Workflow {
    /// One jobs search: scrape MCF (new and changed posts only) into S3 and the parse queue,
    /// then parse the queued documents into the posts table, and print a summary.
    #[command(
        long_about = "One jobs search: scrape MCF (new and changed posts only) into S3 and the parse queue,\n\
then parse the queued documents into the posts table, and print a summary.\n\n\
The scraper runs in this process with the environment's config (compute.scraper: mcf_url,\n\
rate_per_second). On an emulator the parser step runs here too, through the Lambda's own handler;\n\
on AWS the deployed parser function consumes the queue (--drain parses here as well).\n\n\
Exit codes: 0 the data landed (rejected documents are kept under rejects/ with their reasons);\n\
1 the scrape failed or was blocked, or documents stayed on the queue."
    )]
    Search(SearchArgs),
    /// Apply on MCF for the CRM's jobs in TOAPPLY, in this machine's headless Chromium, with the
    /// session `mcf session` stored: a dry run unless --submit.
    #[command(
        long_about = "Apply on MCF for the CRM's jobs in TOAPPLY (the apply task's run, in this process).\n\n\
Reads the session `cargo xtask mcf session` stored, opens a headless Chromium of this machine\n\
(MCFAPPLY_CHROMIUM, else Debian's chromium-headless-shell or chromium) and follows MCF's apply flow\n\
for each job with its CV version. A dry run (the default) stops at the submit button and records\n\
dry_run_ok; --submit submits, and only MCF's confirmation counts as applied (the job moves to\n\
APPLIED). Every attempt is recorded in the applications table, with a screenshot and the page's\n\
HTML of every failure and dry run under evidence/ in the data bucket. A job applied to, or with an\n\
attempt in progress, is never submitted again. MCF's login page stops the run: the rest stay\n\
TOAPPLY, the session is marked expired and the notification topic told.\n\n\
On an emulator MCF's website is a fake one started here (mcffixture; its session is\n\
config/seed/mcf-cookies.json), unless --site names one.\n\n\
Exit codes: 0 the run went through its jobs (each outcome shown and recorded); 1 an error stopped\n\
it; 3 the session is missing or expired."
    )]
    Apply(ApplyArgs),
    /// Score the posts that landed since the last play of the posts stream and screen the best
    /// into the CRM (an emulator: the stream is played here through the recommender's handler;
    /// on AWS the deployed function does it by itself), or rescore the recent posts after a
    /// library change (`--rescore`); then print the shortlist per track.
    #[command(
        long_about = "Score new posts and screen the best into the CRM, or rescore the recent posts, then print the shortlist.\n\n\
On an emulator (which runs no Lambda code) the posts table's stream is read here with DynamoDB\n\
Streams from where the last play stopped (a checkpoint in the dimensions table) and fed through\n\
the recommender's own handler, in the event source mapping's shape. --rescore reads the posts of\n\
the last compute.recommender.rescore_weeks weeks (or --weeks) and scores them again: in this\n\
process on an emulator, by invoking the deployed function (RequestResponse) on AWS. A job the\n\
user moved to another stage keeps its stage; only its scores are refreshed.\n\n\
Exit codes: 0 every post was scored; 1 some could not be (listed, with the reason)."
    )]
    Recommend(RecommendArgs),
}

#[derive(Args, Debug, Clone)]
pub struct RecommendArgs {
    #[command(flatten)]
    pub env: EnvArg,
    /// Rescore the recent posts (after a library change) instead of playing the stream.
    #[arg(long)]
    pub rescore: bool,
    /// Weeks of posts a rescore reads back (default: compute.recommender.rescore_weeks).
    #[arg(long, value_name = "N", requires = "rescore")]
    pub weeks: Option<u32>,
    /// Score and screen as of this day (YYYY-MM-DD) instead of today: old posts replayed, such
    /// as the repository's MCF captures (2025-05-19). An emulator only.
    #[arg(long, value_name = "DAY")]
    pub as_of: Option<String>,
}

#[derive(Args, Debug)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub env: EnvArg,
    /// Submit the applications (default: a dry run up to the submit button).
    #[arg(long)]
    pub submit: bool,
    /// Only this job (`<uuid>~<track>` as the CRM shows it, or a uuid).
    #[arg(long, value_name = "ID")]
    pub job: Option<String>,
    /// MCF's website, or a fake one's origin (default: MCF; on an emulator a fake started here).
    #[arg(long, value_name = "URL")]
    pub site: Option<String>,
    /// Seconds between two jobs.
    #[arg(long, value_name = "SECONDS")]
    pub pause: Option<f64>,
    /// At most this many attempts.
    #[arg(long, value_name = "N")]
    pub max_jobs: Option<usize>,
}

#[derive(Args, Debug, Clone)]
pub struct SearchArgs {
    #[command(flatten)]
    pub env: EnvArg,
    /// Scrape this MCF API URL (a fixture server's, say) instead of the config's.
    #[arg(long, value_name = "URL", conflicts_with = "offline")]
    pub mcf_url: Option<String>,
    /// Serve the repository's MCF captures on 127.0.0.1 and scrape those (no internet needed).
    /// The local environment does this by itself when MCF cannot be reached.
    #[arg(long)]
    pub offline: bool,
    /// Requests per second to MCF (default: compute.scraper.rate_per_second; no limit for the
    /// captures).
    #[arg(long)]
    pub rate: Option<f64>,
    /// Fetch at most this many job details; the next run continues where this one stopped.
    #[arg(long, value_name = "N")]
    pub max_posts: Option<u32>,
    /// Also parse the queue here when the deployed function consumes it (AWS).
    #[arg(long)]
    pub drain: bool,
}

impl SearchArgs {
    fn flags(&self) -> crate::workflow::search::Flags {
        crate::workflow::search::Flags {
            mcf_url: self.mcf_url.clone(),
            offline: self.offline,
            rate: self.rate,
            max_posts: self.max_posts,
            drain: self.drain,
        }
    }
}

#[derive(Args, Debug, Clone, Copy)]
pub struct BenchOptions {
    /// Runs of each measurement (medians are reported).
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// Also write the table into its section of docs/benchmarks.md.
    #[arg(long)]
    pub write: bool,
}

#[derive(Subcommand, Debug, Clone, Copy)]
pub enum BenchCommand {
    /// Our `deploy all` against `aws cloudformation deploy` on the same emulator (the default).
    Deploy(BenchOptions),
    /// The jobs-search runtime against the targets: mcfparse against Python (json +
    /// BeautifulSoup) on one core, the parser's peak memory on a batch of 10, the Lambda zip,
    /// the scraper image, and the scraper's own overhead per post.
    Runtime(BenchOptions),
    /// Staging brought to the release dev runs: `promote` against rebuilding from source and
    /// deploying, on one emulator, from a staging with no stacks each run.
    Promote(PromoteBenchOptions),
    /// The recommender's scoring throughput (jobmatch) against the original's way (pandas +
    /// scikit-learn), one core each, on the captures with three tracks.
    Recommend(BenchOptions),
    /// The recommender under load on the emulator: its release Lambda binary's peak memory on
    /// one stream batch of 100 posts, and a full rescore of many synthetic posts × 3 tracks.
    RecommendLoad(RecommendLoadOptions),
    /// The CRM's `GET /jobs` with filters on its local server (release) over many jobs on the
    /// emulator, against the naive way (the stage index queried per request); its Lambda
    /// binary's init time, cold first request and peak memory; its zip.
    Crm(CrmBenchOptions),
    /// The time per application: `cargo xtask run apply` as typed (dry run, then submit) on
    /// moto against the fake MCF website, against the original's flow in Playwright for Python
    /// driving the same Chromium.
    Apply(ApplyBenchOptions),
}

#[derive(Args, Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApplyBenchOptions {
    /// Runs of each measurement (medians are reported).
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Fresh TOAPPLY jobs per run.
    #[arg(long, default_value_t = 10)]
    pub jobs: usize,
    /// Also write the table into its section of docs/benchmarks.md.
    #[arg(long)]
    pub write: bool,
}

#[derive(Args, Debug, Clone, Copy, PartialEq, Eq)]
pub struct CrmBenchOptions {
    /// Runs of each measurement (medians are reported).
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// CRM jobs written to the emulator's table.
    #[arg(long, default_value_t = 10_000)]
    pub items: usize,
    /// Timed `GET /jobs` per run on the local server (the naive baseline gets a tenth, at
    /// least one per filter).
    #[arg(long, default_value_t = 500)]
    pub requests: usize,
    /// Also write the table into its section of docs/benchmarks.md.
    #[arg(long)]
    pub write: bool,
}

#[derive(Args, Debug, Clone, Copy)]
pub struct RecommendLoadOptions {
    /// Synthetic posts written and rescored.
    #[arg(long, default_value_t = 100_000)]
    pub posts: usize,
}

#[derive(Args, Debug, Clone, Copy)]
pub struct PromoteBenchOptions {
    #[command(flatten)]
    pub options: BenchOptions,
    /// Also time one rebuild from an empty cargo target directory (a CI job without a cache);
    /// several minutes on 2 cores.
    #[arg(long)]
    pub cold: bool,
}

#[derive(Subcommand, Debug, Clone, Copy)]
pub enum LocalAction {
    /// Start the emulator (or say where the running one is).
    Start,
    /// Stop the emulator by its PID.
    Stop,
    /// Whether the emulator runs, and where.
    Status,
    /// Clear all its state.
    Reset,
}

/// Parses the arguments and runs the command; the exit code says how it went.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let ui = Ui::new(cli.output);
    ExitCode::from(run(cli, ui))
}

/// The stack of the thread a command runs on. A debug build's async frames are large, and
/// `up` nests deep (deploy, search, scrape, S3): more than the 2 MiB of a test's thread, which
/// runs commands in-process.
const COMMAND_STACK_BYTES: usize = 16 * 1024 * 1024;

/// Runs a parsed command line with `ui` as its output; returns the exit code (0, 1 or 2).
/// The command runs on a thread of its own with a [`COMMAND_STACK_BYTES`] stack, whatever
/// thread calls this.
pub fn run(cli: Cli, ui: Ui) -> u8 {
    let errors = ui.sibling();
    let spawned = std::thread::Builder::new()
        .name("xtask".into())
        .stack_size(COMMAND_STACK_BYTES)
        .spawn(move || run_here(cli, ui));
    match spawned.map(|t| t.join()) {
        Ok(Ok(code)) => code,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(e) => {
            errors.error(&format!("cannot start the command's thread: {e}"));
            1
        }
    }
}

fn run_here(cli: Cli, ui: Ui) -> u8 {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_stack_size(COMMAND_STACK_BYTES)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            ui.error(&format!("cannot start the async runtime: {e}"));
            return 1;
        }
    };
    let errors = ui.sibling();
    match runtime.block_on(dispatch(cli, ui)) {
        Ok(code) => code,
        Err(e) => {
            errors.error(&format!("{e:#}"));
            1
        }
    }
}

async fn dispatch(cli: Cli, ui: Ui) -> anyhow::Result<u8> {
    let project = Project::new(cli.root);
    let open = |env: &EnvArg, ui: Ui| Session::open(project.clone(), &env.env, ui, cli.endpoint_url.clone());
    match cli.command {
        Command::Render { target, env, out } => commands::render::run(&open(&env, ui)?, &target, out),
        Command::Lint {
            env,
            all_envs,
            no_cfn_lint,
        } => {
            let envs = if all_envs {
                project.environments()?
            } else {
                vec![env.env.clone()]
            };
            commands::lint::run(&project, &envs, ui, !no_cfn_lint)
        }
        Command::Diff { target, env, exit_code } => commands::diff::run(&open(&env, ui)?, &target, exit_code).await,
        Command::Deploy {
            target,
            env,
            yes,
            no_execute,
            no_build,
        } => {
            let opts = commands::deploy::Options {
                yes,
                no_execute,
                no_build,
            };
            commands::deploy::run(&open(&env, ui)?, &target, opts).await
        }
        Command::Build { component, env } => commands::build::run(&open(&env, ui)?, &component).await,
        Command::Promote {
            from,
            to,
            yes,
            allow_untested,
        } => {
            let opts = commands::promote::Options { yes, allow_untested };
            commands::promote::run(&project, &from, &to, ui, cli.endpoint_url.clone(), opts).await
        }
        Command::Drift { env } => commands::drift::run(&open(&env, ui)?).await,
        Command::Release { env, out } => commands::release::run(&open(&env, ui)?, out).await,
        Command::Seed { env, file } => commands::seed::run(&open(&env, ui)?, file).await,
        Command::Sync {
            action: Some(SyncAction::Key { env, file }),
            ..
        } => commands::sync::key(&open(&env, ui)?, &file).await,
        Command::Sync {
            action: None,
            env,
            from,
            dry_run,
            no_rescore,
            as_of,
        } => {
            let rescore = (!no_rescore).then_some(commands::sync::Rescore { as_of });
            commands::sync::run(&open(&env, ui)?, from.as_deref(), dry_run, rescore).await
        }
        Command::Run {
            workflow: Workflow::Search(args),
        } => commands::search::run(&open(&args.env, ui)?, &args.flags()).await,
        Command::Run {
            workflow: Workflow::Apply(args),
        } => {
            let flags = commands::apply::Flags {
                submit: args.submit,
                job: args.job.clone(),
                site: args.site.clone(),
                pause: args.pause,
                max_jobs: args.max_jobs,
            };
            commands::apply::run(&open(&args.env, ui)?, &flags).await
        }
        Command::Run {
            workflow: Workflow::Recommend(args),
        } => {
            let flags = commands::recommend::Flags {
                rescore: args.rescore,
                weeks: args.weeks,
                as_of: args.as_of.clone(),
            };
            commands::recommend::run(&open(&args.env, ui)?, &flags).await
        }
        Command::Crm {
            action: CrmAction::Token { env, user, list },
        } => {
            let s = open(&env, ui)?;
            if list {
                commands::crm::users(&s).await
            } else {
                commands::crm::token(&s, &user).await
            }
        }
        Command::Crm {
            action: CrmAction::Serve { env, port },
        } => commands::crm::serve(&open(&env, ui)?, port).await,
        Command::Mcf {
            action:
                McfAction::Session {
                    env,
                    cookies,
                    storage_state,
                },
        } => {
            let (file, format) = match (cookies, storage_state) {
                (Some(file), _) => (file, commands::mcf::Format::Cookies),
                (None, Some(file)) => (file, commands::mcf::Format::StorageState),
                (None, None) => anyhow::bail!("give --cookies FILE or --storage-state FILE"),
            };
            commands::mcf::session(&open(&env, ui)?, &file, format).await
        }
        Command::Mcf {
            action: McfAction::Check { env, site },
        } => commands::mcf::check(&open(&env, ui)?, site).await,
        Command::Up { search, yes } => commands::up::run(&open(&search.env, ui)?, &search.flags(), yes).await,
        Command::Status { env } => commands::status::run(&open(&env, ui)?).await,
        Command::Outputs { target, env, out } => commands::outputs::run(&open(&env, ui)?, &target, out).await,
        Command::Teardown {
            target,
            env,
            yes,
            force,
            confirm,
        } => {
            commands::teardown::run(
                &open(&env, ui)?,
                &target,
                commands::teardown::Options { yes, force, confirm },
            )
            .await
        }
        Command::Unlock { env } => commands::unlock::run(&open(&env, ui)?).await,
        Command::Logs {
            component,
            env,
            since,
            follow,
            follow_for,
            filter,
        } => {
            let opts = commands::logs::Options {
                component,
                since,
                follow,
                follow_for,
                filter,
            };
            commands::logs::run(&open(&env, ui)?, &opts).await
        }
        Command::Local { action } => commands::local::run(&project, &ui, action),
        Command::Bench { which, options } => match which {
            None => bench::deploy::run(&project, &ui, options.runs, options.write),
            Some(BenchCommand::Deploy(o)) => bench::deploy::run(&project, &ui, o.runs, o.write),
            Some(BenchCommand::Runtime(o)) => bench::runtime::run(&project, &ui, o.runs, o.write).await,
            Some(BenchCommand::Recommend(o)) => bench::recommend::run(&project, &ui, o.runs, o.write).await,
            Some(BenchCommand::RecommendLoad(o)) => bench::recommend_load::run(&project, &ui, o.posts).await,
            Some(BenchCommand::Crm(o)) => bench::crm::run(&project, &ui, o.runs, o.items, o.requests, o.write).await,
            Some(BenchCommand::Apply(o)) => bench::apply::run(&project, &ui, o.runs, o.jobs, o.write).await,
            Some(BenchCommand::Promote(o)) => {
                bench::promote::run(&project, &ui, o.options.runs, o.options.write, o.cold).await
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bench(args: &[&str]) -> (Option<BenchCommand>, usize, bool) {
        let cli = Cli::try_parse_from(["cargo xtask", "bench"].iter().chain(args)).expect("parses");
        match cli.command {
            Command::Bench { which, options } => (which, options.runs, options.write),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn plain_bench_is_the_deploy_benchmark_and_runtime_is_a_subcommand() {
        assert!(matches!(bench(&["--runs", "3", "--write"]), (None, 3, true)));
        assert!(matches!(bench(&[]), (None, 5, false)));
        let (which, _, _) = bench(&["deploy", "--runs", "2"]);
        assert!(matches!(
            which,
            Some(BenchCommand::Deploy(BenchOptions { runs: 2, write: false }))
        ));
        let (which, _, _) = bench(&["runtime", "--write"]);
        assert!(matches!(
            which,
            Some(BenchCommand::Runtime(BenchOptions { runs: 5, write: true }))
        ));
        let (which, _, _) = bench(&["recommend", "--runs", "3", "--write"]);
        assert!(matches!(
            which,
            Some(BenchCommand::Recommend(BenchOptions { runs: 3, write: true }))
        ));
        let (which, _, _) = bench(&["crm"]);
        assert!(matches!(
            which,
            Some(BenchCommand::Crm(CrmBenchOptions {
                runs: 3,
                items: 10_000,
                requests: 500,
                write: false
            }))
        ));
        let (which, _, _) = bench(&["crm", "--runs", "2", "--items", "500", "--requests", "60", "--write"]);
        assert!(matches!(
            which,
            Some(BenchCommand::Crm(CrmBenchOptions {
                runs: 2,
                items: 500,
                requests: 60,
                write: true
            }))
        ));
        assert!(Cli::try_parse_from(["cargo xtask", "bench", "--runs", "2", "runtime"]).is_err());
        assert!(Cli::try_parse_from(["cargo xtask", "--output", "json", "bench", "runtime"]).is_ok());
    }

    #[test]
    fn mcf_session_takes_one_file_of_either_format() {
        let parse = |args: &[&str]| {
            Cli::try_parse_from(["cargo xtask", "mcf", "session"].iter().chain(args)).map(|c| c.command)
        };
        match parse(&["--env", "dev", "--cookies", "c.json"]).expect("parses") {
            Command::Mcf {
                action:
                    McfAction::Session {
                        env,
                        cookies,
                        storage_state,
                    },
            } => {
                assert_eq!(env.env, "dev");
                assert_eq!(cookies, Some(PathBuf::from("c.json")));
                assert_eq!(storage_state, None);
            }
            other => panic!("{other:?}"),
        }
        assert!(parse(&["--storage-state", "s.json"]).is_ok());
        assert!(parse(&[]).is_err());
        assert!(parse(&["--cookies", "c.json", "--storage-state", "s.json"]).is_err());
    }

    #[test]
    fn crm_token_defaults_to_the_user_me_and_lists_without_one() {
        let parse = |args: &[&str]| Cli::try_parse_from(["cargo xtask", "crm"].iter().chain(args)).map(|c| c.command);
        match parse(&["token", "--env", "dev"]).expect("parses") {
            Command::Crm {
                action: CrmAction::Token { env, user, list },
            } => assert_eq!((env.env.as_str(), user.as_str(), list), ("dev", "me", false)),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse(&["token", "--list"]).expect("parses"),
            Command::Crm {
                action: CrmAction::Token { list: true, .. }
            }
        ));
        assert!(parse(&["token", "--list", "--user", "ann"]).is_err());
        match parse(&["serve", "--port", "8080"]).expect("parses") {
            Command::Crm {
                action: CrmAction::Serve { env, port },
            } => assert_eq!((env.env.as_str(), port), ("local", 8080)),
            other => panic!("{other:?}"),
        }
    }
}
