//! `make bench`, cold and warm starts: the release binaries of `get-customer` and
//! `list-paydates`, and a minimal function doing one GetItem (`coldstart/minimal.rs`, built as the
//! example `coldstart-minimal`), each run as Lambda runs it: a fresh process talking to a Lambda
//! Runtime API, here an emulator on loopback (`coldstart/emulator.rs`), over the same DynamoDB
//! Local.
//!
//! For each cold run, a new process:
//! - init: from spawning it to its first `GET /next` (the runtime's own start, `main`, building
//!   the SDK clients);
//! - first invoke: from its first event handed out to its response read (the first request of
//!   a process: new connections, the API key not yet cached);
//! - warm: the same, over the next `COLDSTART_WARM` (200) invocations of that process.
//!
//! Besides these wall times, the process's own CPU time (all threads, from the scheduler's
//! nanosecond counters): at the end of init, and per warm invocation. On a loaded machine the wall
//! times include waiting for a core and DynamoDB Local's own time; the CPU times do not.
//!
//! `COLDSTART_RUNS` (15) cold runs of each, interleaved (a round runs every binary once, each
//! round in another order, so the machine's other load falls on all of them alike), after one
//! unrecorded run of each that warms the page cache. Reported: the medians of init and first
//! invoke, the median and p90 of every warm invocation, each against the minimal function's, the
//! binaries' sizes, and what DynamoDB Local alone takes for the same reads (the floor).
//!
//! `COLDSTART_VARIANTS=name=dir,name=dir` measures several builds side by side (the release
//! profile's comparison); each dir holds `get-customer`, `list-paydates` and
//! `examples/coldstart-minimal`. By default: `release=target/release`.
//!
//! A benchmark, not a test: it reports, it asserts nothing about time. It checks every answer
//! is a 200 with the data it should carry, so that a fast error is never taken for a fast read.

#[path = "coldstart/emulator.rs"]
mod emulator;

use emulator::{Kind, RuntimeApi};
use integration_tests::{customer, loan_line, pay_date_line, require_local_env, TestApp};
use serde_json::{json, Value};
use shared::import::Kind as ImportKind;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const DAY: &str = "2024-07-11";
const CUSTOMER: u64 = 7_000_001;
const OTHER_CUSTOMER: u64 = 7_000_002;
const PAY_DATES: u64 = 100;
const MEMORY_MB: &str = "256"; // the template's MemorySize

/// What the functions read from the environment besides the tables, passed on as the bench got
/// it (infra/local/bench.sh sets them: DynamoDB Local, moto, dummy credentials, a region).
const PASSED_ON: [&str; 10] = [
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL_KMS",
    "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_EC2_METADATA_DISABLED",
    "PII_KEY_ID",
    "MAC_SECRET_ID",
];

struct Function {
    name: &'static str,
    label: &'static str,
    /// Its path inside a variant's directory.
    binary: &'static str,
    event: Vec<u8>,
    /// Checks the first answer's body (the API Gateway response's `body`, parsed).
    check: fn(&Value) -> Result<(), String>,
}

struct Variant {
    name: String,
    dir: PathBuf,
}

#[derive(Default)]
struct Samples {
    init: Vec<f64>,
    /// CPU time of the process by the end of its init.
    init_cpu: Vec<f64>,
    first: Vec<f64>,
    warm: Vec<f64>,
    /// CPU time of the process per warm invocation, a run's average.
    warm_cpu: Vec<f64>,
}

/// The CPU time a process has used so far, all its threads (the scheduler's nanoseconds, not the
/// 10 ms ticks of /proc/<pid>/stat). Wall times on a loaded machine include waiting for a core;
/// this does not.
fn cpu_ms(pid: u32) -> f64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return f64::NAN;
    };
    let ns: u64 = tasks
        .filter_map(Result::ok)
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| {
            s.split_whitespace()
                .next()
                .and_then(|n| n.parse::<u64>().ok())
        })
        .sum();
    ns as f64 / 1e6
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn median(v: &[f64]) -> f64 {
    percentile(v, 0.5)
}

