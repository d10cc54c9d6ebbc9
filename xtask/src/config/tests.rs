use super::validate::{overlaps, parse_cidr, within};
use super::*;

fn repo_config_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../config")
}

/// A temporary config dir holding the repository's base.yaml and the given env file.
fn with_env(env_yaml: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(repo_config_dir().join("base.yaml"), dir.path().join("base.yaml")).unwrap();
    std::fs::write(dir.path().join("test.yaml"), env_yaml).unwrap();
    dir
}

fn load_err(env_yaml: &str) -> ConfigError {
    let dir = with_env(env_yaml);
    load(dir.path(), dir.path(), "test").expect_err("config should be rejected")
}

#[test]
fn every_shipped_environment_loads() {
    let dir = repo_config_dir();
    let envs = environments(&dir).unwrap();
    assert_eq!(envs, ["dev", "local", "prod", "staging"]);
    for env in envs {
        load(&dir, &dir, &env).unwrap_or_else(|e| panic!("{env}: {e}"));
    }
}

#[test]
fn environment_overrides_base_key_by_key() {
    let dir = repo_config_dir();
    let prod = load(&dir, &dir, "prod").unwrap();
    assert!(prod.database.retain_data);
    assert!(prod.deploy.approval);
    // Not mentioned in prod.yaml: comes from base.yaml.
    assert_eq!(prod.database.parse_queue.max_receive_count, 5);
    assert_eq!(prod.network.availability_zones, ["ap-southeast-1a", "ap-southeast-1b"]);
    let local = load(&dir, &dir, "local").unwrap();
    assert!(local.is_local());
    assert_eq!(local.deploy.method, DeployMethod::Direct);
    assert_eq!(local.network.vpc_cidr, "10.20.0.0/16");
}

#[test]
fn unknown_key_names_file_line_and_path() {
    let e = load_err("account_id: \"123456789012\"\nnetwork:\n  vpc_cidr: 10.20.0.0/16\n  vpc_cdir: 10.0.0.0/8\n");
    assert_eq!(e.file, PathBuf::from("test.yaml"));
    assert_eq!(e.line, Some(4));
    assert_eq!(e.key, "network.vpc_cdir");
    assert!(e.message.starts_with("unknown key"), "{e}");
    assert!(
        e.to_string()
            .starts_with("test.yaml:4: key `network.vpc_cdir`: unknown key"),
        "{e}"
    );
}

#[test]
fn wrong_type_names_file_line_and_path() {
    let e = load_err("account_id: \"123456789012\"\nlogs:\n  retention_days: two weeks\n");
    assert_eq!(
        (e.file.to_str(), e.line, e.key.as_str()),
        (Some("test.yaml"), Some(3), "logs.retention_days")
    );
    assert!(e.message.contains("invalid type"), "{e}");
}

#[test]
fn wrong_enum_value_is_reported_where_written() {
    let e = load_err("account_id: \"123456789012\"\ndeploy:\n  method: yolo\n");
    assert_eq!((e.line, e.key.as_str()), (Some(3), "deploy.method"));
    assert!(e.message.contains("yolo"), "{e}");
}

#[test]
fn error_in_base_file_points_at_base() {
    let dir = with_env("account_id: \"123456789012\"\n");
    let base = std::fs::read_to_string(dir.path().join("base.yaml")).unwrap();
    std::fs::write(
        dir.path().join("base.yaml"),
        base.replace("max_receive_count: 5", "max_receive_count: many"),
    )
    .unwrap();
    let e = load(dir.path(), dir.path(), "test").unwrap_err();
    assert_eq!(e.file, PathBuf::from("base.yaml"));
    assert_eq!(e.key, "database.parse_queue.max_receive_count");
    let expected = base.lines().position(|l| l.contains("max_receive_count")).unwrap() + 1;
    assert_eq!(e.line, Some(expected));
}

#[test]
fn missing_required_value_names_both_files() {
    let dir = with_env("account_id: \"123456789012\"\n");
    let base = std::fs::read_to_string(dir.path().join("base.yaml")).unwrap();
    std::fs::write(
        dir.path().join("base.yaml"),
        base.replace("  private_subnet_cidr: 10.20.10.0/24\n", ""),
    )
    .unwrap();
    let e = load(dir.path(), dir.path(), "test").unwrap_err();
    assert_eq!(e.key, "network.private_subnet_cidr");
    assert_eq!(e.line, None);
    assert!(
        e.message
            .contains("missing required value: set it in base.yaml or test.yaml"),
        "{e}"
    );
}

