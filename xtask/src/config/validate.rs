//! Checks of the merged config that types alone cannot express: names, CIDR arithmetic,
//! AWS limits. Each failure names the key path; the loader finds its file and line.

use super::Config;

/// Checks that types alone cannot express.
pub(super) fn validate(c: &Config, env: &str) -> Result<(), (String, String)> {
    let err = |k: &str, m: String| Err((k.to_string(), m));
    if c.project.is_empty()
        || !c
            .project
            .chars()
            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-')
    {
        return err("project", "must be lowercase letters, digits and '-'".into());
    }
    if format!("{}-{env}-", c.project).len() > 30 {
        return err("project", "project and environment names are too long for AWS resource names (keep `<project>-<env>-` under 30 characters)".into());
    }
    if let Some(region) = &c.region {
        if !region.contains('-')
            || !region
                .chars()
                .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-')
        {
            return err(
                "region",
                format!("`{region}` is not an AWS region name such as ap-southeast-1"),
            );
        }
    }
    if let Some(account) = &c.account_id {
        if account.len() != 12 || !account.chars().all(|ch| ch.is_ascii_digit()) {
            return err(
                "account_id",
                format!("`{account}` is not a 12-digit AWS account id (quote it so YAML keeps leading zeros)"),
            );
        }
    }
    if let Some(endpoint) = &c.endpoint {
        if endpoint != "local" && !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
            return err("endpoint", format!("`{endpoint}` must be `local` or an http(s) URL"));
        }
    }
    if c.endpoint.is_none() && c.account_id.is_none() {
        return err(
            "account_id",
            "missing: an environment on real AWS needs the account guard (the 12-digit account id it deploys to)"
                .into(),
        );
    }
    if c.is_local() && c.compute.registry != super::Registry::Local {
        return err(
            "compute.registry",
            "must be `local` when the endpoint is `local`: the emulator's ECR has no registry to push images to".into(),
        );
    }
    if !(1..=16).contains(&c.deploy.max_parallel) {
        return err(
            "deploy.max_parallel",
            format!("must be 1 to 16, not {}", c.deploy.max_parallel),
        );
    }
    if c.deploy.timeout_minutes == 0 {
        return err("deploy.timeout_minutes", "must be at least 1".into());
    }
    let n = &c.network;
    let vpc = parse_cidr(&n.vpc_cidr).ok_or((
        "network.vpc_cidr".to_string(),
        format!("`{}` is not an IPv4 CIDR block such as 10.20.0.0/16", n.vpc_cidr),
    ))?;
    if !(16..=28).contains(&vpc.1) {
        return err(
            "network.vpc_cidr",
            format!("a VPC block must be between /16 and /28, not /{}", vpc.1),
        );
    }
    if n.availability_zones.len() != 2 {
        return err(
            "network.availability_zones",
            format!(
                "needs exactly 2 availability zones, found {}",
                n.availability_zones.len()
            ),
        );
    }
    if n.availability_zones[0] == n.availability_zones[1] {
        return err(
            "network.availability_zones[1]",
            "the two availability zones must differ".into(),
        );
    }
    if let Some(region) = &c.region {
        for (i, az) in n.availability_zones.iter().enumerate() {
            if !az.starts_with(region.as_str()) {
                return err(
                    &format!("network.availability_zones[{i}]"),
                    format!("`{az}` is not in region {region}"),
                );
            }
        }
    }
    if n.public_subnet_cidrs.len() != 2 {
        return err(
            "network.public_subnet_cidrs",
            format!(
                "needs one block per availability zone (2), found {}",
                n.public_subnet_cidrs.len()
            ),
        );
    }
    let mut subnets = Vec::new();
    for (i, cidr) in n.public_subnet_cidrs.iter().enumerate() {
        subnets.push((format!("network.public_subnet_cidrs[{i}]"), cidr));
    }
    subnets.push(("network.private_subnet_cidr".into(), &n.private_subnet_cidr));
    let mut parsed: Vec<(String, (u32, u8))> = Vec::new();
    for (key, cidr) in subnets {
        let block = parse_cidr(cidr).ok_or((key.clone(), format!("`{cidr}` is not an IPv4 CIDR block")))?;
        if !within(block, vpc) {
            return err(&key, format!("`{cidr}` is not inside the VPC block {}", n.vpc_cidr));
        }
        if let Some((other, _)) = parsed.iter().find(|(_, b)| overlaps(*b, block)) {
            return err(&key, format!("`{cidr}` overlaps {other}"));
        }
        parsed.push((key, block));
    }
    let d = &c.database;
    if d.raw_documents_expire_days == 0 {
        return err("database.raw_documents_expire_days", "must be at least 1".into());
    }
    let q = &d.parse_queue;
    if !(1..=1000).contains(&q.max_receive_count) {
        return err(
            "database.parse_queue.max_receive_count",
            "must be between 1 and 1000".into(),
        );
    }
    if q.visibility_timeout_seconds > 43_200 {
        return err(
            "database.parse_queue.visibility_timeout_seconds",
            "must be at most 43200 (12 hours)".into(),
        );
    }
    for (key, days) in [
        ("database.parse_queue.message_retention_days", q.message_retention_days),
        (
            "database.parse_queue.dead_letter_retention_days",
            q.dead_letter_retention_days,
        ),
    ] {
        if !(1..=14).contains(&days) {
            return err(key, format!("SQS keeps messages 1 to 14 days, not {days}"));
        }
    }
    const RETENTION: [u32; 22] = [
        1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
    ];
    if !RETENTION.contains(&c.logs.retention_days) {
        return err(
            "logs.retention_days",
            format!(
                "CloudWatch Logs accepts one of {RETENTION:?}, not {}",
                c.logs.retention_days
            ),
        );
    }
    // Builds for an emulator: refused when the environment's endpoint is AWS itself (null). An
    // environment of AWS's can still be rehearsed on an emulator by naming its URL (`endpoint`).
    if c.endpoint.is_none() && c.compute.lambda_build == super::LambdaBuild::HostDebug {
        return err(
            "compute.lambda_build",
            "host-debug zips are for an emulator (endpoint `local` or its URL); AWS needs `cargo-lambda` builds".into(),
        );
    }
    if c.endpoint.is_none() && c.compute.registry == super::Registry::Local {
        return err(
            "compute.registry",
            "`local` pushes images to 127.0.0.1, which AWS cannot pull from: it is for an emulator (endpoint `local` or its URL); AWS needs `ecr`".into(),
        );
    }
    let p = &c.compute.parser;
    if !(128..=10_240).contains(&p.memory_mb) {
        return err(
            "compute.parser.memory_mb",
            format!("Lambda memory is 128 to 10240 MB, not {}", p.memory_mb),
        );
    }
    if !(1..=900).contains(&p.timeout_seconds) {
        return err(
            "compute.parser.timeout_seconds",
            format!("Lambda timeout is 1 to 900 s, not {}", p.timeout_seconds),
        );
    }
    if p.timeout_seconds > q.visibility_timeout_seconds {
        return err(
            "compute.parser.timeout_seconds",
            format!(
                "must not exceed database.parse_queue.visibility_timeout_seconds ({}), or SQS redelivers messages still being parsed",
                q.visibility_timeout_seconds
            ),
        );
    }
    if !(1..=10).contains(&p.batch_size) {
        return err(
            "compute.parser.batch_size",
            format!("SQS batches are 1 to 10 messages, not {}", p.batch_size),
        );
    }
    if !(2..=1000).contains(&p.max_concurrency) {
        return err(
            "compute.parser.max_concurrency",
            format!("must be 2 to 1000, not {}", p.max_concurrency),
        );
    }
    let r = &c.compute.recommender;
    for (key, value, range, what) in [
        (
            "compute.recommender.memory_mb",
            r.memory_mb,
            128..=10_240,
            "Lambda memory is 128 to 10240 MB",
        ),
        (
            "compute.recommender.timeout_seconds",
            r.timeout_seconds,
            1..=900,
            "Lambda timeout is 1 to 900 s",
        ),
        (
            "compute.recommender.batch_size",
            r.batch_size,
            1..=10_000,
            "DynamoDB stream batches are 1 to 10000 records",
        ),
        (
            "compute.recommender.max_batching_window_seconds",
            r.max_batching_window_seconds,
            0..=300,
            "the batching window is 0 to 300 s",
        ),
        (
            "compute.recommender.max_retry_attempts",
            r.max_retry_attempts,
            0..=10_000,
            "stream retries are 0 to 10000",
        ),
        (
            "compute.recommender.rescore_weeks",
            r.rescore_weeks,
            1..=52,
            "a rescore reads 1 to 52 weeks back",
        ),
    ] {
        if !range.contains(&value) {
            return err(key, format!("{what}, not {value}"));
        }
    }
    let crm = &c.compute.crm;
    if !(128..=10_240).contains(&crm.memory_mb) {
        return err(
            "compute.crm.memory_mb",
            format!("Lambda memory is 128 to 10240 MB, not {}", crm.memory_mb),
        );
    }
    // API Gateway gives up on an integration after 29 s: a longer function would answer no one.
    if !(1..=29).contains(&crm.timeout_seconds) {
        return err(
            "compute.crm.timeout_seconds",
            format!(
                "must be 1 to 29 s (API Gateway's integration timeout), not {}",
                crm.timeout_seconds
            ),
        );
    }
    if !(crm.throttle_rate_per_second > 0.0 && crm.throttle_rate_per_second <= 10_000.0) {
        return err(
            "compute.crm.throttle_rate_per_second",
            format!(
                "must be above 0 and at most 10000 (the account's default), not {}",
                crm.throttle_rate_per_second
            ),
        );
    }
    if !(1..=5000).contains(&crm.throttle_burst) {
        return err(
            "compute.crm.throttle_burst",
            format!(
                "must be 1 to 5000 (the account's default burst), not {}",
                crm.throttle_burst
            ),
        );
    }
    if let Some(schedule) = &crm.expiry_schedule {
        if let Err(why) = super::schedule::check(schedule) {
            return err("compute.crm.expiry_schedule", why);
        }
    }
    if let Some(email) = &c.notifications.email {
        let ok = email.split_once('@').is_some_and(|(user, domain)| {
            !user.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
        }) && !email.chars().any(char::is_whitespace);
        if !ok {
            return err(
                "notifications.email",
                format!("`{email}` is not an e-mail address (user@example.com), or null for none"),
            );
        }
    }
    let sy = &c.sync;
    if let Some(schedule) = &sy.schedule {
        if let Err(why) = super::schedule::check(schedule) {
            return err("sync.schedule", why);
        }
    }
    if sy.source == super::SyncSource::Sheets && sy.workbook_id.as_deref().is_none_or(str::is_empty) {
        return err(
            "sync.workbook_id",
            "missing: `sync.source: sheets` reads the Google workbook with this id (the part of its URL between /d/ and /edit)".into(),
        );
    }
    if let Some(id) = &sy.workbook_id {
        if id.is_empty()
            || !id
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
        {
            return err(
                "sync.workbook_id",
                format!(
                    "`{id}` is not a workbook id (letters, digits, '-' and '_': the part of the URL between /d/ and /edit)"
                ),
            );
        }
    }
    if let Some(name) = &sy.key_parameter {
        let ok = name.starts_with('/')
            && name.len() <= 1011
            && name.chars().all(|ch| ch.is_ascii_alphanumeric() || "_.-/".contains(ch));
        if !ok {
            return err(
                "sync.key_parameter",
                format!(
                    "`{name}` is not an SSM parameter path (/a/b/c: letters, digits, _ . - and /), or null for /<project>/<env>/google-service-account"
                ),
            );
        }
    }
    for (key, url) in [
        ("sync.sheets_url", Some(&sy.sheets_url)),
        ("sync.token_url", sy.token_url.as_ref()),
    ] {
        if let Some(url) = url {
            if !(url.starts_with("https://")
                || url.starts_with("http://127.0.0.1")
                || url.starts_with("http://localhost"))
            {
                return err(
                    key,
                    format!("`{url}` must be an https URL (plain http only on 127.0.0.1 or localhost)"),
                );
            }
        }
    }
    if sy.dir.is_empty() {
        return err(
            "sync.dir",
            "must name the library's folder, e.g. config/seed/library".into(),
        );
    }
    let sc = &c.compute.scraper;
    if let Err(why) = super::schedule::check(&sc.schedule) {
        return err("compute.scraper.schedule", why);
    }
    if !fargate_fits(sc.cpu, sc.memory_mb) {
        return err(
            "compute.scraper.memory_mb",
            format!("Fargate does not offer {} CPU units with {} MB", sc.cpu, sc.memory_mb),
        );
    }
    if !(0.0..=50.0).contains(&sc.rate_per_second) {
        return err(
            "compute.scraper.rate_per_second",
            "must be between 0 (no limit) and 50".into(),
        );
    }
    if !(sc.mcf_url.starts_with("http://") || sc.mcf_url.starts_with("https://")) {
        return err(
            "compute.scraper.mcf_url",
            format!("`{}` is not an http(s) URL", sc.mcf_url),
        );
    }
    let ap = &c.compute.apply;
    let fits = fargate_fits(ap.cpu, ap.memory_mb);
    if ![256, 512, 1024, 2048, 4096].contains(&ap.cpu) {
        return err(
            "compute.apply.cpu",
            format!("Fargate offers 256, 512, 1024, 2048 or 4096 CPU units, not {}", ap.cpu),
        );
    }
    if !fits {
        return err(
            "compute.apply.memory_mb",
            format!("Fargate does not offer {} CPU units with {} MB", ap.cpu, ap.memory_mb),
        );
    }
    // A headless Chromium with one MCF page needs about 1 GB; below that it is killed mid-run.
    if ap.memory_mb < 1024 {
        return err(
            "compute.apply.memory_mb",
            format!(
                "the task runs a headless Chromium: at least 1024 MB, not {}",
                ap.memory_mb
            ),
        );
    }
    if !(ap.pause_seconds.is_finite() && (0.0..=600.0).contains(&ap.pause_seconds)) {
        return err(
            "compute.apply.pause_seconds",
            format!("must be 0 to 600 seconds, not {}", ap.pause_seconds),
        );
    }
    for (key, schedule) in [
        ("compute.apply.schedule", &ap.schedule),
        ("compute.apply.session_check_schedule", &ap.session_check_schedule),
    ] {
        if let Some(schedule) = schedule {
            if let Err(why) = super::schedule::check(schedule) {
                return err(key, why);
            }
        }
    }
    let local_site = ap.site.starts_with("http://127.0.0.1") || ap.site.starts_with("http://localhost");
    if !(ap.site.starts_with("https://") || local_site) || ap.site.ends_with('/') {
        return err(
            "compute.apply.site",
            format!(
                "`{}` must be an https origin without a trailing slash (plain http only on 127.0.0.1 or localhost)",
                ap.site
            ),
        );
    }
    if c.deploy.protected && !d.retain_data {
        return err(
            "database.retain_data",
            "a protected environment must retain its data (set retain_data: true)".into(),
        );
    }
    for key in c.tags.keys() {
        if ["project", "environment", "layer"].contains(&key.as_str()) || key.starts_with("aws:") {
            return err(&format!("tags.{key}"), "this tag is set by the deployer".into());
        }
    }
    match &c.iam.permissions_boundary {
        Some(arn) => {
            // arn:<partition>:iam::<account>:policy/<path/>name, the name this environment's.
            let name = arn.rsplit('/').next().unwrap_or_default();
            let prefix = format!("{}-{env}-", c.project);
            if !(arn.starts_with("arn:") && arn.contains(":iam::") && arn.contains(":policy/")) {
                return err(
                    "iam.permissions_boundary",
                    format!(
                        "`{arn}` is not the ARN of an IAM managed policy (arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:policy/{prefix}boundary)"
                    ),
                );
            }
            if !name.starts_with(&prefix) {
                return err(
                    "iam.permissions_boundary",
                    format!(
                        "the boundary `{name}` is not this environment's: its name must start with `{prefix}` (the CI bootstrap stack of {env} creates `{prefix}boundary`)"
                    ),
                );
            }
        }
        // The CI deploy role creates no role without the boundary, so an AWS environment
        // without one would fail at its first role.
        None if c.endpoint.is_none() => {
            return err(
                "iam.permissions_boundary",
                format!(
                    "missing: an environment on AWS names the permissions boundary of its roles (`arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:policy/{}-{env}-boundary`, created by ci/github-oidc-role.yaml; docs/ci.md)",
                    c.project
                ),
            );
        }
        None => {}
    }
    Ok(())
}