/// The nearest-rank percentile.
fn percentile(v: &[f64], p: f64) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let rank = ((p * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace")
        .to_path_buf()
}

fn loopback_only() {
    require_local_env();
    for var in ["AWS_ENDPOINT_URL_KMS", "AWS_ENDPOINT_URL_SECRETS_MANAGER"] {
        let v = std::env::var(var).unwrap_or_else(|_| {
            panic!("{var} is not set: run the bench with `make bench`, which starts moto")
        });
        assert!(
            v.starts_with("http://127.0.0.1:"),
            "the bench only talks to this machine, not {v}"
        );
    }
    for var in ["PII_KEY_ID", "MAC_SECRET_ID"] {
        assert!(
            std::env::var(var).is_ok(),
            "{var} is not set: run the bench with `make bench`"
        );
    }
}

/// An API Gateway REST API (proxy integration) event, as API Gateway hands it to the function.
fn rest_event(
    resource: &str,
    path: &str,
    path_parameters: Option<Value>,
    query: &[(&str, &str)],
    key: &str,
) -> Vec<u8> {
    let host = "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com";
    let headers = [
        ("Accept", "application/json".to_string()),
        ("Accept-Encoding", "gzip, deflate".to_string()),
        ("Authorization", format!("Bearer {key}")),
        ("Host", host.to_string()),
        ("User-Agent", "python-requests/2.32.3".to_string()),
        (
            "X-Amzn-Trace-Id",
            "Root=1-5759e988-bd862e3fe1be46a994272793".to_string(),
        ),
        ("X-Forwarded-For", "203.0.113.7".to_string()),
        ("X-Forwarded-Port", "443".to_string()),
        ("X-Forwarded-Proto", "https".to_string()),
    ];
    let single: serde_json::Map<String, Value> = headers
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    let multi: serde_json::Map<String, Value> = headers
        .iter()
        .map(|(k, v)| (k.to_string(), json!([v])))
        .collect();
    let (query_single, query_multi) = if query.is_empty() {
        (Value::Null, Value::Null)
    } else {
        (
            query
                .iter()
                .map(|(k, v)| (k.to_string(), json!(v)))
                .collect(),
            query
                .iter()
                .map(|(k, v)| (k.to_string(), json!([v])))
                .collect(),
        )
    };
    json!({
        "resource": resource,
        "path": path,
        "httpMethod": "GET",
        "headers": single,
        "multiValueHeaders": multi,
        "queryStringParameters": query_single,
        "multiValueQueryStringParameters": query_multi,
        "pathParameters": path_parameters,
        "stageVariables": null,
        "requestContext": {
            "resourceId": "k2x9q1",
            "resourcePath": resource,
            "httpMethod": "GET",
            "extendedRequestId": "c9yv1FvYoAMFd5Q=",
            "requestTime": "11/Jul/2024:14:00:00 +0000",
            "path": format!("/prod{path}"),
            "accountId": "123456789012",
            "protocol": "HTTP/1.1",
            "stage": "prod",
            "domainPrefix": "a1b2c3d4e5",
            "requestTimeEpoch": 1720706400000u64,
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "identity": {
                "cognitoIdentityPoolId": null, "accountId": null, "cognitoIdentityId": null,
                "caller": null, "sourceIp": "203.0.113.7", "principalOrgId": null,
                "accessKey": null, "cognitoAuthenticationType": null,
                "cognitoAuthenticationProvider": null, "userArn": null,
                "userAgent": "python-requests/2.32.3", "user": null
            },
            "domainName": host,
            "apiId": "a1b2c3d4e5"
        },
        "body": null,
        "isBase64Encoded": false
    })
    .to_string()
    .into_bytes()
}

fn check_customer(body: &Value) -> Result<(), String> {
    let loans = body["loanData"].as_array().map(Vec::len);
    if body["customerData"]["giggleId"] == CUSTOMER && loans == Some(2) {
        Ok(())
    } else {
        Err(format!("not the customer with its two loans: {body}"))
    }
}

fn check_pay_dates(body: &Value) -> Result<(), String> {
    match body["data"].as_array() {
        Some(d) if d.len() as u64 == PAY_DATES => Ok(()),
        _ => Err(format!("not the day's {PAY_DATES} pay dates: {body}")),
    }
}

fn check_minimal(body: &Value) -> Result<(), String> {
    if body["giggleId"] == CUSTOMER {
        Ok(())
    } else {
        Err(format!("not the customer's item: {body}"))
    }
}

/// The API Gateway response's status and body (parsed when it is JSON).
fn answer(posted: &emulator::Posted) -> Result<(i64, Value), String> {
    if posted.kind != Kind::Response {
        return Err(format!(
            "{:?}: {}",
            posted.kind,
            String::from_utf8_lossy(&posted.body)
        ));
    }
    let v: Value = serde_json::from_slice(&posted.body).map_err(|e| e.to_string())?;
    let status = v["statusCode"].as_i64().unwrap_or(0);
    let body = v["body"]
        .as_str()
        .and_then(|b| serde_json::from_str(b).ok())
        .unwrap_or(Value::Null);
    Ok((status, body))
}

struct Runner {
    api: RuntimeApi,
    env: Vec<(String, String)>,
    warm: usize,
    logs: PathBuf,
}

impl Runner {
    /// One cold run: a fresh process, its first invocation, then `warm` more.
    fn run(&mut self, variant: &Variant, f: &Function, into: Option<&mut Samples>) {
        let binary = variant.dir.join(f.binary);
        let log_path = self.logs.join(format!("{}-{}.log", variant.name, f.name));
        let log = std::fs::File::create(&log_path).expect("a log file");
        self.api.reset();
        let mut cmd = Command::new(&binary);
        cmd.env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env("AWS_LAMBDA_RUNTIME_API", &self.api.addr)
            .env("AWS_LAMBDA_FUNCTION_NAME", f.name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", MEMORY_MB)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env(
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{}", f.name),
            )
            .env(
                "AWS_LAMBDA_LOG_STREAM_NAME",
                "2024/07/11/[$LATEST]0123456789abcdef",
            )
            .env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
            .env("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023")
            .env("LAMBDA_TASK_ROOT", binary.parent().unwrap())
            .env("_HANDLER", "bootstrap")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("the log"))
            .stderr(log);
        let spawned = Instant::now();
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", binary.display()));
        let fail = |child: &mut Child, what: String| -> ! {
            let _ = child.kill();
            let _ = child.wait();
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(20).collect();
            panic!(
                "{} ({}): {what}\nits log ({}), last lines:\n{}",
                f.name,
                variant.name,
                log_path.display(),
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        };
        let timeout = Duration::from_secs(30);
        let pid = child.id();
        let alive = |child: &mut Child| matches!(child.try_wait(), Ok(None));
        let first_next = match self.api.wait_idle(timeout, || alive(&mut child)) {
            Ok(at) => at,
            Err(e) => fail(&mut child, e),
        };
        let init_cpu = cpu_ms(pid);
        let first = match self.api.invoke(&f.event, timeout, || alive(&mut child)) {
            Ok(i) => i,
            Err(e) => fail(&mut child, e),
        };
        let init = first_next - spawned;
        match answer(&first.posted) {
            Ok((200, body)) => {
                if let Err(e) = (f.check)(&body) {
                    fail(&mut child, e)
                }
            }
            Ok((status, body)) => fail(&mut child, format!("status {status}: {body}")),
            Err(e) => fail(&mut child, e),
        }
        if let Err(e) = self.api.wait_idle(timeout, || alive(&mut child)) {
            fail(&mut child, e)
        }
        let warm_cpu_start = cpu_ms(pid);
        let mut warm = Vec::with_capacity(self.warm);
        for _ in 0..self.warm {
            let i = match self.api.invoke(&f.event, timeout, || alive(&mut child)) {
                Ok(i) => i,
                Err(e) => fail(&mut child, e),
            };
            match answer(&i.posted) {
                Ok((200, _)) => {}
                Ok((status, body)) => fail(&mut child, format!("status {status}: {body}")),
                Err(e) => fail(&mut child, e),
            }
            warm.push(ms(i.posted.at - i.handed_at));
        }
        if let Err(e) = self.api.wait_idle(timeout, || alive(&mut child)) {
            fail(&mut child, e)
        }
        let warm_cpu = (cpu_ms(pid) - warm_cpu_start) / self.warm as f64;
        let _ = child.kill();
        let _ = child.wait();
        if let Some(s) = into {
            s.init.push(ms(init));
            s.init_cpu.push(init_cpu);
            s.first.push(ms(first.posted.at - first.handed_at));
            s.warm.extend(warm);
            s.warm_cpu.push(warm_cpu);
        }
    }
}

fn variants() -> Vec<Variant> {
    let root = workspace_root();
    let spec =
        std::env::var("COLDSTART_VARIANTS").unwrap_or_else(|_| "release=target/release".into());
    spec.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            let (name, dir) = s
                .split_once('=')
                .unwrap_or_else(|| panic!("COLDSTART_VARIANTS: name=dir, not {s}"));
            let dir = root.join(dir.trim());
            Variant {
                name: name.trim().to_string(),
                dir,
            }
        })
        .collect()
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// The data the three functions read: a customer created through the create handler (its SSN
/// sealed with the local KMS), its two loans and a day of pay dates, imported.
async fn load(app: &TestApp) {
    let created = app.create(&customer(CUSTOMER)).await;
    assert_eq!(created.status, 200, "{}", created.body);
    let other = app.create(&customer(OTHER_CUSTOMER)).await;
    assert_eq!(other.status, 200, "{}", other.body);
    let loans: String = (1..=PAY_DATES)
        .map(|l| {
            let owner = if l <= 2 { CUSTOMER } else { OTHER_CUSTOMER };
            loan_line(l, owner, "2024-01-01") + "\n"
        })
        .collect();
    app.import_ok(ImportKind::Loans, &loans).await;
    let pay_dates: String = (1..=PAY_DATES)
        .map(|l| {
            let paid = ["100.00", "40.00", "0.00"][(l % 3) as usize];
            pay_date_line(l, l, DAY, "100.00", paid) + "\n"
        })
        .collect();
    app.import_ok(ImportKind::PayDates, &pay_dates).await;
}