#[test]
fn yaml_syntax_error_names_line() {
    let e = load_err("account_id: \"123456789012\"\nnetwork:\n  vpc_cidr: [oops\n");
    assert_eq!(e.file, PathBuf::from("test.yaml"));
    assert!(e.line.is_some(), "{e}");
    assert!(e.message.starts_with("not valid YAML"), "{e}");
}

#[test]
fn semantic_checks_name_the_key() {
    let e = load_err("account_id: \"12345\"\n");
    assert_eq!((e.line, e.key.as_str()), (Some(1), "account_id"));
    let e = load_err("account_id: \"123456789012\"\nnetwork:\n  private_subnet_cidr: 192.168.0.0/24\n");
    assert_eq!((e.line, e.key.as_str()), (Some(3), "network.private_subnet_cidr"));
    assert!(e.message.contains("not inside the VPC"), "{e}");
    let e = load_err("account_id: \"123456789012\"\nnetwork:\n  public_subnet_cidrs: [10.20.0.0/24, 10.20.0.0/25]\n");
    assert_eq!(e.key, "network.public_subnet_cidrs[1]");
    assert!(e.message.contains("overlaps"), "{e}");
    let e = load_err("account_id: \"123456789012\"\nnetwork:\n  availability_zones: [us-east-1a, us-east-1b]\n");
    assert_eq!(e.key, "network.availability_zones[0]");
    let e = load_err("account_id: \"123456789012\"\nlogs:\n  retention_days: 10\n");
    assert_eq!((e.line, e.key.as_str()), (Some(3), "logs.retention_days"));
    let e = load_err("endpoint: null\n");
    assert_eq!(e.key, "account_id");
    assert!(e.message.contains("account guard"), "{e}");
    let e = load_err("account_id: \"123456789012\"\ndeploy:\n  protected: true\n");
    assert_eq!(e.key, "database.retain_data");
    let e = load_err("account_id: \"123456789012\"\ntags:\n  layer: x\n");
    assert_eq!((e.line, e.key.as_str()), (Some(3), "tags.layer"));
    let e = load_err("account_id: \"123456789012\"\ncompute:\n  recommender:\n    batch_size: 0\n");
    assert_eq!((e.line, e.key.as_str()), (Some(4), "compute.recommender.batch_size"));
    assert!(e.message.contains("1 to 10000 records, not 0"), "{e}");
    let e = load_err("account_id: \"123456789012\"\ncompute:\n  recommender:\n    rescore_weeks: 60\n");
    assert_eq!(e.key, "compute.recommender.rescore_weeks");
}

#[test]
fn crm_keys_are_checked_where_they_are_written() {
    let e = load_err("account_id: \"123456789012\"\ncompute:\n  crm:\n    timeout_seconds: 60\n");
    assert_eq!((e.line, e.key.as_str()), (Some(4), "compute.crm.timeout_seconds"));
    assert!(e.message.contains("API Gateway's integration timeout"), "{e}");
    let e = load_err("account_id: \"123456789012\"\ncompute:\n  crm:\n    throttle_burst: 0\n");
    assert_eq!(e.key, "compute.crm.throttle_burst");
    let e = load_err("account_id: \"123456789012\"\ncompute:\n  crm:\n    throttle_rate_per_second: 0\n");
    assert_eq!(e.key, "compute.crm.throttle_rate_per_second");
    let e = load_err("account_id: \"123456789012\"\ncompute:\n  crm:\n    expiry_schedule: \"cron(0 16 * * * *)\"\n");
    assert_eq!((e.line, e.key.as_str()), (Some(4), "compute.crm.expiry_schedule"));
    let e = load_err("account_id: \"123456789012\"\ncompute:\n  crm:\n    page_size: 10\n");
    assert_eq!((e.line, e.key.as_str()), (Some(4), "compute.crm.page_size"));
}