pub(super) fn parse_cidr(s: &str) -> Option<(u32, u8)> {
    let (ip, bits) = s.split_once('/')?;
    let bits: u8 = bits.parse().ok().filter(|b| *b <= 32)?;
    let ip: std::net::Ipv4Addr = ip.parse().ok()?;
    let ip = u32::from(ip);
    let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
    (ip & mask == ip).then_some((ip, bits))
}

pub(super) fn within(inner: (u32, u8), outer: (u32, u8)) -> bool {
    let mask = if outer.1 == 0 { 0 } else { u32::MAX << (32 - outer.1) };
    inner.1 >= outer.1 && inner.0 & mask == outer.0
}

pub(super) fn overlaps(a: (u32, u8), b: (u32, u8)) -> bool {
    within(a, b) || within(b, a)
}

/// Whether Fargate offers `cpu` units with `memory_mb` (its valid pairs).
fn fargate_fits(cpu: u32, memory_mb: u32) -> bool {
    match cpu {
        256 => [512, 1024, 2048].contains(&memory_mb),
        512 => (1024..=4096).contains(&memory_mb) && memory_mb.is_multiple_of(1024),
        1024 => (2048..=8192).contains(&memory_mb) && memory_mb.is_multiple_of(1024),
        2048 => (4096..=16384).contains(&memory_mb) && memory_mb.is_multiple_of(1024),
        4096 => (8192..=30720).contains(&memory_mb) && memory_mb.is_multiple_of(1024),
        _ => false,
    }
}