fn target(ratio: f64, limit: f64) -> String {
    format!(
        "≤ {limit}×: {}",
        if ratio <= limit { "met" } else { "MISSED" }
    )
}

#[tokio::main]
async fn main() {
    loopback_only();
    let variants = variants();
    let functions_of = |app: &TestApp| {
        let customer_event = rest_event(
            "/webhook/v1/json/customers/{giggleId}",
            &format!("/webhook/v1/json/customers/{CUSTOMER}"),
            Some(json!({ "giggleId": CUSTOMER.to_string() })),
            &[],
            &app.key,
        );
        vec![
            Function {
                name: "coldstart-minimal",
                label: "minimal (one GetItem)",
                binary: "examples/coldstart-minimal",
                event: customer_event.clone(),
                check: check_minimal,
            },
            Function {
                name: "get-customer",
                label: "get-customer",
                binary: "get-customer",
                event: customer_event,
                check: check_customer,
            },
            Function {
                name: "list-paydates",
                label: "list-paydates",
                binary: "list-paydates",
                event: rest_event(
                    "/webhook/v1/json/paydates",
                    "/webhook/v1/json/paydates",
                    None,
                    &[("date", DAY)],
                    &app.key,
                ),
                check: check_pay_dates,
            },
        ]
    };
    for v in &variants {
        for binary in [
            "get-customer",
            "list-paydates",
            "examples/coldstart-minimal",
        ] {
            assert!(
                v.dir.join(binary).is_file(),
                "{} is missing: build the release binaries first (infra/local/bench.sh does: \
                 cargo build --release -p get-customer -p list-paydates, and \
                 cargo build --release -p integration-tests --example coldstart-minimal)",
                v.dir.join(binary).display()
            );
        }
    }

    let app = TestApp::new().await;
    load(&app).await;
    let functions = functions_of(&app);
    let t = &app.store.tables;
    let mut env: Vec<(String, String)> = PASSED_ON
        .iter()
        .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
        .collect();
    for (k, v) in [
        ("CUSTOMERS_TABLE", &t.customers),
        ("API_KEYS_TABLE", &t.api_keys),
        ("LOANS_TABLE", &t.loans),
        ("PAY_DATES_TABLE", &t.pay_dates),
        ("IDEMPOTENCY_TABLE", &t.idempotency),
        ("AUDIT_TABLE", &t.audit),
    ] {
        env.push((k.into(), v.clone()));
    }
    for (k, v) in [
        ("RUST_LOG", "info"),
        ("TZ", ":UTC"),
        ("LANG", "en_US.UTF-8"),
        ("PATH", "/usr/local/bin:/usr/bin:/bin"),
    ] {
        env.push((k.into(), v.into()));
    }

    let runs = env_number("COLDSTART_RUNS", 15).max(1);
    let warm = env_number("COLDSTART_WARM", 200).max(1);
    let logs = workspace_root().join(".local/coldstart");
    std::fs::create_dir_all(&logs).expect("the log directory");
    let mut runner = Runner {
        api: RuntimeApi::start(),
        env,
        warm,
        logs,
    };
    println!(
        "cold and warm starts: {} variant(s) x {} functions, {runs} cold runs each + 1 unrecorded, \
         {warm} warm invocations a run; Runtime API emulator on {}; load average {}",
        variants.len(),
        functions.len(),
        runner.api.addr,
        load_average()
    );
    let mut samples: Vec<Vec<Samples>> = variants
        .iter()
        .map(|_| functions.iter().map(|_| Samples::default()).collect())
        .collect();
    let pairs: Vec<(usize, usize)> = (0..variants.len())
        .flat_map(|v| (0..functions.len()).map(move |f| (v, f)))
        .collect();
    for &(v, f) in &pairs {
        runner.run(&variants[v], &functions[f], None);
    }
    let started = Instant::now();
    for round in 1..=runs {
        // Each round in another order: no binary always follows the same one.
        for k in 0..pairs.len() {
            let (v, f) = pairs[(k + round) % pairs.len()];
            runner.run(&variants[v], &functions[f], Some(&mut samples[v][f]));
        }
        if round % 5 == 0 || round == runs {
            println!(
                "  round {round}/{runs} ({:.0} s)",
                started.elapsed().as_secs_f64()
            );
        }
    }

    for (vi, v) in variants.iter().enumerate() {
        report(v, &functions, &samples[vi], runs, warm);
    }
    if variants.len() > 1 {
        compare(&variants, &functions, &samples);
    }
    dynamodb_alone(&app, warm).await;
    println!();
    println!("load average after: {}", load_average());
}