#[test]
fn apply_keys_are_checked_where_they_are_written() {
    let head = "account_id: \"123456789012\"\ncompute:\n  apply:\n";
    let e = load_err(&format!("{head}    memory_mb: 1536\n"));
    assert_eq!((e.line, e.key.as_str()), (Some(4), "compute.apply.memory_mb"));
    assert!(e.message.contains("1024 CPU units with 1536 MB"), "{e}");
    let e = load_err(&format!("{head}    cpu: 256\n    memory_mb: 512\n"));
    assert_eq!((e.line, e.key.as_str()), (Some(5), "compute.apply.memory_mb"));
    assert!(e.message.contains("Chromium"), "{e}");
    let e = load_err(&format!("{head}    cpu: 300\n"));
    assert_eq!((e.line, e.key.as_str()), (Some(4), "compute.apply.cpu"));
    let e = load_err(&format!("{head}    pause_seconds: -1\n"));
    assert_eq!(e.key, "compute.apply.pause_seconds");
    let e = load_err(&format!("{head}    schedule: \"cron(0 1 * * * *)\"\n"));
    assert_eq!((e.line, e.key.as_str()), (Some(4), "compute.apply.schedule"));
    let e = load_err(&format!("{head}    session_check_schedule: \"daily\"\n"));
    assert_eq!(
        (e.line, e.key.as_str()),
        (Some(4), "compute.apply.session_check_schedule")
    );
    let e = load_err(&format!("{head}    site: http://www.mycareersfuture.gov.sg\n"));
    assert_eq!((e.line, e.key.as_str()), (Some(4), "compute.apply.site"));
    let e = load_err(&format!("{head}    headless: true\n"));
    assert_eq!((e.line, e.key.as_str()), (Some(4), "compute.apply.headless"));
}

#[test]
fn emulator_builds_need_an_emulator_endpoint() {
    // On AWS itself (endpoint null) neither a host debug zip nor the local registry.
    let e = load_err("account_id: \"123456789012\"\ncompute:\n  lambda_build: host-debug\n  architecture: x86_64\n");
    assert_eq!((e.line, e.key.as_str()), (Some(3), "compute.lambda_build"));
    let e = load_err("account_id: \"123456789012\"\ncompute:\n  registry: local\n");
    assert_eq!((e.line, e.key.as_str()), (Some(3), "compute.registry"));
    assert!(e.message.contains("AWS cannot pull"), "{e}");
    // The embedded emulator has no registry but the local one.
    let e = load_err("endpoint: local\ncompute:\n  registry: ecr\n");
    assert_eq!((e.line, e.key.as_str()), (Some(3), "compute.registry"));
    // An AWS environment rehearsed on an emulator by its URL takes both.
    let dir = with_env(
        "account_id: \"123456789012\"\nendpoint: http://127.0.0.1:5000\ncompute:\n  lambda_build: host-debug\n  architecture: x86_64\n  registry: local\n",
    );
    let c = load(dir.path(), dir.path(), "test").expect("an emulator URL allows emulator builds");
    assert_eq!(c.compute.registry, Registry::Local);
}

#[test]
fn unknown_environment_lists_the_known_ones() {
    let dir = repo_config_dir();
    let e = load(&dir, &dir, "qa").unwrap_err();
    assert!(e.message.contains("known: dev, local, prod, staging"), "{e}");
    let e = load(&dir, &dir, "Prod!").unwrap_err();
    assert!(e.message.contains("not a valid environment name"), "{e}");
}

#[test]
fn cidr_arithmetic() {
    assert_eq!(parse_cidr("10.0.0.0/16"), Some((0x0A00_0000, 16)));
    assert_eq!(parse_cidr("10.0.0.1/16"), None, "host bits set");
    assert_eq!(parse_cidr("10.0.0.0/33"), None);
    assert!(within(
        parse_cidr("10.0.1.0/24").unwrap(),
        parse_cidr("10.0.0.0/16").unwrap()
    ));
    assert!(!within(
        parse_cidr("10.1.0.0/24").unwrap(),
        parse_cidr("10.0.0.0/16").unwrap()
    ));
    assert!(overlaps(
        parse_cidr("10.0.0.0/24").unwrap(),
        parse_cidr("10.0.0.128/25").unwrap()
    ));
}

#[test]
fn a_schedule_eventbridge_would_refuse_names_file_line_and_key() {
    let e = load_err("account_id: \"123456789012\"\ncompute:\n  scraper:\n    schedule: \"cron(0 25 * * ? *)\"\n");
    assert_eq!((e.file.clone(), e.line), (PathBuf::from("test.yaml"), Some(4)));
    assert_eq!(e.key, "compute.scraper.schedule");
    assert_eq!(
        e.to_string(),
        "test.yaml:4: key `compute.scraper.schedule`: cron(0 25 * * ? *): hours `25`: 25 is out of range: hours is 0 to 23"
    );
}