fn size_mb(v: &Variant, f: &Function) -> f64 {
    std::fs::metadata(v.dir.join(f.binary))
        .map(|m| m.len())
        .unwrap_or(0) as f64
        / 1e6
}

/// One variant's table, each figure against the minimal function's (the first).
fn report(v: &Variant, functions: &[Function], s: &[Samples], runs: usize, warm: usize) {
    let base = &s[0];
    println!();
    println!(
        "### {} ({}): medians of {runs} cold runs; warm over {} invocations",
        v.name,
        v.dir.display(),
        runs * warm
    );
    println!();
    println!(
        "| function | binary | init | init CPU | first invoke | warm median | warm p90 | warm CPU |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (fi, f) in functions.iter().enumerate() {
        let x = &s[fi];
        let cell = |ours: &[f64], theirs: &[f64]| {
            let (a, b) = (median(ours), median(theirs));
            if fi == 0 {
                format!("{a:.2} ms")
            } else {
                format!("{a:.2} ms ({:.2}×)", a / b)
            }
        };
        println!(
            "| {} | {:.1} MB | {} | {} | {} | {} | {:.2} ms | {} |",
            f.label,
            size_mb(v, f),
            cell(&x.init, &base.init),
            cell(&x.init_cpu, &base.init_cpu),
            cell(&x.first, &base.first),
            cell(&x.warm, &base.warm),
            percentile(&x.warm, 0.9),
            cell(&x.warm_cpu, &base.warm_cpu),
        );
    }
    println!();
    let ratio =
        |fi: usize, pick: fn(&Samples) -> &Vec<f64>| median(pick(&s[fi])) / median(pick(base));
    let (gc_warm, gc_init, lp_init) = (
        ratio(1, |x| &x.warm),
        ratio(1, |x| &x.init),
        ratio(2, |x| &x.init),
    );
    println!(
        "targets: warm GET customer within 1.3× of the minimal function: {gc_warm:.2}×, {}; \
         init within 1.3× of the minimal function: get-customer {gc_init:.2}×, {}; \
         list-paydates {lp_init:.2}×, {}",
        target(gc_warm, 1.3),
        target(gc_init, 1.3),
        target(lp_init, 1.3)
    );
}

/// The variants side by side, function by function (the release profile's comparison).
fn compare(variants: &[Variant], functions: &[Function], samples: &[Vec<Samples>]) {
    println!();
    println!("### the variants side by side (medians of the runs, and the best run)");
    println!();
    println!(
        "| function | variant | binary | init | init CPU (best) | first invoke | warm | warm CPU (best) |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    for (fi, f) in functions.iter().enumerate() {
        for (vi, v) in variants.iter().enumerate() {
            let x = &samples[vi][fi];
            println!(
                "| {} | {} | {:.1} MB | {:.2} ms | {:.2} ms ({:.2}) | {:.2} ms | {:.2} ms | {:.3} ms ({:.3}) |",
                f.label,
                v.name,
                size_mb(v, f),
                median(&x.init),
                median(&x.init_cpu),
                percentile(&x.init_cpu, 0.0),
                median(&x.first),
                median(&x.warm),
                median(&x.warm_cpu),
                percentile(&x.warm_cpu, 0.0),
            );
        }
    }
    println!();
    println!(
        "(best: the least of the runs; the machine's other load only ever adds to a CPU time)"
    );
}

/// What DynamoDB Local alone takes for the reads the functions make, from this process: the
/// floor under their warm times.
async fn dynamodb_alone(app: &TestApp, n: usize) {
    let store = &app.store;
    let id = shared::customer::GiggleId::new(CUSTOMER).expect("an id");
    let mut times: Vec<(&str, Vec<f64>)> = vec![
        (
            "GetItem of the customer (the minimal function's read)",
            vec![],
        ),
        ("the customer (consistent GetItem, parsed)", vec![]),
        ("its loans (Query on the index, parsed)", vec![]),
        ("both at once (get-customer's warm reads)", vec![]),
    ];
    for _ in 0..n {
        let t = Instant::now();
        store
            .client
            .get_item()
            .table_name(&store.tables.customers)
            .key(
                "giggleId",
                aws_sdk_dynamodb::types::AttributeValue::N(CUSTOMER.to_string()),
            )
            .send()
            .await
            .expect("GetItem");
        times[0].1.push(ms(t.elapsed()));
        let t = Instant::now();
        store.get_customer(id).await.expect("the customer");
        times[1].1.push(ms(t.elapsed()));
        let t = Instant::now();
        store.loans_of(id).await.expect("the loans");
        times[2].1.push(ms(t.elapsed()));
        let t = Instant::now();
        let (c, l) = futures::future::join(store.get_customer(id), store.loans_of(id)).await;
        c.expect("the customer");
        l.expect("the loans");
        times[3].1.push(ms(t.elapsed()));
    }
    println!();
    println!("DynamoDB Local alone, from the bench process ({n} times each, interleaved):");
    println!();
    println!("| read | median | p90 |");
    println!("|---|---:|---:|");
    for (what, t) in &times {
        println!(
            "| {what} | {:.2} ms | {:.2} ms |",
            median(t),
            percentile(t, 0.9)
        );
    }
}