#[test]
fn a_notification_address_must_be_one() {
    let e = load_err("account_id: \"123456789012\"\nnotifications:\n  email: me at example\n");
    assert_eq!((e.line, e.key.as_str()), (Some(3), "notifications.email"));
    assert!(e.message.contains("is not an e-mail address"), "{e}");
    let dir = with_env(
        "account_id: \"123456789012\"\nnotifications:\n  email: me@example.com\niam:\n  permissions_boundary: \"arn:aws:iam::123456789012:policy/mcfpipe-test-boundary\"\n",
    );
    let c = load(dir.path(), dir.path(), "test").unwrap();
    assert_eq!(c.notifications.email.as_deref(), Some("me@example.com"));
}

#[test]
fn aws_environments_name_their_own_permissions_boundary() {
    let e = load_err("account_id: \"123456789012\"\n");
    assert_eq!(e.key, "iam.permissions_boundary");
    assert!(
        e.message.starts_with("missing") && e.message.contains("mcfpipe-test-boundary"),
        "{e}"
    );
    let e = load_err(
        "account_id: \"123456789012\"\niam:\n  permissions_boundary: \"arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/mcfpipe-prod-boundary\"\n",
    );
    assert_eq!((e.line, e.key.as_str()), (Some(3), "iam.permissions_boundary"));
    assert!(e.message.contains("not this environment's"), "{e}");
    let e = load_err("account_id: \"123456789012\"\niam:\n  permissions_boundary: mcfpipe-test-boundary\n");
    assert!(e.message.contains("not the ARN of an IAM managed policy"), "{e}");
    let dir = with_env(
        "account_id: \"123456789012\"\niam:\n  permissions_boundary: \"arn:aws:iam::123456789012:policy/mcfpipe-test-boundary\"\n",
    );
    let c = load(dir.path(), dir.path(), "test").expect("the environment's own boundary");
    assert_eq!(
        c.iam.permissions_boundary.as_deref(),
        Some("arn:aws:iam::123456789012:policy/mcfpipe-test-boundary")
    );
    // The emulator has no such policy: no boundary there.
    let local = load(&repo_config_dir(), &repo_config_dir(), "local").unwrap();
    assert_eq!(local.iam.permissions_boundary, None);
}

#[test]
fn sync_keys_are_checked_where_they_are_written() {
    const ACCOUNT: &str = "account_id: \"123456789012\"\niam:\n  permissions_boundary: \"arn:aws:iam::123456789012:policy/mcfpipe-test-boundary\"\n";
    let e = load_err(&format!("{ACCOUNT}sync:\n  schedule: \"rate(1 days)\"\n"));
    assert_eq!((e.line, e.key.as_str()), (Some(5), "sync.schedule"));
    assert!(e.message.contains("rate(1 days)"), "{e}");
    let e = load_err(&format!("{ACCOUNT}sync:\n  source: sheets\n"));
    assert_eq!(e.key, "sync.workbook_id");
    assert!(e.message.contains("sync.source: sheets"), "{e}");
    let e = load_err(&format!("{ACCOUNT}sync:\n  workbook_id: \"has spaces\"\n"));
    assert_eq!((e.line, e.key.as_str()), (Some(5), "sync.workbook_id"));
    let e = load_err(&format!("{ACCOUNT}sync:\n  key_parameter: no-slash\n"));
    assert_eq!(e.key, "sync.key_parameter");
    let e = load_err(&format!("{ACCOUNT}sync:\n  sheets_url: http://sheets.example.com\n"));
    assert_eq!(e.key, "sync.sheets_url");
    let e = load_err(&format!("{ACCOUNT}sync:\n  source: google\n"));
    assert_eq!(e.key, "sync.source");
    let dir = with_env(&format!(
        "{ACCOUNT}sync:\n  source: sheets\n  workbook_id: 1AbC-d_E\n  schedule: null\n  sheets_url: http://127.0.0.1:9999\n"
    ));
    let c = load(dir.path(), dir.path(), "test").unwrap();
    assert_eq!(
        c.sync.key_parameter(&c.project, "test"),
        "/mcfpipe/test/google-service-account"
    );
    assert_eq!(c.sync.schedule, None);
}
